// testing/async_state.hpp — the state the threads of one async program run share.
//
// One `slot` per listener the program adds (what its owner knows of it, and what its calls
// counted), one `emission_rec` per emission (which listeners it called, how its calls
// ended, what its emitter expected), and the counters and violations of the whole run;
// then how a reported failure is traced back to the listener that failed. Written by the
// program threads (async_runner.hpp), the listener callables and the error handler
// (async_listener.hpp), read by the checks (async_checks.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <sigs/sigs.hpp>

#include "async_program.hpp"
#include "operations.hpp"
#include "program_common.hpp"

namespace sigs_test::async::detail {

using clock = std::chrono::steady_clock;

/// What the owning thread knows about one of its listeners.
enum class known : std::uint8_t {
  unused,         // slot never added (its add step did not run)
  live,           // plain, added, not removed: certainly registered
  armed,          // once, certainly not claimed by any emission yet (single mode)
  maybe,          // once, maybe claimed
  fired_pending,  // once, certainly claimed; maybe still in the current snapshot
  fired_gone,     // once, claimed before the last republishing write
  removed,        // the owner's removal succeeded
  killed,         // removed by a reset of the owner (plain: certainly; once: or fired)
  dead,           // removal found nothing, but whether it fired or was reset is unknown
};

struct slot {
  listener_plan plan;
  int index = 0;
  int owner = 0;
  std::string key;
  bool once = false;
  std::atomic<std::uint64_t> id{0};  // set by the owner after its add returned (release)
  std::atomic<bool> added{false};    // set by the owner after its add returned (release)
  std::atomic<bool> removed{false};  // a removal / reset that took it out has returned
  std::atomic<bool> waited{false};   // remove_listener_and_wait of it has returned
  std::atomic<int> calls{0};
  std::atomic<int> running{0};
  std::atomic<int> failures{0};
  // Owner only (read by the main thread after the join):
  known state = known::unused;
  sigs::listener_id lid;
  std::uint64_t epoch_at_add = 0;
  std::uint64_t own_resets_at_add = 0;
};

/// One emission. `gone` is written by the emitter before it emits (so it happens-before
/// every call of the emission); the counters by the listeners; the rest by the emitter.
struct emission_rec {
  std::vector<char> gone;
  std::atomic<std::uint64_t> called{0};  // one bit per slot
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  std::atomic<int> failed{0};
  // emitter only
  bool ran = false;       // its step ran
  bool accepted = false;  // counts in the accounting
  bool tracked = false;   // `handle` is valid
  bool bounded = false;   // lo/hi hold (untracked: the emitter's bounds)
  bool no_drop = false;   // nothing of it may be dropped (no ctx, pool running, not reject)
  std::uint64_t lo = 0, hi = 0;
  sigs::completion handle;
  std::string what;
};

/// `fail` keeps the first 24 violations; `mutex` guards nothing else.
struct shared : violation_log<24> {
  program p;
  mode m = mode::single;
  bool has_shutdown = false;  // the program has a shutdown step
  std::unique_ptr<sigs::worker_pool> pool;
  std::unique_ptr<sigs::async_signal<payload>> sig;
  std::vector<std::unique_ptr<slot>> slots;
  std::vector<std::unique_ptr<emission_rec>> emissions;
  std::stop_source stop;
  std::atomic<std::uint64_t> epoch{0};  // two per reset: when it begins and when it has returned
  std::atomic<bool> shutdown_begun{false};
  std::atomic<std::uint64_t> invocations{0}, errors{0}, exceptions{0};
  std::atomic<std::uint64_t> handler_calls{0}, handler_throws{0};
  std::atomic<int> threads_done{0};
};

/// The reasons a delivery may be dropped (and a try_emit refused).
inline bool drop_reason(std::error_code ec) {
  return ec == sigs::errc::backpressure || ec == sigs::errc::pool_stopped || ec == sigs::errc::canceled ||
         ec == sigs::errc::deadline_exceeded;
}

/// The slot a failure came from: the thrown listener_threw carries the slot, an error code
/// is generic_category(slot + 1). -1 if neither.
inline int slot_of(const shared& s, std::error_code ec, const std::exception_ptr& ex) {
  int i = -1;
  if (ex) {
    try {
      std::rethrow_exception(ex);
    } catch (const listener_threw& t) {
      i = static_cast<int>(t.id);
    } catch (...) {}
  } else if (ec.category() == std::generic_category()) {
    i = ec.value() - 1;
  }
  return i >= 0 && static_cast<std::size_t>(i) < s.slots.size() ? i : -1;
}

/// The slot of listener `id`, or -1. With `wait`, waits (up to 10 s) for its owner to
/// publish the id: a listener may fail before the add that registered it has returned.
inline int slot_by_id(const shared& s, std::uint64_t id, bool wait) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    for (const auto& l : s.slots)
      if (l->id.load(std::memory_order_acquire) == id) return l->index;
    if (!wait) break;
    std::this_thread::yield();
  } while (std::chrono::steady_clock::now() < end);
  return -1;
}

/// The slot a failure passed to the error handler came from. Unlike slot_of it does not
/// look inside the exception: the handler runs on a worker, and libstdc++'s (uninstrumented)
/// exception_ptr reference counts would make TSan report reading an exception object that
/// another worker frees later as a race.
inline int handler_slot_of(const shared& s, const sigs::listener_error& e) {
  if (!e.exception) return slot_of(s, e.error, nullptr);
  return slot_by_id(s, e.listener.value(), true);
}

}  // namespace sigs_test::async::detail
