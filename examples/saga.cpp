// A saga: the steps of a checkout are error-aware listeners of one signal, run in order by
// try_emit, which stops at the first step that fails. Each step that succeeded notes itself
// in the run's journal; on failure the compensations of those steps run in reverse order.
// See docs/patterns.md.
#include <sigs/sigs.hpp>

#include <functional>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

// One run of the saga. The payload reaches listeners as const&, so the journal travels as
// a pointer: the steps append to it, the caller reads it afterwards.
struct checkout {
  std::string order;
  int units;
  int cents;
  std::string address;
  std::vector<std::string>* journal;  // keys of the steps that completed, in order
};

struct inventory {
  int on_hand = 5;
};

int main() {
  inventory stock;
  int card_limit = 10'000;  // cents
  sigs::sync_signal<checkout> run;
  std::map<std::string, std::function<void(const checkout&)>> compensate;

  // A step: an error-aware listener under the step's key, plus its compensation.
  auto step = [&](const std::string& key, std::function<std::error_code(const checkout&)> action,
                  std::function<void(const checkout&)> undo) {
    run.add_listener_with_err(
        [key, action = std::move(action)](const checkout& c) -> std::error_code {
          std::error_code ec = action(c);
          if (!ec) c.journal->push_back(key);  // done: its compensation is now owed
          return ec;
        },
        key);
    compensate[key] = std::move(undo);
  };

  step(
      "reserve-stock",
      [&](const checkout& c) -> std::error_code {
        if (c.units > stock.on_hand) return std::make_error_code(std::errc::no_buffer_space);
        stock.on_hand -= c.units;
        std::cout << "  reserved " << c.units << " units (" << stock.on_hand << " left)\n";
        return {};
      },
      [&](const checkout& c) {
        stock.on_hand += c.units;
        std::cout << "  undo: released " << c.units << " units (" << stock.on_hand << " left)\n";
      });
  step(
      "charge-card",
      [&](const checkout& c) -> std::error_code {
        if (c.cents > card_limit) return std::make_error_code(std::errc::permission_denied);
        card_limit -= c.cents;
        std::cout << "  charged " << c.cents << " cents\n";
        return {};
      },
      [&](const checkout& c) {
        card_limit += c.cents;
        std::cout << "  undo: refunded " << c.cents << " cents\n";
      });
  step(
      "book-shipping",
      [&](const checkout& c) -> std::error_code {
        // A step that throws fails like one that returns an error (errc::listener_exception).
        if (c.address.empty()) throw std::invalid_argument("no shipping address");
        std::cout << "  booked shipping to " << c.address << "\n";
        return {};
      },
      [](const checkout&) { std::cout << "  undo: cancelled the shipment\n"; });

  auto attempt = [&](checkout c) {
    std::vector<std::string> journal;
    c.journal = &journal;
    std::cout << "checkout " << c.order << "\n";
    sigs::emit_result r = run.try_emit(c);
    if (r.ok()) {
      std::cout << "  => done (" << r.calls << " steps)\n";
      return;
    }
    std::string why = r.error.message();
    if (r.exception) {
      try {
        std::rethrow_exception(r.exception);
      } catch (const std::exception& e) {
        why += std::string(": ") + e.what();
      }
    }
    std::cout << "  step '" << r.key << "' failed: " << why << "\n";
    // Compensate the completed steps, newest first. The journal says what ran; r.index
    // (the failing step's position among the listeners called) would too, but only while
    // no step is added or removed between the run and the rollback.
    for (auto it = journal.rbegin(); it != journal.rend(); ++it) compensate.at (*it)(c);
    std::cout << "  => rolled back " << journal.size() << " step(s)\n";
  };

  attempt({"A-1", 2, 3'000, "1 Main St", nullptr});
  attempt({"A-2", 9, 1'000, "2 Main St", nullptr});  // out of stock: nothing to undo
  attempt({"A-3", 1, 9'000, "3 Main St", nullptr});  // over the card limit: release stock
  attempt({"A-4", 1, 500, "", nullptr});             // shipping throws: refund, then release
  std::cout << "stock on hand " << stock.on_hand << ", card limit left " << card_limit << " cents\n";
  return 0;
}
