// A validation chain: each rule is an error-aware listener (it returns std::error_code),
// try_emit runs them in registration order and stops at the first failure, and a
// sigs::context bounds the whole chain with a deadline. See docs/patterns.md.
#include <sigs/sigs.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

using namespace std::chrono_literals;

struct signup {
  std::string name;
  std::string email;
  int age;
};

// The rules' own error codes, with their own messages: a small std::error_category.
enum class invalid { empty_name = 1, bad_email, too_young };
struct invalid_category final : std::error_category {
  const char* name() const noexcept override { return "signup"; }
  std::string message(int v) const override {
    switch (static_cast<invalid>(v)) {
      case invalid::empty_name: return "name is empty";
      case invalid::bad_email: return "email has no '@'";
      case invalid::too_young: return "must be 18 or older";
    }
    return "invalid signup";
  }
};
std::error_code make_error_code(invalid e) {
  static const invalid_category category;
  return {static_cast<int>(e), category};
}

void show(const char* what, const sigs::emit_result& r) {
  std::cout << what << ": ";
  if (r.ok()) {
    std::cout << "ok, " << r.calls << " rules passed\n";
    return;
  }
  // On failure emit_result names where the chain stopped: the rule's key, its position
  // among the listeners called, and how many ran (including the failing one). For a
  // deadline or a cancellation it names the first rule *not* started instead.
  std::cout << "stopped at '" << r.key << "' (#" << r.index << ", " << r.calls << " ran): " << r.error.message() << " ["
            << r.error.category().name() << "]\n";
}

int main() {
  sigs::sync_signal<signup> check;
  check.add_listener_with_err(
      [](const signup& s) -> std::error_code {
        return s.name.empty() ? make_error_code(invalid::empty_name) : std::error_code{};
      },
      "name");
  check.add_listener_with_err(
      [](const signup& s) -> std::error_code {
        return s.email.find('@') == std::string::npos ? make_error_code(invalid::bad_email) : std::error_code{};
      },
      "email");
  check.add_listener_with_err(
      [](const signup& s) -> std::error_code {
        return s.age < 18 ? make_error_code(invalid::too_young) : std::error_code{};
      },
      "age");

  show("ada", check.try_emit({"Ada", "ada@example.org", 36}));
  show("no email", check.try_emit({"Bob", "bob.example.org", 17}));  // age is never checked
  show("no name", check.try_emit({"", "x@example.org", 40}));

  // A rule that throws is a failure too: errc::listener_exception, with the exception kept.
  check.add_listener_with_err(
      [](const signup& s) -> std::error_code {
        if (s.name == "Robert'); DROP TABLE") throw std::runtime_error("refused by the name filter");
        return {};
      },
      "filter");
  sigs::emit_result r = check.try_emit({"Robert'); DROP TABLE", "r@example.org", 20});
  show("filter", r);
  try {
    std::rethrow_exception(r.exception);
  } catch (const std::exception& e) {
    std::cout << "  the exception: " << e.what() << "\n";
  }

  // A slow rule (a remote lookup) and a deadline. The listener may take the context as its
  // first parameter; this one stands for a call that outlives the deadline. Emission checks
  // the context before each listener, so the rule after it never starts.
  check.add_listener_with_err(
      [](const sigs::context& ctx, const signup&) -> std::error_code {
        std::this_thread::sleep_until(*ctx.deadline() + 1ms);
        return {};
      },
      "blocklist");
  check.add_listener_with_err(
      [](const signup&) -> std::error_code {
        std::cout << "  (never reached: the deadline passed)\n";
        return {};
      },
      "welcome-mail");
  const auto ctx = sigs::context().with_timeout(200ms);
  r = check.try_emit(ctx, {"Cy", "cy@example.org", 30});
  show("deadline", r);
  std::cout << "  is std::errc::timed_out: " << std::boolalpha << (r.error == std::errc::timed_out) << "\n";

  // emit() (not try_emit) does not stop at a failing rule: it runs them all and counts the
  // failures. try_emit never counts them: it hands them to the caller.
  sigs::sync_signal<signup> lenient;
  lenient.add_listener_with_err(
      [](const signup& s) { return s.name.empty() ? make_error_code(invalid::empty_name) : std::error_code{}; });
  lenient.add_listener_with_err(
      [](const signup& s) { return s.age < 18 ? make_error_code(invalid::too_young) : std::error_code{}; });
  lenient.emit({"", "kid@example.org", 9});
  std::cout << "emit() ran every rule; errors counted: " << lenient.stats().errors << "\n";
  return 0;
}
