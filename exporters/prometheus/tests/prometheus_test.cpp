// The Prometheus exporter: the families built from a known snapshot (names, types, HELP,
// labels, values, the conversion of the log-linear histogram to power-of-two buckets in
// seconds), their text rendering, a live registry read through the Collectable, and the
// HTTP server over loopback.
#include <gtest/gtest.h>

#include <sigs/prometheus.hpp>
#include <sigs/sigs.hpp>

#include <prometheus/text_serializer.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace {

using ::prometheus::ClientMetric;
using ::prometheus::MetricFamily;
using ::prometheus::MetricType;
using hist = sigs::latency_histogram;
using label_map = std::map<std::string, std::string>;

hist from_values(const std::vector<std::uint64_t>& values) {
  hist h;
  for (std::uint64_t v : values) {
    h.buckets.at(hist::bucket_of(v)) += 1;
    h.sum_ns += v;
    h.min_ns = h.count == 0 ? v : std::min(h.min_ns, v);
    h.max_ns = std::max(h.max_ns, v);
    ++h.count;
  }
  return h;
}

const MetricFamily* family(const std::vector<MetricFamily>& fs, const std::string& name) {
  for (const MetricFamily& f : fs)
    if (f.name == name) return &f;
  return nullptr;
}

label_map labels_of(const ClientMetric& m) {
  label_map out;
  for (const auto& l : m.label) out[l.name] = l.value;
  return out;
}

// The one series of family `name` with exactly these labels; fails the test if there is
// not exactly one.
const ClientMetric* series(const std::vector<MetricFamily>& fs, const std::string& name, const label_map& want) {
  const MetricFamily* f = family(fs, name);
  if (f == nullptr) {
    ADD_FAILURE() << "no family " << name;
    return nullptr;
  }
  const ClientMetric* found = nullptr;
  for (const ClientMetric& m : f->metric) {
    if (labels_of(m) != want) continue;
    if (found != nullptr) ADD_FAILURE() << "two series of " << name << " with the same labels";
    found = &m;
  }
  if (found == nullptr) ADD_FAILURE() << "no series of " << name << " with the labels asked for";
  return found;
}

double counter(const std::vector<MetricFamily>& fs, const std::string& name, const label_map& l) {
  const ClientMetric* m = series(fs, name, l);
  return m == nullptr ? std::nan("") : m->counter.value;
}

double gauge(const std::vector<MetricFamily>& fs, const std::string& name, const label_map& l) {
  const ClientMetric* m = series(fs, name, l);
  return m == nullptr ? std::nan("") : m->gauge.value;
}

