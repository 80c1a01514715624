// The Prometheus exporter: a metrics_snapshot turned into prometheus-cpp metric families,
// and an Exposer serving them. The family names and their meaning are listed in
// docs/observability.md; keep the two in step.
#include <sigs/prometheus.hpp>

#include <prometheus/exposer.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace sigs {
namespace {

using ::prometheus::ClientMetric;
using ::prometheus::MetricFamily;
using ::prometheus::MetricType;

// The exported `le` bounds are 2^first_bound_exp .. 2^last_bound_exp nanoseconds.
constexpr unsigned first_bound_exp = 7;
constexpr unsigned last_bound_exp = 33;

constexpr double ns_per_second = 1e9;

double seconds(std::uint64_t ns) { return static_cast<double>(ns) / ns_per_second; }

// The drop reasons as label values, indexed by drop_reason.
constexpr std::array<const char*, drop_reason_count> drop_reason_names = {"backpressure", "pool_stopped", "canceled",
                                                                          "deadline"};

// Families in the order they are first asked for; empty ones are dropped at the end.
class family_set {
 public:
  MetricFamily& get(const char* name, const char* help, MetricType type) {
    for (MetricFamily& f : families_)
      if (f.name == name) return f;
    MetricFamily& f = families_.emplace_back();
    f.name = name;
    f.help = help;
    f.type = type;
    return f;
  }

  std::vector<MetricFamily> take() && {
    std::vector<MetricFamily> out;
    out.reserve(families_.size());
    for (MetricFamily& f : families_)
      if (!f.metric.empty()) out.push_back(std::move(f));
    return out;
  }

