// tests/support/concurrent_program.hpp — random programs on several threads, one signal.
//
// A sequential model cannot predict an interleaving, so concurrent runs are checked against
// the invariants that hold under *every* interleaving (docs/verification.md). A `program` is one
// list of steps per thread; each thread owns the listeners it adds (keys "t<thread>.<n>")
// and only it removes them, so it always knows whether a listener of its own is certainly
// alive, certainly dead, or (a once-listener) alive unless it fired. `run` executes the
// program on real threads against one sigs::sync_signal<int> and returns every violation:
//
//  1. no listener is called by an emission that began after its removal returned: the
//     remover sets a flag after remove_* returns; an emitter reads all flags before it
//     emits; a flagged listener must not appear in that emission (cross-thread
//     happens-before through the flag, and per-thread program order as a special case);
//  2. remove_listener_and_wait returns only when no invocation is running anywhere: a
//     listener still running when the flag of its wait is set reports it;
//  3. each emission calls each listener at most once, and all emissions agree on the
//     relative order of any two listeners (registration order); a thread's own listeners
//     are called in the order it added them;
//  4. a once-listener is called at most once ever; exactly once by the end (a final emit
//     runs after the threads join) unless its removal succeeded, then never;
//  5. results a thread can predict: removing an own listener that is certainly alive
//     succeeds, certainly dead fails with not_found; a duplicate key is refused exactly
//     when an own listener with that key is certainly alive; has_key/metadata/keys/size
//     agree with what the thread knows; try_emit reports the first failing listener it
//     called (or where the context stopped it) and `calls` matches the calls seen;
//  6. at the end: size()/keys() equal the listeners added minus removed minus fired, the
//     stats counters equal the calls, errors, exceptions, emissions and cancellations seen,
//     and destroying the signal releases every listener callable (alive_token).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <sstream>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <sigs/sigs.hpp>

#include "alive_token.hpp"
#include "reference_model.hpp"

