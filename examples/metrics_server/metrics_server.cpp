// A program that serves its signals' metrics to Prometheus: two named sync signals and a
// named async signal on a named pool, with listeners of known cost, and /metrics served by
// sigs::prometheus_exporter.
//
//   metrics_server [ADDRESS] [--emits N] [--port-file PATH] [--seconds S]
//
//   ADDRESS          host:port to listen on (default 127.0.0.1:0, a free port); the URL
//                    served is printed once listening
//   --emits N        emit exactly N events on each signal, wait for the async deliveries,
//                    then stop emitting and keep serving (default: emit until stopped)
//   --port-file PATH write the bound port to PATH, once listening and, with --emits, once
//                    the N events are delivered (written to PATH.tmp, then renamed)
//   --seconds S      exit after S seconds (0: as soon as the emits are done); default: run
//                    until SIGINT or SIGTERM
//
// With --emits N the metrics are known in advance: each signal has N emits;
// orders/book is called N times and each call spins for book_spin (300 us), so every one
// of its latencies lies in [2^18, 2^19) ns unless the thread is preempted; payments/charge
// fails every 10th payment; notifications delivers 2N calls. ci/lane-scrape.sh checks them
// through a real Prometheus server.
#include <sigs/prometheus.hpp>
#include <sigs/sigs.hpp>

#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

using namespace std::chrono_literals;

namespace {

constexpr auto book_spin = 300us;  // orders/book: a listener of known latency
constexpr auto email_sleep = 50us;

// Set by SIGINT and SIGTERM; the main thread polls it.
volatile std::sig_atomic_t stop_signal = 0;
extern "C" void on_stop_signal(int sig) { stop_signal = sig; }

struct arguments {
  std::string address = "127.0.0.1:0";
  std::optional<std::uint64_t> emits;
  std::string port_file;
  std::optional<std::uint64_t> seconds;
};

std::optional<std::uint64_t> parse_count(std::string_view s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<arguments> parse(int argc, char** argv) {
  arguments a;
  bool address_seen = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--emits" && has_value) {
      a.emits = parse_count(argv[++i]);
      if (!a.emits) return std::nullopt;
    } else if (arg == "--seconds" && has_value) {
      a.seconds = parse_count(argv[++i]);
      if (!a.seconds) return std::nullopt;
    } else if (arg == "--port-file" && has_value) {
      a.port_file = argv[++i];
    } else if (!arg.starts_with("-") && !address_seen) {
      a.address = arg;
      address_seen = true;
    } else {
      return std::nullopt;
    }
  }
  return a;
}

void spin_for(std::chrono::nanoseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {}
}

bool write_port_file(const std::string& path, std::uint16_t port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// The signals of the program and their listeners.
struct workload {
  sigs::worker_pool io{{.threads = 2, .queue_capacity = 256, .name = "io"}};
  sigs::sync_signal<int> orders{{.metrics = sigs::metrics_level::full, .name = "orders"}};
  sigs::sync_signal<int> payments{{.metrics = sigs::metrics_level::sampled, .sample_every = 8, .name = "payments"}};
  sigs::async_signal<int> notifications{
      {.metrics = sigs::metrics_level::full, .name = "notifications", .pool = &io, .queue_capacity = 128}};
  std::atomic<std::uint64_t> failures{0};

  workload() {
    orders.add_listener([](const int&) { spin_for(book_spin); }, "book");
    orders.add_listener([](const int&) {});  // unkeyed: the listener="" series
    payments.add_listener(
        [](const int& cents) -> std::error_code {
          return cents % 10 == 0 ? std::make_error_code(std::errc::invalid_argument) : std::error_code{};
        },
        "charge");
    payments.set_error_handler([this](const sigs::listener_error&) { failures.fetch_add(1); });
    notifications.add_listener([](const int&) { std::this_thread::sleep_for(email_sleep); }, "email");
    notifications.add_listener([](const int&) {}, "sms");
  }

  // One event on each signal; `i` numbers it (every 10th payment fails).
  void emit_round(std::uint64_t i) {
    const auto v = static_cast<int>(i % 1'000'000);
    orders.emit(v);
    payments.emit(v + 1);
    notifications.emit(v);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const std::optional<arguments> args = parse(argc, argv);
  if (!args) {
    std::cerr << "usage: metrics_server [ADDRESS] [--emits N] [--port-file PATH] [--seconds S]\n";
    return 2;
  }

  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);

  try {
    workload w;
    sigs::prometheus_exporter exporter({.address = args->address});
    std::cout << "metrics_server: serving " << exporter.url() << std::endl;

    std::atomic<bool> stop{false};
    std::thread load;
    if (args->emits) {
      // Phase by phase, so that the async workers do not compete with orders/book's spin.
      for (std::uint64_t i = 0; i < *args->emits; ++i) w.orders.emit(static_cast<int>(i));
      for (std::uint64_t i = 0; i < *args->emits; ++i) w.payments.emit(static_cast<int>(i + 1));
      for (std::uint64_t i = 0; i < *args->emits; ++i) w.notifications.emit(static_cast<int>(i));
      w.notifications.drain();
      std::cout << "metrics_server: emitted " << *args->emits << " events on each of orders, payments, notifications ("
                << w.failures.load() << " payments failed)" << std::endl;
    } else {
      load = std::thread([&] {
        for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
          w.emit_round(i);
          std::this_thread::sleep_for(1ms);
        }
      });
    }
    if (!args->port_file.empty() && !write_port_file(args->port_file, exporter.port())) {
      std::cerr << "metrics_server: cannot write " << args->port_file << "\n";
      stop = true;
      if (load.joinable()) load.join();
      return 1;
    }

    const auto deadline = args->seconds
                              ? std::optional(std::chrono::steady_clock::now() + std::chrono::seconds(*args->seconds))
                              : std::nullopt;
    while (!deadline || std::chrono::steady_clock::now() < *deadline) {
      if (stop_signal != 0) {
        std::cout << "metrics_server: stopping (signal " << stop_signal << ")" << std::endl;
        break;
      }
      std::this_thread::sleep_for(50ms);
    }
    stop = true;
    if (load.joinable()) load.join();
    w.notifications.drain();
  } catch (const std::exception& e) {
    std::cerr << "metrics_server: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
