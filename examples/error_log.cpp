// An error handler that writes every listener failure (a returned error or a thrown
// exception) to a log, for a sync and an async signal; what the handler does not see
// (try_emit's failures) and what happens when the handler itself throws.
// See docs/patterns.md.
#include <sigs/sigs.hpp>

#include <exception>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

// A log shared by several signals. The handler of an async signal runs on worker threads,
// so the log takes a lock.
class error_log {
 public:
  // Makes a handler for one signal: it tags each line with the signal's name.
  auto handler_for(std::string signal) {
    return [this, signal = std::move(signal)](const sigs::listener_error& e) {
      std::string line = signal + ": listener '" + std::string(e.key) + "' failed: " + e.error.message();
      if (e.exception) {
        try {
          std::rethrow_exception(e.exception);
        } catch (const std::exception& ex) {
          line += " (" + std::string(ex.what()) + ")";
        } catch (...) {
          line += " (unknown exception)";
        }
      }
      std::lock_guard<std::mutex> lock(m_);
      lines_.push_back(std::move(line));
    };
  }
  void print() {
    std::lock_guard<std::mutex> lock(m_);
    for (const auto& l : lines_) std::cout << "  log| " << l << "\n";
    lines_.clear();
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lock(m_);
    return lines_.size();
  }

 private:
  std::mutex m_;
  std::vector<std::string> lines_;
};

struct payment {
  int cents;
};

int main() {
  error_log log;

  // ---- sync: the handler runs on the emitting thread, during emit().
  sigs::sync_signal<payment> paid;
  paid.set_error_handler(log.handler_for("paid"));
  paid.add_listener([](const payment&) {}, "ledger");
  paid.add_listener_with_err(
      [](const payment& p) -> std::error_code {
        return p.cents < 0 ? std::make_error_code(std::errc::invalid_argument) : std::error_code{};
      },
      "fraud-check");
  paid.add_listener(
      [](const payment& p) {
        if (p.cents > 1'000) throw std::runtime_error("receipt printer out of paper");
      },
      "receipt");

  std::cout << "emit: a failure does not stop the others\n";
  paid.emit({-5});
  paid.emit({5'000});
  log.print();

  // The same failures stay in each listener's metadata and in the signal's counters.
  const auto md = paid.metadata("receipt");
  std::cout << "receipt: " << md->error_count << " error(s), last: " << md->last_error.message() << "\n";
  std::cout << "paid: errors " << paid.stats().errors << ", exceptions " << paid.stats().exceptions << "\n";

  // try_emit hands the failure to its caller instead: the handler is not called.
  sigs::emit_result r = paid.try_emit({-1});
  std::cout << "try_emit: '" << r.key << "' " << r.error.message() << "; new log lines: " << log.size() << "\n";

  // A handler that throws is contained too: counted in handler_failures, emission goes on.
  paid.set_error_handler([](const sigs::listener_error&) { throw std::logic_error("log is full"); });
  paid.emit({-7});
  std::cout << "throwing handler: handler_failures " << paid.stats().handler_failures << "\n";

  // ---- async: the handler runs on a worker, right after the failing listener.
  sigs::worker_pool pool({.threads = 1, .queue_capacity = 16});  // one worker: a fixed order
  sigs::async_options opts;
  opts.pool = &pool;
  sigs::async_signal<payment> refunded(opts);
  refunded.set_error_handler(log.handler_for("refunded"));
  refunded.add_listener(
      [](const payment& p) {
        if (p.cents == 0) throw std::domain_error("nothing to refund");
      },
      "bank");
  refunded.add_listener_with_err(
      [](const payment& p) -> std::error_code {
        return p.cents > 500 ? sigs::make_error_code(sigs::errc::listener_error) : std::error_code{};
      },
      "approval");

  refunded.emit({0});
  refunded.emit({900});
  refunded.drain();  // the handler's calls happen-before drain() returns
  std::cout << "async emit, after drain:\n";
  log.print();

  // A completion handle carries the failures of its own emission, for the caller.
  sigs::completion c = refunded.emit_tracked({0});
  c.wait();
  for (const auto& f : c.failures()) std::cout << "completion: '" << f.key << "' " << f.error.message() << "\n";
  refunded.drain();
  log.print();  // the handler saw it as well
  std::cout << "refunded: delivered " << refunded.stats().delivered << ", errors " << refunded.stats().errors
            << ", exceptions " << refunded.stats().exceptions << "\n";
  return 0;
}
