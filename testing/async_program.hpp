// testing/async_program.hpp — what a random program against one sigs::async_signal is.
//
// The payload: `int` by default, which sends a plain emit to one worker down the solo path
// (no envelope; docs/async.md) and everything else through an envelope. A file that defines
// SIGS_TEST_ASYNC_BOXED before including this header gets `boxed_int` instead, an int in
// a class that is not trivially copyable: every emission then takes the envelope path.
// The listeners take `const int&` either way (boxed_int converts).
//
// A `program` is a pool and signal configuration, listeners added up front, and one list
// of steps per thread. This header says what a program, its steps and its listeners are,
// how they print (RapidCheck counterexamples, fuzzer crash reports) and what a run returns;
// async_run.hpp runs one on real threads and lists what it checks.
//
//   sigs_test::async::program p;                       // block policy, 1 worker, 2 cells
//   p.setup = {{.form = sigs_test::add_form::once}, {.result = sigs_test::outcome::throws}};
//   p.threads = {{{.kind = step_kind::emit_tracked}, {.kind = step_kind::try_emit}}};
//   assert(sigs_test::async::run(p).ok());
//
// What the emitting thread knows about the listener set (the `mode` of a program):
//  - single: one thread does everything (writes and emissions) after the setup. It knows
//    each listener exactly, except whether a once-listener that an accepted emission may
//    have reached has fired yet; such an emission counts between the listeners certainly
//    there and those maybe there (a fired once-listener still counts, as skipped, in
//    snapshots published before it fired, in queued and refused emissions alike: see
//    docs/regressions.md #2). drain() makes every once-listener certain again;
//  - stable: several threads emit, nobody writes: the setup's plain listeners count
//    exactly, its once-listeners between 0 and 1;
//  - tracked: several threads, some of which add / remove / reset: the count is unknown to
//    the emitter, so every emission runs as emit_tracked (emit_and_wait as emit_tracked +
//    wait) and the handles give the exact sum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <sigs/sigs.hpp>

#include "operations.hpp"
#include "program_common.hpp"

