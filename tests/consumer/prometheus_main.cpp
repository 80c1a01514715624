#include <sigs/prometheus.hpp>
#include <sigs/sigs.hpp>

#include <string>
#include <vector>

// A named signal is exported, and the exporter can listen on a free port.
int main() {
  sigs::sync_signal<int> sig(sigs::sync_options{.metrics = sigs::metrics_level::counters, .name = "consumed"});
  sig.add_listener([](const int&) {});
  sig.emit(1);
  bool found = false;
  for (const auto& family : sigs::prometheus_collectable{}.Collect())
    for (const auto& metric : family.metric)
      if (family.name == "sigs_emits_total" && metric.counter.value == 1) found = true;
  const sigs::prometheus_exporter exporter({.address = "127.0.0.1:0"});
  return found && exporter.port() != 0 ? 0 : 1;
}