// Latencies (ns) spread over the exported range: below the first bound, on bounds, just
// below bounds, and past the last bound (only in +Inf).
const std::vector<std::uint64_t> latencies = {3,
                                              127,
                                              128,
                                              129,
                                              1000,
                                              4095,
                                              4096,
                                              300'000,
                                              300'000,
                                              300'000,
                                              999'999,
                                              1u << 20,
                                              std::uint64_t{5'000'000'000},
                                              std::uint64_t{1} << 33,
                                              std::uint64_t{100'000'000'000}};

sigs::metrics_snapshot known_snapshot() {
  sigs::metrics_snapshot s;

  sigs::signal_metrics orders;
  orders.name = "orders";
  orders.level = sigs::metrics_level::full;
  orders.stats.emits = 7;
  orders.stats.listener_calls = 14;
  orders.stats.errors = 2;
  orders.stats.exceptions = 1;
  orders.stats.canceled = 3;
  orders.stats.handler_failures = 4;
  orders.stats.unrecorded_failures = 5;
  orders.listeners = 2;
  sigs::listener_metrics book;
  book.key = "book";
  book.calls = 7;
  book.errors = 2;
  book.exceptions = 1;
  book.latency = from_values(latencies);
  sigs::listener_metrics unkeyed;
  unkeyed.calls = 7;
  unkeyed.latency = from_values({500});
  orders.by_listener = {book, unkeyed};
  orders.latency = book.latency;
  orders.latency.merge(unkeyed.latency);
  s.by_signal.push_back(orders);

  sigs::signal_metrics mail;
  mail.name = "mail";
  mail.is_async = true;
  mail.level = sigs::metrics_level::counters;  // no timing: no histograms
  mail.stats.emits = 100;
  mail.stats.delivered = 90;
  mail.stats.dropped = 1 + 2 + 3 + 4;
  mail.stats.skipped = 6;
  mail.stats.rejected = 8;
  mail.stats.in_flight = 9;
  mail.dropped_by = {1, 2, 3, 4};
  mail.listeners = 1;
  mail.instances = 3;
  sigs::listener_metrics send;
  send.key = "send";
  send.calls = 90;
  mail.by_listener = {send};
  s.by_signal.push_back(mail);

  sigs::pool_metrics io;
  io.name = "io";
  io.stats.queue_depth = 5;
  io.stats.queue_capacity = 256;
  io.stats.active_workers = 1;
  io.stats.threads = 3;
  io.stats.submitted = 50;
  io.stats.completed = 40;
  io.stats.dropped = 2;
  io.stats.rejected = 6;
  io.stats.exceptions = 1;
  io.stats.busy_time = std::chrono::milliseconds(1500);
  io.stats.idle_time = std::chrono::milliseconds(250);
  s.by_pool.push_back(io);

  s.folded = 11;
  s.name_limit = 256;
  return s;
}

TEST(PrometheusFamilies, NamesTypesAndHelpFollowTheConventions) {
  const std::vector<MetricFamily> fs = sigs::prometheus_families(known_snapshot());
  const std::map<std::string, MetricType> expected = {
      {"sigs_signal_instances", MetricType::Gauge},
      {"sigs_listeners", MetricType::Gauge},
      {"sigs_emits_total", MetricType::Counter},
      {"sigs_calls_total", MetricType::Counter},
      {"sigs_errors_total", MetricType::Counter},
      {"sigs_exceptions_total", MetricType::Counter},
      {"sigs_canceled_total", MetricType::Counter},
      {"sigs_handler_failures_total", MetricType::Counter},
      {"sigs_unrecorded_failures_total", MetricType::Counter},
      {"sigs_listener_calls_total", MetricType::Counter},
      {"sigs_listener_errors_total", MetricType::Counter},
      {"sigs_listener_exceptions_total", MetricType::Counter},
      {"sigs_listener_latency_seconds", MetricType::Histogram},
      {"sigs_delivered_total", MetricType::Counter},
      {"sigs_dropped_total", MetricType::Counter},
      {"sigs_skipped_total", MetricType::Counter},
      {"sigs_rejected_total", MetricType::Counter},
      {"sigs_in_flight", MetricType::Gauge},
      {"sigs_pool_instances", MetricType::Gauge},
      {"sigs_pool_threads", MetricType::Gauge},
      {"sigs_pool_active_workers", MetricType::Gauge},
      {"sigs_pool_idle_workers", MetricType::Gauge},
      {"sigs_pool_queue_depth", MetricType::Gauge},
      {"sigs_pool_queue_capacity", MetricType::Gauge},
      {"sigs_pool_tasks_submitted_total", MetricType::Counter},
      {"sigs_pool_tasks_completed_total", MetricType::Counter},
      {"sigs_pool_tasks_dropped_total", MetricType::Counter},
      {"sigs_pool_tasks_rejected_total", MetricType::Counter},
      {"sigs_pool_task_exceptions_total", MetricType::Counter},
      {"sigs_pool_busy_seconds_total", MetricType::Counter},
      {"sigs_pool_idle_seconds_total", MetricType::Counter},
      {"sigs_metrics_folded_total", MetricType::Counter},
      {"sigs_metrics_name_limit", MetricType::Gauge},
  };
  std::set<std::string> names;
  for (const MetricFamily& f : fs) {
    EXPECT_TRUE(names.insert(f.name).second) << "family twice: " << f.name;
    const auto it = expected.find(f.name);
    if (it == expected.end()) {
      ADD_FAILURE() << "unexpected family " << f.name;
      continue;
    }
    EXPECT_EQ(f.type, it->second) << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    EXPECT_FALSE(f.metric.empty()) << f.name;
    const bool is_total = f.name.ends_with("_total");
    EXPECT_EQ(is_total, f.type == MetricType::Counter) << f.name;
    if (f.type == MetricType::Histogram) {
      EXPECT_TRUE(f.name.ends_with("_seconds")) << f.name;
    }
  }
  EXPECT_EQ(names.size(), expected.size());
  // No signal here is timed and async: no queue-wait family, rather than an empty one.
  EXPECT_EQ(family(fs, "sigs_queue_wait_seconds"), nullptr);
}

TEST(PrometheusFamilies, SignalCountersCarryTheSignalLabel) {
  const std::vector<MetricFamily> fs = sigs::prometheus_families(known_snapshot());
  const label_map orders = {{"signal", "orders"}};
  EXPECT_EQ(counter(fs, "sigs_emits_total", orders), 7);
  EXPECT_EQ(counter(fs, "sigs_calls_total", orders), 14);
  EXPECT_EQ(counter(fs, "sigs_errors_total", orders), 2);
  EXPECT_EQ(counter(fs, "sigs_exceptions_total", orders), 1);
  EXPECT_EQ(counter(fs, "sigs_canceled_total", orders), 3);
  EXPECT_EQ(counter(fs, "sigs_handler_failures_total", orders), 4);
  EXPECT_EQ(counter(fs, "sigs_unrecorded_failures_total", orders), 5);
  EXPECT_EQ(gauge(fs, "sigs_listeners", orders), 2);
  EXPECT_EQ(gauge(fs, "sigs_signal_instances", orders), 1);
  EXPECT_EQ(gauge(fs, "sigs_signal_instances", {{"signal", "mail"}}), 3);
  EXPECT_EQ(counter(fs, "sigs_emits_total", {{"signal", "mail"}}), 100);
}

TEST(PrometheusFamilies, ListenersAreKeyedAndTheUnkeyedFoldIsTheEmptyKey) {
  const std::vector<MetricFamily> fs = sigs::prometheus_families(known_snapshot());
  const label_map book = {{"signal", "orders"}, {"listener", "book"}};
  const label_map unkeyed = {{"signal", "orders"}, {"listener", ""}};
  EXPECT_EQ(counter(fs, "sigs_listener_calls_total", book), 7);
  EXPECT_EQ(counter(fs, "sigs_listener_errors_total", book), 2);
  EXPECT_EQ(counter(fs, "sigs_listener_exceptions_total", book), 1);
  EXPECT_EQ(counter(fs, "sigs_listener_calls_total", unkeyed), 7);
  EXPECT_EQ(counter(fs, "sigs_listener_errors_total", unkeyed), 0);
  EXPECT_EQ(counter(fs, "sigs_listener_calls_total", {{"signal", "mail"}, {"listener", "send"}}), 90);
  EXPECT_EQ(family(fs, "sigs_listener_calls_total")->metric.size(), 3u);
}

TEST(PrometheusFamilies, AsyncFamiliesOnlyForAsyncSignalsAndDropsByReason) {
  const std::vector<MetricFamily> fs = sigs::prometheus_families(known_snapshot());
  const label_map mail = {{"signal", "mail"}};
  EXPECT_EQ(counter(fs, "sigs_delivered_total", mail), 90);
  EXPECT_EQ(counter(fs, "sigs_skipped_total", mail), 6);
  EXPECT_EQ(counter(fs, "sigs_rejected_total", mail), 8);
  EXPECT_EQ(gauge(fs, "sigs_in_flight", mail), 9);
  const char* reasons[] = {"backpressure", "pool_stopped", "canceled", "deadline"};
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(counter(fs, "sigs_dropped_total", {{"signal", "mail"}, {"reason", reasons[r]}}), r + 1) << reasons[r];
  }
  for (const char* name : {"sigs_delivered_total", "sigs_skipped_total", "sigs_rejected_total", "sigs_in_flight"})
    EXPECT_EQ(family(fs, name)->metric.size(), 1u) << name << ": a sync signal has no such series";
  EXPECT_EQ(family(fs, "sigs_dropped_total")->metric.size(), 4u);
}

TEST(PrometheusFamilies, PoolsInSecondsAndWorkers) {
  const std::vector<MetricFamily> fs = sigs::prometheus_families(known_snapshot());
  const label_map io = {{"pool", "io"}};
  EXPECT_EQ(gauge(fs, "sigs_pool_instances", io), 1);
  EXPECT_EQ(gauge(fs, "sigs_pool_threads", io), 3);
  EXPECT_EQ(gauge(fs, "sigs_pool_active_workers", io), 1);
  EXPECT_EQ(gauge(fs, "sigs_pool_idle_workers", io), 2);
  EXPECT_EQ(gauge(fs, "sigs_pool_queue_depth", io), 5);
  EXPECT_EQ(gauge(fs, "sigs_pool_queue_capacity", io), 256);
  EXPECT_EQ(counter(fs, "sigs_pool_tasks_submitted_total", io), 50);
  EXPECT_EQ(counter(fs, "sigs_pool_tasks_completed_total", io), 40);
  EXPECT_EQ(counter(fs, "sigs_pool_tasks_dropped_total", io), 2);
  EXPECT_EQ(counter(fs, "sigs_pool_tasks_rejected_total", io), 6);
  EXPECT_EQ(counter(fs, "sigs_pool_task_exceptions_total", io), 1);
  EXPECT_DOUBLE_EQ(counter(fs, "sigs_pool_busy_seconds_total", io), 1.5);
  EXPECT_DOUBLE_EQ(counter(fs, "sigs_pool_idle_seconds_total", io), 0.25);
}

TEST(PrometheusFamilies, RegistryWideSeriesHaveNoLabels) {
  const std::vector<MetricFamily> fs = sigs::prometheus_families(known_snapshot());
  EXPECT_EQ(counter(fs, "sigs_metrics_folded_total", {}), 11);
  EXPECT_EQ(gauge(fs, "sigs_metrics_name_limit", {}), 256);
}

TEST(PrometheusFamilies, AnEmptySnapshotHasOnlyTheRegistryWideSeries) {
  const std::vector<MetricFamily> fs = sigs::prometheus_families(sigs::metrics_snapshot{});
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_EQ(fs[0].name, "sigs_metrics_folded_total");
  EXPECT_EQ(fs[1].name, "sigs_metrics_name_limit");
}

TEST(PrometheusHistogram, BoundsArePowersOfTwoNanosecondsInSeconds) {
  const std::vector<double>& b = sigs::prometheus_latency_bounds();
  ASSERT_EQ(b.size(), 27u);  // 2^7 .. 2^33 ns
  for (std::size_t i = 0; i < b.size(); ++i) {
    const std::uint64_t ns = std::uint64_t{1} << (7 + i);
    EXPECT_DOUBLE_EQ(b[i], static_cast<double>(ns) / 1e9) << i;
    // Each bound is a boundary of the log-linear buckets: the counts below it are exact.
    EXPECT_EQ(hist::bucket_lower(hist::bucket_of(ns)), ns) << i;
  }
}

TEST(PrometheusHistogram, CumulativeCountsAreExactBelowEachBoundAndInfHoldsAll) {
  const std::vector<MetricFamily> fs = sigs::prometheus_families(known_snapshot());
  const ClientMetric* m = series(fs, "sigs_listener_latency_seconds", {{"signal", "orders"}, {"listener", "book"}});
  ASSERT_NE(m, nullptr);
  const ClientMetric::Histogram& h = m->histogram;
  const std::vector<double>& bounds = sigs::prometheus_latency_bounds();
  ASSERT_EQ(h.bucket.size(), bounds.size() + 1);
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    const std::uint64_t ns = std::uint64_t{1} << (7 + i);
    const auto below = static_cast<std::uint64_t>(
        std::count_if(latencies.begin(), latencies.end(), [&](std::uint64_t v) { return v < ns; }));
    EXPECT_DOUBLE_EQ(h.bucket[i].upper_bound, bounds[i]) << i;
    EXPECT_EQ(h.bucket[i].cumulative_count, below) << "le=2^" << 7 + i << " ns";
  }
  EXPECT_TRUE(std::isinf(h.bucket.back().upper_bound));
  EXPECT_EQ(h.bucket.back().cumulative_count, latencies.size());
  EXPECT_EQ(h.sample_count, latencies.size());
  std::uint64_t sum = 0;
  for (std::uint64_t v : latencies) sum += v;
  EXPECT_DOUBLE_EQ(h.sample_sum, static_cast<double>(sum) / 1e9);
  // Spot checks: 2 values below 128 ns, 7 below 2^19 ns (3, 127, 128, 129, 1000, 4095,
  // 4096, then the three 300 us), the 5 s one below 2^33 ns, 2^33 and 100 s only in +Inf.
  EXPECT_EQ(h.bucket[0].cumulative_count, 2u);
  EXPECT_EQ(h.bucket[19 - 7].cumulative_count, 10u);
  EXPECT_EQ(h.bucket[33 - 7].cumulative_count, latencies.size() - 2);
}

TEST(PrometheusHistogram, OnlyTimedSignalsHaveHistograms) {
  const std::vector<MetricFamily> fs = sigs::prometheus_families(known_snapshot());
  const MetricFamily* f = family(fs, "sigs_listener_latency_seconds");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->metric.size(), 2u);  // orders/book and orders/"": mail counts only
  sigs::metrics_snapshot s = known_snapshot();
  s.by_signal[1].level = sigs::metrics_level::sampled;
  const std::vector<MetricFamily> timed = sigs::prometheus_families(s);
  EXPECT_EQ(family(timed, "sigs_listener_latency_seconds")->metric.size(), 3u);
  EXPECT_NE(series(timed, "sigs_queue_wait_seconds", {{"signal", "mail"}}), nullptr);
}

