// testing/concurrent_program.hpp — random programs on several threads against one sync signal.
//
// A `program` is one list of steps per thread, and a setup run on the main thread before
// the others start; each thread owns the listeners it adds (keys "t<thread>.<n>") and only
// it removes them, so it always knows whether a listener of its own is certainly alive,
// certainly dead, or (a once-listener) alive unless it fired. This header says what a
// program and its steps are, how they print (RapidCheck counterexamples, fuzzer crash
// reports) and what a run returns; concurrent_run.hpp runs one and lists what it checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "operations.hpp"
#include "program_common.hpp"

namespace sigs_test::concurrent {

enum class step_kind : std::uint8_t {
  add,         // a new listener of `form`, keyed or not, ending with `result`
  readd,       // add_listener(plain) under the key of own listener `slot`
  remove_id,   // remove_listener(id of own listener `slot`)
  remove_key,  // remove_listener(key of own listener `slot`)
  remove_and_wait_id,
  remove_and_wait_key,
  emit,
  try_emit,
  try_emit_cancel,  // try_emit with a context stopped after `cancel_after` calls
  has_key,          // has_key(key of own listener `slot`)
  metadata,         // metadata(id of own listener `slot`)
  keys,
  size,
};
inline constexpr int step_kinds = 13;

struct step {
  step_kind kind = step_kind::emit;
  add_form form = add_form::listener;  // add
  bool keyed = false;                  // add
  outcome result = outcome::ok;        // add, readd
  bool slow = false;                   // add, readd: the listener sleeps 100 us mid-call, so
                                       // that calls overlap removals and other emissions
  std::uint8_t slot = 0;               // readd, remove_*, has_key, metadata: own listener slot % count
  std::uint8_t cancel_after = 0;       // try_emit_cancel
};

struct program {
  std::vector<step> setup;                 // run on the main thread before the others start
  std::vector<std::vector<step>> threads;  // one list per thread, run concurrently
};

inline std::string describe(const step& s) {
  auto res = [&] { return outcome_name(s.result); };
  const std::string at = "(own " + std::to_string(s.slot) + ")";
  switch (s.kind) {
    case step_kind::add:
      return std::string(fmt::form(s.form)) + (s.keyed ? "[keyed]" : "") + " " + res() + (s.slow ? " slow" : "");
    case step_kind::readd: return "readd" + at + " " + res() + (s.slow ? " slow" : "");
    case step_kind::remove_id: return "remove_id" + at;
    case step_kind::remove_key: return "remove_key" + at;
    case step_kind::remove_and_wait_id: return "remove_and_wait_id" + at;
    case step_kind::remove_and_wait_key: return "remove_and_wait_key" + at;
    case step_kind::emit: return "emit";
    case step_kind::try_emit: return "try_emit";
    case step_kind::try_emit_cancel: return "try_emit(cancel after " + std::to_string(s.cancel_after) + ")";
    case step_kind::has_key: return "has_key" + at;
    case step_kind::metadata: return "metadata" + at;
    case step_kind::keys: return "keys";
    case step_kind::size: return "size";
  }
  return "?";
}

inline std::ostream& operator<<(std::ostream& os, const step& s) { return os << describe(s); }

inline std::ostream& operator<<(std::ostream& os, const program& p) {
  auto list = [&](const std::vector<step>& steps) {
    for (std::size_t i = 0; i < steps.size(); ++i) os << (i ? ", " : "") << describe(steps[i]);
  };
  os << "setup: ";
  list(p.setup);
  for (std::size_t t = 0; t < p.threads.size(); ++t) {
    os << "\n  thread " << t << ": ";
    list(p.threads[t]);
  }
  return os;
}

/// The outcome of one run: empty `violations` means every invariant held.
struct verdict {
  std::vector<std::string> violations;
  std::size_t emissions = 0;
  std::size_t calls = 0;
  [[nodiscard]] bool ok() const { return violations.empty(); }
};

}  // namespace sigs_test::concurrent
