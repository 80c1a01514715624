// A first tour of sigs: keyed listeners, once-listeners, try_emit stopping at an error,
// and a cancelled context. Run it with ci/demo.sh.
#include <sigs/sigs.hpp>

#include <iostream>
#include <stop_token>
#include <string>
#include <system_error>

struct order {
  std::string symbol;
  int quantity;
};

int main() {
  sigs::sync_signal<order> placed;

  // Keyed listeners run in registration order; a duplicate key is refused.
  placed.add_listener([](const order& o) { std::cout << "  book   " << o.quantity << " " << o.symbol << "\n"; },
                      "book");
  placed.add_listener([](const order& o) { std::cout << "  audit  " << o.symbol << "\n"; }, "audit");
  sigs::listener_id dup = placed.add_listener([](const order&) {}, "audit");
  std::cout << "duplicate key refused: " << dup.error().message() << "\n";

  // A once-listener fires on the first emission only.
  placed.add_once([](const order& o) { std::cout << "  first order of the day: " << o.symbol << "\n"; });

  std::cout << "emit #1 (" << placed.size() << " listeners)\n";
  placed.emit({"ACME", 100});
  std::cout << "emit #2 (" << placed.size() << " listeners, keys:";
  for (const auto& k : placed.keys()) std::cout << " " << k;
  std::cout << ")\n";
  placed.emit({"INIT", 5});

  // try_emit stops at the first listener that reports an error.
  placed.add_listener_with_err(
      [](const order& o) -> std::error_code {
        if (o.quantity <= 0) return std::make_error_code(std::errc::invalid_argument);
        return {};
      },
      "validate");
  placed.add_listener([](const order&) { std::cout << "  (never reached for a bad order)\n"; }, "ship");
  std::cout << "try_emit with a bad order\n";
  sigs::emit_result r = placed.try_emit({"BAD", -1});
  std::cout << "  stopped at '" << r.key << "' (listener #" << r.index << "): " << r.error.message() << "\n";

  // A cancelled context stops emission before the next listener.
  std::stop_source stop;
  sigs::context ctx(stop.get_token());
  placed.remove_listener("validate");
  placed.remove_listener("ship");
  placed.add_listener([&stop](const order&) { stop.request_stop(); }, "cancel-after-me");
  placed.add_listener([](const order&) { std::cout << "  (never reached once cancelled)\n"; }, "late");
  std::cout << "try_emit with a context cancelled part-way\n";
  r = placed.try_emit(ctx, {"ACME", 1});
  std::cout << "  " << r.error.message() << " after " << r.calls << " listeners, before '" << r.key << "'\n";

  placed.reset();
  std::cout << "after reset: " << placed.size() << " listeners\n";
  return 0;
}