namespace sigs_test::concurrent {

enum class step_kind : std::uint8_t {
  add,                  // a new listener of `form`, keyed or not, ending with `result`
  readd,                // add_listener(plain) under the key of own listener `slot`
  remove_id,            // remove_listener(id of own listener `slot`)
  remove_key,           // remove_listener(key of own listener `slot`)
  remove_and_wait_id,
  remove_and_wait_key,
  emit,
  try_emit,
  try_emit_cancel,      // try_emit with a context stopped after `cancel_after` calls
  has_key,              // has_key(key of own listener `slot`)
  metadata,             // metadata(id of own listener `slot`)
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
  auto res = [&] { return s.result == outcome::ok ? "ok" : s.result == outcome::error ? "error" : "throws"; };
  const std::string at = "(own " + std::to_string(s.slot) + ")";
  switch (s.kind) {
    case step_kind::add: return std::string(fmt::form(s.form)) + (s.keyed ? "[keyed]" : "") + " " + res() + (s.slow ? " slow" : "");
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

namespace detail {

/// What the owning thread knows about one of its listeners.
enum class known : std::uint8_t {
  refused,  // its add was refused
  live,     // plain, added, not removed: certainly alive
  maybe,    // once, added, not removed: alive unless it fired
  removed,  // the owner's removal succeeded
  fired,    // a once-listener the owner has proof fired (its removal found nothing, ...)
};

struct slot {
  int owner = 0;
  std::string key;
  bool once = false;
  bool aware = false;
  outcome result = outcome::ok;
  bool slow = false;
  sigs::listener_id id;                // owner-only
  known state = known::refused;        // owner-only until the threads join
  std::atomic<int> calls{0};
  std::atomic<bool> removed{false};    // set by the owner after a removal returned ok
  std::atomic<bool> waited{false};     // set by the owner after remove_and_wait returned ok
};

inline std::string describe_state(const slot& l) {
  const char* names[] = {"refused", "alive", "once, maybe fired", "removed", "fired"};
  return std::string(l.once ? "once, " : "") + names[static_cast<int>(l.state)];
}

/// The calls one emission made, on the emitting thread.
struct emission {
  std::vector<int> called;
};

struct shared {
  std::vector<std::unique_ptr<slot>> slots;
  std::mutex mutex;
  std::vector<std::string> violations;  // under mutex
  std::vector<std::vector<int>> orders;  // every emission's calls, under mutex

  void fail(std::string what) {
    std::lock_guard lock(mutex);
    if (violations.size() < 20) violations.push_back(std::move(what));
  }
};

// The emitting thread's state, seen by the listeners it runs.
inline thread_local emission* tl_emission = nullptr;
inline thread_local std::size_t tl_budget = 0;
inline thread_local std::stop_source* tl_stop = nullptr;

struct listener_fn {
  shared* s;
  int index;
  alive_token token;

  std::error_code body() const {
    slot& me = *s->slots[static_cast<std::size_t>(index)];
    const std::string who = "listener " + std::to_string(index) + " (" + fmt::key(me.key) + ")";
    if (me.waited.load(std::memory_order_acquire))  // pairs with the owner's release after the wait
      s->fail(who + " started after remove_listener_and_wait returned");
    const int before = me.calls.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count
    if (me.once && before != 0) s->fail(who + ": once-listener called " + std::to_string(before + 1) + " times");
    if (!tl_emission) {
      s->fail(who + " called outside any emission of this thread");
    } else {
      tl_emission->called.push_back(index);
    }
    if (tl_budget > 0 && --tl_budget == 0) tl_stop->request_stop();
    // One short sleep lets the other threads run (remove, wait, emit) while this call is
    // in progress; one sleep rather than many yields, which each cost a timeslice when the
    // machine is loaded.
    if (me.slow) std::this_thread::sleep_for(std::chrono::microseconds(100));
    if (me.waited.load(std::memory_order_acquire))
      s->fail(who + " was still running when remove_listener_and_wait returned");
    switch (me.result) {
      case outcome::ok: return {};
      case outcome::error: return std::error_code(index + 1, std::generic_category());
      case outcome::throws: throw listener_threw{static_cast<std::uint64_t>(index)};
    }
    return {};
  }
};
struct plain_fn : listener_fn {
  void operator()(const int&) const { (void)body(); }
};
struct aware_fn : listener_fn {
  std::error_code operator()(const int&) const { return body(); }
};

inline std::error_code expected_error(const slot& l, int index) {
  if (l.result == outcome::throws) return sigs::errc::listener_exception;
  return std::error_code(index + 1, std::generic_category());
}

/// Runs one thread's steps (or the setup). `mine` are the indices of the slots it owns.
class thread_runner {
 public:
  thread_runner(shared& s, sigs::sync_signal<int>& sig, int me, std::size_t first_slot)
      : s_(s), sig_(sig), me_(me), next_slot_(first_slot) {}

  void run(const std::vector<step>& steps) {
    for (const step& st : steps) {
      ++step_no_;
      do_step(st);
    }
  }

  std::size_t emissions = 0;
  std::size_t canceled = 0;

 private:
  std::string where() const { return "thread " + std::to_string(me_) + " step " + std::to_string(step_no_) + ": "; }
  void fail(const std::string& what) { s_.fail(where() + what); }

  slot* own(std::uint8_t n) {
    if (mine_.empty()) return nullptr;
    return s_.slots[static_cast<std::size_t>(mine_[n % mine_.size()])].get();
  }
  int index_of(const slot* l) const {
    for (int i : mine_)
      if (s_.slots[static_cast<std::size_t>(i)].get() == l) return i;
    return -1;
  }

  /// The own listener currently registered under `key` (at most one is alive or maybe).
  slot* holder_of(const std::string& key) {
    if (key.empty()) return nullptr;
    for (int i : mine_) {
      slot& l = *s_.slots[static_cast<std::size_t>(i)];
      if (l.key == key && (l.state == known::live || l.state == known::maybe)) return &l;
    }
    return nullptr;
  }

  void add(const step& st, const std::string& key, add_form form) {
    const int index = static_cast<int>(next_slot_++);
    slot& l = *s_.slots[static_cast<std::size_t>(index)];
    l.owner = me_;
    l.key = key;
    l.once = is_once_form(form);
    l.aware = requires_error_aware(form) || st.result == outcome::error;
    l.result = st.result;
    l.slow = st.slow;
    slot* holder = holder_of(key);
    mine_.push_back(index);
    sigs::listener_id id;
    if (l.aware) {
      aware_fn f{{&s_, index, {}}};
      switch (form) {
        case add_form::listener: id = sig_.add_listener(f, key); break;
        case add_form::listener_with_err: id = sig_.add_listener_with_err(f, key); break;
        case add_form::once: id = sig_.add_once(f); break;
        case add_form::once_with_key: id = sig_.add_once_with_key(f, key); break;
        case add_form::once_with_err: id = sig_.add_once_with_err(f); break;
        case add_form::once_with_err_and_key: id = sig_.add_once_with_err_and_key(f, key); break;
      }
    } else {
      plain_fn f{{&s_, index, {}}};
      switch (form) {
        case add_form::once: id = sig_.add_once(f); break;
        case add_form::once_with_key: id = sig_.add_once_with_key(f, key); break;
        default: id = sig_.add_listener(f, key); break;
      }
    }
    l.id = id;
    const bool accepted = static_cast<bool>(id);
    if (!accepted && id.error() != sigs::errc::duplicate_key) fail("add refused with " + fmt::error(id.error()));
    if (holder && holder->state == known::live && accepted)
      fail("key " + fmt::key(key) + " accepted while own listener " + std::to_string(index_of(holder)) + " holds it");
    if (!holder && !accepted) fail("key " + fmt::key(key) + " refused as duplicate though no own listener holds it");
    if (holder && holder->state == known::maybe && accepted) holder->state = known::fired;  // proof it fired
    l.state = !accepted ? known::refused : l.once ? known::maybe : known::live;
  }

  /// Checks the result of removing own listener `l` (nullptr: nothing to remove).
  void removed(slot* l, std::error_code ec, bool waited, const char* how) {
    const std::string what = std::string(how) + (l ? " of listener " + std::to_string(index_of(l)) : " of nothing");
    if (ec && ec != sigs::errc::not_found) return fail(what + " returned " + fmt::error(ec));
    if (!l) {
      if (!ec) fail(what + " succeeded");
      return;
    }
    switch (l->state) {
      case known::live:
        if (ec) fail(what + ": certainly alive, got not_found");
        break;
      case known::maybe:
        break;
      default:
        if (!ec) fail(what + ": certainly dead, but removal succeeded");
        return;
    }
    if (ec) {
      l->state = known::fired;  // a maybe that is gone: it fired
      return;
    }
    l->state = known::removed;
    l->removed.store(true, std::memory_order_release);  // pairs with the emitters' acquire
    if (waited) l->waited.store(true, std::memory_order_release);  // pairs with the listener's acquire
  }

  void emit(const step& st) {
    // Which listeners were certainly removed before this emission began.
    std::vector<char> gone(s_.slots.size());
    for (std::size_t i = 0; i < gone.size(); ++i) gone[i] = s_.slots[i]->removed.load(std::memory_order_acquire);
    emission e;
    tl_emission = &e;
    ++emissions;
    std::optional<sigs::emit_result> r;
    std::size_t k = 0;
    if (st.kind == step_kind::emit) {
      sig_.emit(me_);
    } else if (st.kind == step_kind::try_emit) {
      r = sig_.try_emit(me_);
    } else {
      std::stop_source stop;
      k = st.cancel_after;
      if (k == 0) stop.request_stop();
      tl_budget = k;
      tl_stop = &stop;
      r = sig_.try_emit(sigs::context(stop.get_token()), me_);
      tl_budget = 0;
      tl_stop = nullptr;
    }
    tl_emission = nullptr;

    std::vector<char> seen(s_.slots.size());
    for (int i : e.called) {
      const auto u = static_cast<std::size_t>(i);
      if (gone[u]) fail("listener " + std::to_string(i) + " called by an emission that began after its removal");
      if (seen[u]) fail("listener " + std::to_string(i) + " called twice by one emission");
      seen[u] = 1;
    }
    if (r) check_try(*r, e, k, st.kind == step_kind::try_emit_cancel);
    std::lock_guard lock(s_.mutex);
    s_.orders.push_back(std::move(e.called));
  }

  void check_try(const sigs::emit_result& r, const emission& e, std::size_t k, bool cancellable) {
    const std::size_t n = e.called.size();
    if (r.calls != n) fail("try_emit reports calls=" + std::to_string(r.calls) + ", saw " + std::to_string(n));
    const bool stopped = r.error == sigs::errc::canceled;
    if (stopped) {
      ++canceled;
      if (!cancellable) fail("try_emit without a context reports canceled");
      if (n != k) fail("canceled after " + std::to_string(n) + " calls, context stopped after " + std::to_string(k));
    }
    const std::size_t clean = (r.ok() || stopped) ? n : n - 1;  // calls that must have succeeded
    for (std::size_t j = 0; j < clean && j < n; ++j) {
      const slot& l = *s_.slots[static_cast<std::size_t>(e.called[j])];
      if (l.result != outcome::ok) fail("try_emit went on past failing listener " + std::to_string(e.called[j]));
    }
    if (r.ok() || stopped) return;
    if (n == 0) return fail("try_emit reports " + fmt::error(r.error) + " but called nobody");
    const int last = e.called.back();
    const slot& l = *s_.slots[static_cast<std::size_t>(last)];
    if (l.result == outcome::ok) fail("try_emit reports " + fmt::error(r.error) + " at listener that succeeded");
    if (r.error != expected_error(l, last))
      fail("try_emit reports " + fmt::error(r.error) + " for listener " + std::to_string(last));
    if (r.index != n - 1) fail("try_emit reports index " + std::to_string(r.index));
    if (r.key != l.key) fail("try_emit reports key " + fmt::key(r.key));
    // id and state are the owner's until the threads join: only the owner compares them.
    if (l.owner == me_ && l.state != known::refused && !(r.listener == l.id)) fail("try_emit reports another id");
    if (l.result == outcome::throws && !r.exception) fail("try_emit lost the exception");
  }

  void do_step(const step& st) {
    switch (st.kind) {
      case step_kind::add: {
        const std::string key = st.keyed ? "t" + std::to_string(me_) + "." + std::to_string(next_slot_) : "";
        return add(st, takes_key(st.form) ? key : "", st.form);
      }
      case step_kind::readd: {
        slot* l = own(st.slot);
        std::string key = l ? l->key : "";
        if (key.empty()) key = "t" + std::to_string(me_) + "." + std::to_string(next_slot_);
        return add(st, key, add_form::listener);
      }
      case step_kind::remove_id:
      case step_kind::remove_and_wait_id: {
        slot* l = own(st.slot);
        const bool wait = st.kind == step_kind::remove_and_wait_id;
        const sigs::listener_id id = l ? l->id : sigs::listener_id{};
        const std::error_code ec = wait ? sig_.remove_listener_and_wait(id) : sig_.remove_listener(id);
        if (l && l->state == known::refused) return removed(nullptr, ec, wait, "remove by refused id");
        return removed(l, ec, wait, wait ? "remove_and_wait by id" : "remove by id");
      }
      case step_kind::remove_key:
      case step_kind::remove_and_wait_key: {
        slot* l = own(st.slot);
        const std::string key = l ? l->key : "";
        const bool wait = st.kind == step_kind::remove_and_wait_key;
        const std::error_code ec = wait ? sig_.remove_listener_and_wait(key) : sig_.remove_listener(key);
        return removed(holder_of(key), ec, wait, wait ? "remove_and_wait by key" : "remove by key");
      }
      case step_kind::emit:
      case step_kind::try_emit:
      case step_kind::try_emit_cancel:
        return emit(st);
      case step_kind::has_key: {
        slot* l = own(st.slot);
        if (!l || l->key.empty()) return;
        slot* h = holder_of(l->key);
        const bool has = sig_.has_key(l->key);
        if (h && h->state == known::live && !has) fail("has_key false for a certainly alive listener");
        if (!h && has) fail("has_key true for a key no listener holds");
        if (h && h->state == known::maybe && !has) h->state = known::fired;
        return;
      }
      case step_kind::metadata: {
        slot* l = own(st.slot);
        if (!l || l->state == known::refused) return;
        const auto md = sig_.metadata(l->id);
        if (l->state == known::live && !md) fail("no metadata for a certainly alive listener");
        if ((l->state == known::removed || l->state == known::fired) && md) fail("metadata for a dead listener");
        if (md && (md->key != l->key || md->is_once != l->once || md->is_error_aware != l->aware || !(md->id == l->id)))
          fail("metadata does not describe the listener");
        if (!md && l->state == known::maybe) l->state = known::fired;
        return;
      }
      case step_kind::keys: {
        const std::vector<std::string> ks = sig_.keys();
        std::vector<std::string> sorted = ks;
        std::sort(sorted.begin(), sorted.end());
        if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) fail("keys() lists a key twice");
        std::size_t last = 0;
        for (int i : mine_) {
          slot& l = *s_.slots[static_cast<std::size_t>(i)];
          if (l.key.empty() || (l.state != known::live && l.state != known::maybe)) continue;
          const auto at = std::find(ks.begin(), ks.end(), l.key);
          if (at == ks.end()) {
            if (l.state == known::live) fail("keys() misses a certainly alive listener's key");
            continue;
          }
          const auto pos = static_cast<std::size_t>(at - ks.begin()) + 1;
          if (pos < last) fail("keys() lists own keys out of registration order");
          last = pos;
        }
        return;
      }
      case step_kind::size: {
        std::size_t live = 0;
        for (int i : mine_) live += s_.slots[static_cast<std::size_t>(i)]->state == known::live;
        if (sig_.size() < live) fail("size() below the own certainly-alive listeners");
        return;
      }
    }
  }

  shared& s_;
  sigs::sync_signal<int>& sig_;
  int me_;
  std::size_t next_slot_;
  std::vector<int> mine_;
  std::size_t step_no_ = 0;
};

inline std::size_t adds_in(const std::vector<step>& steps) {
  return static_cast<std::size_t>(std::count_if(steps.begin(), steps.end(), [](const step& s) {
    return s.kind == step_kind::add || s.kind == step_kind::readd;
  }));
}

}  // namespace detail

/// Runs `p`: the setup on this thread, then each thread's steps concurrently on its own
/// std::thread, then a final emit here; checks everything listed at the top of this file.
inline verdict run(const program& p) {
  using namespace detail;
  const long tokens_before = alive_token::live.load();
  verdict v;
  shared s;
  std::size_t total = adds_in(p.setup);
  for (const auto& t : p.threads) total += adds_in(t);
  for (std::size_t i = 0; i < total; ++i) s.slots.push_back(std::make_unique<slot>());

  std::size_t emissions = 0, canceled = 0;
  {
    sigs::signal_options opts;
    opts.metrics = true;
    sigs::sync_signal<int> sig(opts);

    const int n = static_cast<int>(p.threads.size());
    std::vector<thread_runner> runners;
    runners.reserve(p.threads.size() + 1);
    std::size_t first = 0;
    runners.emplace_back(s, sig, n, first);  // the main thread is "thread n"
    first += adds_in(p.setup);
    for (int t = 0; t < n; ++t) {
      runners.emplace_back(s, sig, t, first);
      first += adds_in(p.threads[static_cast<std::size_t>(t)]);
    }
    runners[0].run(p.setup);
    {
      std::latch start(n);
      std::vector<std::thread> threads;
      for (int t = 0; t < n; ++t) {
        threads.emplace_back([&, t] {
          start.arrive_and_wait();
          runners[static_cast<std::size_t>(t) + 1].run(p.threads[static_cast<std::size_t>(t)]);
        });
      }
      for (auto& th : threads) th.join();
    }

    // Final emit: every listener still alive is called exactly once, nothing else.
    emission last;
    tl_emission = &last;
    sig.emit(-1);
    tl_emission = nullptr;
    ++emissions;
    for (const auto& r : runners) {
      emissions += r.emissions;
      canceled += r.canceled;
    }
    std::vector<int> final_calls(s.slots.size());
    for (int i : last.called) ++final_calls[static_cast<std::size_t>(i)];
    s.orders.push_back(last.called);

    std::size_t expect_size = 0;
    std::uint64_t calls = 0, errors = 0, exceptions = 0;
    std::vector<std::string> expect_keys;
    for (std::size_t i = 0; i < s.slots.size(); ++i) {
      const slot& l = *s.slots[i];
      const int c = l.calls.load();
      const std::string who = "end: listener " + std::to_string(i) + " (" + describe_state(l) + ")";
      calls += static_cast<std::uint64_t>(c);
      if (l.result == outcome::error) errors += static_cast<std::uint64_t>(c);
      if (l.result == outcome::throws) exceptions += static_cast<std::uint64_t>(c);
      switch (l.state) {
        case known::refused:
          if (c) s.fail(who + " was never registered but was called");
          break;
        case known::live:
          ++expect_size;
          if (!l.key.empty()) expect_keys.push_back(l.key);
          if (final_calls[i] != 1) s.fail(who + " called " + std::to_string(final_calls[i]) + " times by the final emit");
          break;
        case known::removed:
          if (final_calls[i]) s.fail(who + " called by the final emit after its removal");
          if (l.once && c) s.fail(who + ": once-listener removed successfully yet called");
          break;
        case known::maybe:
        case known::fired:
          if (c != 1) s.fail(who + ": once-listener called " + std::to_string(c) + " times in all");
          break;
      }
    }
    if (sig.size() != expect_size)
      s.fail("end: size() " + std::to_string(sig.size()) + ", expected " + std::to_string(expect_size));
    std::vector<std::string> got_keys = sig.keys();
    std::sort(got_keys.begin(), got_keys.end());
    std::sort(expect_keys.begin(), expect_keys.end());
    if (got_keys != expect_keys) s.fail("end: keys() " + fmt::keys(got_keys) + ", expected " + fmt::keys(expect_keys));
    const sigs::signal_stats st = sig.stats();
    if (st.listener_calls != calls || st.errors != errors || st.exceptions != exceptions || st.emits != emissions ||
        st.canceled != canceled || st.handler_failures != 0) {
      s.fail("end: stats " + fmt::report(stats_report{st.emits, st.listener_calls, st.errors, st.exceptions,
                                                      st.canceled, st.handler_failures}) +
             ", expected emits=" + std::to_string(emissions) + " calls=" + std::to_string(calls) +
             " errors=" + std::to_string(errors) + " exceptions=" + std::to_string(exceptions) +
             " canceled=" + std::to_string(canceled));
    }
    v.calls = calls;
  }
  v.emissions = emissions;

  // Every emission calls any two listeners in the same relative order, and a thread's own
  // listeners in the order it added them (slot numbers grow with each thread's adds).
  const std::size_t n = s.slots.size();
  std::vector<char> before(n * n);
  for (const auto& order : s.orders) {
    for (std::size_t a = 0; a < order.size(); ++a) {
      for (std::size_t b = a + 1; b < order.size(); ++b) {
        const auto x = static_cast<std::size_t>(order[a]), y = static_cast<std::size_t>(order[b]);
        before[x * n + y] = 1;
        if (before[y * n + x]) s.fail("listeners " + std::to_string(x) + " and " + std::to_string(y) + " called in both orders");
        if (s.slots[x]->owner == s.slots[y]->owner && x > y)
          s.fail("listener " + std::to_string(x) + " called before " + std::to_string(y) + ", added earlier by the same thread");
      }
    }
  }
  s.slots.clear();
  if (alive_token::live.load() != tokens_before) s.fail("end: listener callables leaked or destroyed twice");
  v.violations = std::move(s.violations);
  return v;
}

}  // namespace sigs_test::concurrent
