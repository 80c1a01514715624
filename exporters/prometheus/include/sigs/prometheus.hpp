// sigs/prometheus.hpp — the Prometheus exporter: every named signal and pool of the process,
// read by sigs::collect_metrics() at each scrape and served in the Prometheus text format.
//
//   sigs::prometheus_exporter exporter({.address = "127.0.0.1:9464"});   // serves /metrics
//   std::cout << "scrape " << exporter.url() << "\n";
//
// Or, with an Exposer or Registry of your own (prometheus-cpp):
//
//   exposer.RegisterCollectable(std::make_shared<sigs::prometheus_collectable>());
//
// Nothing is stored between scrapes: each one calls collect_metrics() and builds the metric
// families from that snapshot. docs/observability.md lists every family. Link the CMake
// target sigs::prometheus (find_package(sigs COMPONENTS prometheus)).
#pragma once

#pragma push_macro("emit")
#undef emit

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <sigs/metrics.hpp>

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace sigs {

/// The metric families of one snapshot, in the Prometheus naming conventions: the `sigs_`
/// prefix, counters ending in `_total`, durations in seconds, labels `signal`, `listener`,
/// `reason` and `pool`. The unkeyed listeners of a signal are the series `listener=""`.
/// Families without a sample are left out.
[[nodiscard]] std::vector<::prometheus::MetricFamily> prometheus_families(const metrics_snapshot& snapshot);

/// The `le` bounds of the exported latency histograms, in seconds: the powers of two from
/// 2^7 ns (128 ns) to 2^33 ns (about 8.6 s), each a bucket boundary of latency_histogram,
/// so every cumulative count is exact. The `+Inf` bucket follows them.
[[nodiscard]] const std::vector<double>& prometheus_latency_bounds();

/// A prometheus-cpp Collectable that reads sigs::collect_metrics() at each Collect(): register
/// it with any prometheus::Exposer (or merge it into a Registry's output) to export sigs
/// beside your own metrics.
class prometheus_collectable final : public ::prometheus::Collectable {
 public:
  /// prometheus_families(collect_metrics()).
  [[nodiscard]] std::vector<::prometheus::MetricFamily> Collect() const override;
};

/// What prometheus_exporter serves, and where.
struct prometheus_options {
  /// `host:port` to listen on. Port 0 picks a free port: read it back with port().
  std::string address = "127.0.0.1:9464";
  /// The path of the metrics page.
  std::string path = "/metrics";
  /// HTTP server threads.
  std::size_t threads = 2;
};

/// An HTTP server (prometheus-cpp's Exposer, over civetweb) serving the metrics of every
/// named signal and pool at `options.path`. It listens from construction to destruction.
class prometheus_exporter {
 public:
  /// Starts listening. Throws std::runtime_error when the address cannot be bound (in use,
  /// malformed), and std::bad_alloc.
  explicit prometheus_exporter(prometheus_options options = {});
  /// Stops the server; a scrape in progress completes first.
  ~prometheus_exporter();

  prometheus_exporter(const prometheus_exporter&) = delete;
  prometheus_exporter& operator=(const prometheus_exporter&) = delete;
  prometheus_exporter(prometheus_exporter&&) = delete;
  prometheus_exporter& operator=(prometheus_exporter&&) = delete;

  /// The port it listens on: the one chosen when the address asked for port 0.
  [[nodiscard]] std::uint16_t port() const;
  /// The host part of the address it was given (before the last ':'); "0.0.0.0" for an
  /// address that is a port alone (every IPv4 interface).
  [[nodiscard]] const std::string& host() const noexcept { return host_; }
  /// `http://<host>:<port><path>`.
  [[nodiscard]] std::string url() const;

 private:
  std::string host_;
  std::string path_;
  std::shared_ptr<prometheus_collectable> collectable_;
  std::unique_ptr<::prometheus::Exposer> exposer_;
};

}  // namespace sigs

#pragma pop_macro("emit")