TEST(PrometheusText, RendersInTheExpositionFormat) {
  std::ostringstream out;
  ::prometheus::TextSerializer{}.Serialize(out, sigs::prometheus_families(known_snapshot()));
  const std::string text = out.str();
  for (const char* line : {
           "# TYPE sigs_emits_total counter\n",
           "sigs_emits_total{signal=\"orders\"} 7\n",
           "sigs_listener_calls_total{signal=\"orders\",listener=\"\"} 7\n",
           "sigs_dropped_total{signal=\"mail\",reason=\"deadline\"} 4\n",
           "# TYPE sigs_listener_latency_seconds histogram\n",
           "sigs_listener_latency_seconds_count{signal=\"orders\",listener=\"book\"} 15\n",
           "sigs_listener_latency_seconds_bucket{signal=\"orders\",listener=\"book\",le=\"+Inf\"} 15\n",
           "sigs_metrics_folded_total 11\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "in:\n" << text;
  }
}

// ---- the live registry ------------------------------------------------------------------

std::atomic<std::uint64_t> fake_now{1'000'000};
std::uint64_t read_fake_clock() noexcept { return fake_now.load(); }

TEST(PrometheusCollectable, ReadsTheRegistryAtEachCollect) {
  sigs::set_metrics_clock(&read_fake_clock);
  {
    sigs::sync_signal<int> sig(sigs::sync_options{.metrics = sigs::metrics_level::full, .name = "prom_live"});
    sig.add_listener([](const int&) { fake_now += 300'000; }, "slow");
    const sigs::prometheus_collectable collectable;
    EXPECT_EQ(family(collectable.Collect(), "sigs_emits_total")->metric.size(), 1u);
    EXPECT_EQ(counter(collectable.Collect(), "sigs_emits_total", {{"signal", "prom_live"}}), 0);
    for (int i = 0; i < 5; ++i) sig.emit(i);
    const std::vector<MetricFamily> fs = collectable.Collect();
    EXPECT_EQ(counter(fs, "sigs_emits_total", {{"signal", "prom_live"}}), 5);
    EXPECT_EQ(counter(fs, "sigs_listener_calls_total", {{"signal", "prom_live"}, {"listener", "slow"}}), 5);
    const ClientMetric* h =
        series(fs, "sigs_listener_latency_seconds", {{"signal", "prom_live"}, {"listener", "slow"}});
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->histogram.sample_count, 5u);
    EXPECT_DOUBLE_EQ(h->histogram.sample_sum, 5 * 300e-6);
    EXPECT_EQ(h->histogram.bucket[18 - 7].cumulative_count, 0u);  // 300 us >= 2^18 ns
    EXPECT_EQ(h->histogram.bucket[19 - 7].cumulative_count, 5u);  // 300 us < 2^19 ns
  }
  sigs::set_metrics_clock(nullptr);
  // The signal is gone: so is its series.
  const std::vector<MetricFamily> after = sigs::prometheus_collectable{}.Collect();
  const MetricFamily* emits = family(after, "sigs_emits_total");
  EXPECT_TRUE(emits == nullptr || emits->metric.empty());
}

// ---- the HTTP server over loopback ------------------------------------------------------

// GET `path` from 127.0.0.1:`port` over HTTP/1.0; the whole response, headers included.
std::string http_get(std::uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::system_error(errno, std::generic_category(), "connect");
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    throw std::runtime_error("send failed");
  }
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return response;
}

TEST(PrometheusExporter, PortZeroPicksAFreePortAndServesTheRegistry) {
  sigs::sync_signal<int> sig(sigs::sync_options{.metrics = sigs::metrics_level::counters, .name = "prom_http"});
  sig.add_listener([](const int&) {});
  for (int i = 0; i < 3; ++i) sig.emit(i);

  sigs::prometheus_exporter exporter({.address = "127.0.0.1:0"});
  const std::uint16_t port = exporter.port();
  ASSERT_NE(port, 0);
  EXPECT_EQ(exporter.host(), "127.0.0.1");
  EXPECT_EQ(exporter.url(), "http://127.0.0.1:" + std::to_string(port) + "/metrics");

  const std::string response = http_get(port, "/metrics");
  EXPECT_NE(response.find(" 200 "), std::string::npos) << response;
  EXPECT_NE(response.find("sigs_emits_total{signal=\"prom_http\"} 3\n"), std::string::npos) << response;
  EXPECT_NE(response.find("# HELP sigs_emits_total "), std::string::npos) << response;

  // The port is taken now: a second exporter on it fails to start.
  EXPECT_THROW(sigs::prometheus_exporter({.address = "127.0.0.1:" + std::to_string(port)}), std::runtime_error);
}

TEST(PrometheusExporter, ServesAtTheChosenPath) {
  sigs::prometheus_exporter exporter({.address = "127.0.0.1:0", .path = "/sigs"});
  EXPECT_EQ(exporter.url(), "http://127.0.0.1:" + std::to_string(exporter.port()) + "/sigs");
  EXPECT_NE(http_get(exporter.port(), "/sigs").find("sigs_metrics_name_limit "), std::string::npos);
  EXPECT_EQ(http_get(exporter.port(), "/metrics").find("sigs_metrics_name_limit "), std::string::npos);
}

}  // namespace