 private:
  std::vector<MetricFamily> families_;
};

std::vector<ClientMetric::Label> labels(std::initializer_list<std::pair<const char*, const std::string&>> list) {
  std::vector<ClientMetric::Label> out;
  out.reserve(list.size());
  for (const auto& [name, value] : list) out.push_back(ClientMetric::Label{name, value});
  return out;
}

void add_counter(family_set& fs, const char* name, const char* help, std::vector<ClientMetric::Label> l, double value) {
  ClientMetric& m = fs.get(name, help, MetricType::Counter).metric.emplace_back();
  m.label = std::move(l);
  m.counter.value = value;
}

void add_gauge(family_set& fs, const char* name, const char* help, std::vector<ClientMetric::Label> l, double value) {
  ClientMetric& m = fs.get(name, help, MetricType::Gauge).metric.emplace_back();
  m.label = std::move(l);
  m.gauge.value = value;
}

// A latency_histogram as a Prometheus histogram: the cumulative count below each power of
// two, which is a bucket boundary, so the sums are exact; +Inf holds every value.
void add_histogram(family_set& fs, const char* name, const char* help, std::vector<ClientMetric::Label> l,
                   const latency_histogram& h) {
  ClientMetric& m = fs.get(name, help, MetricType::Histogram).metric.emplace_back();
  m.label = std::move(l);
  ClientMetric::Histogram& out = m.histogram;
  out.sample_sum = seconds(h.sum_ns);
  out.bucket.reserve(last_bound_exp - first_bound_exp + 2);
  std::uint64_t cumulative = 0;
  std::size_t i = 0;
  for (unsigned e = first_bound_exp; e <= last_bound_exp; ++e) {
    const std::uint64_t bound = std::uint64_t{1} << e;
    for (; i < latency_histogram::bucket_count && latency_histogram::bucket_upper(i) <= bound; ++i)
      cumulative += h.buckets[i];
    out.bucket.push_back(ClientMetric::Bucket{cumulative, seconds(bound)});
  }
  // The buckets and the count are read one by one while listeners run: keep the series
  // monotonic whatever was read.
  const std::uint64_t total = std::max(h.count, cumulative);
  out.sample_count = total;
  out.bucket.push_back(ClientMetric::Bucket{total, std::numeric_limits<double>::infinity()});
}

void add_signal(family_set& fs, const signal_metrics& s) {
  const std::string& sig = s.name;
  const signal_stats& st = s.stats;
  const auto by_signal = [&] { return labels({{"signal", sig}}); };

  add_gauge(fs, "sigs_signal_instances",
            "Signals sharing this series: those with the same name, or those folded into the overflow series",
            by_signal(), static_cast<double>(s.instances));
  add_gauge(fs, "sigs_listeners", "Listeners registered on the signal now", by_signal(),
            static_cast<double>(s.listeners));
  add_counter(fs, "sigs_emits_total",
              "Emissions (emit and try_emit calls) of the signal, counted at metrics level counters and above",
              by_signal(), static_cast<double>(st.emits));
  add_counter(fs, "sigs_calls_total",
              "Listener calls of the signal, all listeners, counted at metrics level counters and above", by_signal(),
              static_cast<double>(st.listener_calls));
  add_counter(fs, "sigs_errors_total", "Error codes returned by the signal's listeners", by_signal(),
              static_cast<double>(st.errors));
  add_counter(fs, "sigs_exceptions_total", "Exceptions thrown by the signal's listeners", by_signal(),
              static_cast<double>(st.exceptions));
  add_counter(fs, "sigs_canceled_total", "Emissions stopped by their context (cancelled or past the deadline)",
              by_signal(), static_cast<double>(st.canceled));
  add_counter(fs, "sigs_handler_failures_total", "Exceptions thrown by the signal's error handler itself (swallowed)",
              by_signal(), static_cast<double>(st.handler_failures));
  add_counter(fs, "sigs_unrecorded_failures_total",
              "Listener failures a listener's own record could not keep for want of memory (still counted in the "
              "errors and exceptions)",
              by_signal(), static_cast<double>(st.unrecorded_failures));

  const bool timed = s.level >= metrics_level::sampled;
  for (const listener_metrics& l : s.by_listener) {
    const auto by_listener = [&] { return labels({{"signal", sig}, {"listener", l.key}}); };
    add_counter(fs, "sigs_listener_calls_total",
                "Calls of the listener (listener=\"\": every unkeyed listener of the signal)", by_listener(),
                static_cast<double>(l.calls));
    add_counter(fs, "sigs_listener_errors_total",
                "Error codes returned by the listener (listener=\"\": every unkeyed listener)", by_listener(),
                static_cast<double>(l.errors));
    add_counter(fs, "sigs_listener_exceptions_total",
                "Exceptions thrown by the listener (listener=\"\": every unkeyed listener)", by_listener(),
                static_cast<double>(l.exceptions));
    if (timed || l.latency.count != 0)
      add_histogram(
          fs, "sigs_listener_latency_seconds",
          "Duration of the listener's timed calls (metrics level sampled: one call in sample_every; full: every call)",
          by_listener(), l.latency);
  }

  if (!s.is_async) return;
  add_counter(fs, "sigs_delivered_total", "Async deliveries that ran a listener (successful or not)", by_signal(),
              static_cast<double>(st.delivered));
  for (std::size_t r = 0; r < drop_reason_count; ++r) {
    const std::string reason = drop_reason_names.at(r);
    add_counter(fs, "sigs_dropped_total", "Async deliveries not made, by reason",
                labels({{"signal", sig}, {"reason", reason}}), static_cast<double>(s.dropped_by.at(r)));
  }
  add_counter(fs, "sigs_skipped_total",
              "Async deliveries skipped: the listener was removed, or a once-listener fired, before its turn",
              by_signal(), static_cast<double>(st.skipped));
  add_counter(fs, "sigs_rejected_total", "try_emit calls on the async signal that returned an error (nothing queued)",
              by_signal(), static_cast<double>(st.rejected));
  add_gauge(fs, "sigs_in_flight", "Async emissions queued or running now", by_signal(),
            static_cast<double>(st.in_flight));
  if (timed || s.queue_wait.count != 0)
    add_histogram(fs, "sigs_queue_wait_seconds", "Time from an async emission to the start of a timed listener call",
                  by_signal(), s.queue_wait);
}

void add_pool(family_set& fs, const pool_metrics& p) {
  const worker_pool_stats& st = p.stats;
  const auto by_pool = [&] { return labels({{"pool", p.name}}); };
  const unsigned idle = st.threads > st.active_workers ? st.threads - st.active_workers : 0;
  add_gauge(fs, "sigs_pool_instances",
            "Pools sharing this series: those with the same name, or those folded into the overflow series", by_pool(),
            static_cast<double>(p.instances));
  add_gauge(fs, "sigs_pool_threads", "Worker threads of the pool", by_pool(), static_cast<double>(st.threads));
  add_gauge(fs, "sigs_pool_active_workers", "Workers running a task now", by_pool(),
            static_cast<double>(st.active_workers));
  add_gauge(fs, "sigs_pool_idle_workers", "Workers not running a task now (threads less active workers)", by_pool(),
            static_cast<double>(idle));
  add_gauge(fs, "sigs_pool_queue_depth", "Tasks queued, not yet taken by a worker", by_pool(),
            static_cast<double>(st.queue_depth));
  add_gauge(fs, "sigs_pool_queue_capacity", "Cells of the pool's task queue", by_pool(),
            static_cast<double>(st.queue_capacity));
  add_counter(fs, "sigs_pool_tasks_submitted_total", "Tasks the pool accepted", by_pool(),
              static_cast<double>(st.submitted));
  add_counter(fs, "sigs_pool_tasks_completed_total", "Accepted tasks that ran, including those that threw", by_pool(),
              static_cast<double>(st.completed));
  add_counter(fs, "sigs_pool_tasks_dropped_total", "Accepted tasks discarded by a shutdown in discard mode", by_pool(),
              static_cast<double>(st.dropped));
  add_counter(fs, "sigs_pool_tasks_rejected_total", "Submissions that returned an error (queue full, pool stopped)",
              by_pool(), static_cast<double>(st.rejected));
  add_counter(fs, "sigs_pool_task_exceptions_total", "Tasks that threw (each also counted as completed)", by_pool(),
              static_cast<double>(st.exceptions));
  add_counter(fs, "sigs_pool_busy_seconds_total",
              "Time the pool's workers spent other than waiting for work, summed over workers", by_pool(),
              static_cast<double>(st.busy_time.count()) / ns_per_second);
  add_counter(fs, "sigs_pool_idle_seconds_total", "Time the pool's workers spent waiting for work, summed over workers",
              by_pool(), static_cast<double>(st.idle_time.count()) / ns_per_second);
}

// "host:port" -> host (everything before the last ':'); a bare port listens on every
// IPv4 interface: "0.0.0.0".
std::string host_of(const std::string& address) {
  const std::size_t colon = address.rfind(':');
  return colon == std::string::npos ? std::string{"0.0.0.0"} : address.substr(0, colon);
}

}  // namespace

