// testing/concurrent_runner.hpp — runs one thread's steps of a concurrent program.
//
// The state the threads of a run share (one `slot` per listener a program adds, the
// violations found, the order of every emission's calls), the listener callables, which
// check each call as it happens, and `thread_runner`, which runs one thread's steps and
// checks every result the thread can predict from what it knows of its own listeners.
// concurrent_run.hpp starts the threads and checks the end state.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <sigs/sigs.hpp>

#include "alive_token.hpp"
#include "concurrent_program.hpp"
#include "operations.hpp"
#include "program_common.hpp"

namespace sigs_test::concurrent {

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
  sigs::listener_id id;          // owner-only
  known state = known::refused;  // owner-only until the threads join
  std::atomic<int> calls{0};
  std::atomic<bool> removed{false};  // set by the owner after a removal returned ok
  std::atomic<bool> waited{false};   // set by the owner after remove_and_wait returned ok
};

inline std::string describe_state(const slot& l) {
  const char* names[] = {"refused", "alive", "once, maybe fired", "removed", "fired"};
  return std::string(l.once ? "once, " : "") + names[static_cast<int>(l.state)];
}

/// The calls one emission made, on the emitting thread.
struct emission {
  std::vector<int> called;
};

/// `fail` keeps the first 20 violations; `mutex` guards `orders` too.
struct shared : violation_log<20> {
  std::vector<std::unique_ptr<slot>> slots;
  std::vector<std::vector<int>> orders;  // every emission's calls, under mutex
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
    // A plain callable never has a *_with_err form here: those make the listener aware.
    if (l.aware) {
      id = add_as<true>(sig_, form, aware_fn{{&s_, index, {}}}, key);
    } else {
      id = add_as<false>(sig_, form, plain_fn{{&s_, index, {}}}, key);
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
      case known::maybe: break;
      default:
        if (!ec) fail(what + ": certainly dead, but removal succeeded");
        return;
    }
    if (ec) {
      l->state = known::fired;  // a maybe that is gone: it fired
      return;
    }
    l->state = known::removed;
    l->removed.store(true, std::memory_order_release);             // pairs with the emitters' acquire
    if (waited) l->waited.store(true, std::memory_order_release);  // pairs with the listener's acquire
  }

  void emit(const step& st) {
    // Which listeners were certainly removed before this emission began.
    std::vector<char> gone(s_.slots.size());
    for (std::size_t i = 0; i < gone.size(); ++i)
      gone[i] = static_cast<char>(s_.slots[i]->removed.load(std::memory_order_acquire));
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
    if (r.error != expected_error(l.result, last))
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
      case step_kind::try_emit_cancel: return emit(st);
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

}  // namespace sigs_test::concurrent