namespace sigs_test::async {

/// An int that is not trivially copyable (its copy constructor is user-provided).
struct boxed_int {
  int v;
  boxed_int(int x) noexcept : v(x) {}  // NOLINT(google-explicit-constructor): emit(int)
  boxed_int(const boxed_int& o) noexcept : v(o.v) {}
  boxed_int& operator=(const boxed_int&) = default;
  operator int() const noexcept { return v; }  // NOLINT(google-explicit-constructor)
};

#ifdef SIGS_TEST_ASYNC_BOXED
using payload = boxed_int;
#else
using payload = int;
#endif

// ======================================================================================
// Programs
// ======================================================================================

enum class step_kind : std::uint8_t {
  emit,              // emit([ctx,] v)
  try_emit,          // try_emit([ctx,] v)
  emit_tracked,      // emit_tracked([ctx,] v), waited for at the end
  emit_and_wait,     // emit_and_wait([ctx,] v)
  cancel,            // request_stop() on the program's stop_source (contexts `token`)
  drain,             // drain()
  shutdown_drain,    // pool.shutdown(drain)
  shutdown_discard,  // pool.shutdown(discard)
  add,               // add a new own listener (`listener`)
  remove,            // remove_listener(own listener `slot`, by id or key)
  remove_and_wait,   // remove_listener_and_wait(own listener `slot`, by id or key)
  reset,             // reset()
};
inline constexpr int step_kinds = 12;

inline bool is_emission(step_kind k) { return k <= step_kind::emit_and_wait; }
inline bool is_write(step_kind k) { return k >= step_kind::add; }

/// The context an emission carries.
enum class ctx_kind : std::uint8_t {
  none,        // no context
  token,       // the program's stop token (a `cancel` step may stop it, before or during)
  expired,     // a deadline already past
  soon,        // a deadline 200 us away: may expire while queued
  token_soon,  // both
};
inline constexpr int ctx_kinds = 5;

/// One listener: how it is added and what its call does.
struct listener_plan {
  add_form form = add_form::listener;  // the six add_* forms of reference_model.hpp
  bool keyed = false;                  // forms with a key: registered under "k<slot>"
  outcome result = outcome::ok;        // error needs an error-aware form (else: throws)
  bool slow = false;                   // sleeps 50 us mid-call
  bool probe = false;                  // calls drain() (on a worker) and
                                       // remove_listener_and_wait(itself) from inside
  bool handler_throws = false;         // the error handler throws on its failures
};

struct step {
  step_kind kind = step_kind::emit;
  ctx_kind ctx = ctx_kind::none;  // emissions
  listener_plan listener;         // add
  std::uint8_t slot = 0;          // remove*: own listener slot % count
  bool by_key = false;            // remove*: by key when it has one
};

struct config {
  unsigned pool_threads = 1;   // 1-2
  std::size_t pool_queue = 2;  // pool queue cells (2-4: tiny, so overflow happens)
  sigs::overflow_policy policy = sigs::overflow_policy::block;
  std::size_t capacity = 0;  // async_options::queue_capacity (0: none of its own)
  bool metrics = true;
  bool handler = true;  // install an error handler
};

struct program {
  config cfg;
  std::vector<listener_plan> setup;        // added on the main thread first, owned by thread 0
  std::vector<std::vector<step>> threads;  // one list per thread, run concurrently
};

/// Listener slots a program may use (one bit each in a 64-bit mask per emission).
inline constexpr std::size_t max_slots = 64;

/// Makes a plan well formed: forms without a key get none. (Any form may end in
/// outcome::error: the callable is then registered error-aware, see aware().)
inline listener_plan normalised(listener_plan l) {
  if (!takes_key(l.form)) l.keyed = false;
  return l;
}

/// Whether a listener is registered error-aware (returns std::error_code).
inline bool aware(const listener_plan& l) { return requires_error_aware(l.form) || l.result == outcome::error; }

enum class mode { single, stable, tracked };

inline mode mode_of(const program& p) {
  if (p.threads.size() <= 1) return mode::single;
  for (const auto& t : p.threads)
    for (const step& s : t)
      if (is_write(s.kind)) return mode::tracked;
  return mode::stable;
}

// ---- printing (RapidCheck counterexamples, fuzzer crash reports) -----------------------

inline const char* name(step_kind k) {
  switch (k) {
    case step_kind::emit: return "emit";
    case step_kind::try_emit: return "try_emit";
    case step_kind::emit_tracked: return "emit_tracked";
    case step_kind::emit_and_wait: return "emit_and_wait";
    case step_kind::cancel: return "cancel";
    case step_kind::drain: return "drain";
    case step_kind::shutdown_drain: return "shutdown(drain)";
    case step_kind::shutdown_discard: return "shutdown(discard)";
    case step_kind::add: return "add";
    case step_kind::remove: return "remove";
    case step_kind::remove_and_wait: return "remove_and_wait";
    case step_kind::reset: return "reset";
  }
  return "?";
}

inline const char* name(ctx_kind c) {
  switch (c) {
    case ctx_kind::none: return "";
    case ctx_kind::token: return "ctx=token";
    case ctx_kind::expired: return "ctx=expired";
    case ctx_kind::soon: return "ctx=200us";
    case ctx_kind::token_soon: return "ctx=token+200us";
  }
  return "?";
}

inline const char* name(sigs::overflow_policy p) {
  switch (p) {
    case sigs::overflow_policy::block: return "block";
    case sigs::overflow_policy::reject: return "reject";
    case sigs::overflow_policy::caller_runs: return "caller_runs";
  }
  return "?";
}

inline std::string describe(const listener_plan& l) {
  std::string out = fmt::form(l.form);
  out += l.keyed ? "[keyed]" : "";
  out += std::string(" ") + outcome_name(l.result);
  out += l.slow ? " slow" : "";
  out += l.probe ? " probe" : "";
  out += l.handler_throws ? " handler-throws" : "";
  return out;
}

inline std::string describe(const step& s) {
  switch (s.kind) {
    case step_kind::add: return "add " + describe(s.listener);
    case step_kind::remove:
    case step_kind::remove_and_wait:
      return std::string(name(s.kind)) + "(own " + std::to_string(s.slot) + (s.by_key ? ", by key)" : ")");
    default: break;
  }
  std::string out = name(s.kind);
  if (is_emission(s.kind) && s.ctx != ctx_kind::none) out += std::string("(") + name(s.ctx) + ")";
  return out;
}

inline std::ostream& operator<<(std::ostream& os, const program& p) {
  os << "pool{threads=" << p.cfg.pool_threads << " queue=" << p.cfg.pool_queue
     << "} signal{policy=" << name(p.cfg.policy) << " capacity=" << p.cfg.capacity << " metrics=" << p.cfg.metrics
     << " handler=" << p.cfg.handler << "}\n  setup: ";
  for (std::size_t i = 0; i < p.setup.size(); ++i) os << (i ? ", " : "") << describe(p.setup[i]);
  for (std::size_t t = 0; t < p.threads.size(); ++t) {
    os << "\n  thread " << t << ": ";
    for (std::size_t i = 0; i < p.threads[t].size(); ++i) os << (i ? ", " : "") << describe(p.threads[t][i]);
  }
  return os;
}

/// The outcome of one run: empty `violations` means every invariant held.
struct verdict {
  std::vector<std::string> violations;
  std::uint64_t accepted = 0;     // emissions accepted (including the final one)
  std::uint64_t invocations = 0;  // listener calls observed
  std::uint64_t dropped = 0, skipped = 0, rejected = 0;
  bool hung = false;
  [[nodiscard]] bool ok() const { return violations.empty(); }
};

}  // namespace sigs_test::async