const std::vector<double>& prometheus_latency_bounds() {
  static const std::vector<double> bounds = [] {
    std::vector<double> b;
    for (unsigned e = first_bound_exp; e <= last_bound_exp; ++e) b.push_back(seconds(std::uint64_t{1} << e));
    return b;
  }();
  return bounds;
}

std::vector<MetricFamily> prometheus_families(const metrics_snapshot& snapshot) {
  family_set fs;
  for (const signal_metrics& s : snapshot.by_signal) add_signal(fs, s);
  for (const pool_metrics& p : snapshot.by_pool) add_pool(fs, p);
  add_counter(fs, "sigs_metrics_folded_total",
              "Registrations of signals and pools folded into the overflow series because the name limit was reached",
              {}, static_cast<double>(snapshot.folded));
  add_gauge(fs, "sigs_metrics_name_limit",
            "Distinct names the metrics registry lists before folding into the overflow series", {},
            static_cast<double>(snapshot.name_limit));
  return std::move(fs).take();
}

std::vector<MetricFamily> prometheus_collectable::Collect() const { return prometheus_families(collect_metrics()); }

prometheus_exporter::prometheus_exporter(prometheus_options options)
    : host_(host_of(options.address)), path_(std::move(options.path)),
      collectable_(std::make_shared<prometheus_collectable>()),
      exposer_(std::make_unique<::prometheus::Exposer>(options.address, options.threads)) {
  exposer_->RegisterCollectable(collectable_, path_);
}

prometheus_exporter::~prometheus_exporter() = default;

std::uint16_t prometheus_exporter::port() const {
  const std::vector<int> ports = exposer_->GetListeningPorts();
  return ports.empty() ? std::uint16_t{0} : static_cast<std::uint16_t>(ports.front());
}

std::string prometheus_exporter::url() const { return "http://" + host_ + ":" + std::to_string(port()) + path_; }

}  // namespace sigs
