// testing/reference_model.hpp — the reference model of one sigs::sync_signal<int>.
//
// This is the page an auditor reads. It is deliberately naive: a vector of every listener
// ever registered, each with an `alive` flag, and one function per API operation written
// straight from the contract (docs/guarantees.md, sync_signal.hpp). No atomics, no
// snapshots, no cleverness; single-threaded by construction.
//
// It is shared by props/ (RapidCheck) and fuzz/ (libFuzzer). They describe work as `op`
// values (the vocabulary of operations.hpp), apply each op both to this model and, through
// signal_driver.hpp, to a real sigs::sync_signal<int>, and compare the two *traces*: the
// ordered list of everything observable the op caused — each listener call, each error
// handed to the error handler, the result of every operation a listener performed from
// inside its call, and last the op's own result.
//
//   sigs_test::reference_signal model;
//   sigs_test::trace t = model.apply(sigs_test::op::add_listener({.key = "a"}));
//   // t == {"add_listener(key=\"a\", ok) -> #1"}
//   t = model.apply(sigs_test::op::emit());
//   // t == {"call #1 payload=0", "emit -> done"}
//
// Listeners that add and emit from inside their calls could run forever; `limits` bounds
// nesting depth, nested emissions, calls and ids per op, and an inner op past a bound is
// "skipped" by model and driver alike (inner_skip(), the one rule both apply).
//
// Semantics modelled (each a line of the contract):
//  - add_*: an empty callable is refused (invalid_listener) before anything else; a key
//    held by an *alive* listener is refused (duplicate_key); the empty key means no key.
//    Accepted listeners get ids 1, 2, 3, ... in this model (the driver maps real ids).
//  - remove by id / key: errc::not_found unless an alive listener matches; the empty key
//    never matches. remove_and_wait additionally refuses with errc::would_deadlock, doing
//    nothing, when the listener is running further up this thread's call stack.
//  - emit: takes the alive listeners at its start (the snapshot) and calls, in
//    registration order, each one that is still alive when reached. Adds made meanwhile
//    are not seen; removals, resets and once-firings made meanwhile are. A once-listener
//    is dead from the moment its call starts. Errors and throws are recorded and handed to
//    the error handler; emission goes on.
//  - the error handler (emit only: try_emit reports instead) runs on the emitting thread
//    after the failed listener has returned, and does what that listener's spec says:
//    nothing, remove_listener or remove_listener_and_wait of the failed listener (by id,
//    as an op at the emission's depth: would_deadlock only if that listener is still
//    running further up the stack; not_found for a once-listener, which fired), or throw,
//    which the signal swallows and counts in stats().handler_failures.
//  - try_emit: the same walk, stopping at the first listener that fails (error code or
//    throw) and reporting it, with index = its position among the calls this emission made.
//  - a cancellable context is checked before each alive listener (before a once-listener
//    is consumed). When it reports an error the emission stops, reporting the listener it
//    did not start. Cancellation wins over an expired deadline.
//  - metadata counts (metrics on): a call is counted after the listener returns, so a
//    listener that looks at its own metadata sees the calls before this one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <sigs/errors.hpp>

#include "operations.hpp"

namespace sigs_test {

/// Limits shared by model and driver, so both cut runaway re-entrancy the same way.
struct limits {
  std::size_t max_depth = 3;          // emissions nested on one thread (1 = no nesting)
  std::size_t max_nested_emits = 24;  // emissions started from inside listeners per top-level op
  std::size_t max_calls = 600;        // listener calls per top-level op before inner adds
                                      // and emits are skipped (listeners that add and emit
                                      // from inside would otherwise grow exponentially)
  std::size_t max_issued = 256;       // ids issued before inner adds are skipped
};

/// Whether an op a listener runs from inside its call is skipped, and why (nullptr: run
/// it). `depth` counts the emissions in progress; `nested_emits` and `calls` count this
/// top-level op's nested emissions and listener calls so far; `issued` the ids handed out.
/// The one rule both model and driver apply.
inline const char* inner_skip(const limits& l, op_kind kind, std::size_t depth, std::size_t nested_emits,
                              std::size_t calls, std::size_t issued) {
  const bool emits = kind == op_kind::emit || kind == op_kind::try_emit || kind == op_kind::emit_ctx;
  if (depth == 0 || (!emits && kind != op_kind::add)) return nullptr;
  if (calls >= l.max_calls) return "skipped (call limit)";
  if (kind == op_kind::add && issued >= l.max_issued) return "skipped (listener limit)";
  if (emits && (depth >= l.max_depth || nested_emits >= l.max_nested_emits)) return "skipped (depth limit)";
  return nullptr;
}

// ======================================================================================
// The model
// ======================================================================================

class reference_signal {
 public:
  explicit reference_signal(limits l = {}) : limits_(l) {}

  /// Applies one top-level operation; returns its trace.
  trace apply(const op& o) {
    trace out;
    nested_emits_ = calls_ = 0;
    run(o, out);
    return out;
  }

  // ---- plain queries (used by generators and by the invariant checks) ---------------

  [[nodiscard]] std::size_t size() const {
    std::size_t n = 0;
    for (const listener& l : listeners_) n += l.alive;
    return n;
  }
  [[nodiscard]] std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const listener& l : listeners_)
      if (l.alive && !l.key.empty()) out.push_back(l.key);
    return out;
  }
  [[nodiscard]] bool has_key(std::string_view k) const { return !k.empty() && find_key(k) != nullptr; }
  /// Ids handed out so far (the next accepted add gets issued() + 1).
  [[nodiscard]] std::uint64_t issued() const { return listeners_.size(); }
  [[nodiscard]] bool alive(std::uint64_t id) const { return find_id(id) != nullptr; }
  [[nodiscard]] const limits& bounds() const { return limits_; }

 private:
  struct listener {
    std::uint64_t id = 0;
    std::string key;
    bool once = false;
    bool error_aware = false;
    behaviour does;
    handler_action on_error = handler_action::none;
    bool alive = true;
    std::uint64_t calls = 0;
    std::uint64_t errors = 0;
    std::error_code last_error;
    std::uint64_t last_thrown_by = 0;
  };

  const listener* find_id(std::uint64_t id) const {
    for (const listener& l : listeners_)
      if (l.alive && l.id == id) return &l;
    return nullptr;
  }
  const listener* find_key(std::string_view k) const {
    for (const listener& l : listeners_)
      if (l.alive && !k.empty() && l.key == k) return &l;
    return nullptr;
  }
  listener* find(const op& o) {
    const bool by_id = o.kind == op_kind::remove_id || o.kind == op_kind::remove_and_wait_id;
    return const_cast<listener*>(by_id ? find_id(o.target) : find_key(o.key));
  }

  /// Runs `o` at the current depth, appending to `out`. Nested ops are prefixed "[depth] ".
  void run(const op& o, trace& out) {
    const std::string prefix = depth_ ? "[" + std::to_string(depth_) + "] " : "";
    const std::string what = prefix + fmt::describe(o) + " -> ";
    if (const char* skipped = inner_skip(limits_, o.kind, depth_, nested_emits_, calls_, listeners_.size())) {
      out.push_back(what + skipped);
      return;
    }
    switch (o.kind) {
      case op_kind::add: out.push_back(what + add(o.spec)); return;
      case op_kind::remove_id:
      case op_kind::remove_key: {
        listener* l = find(o);
        if (l) l->alive = false;
        out.push_back(what + fmt::error(l ? std::error_code{} : sigs::errc::not_found));
        return;
      }
      case op_kind::remove_and_wait_id:
      case op_kind::remove_and_wait_key: {
        listener* l = find(o);
        std::error_code ec;
        if (!l) {
          ec = sigs::errc::not_found;
        } else if (is_running(l->id)) {
          ec = sigs::errc::would_deadlock;  // and nothing is done
        } else {
          l->alive = false;
        }
        out.push_back(what + fmt::error(ec));
        return;
      }
      case op_kind::reset:
        for (listener& l : listeners_) l.alive = false;
        out.push_back(what + "done");
        return;
      case op_kind::emit:
      case op_kind::try_emit:
      case op_kind::emit_ctx: {
        if (depth_ > 0) ++nested_emits_;
        const bool is_try = o.kind == op_kind::try_emit || (o.kind == op_kind::emit_ctx && o.as_try);
        const bool checked = o.kind == op_kind::emit_ctx;
        if (checked) {
          stop_requested_ = o.cancel_after == 0;
          cancel_budget_ = o.cancel_after == never ? 0 : o.cancel_after;
          expired_ = o.expired;
        }
        emit_report r = emission(is_try, checked, out);
        if (checked) {
          stop_requested_ = expired_ = false;
          cancel_budget_ = 0;
        }
        out.push_back(what + (is_try ? fmt::report(r) : "done"));
        return;
      }
      case op_kind::introspect: {
        out.push_back(what + fmt::introspection(size(), keys(), has_key(o.key), metadata(find_key(o.key)),
                                                metadata(find_id(o.target)), stats_));
        return;
      }
    }
  }

  std::string add(const listener_spec& s) {
    if (s.empty) return fmt::error(sigs::errc::invalid_listener);
    if (!s.key.empty() && find_key(s.key)) return fmt::error(sigs::errc::duplicate_key);
    const std::uint64_t id = listeners_.size() + 1;
    listener l;
    l.id = id;
    l.key = s.key;
    l.once = is_once_form(s.form);
    l.error_aware = s.error_aware;
    l.does = s.does;
    l.on_error = s.on_error;
    listeners_.push_back(std::move(l));
    return fmt::id(id);
  }

  /// One emission at depth_ + 1. Listeners are referred to by index: a listener's actions
  /// may add listeners, which may move the vector.
  emit_report emission(bool is_try, bool checked, trace& out) {
    ++depth_;
    ++stats_.emits;
    const int payload = static_cast<int>(depth_) - 1;
    std::vector<std::size_t> snapshot;
    for (std::size_t i = 0; i < listeners_.size(); ++i)
      if (listeners_[i].alive) snapshot.push_back(i);

    emit_report r;
    for (std::size_t i : snapshot) {
      if (!listeners_[i].alive) continue;  // removed, reset or fired since the start
      if (checked) {
        const std::error_code why = stop_requested_ ? std::error_code(sigs::errc::canceled)
                                    : expired_      ? std::error_code(sigs::errc::deadline_exceeded)
                                                    : std::error_code{};
        if (why) {
          ++stats_.canceled;
          r.error = why;
          r.listener = listeners_[i].id;
          r.key = listeners_[i].key;
          r.index = r.calls;
          --depth_;
          return r;
        }
      }
      if (listeners_[i].once) listeners_[i].alive = false;  // fired: gone before its call starts

      // The call: the listener logs itself, may trigger the cancellation, runs its actions.
      const std::uint64_t id = listeners_[i].id;
      out.push_back("call " + fmt::id(id) + " payload=" + std::to_string(payload));
      ++calls_;
      if (cancel_budget_ > 0 && --cancel_budget_ == 0) stop_requested_ = true;
      running_.push_back(id);
      const behaviour does = listeners_[i].does;  // copy: the vector may move
      for (const op& a : does.actions) run(a, out);
      running_.pop_back();

      listener& l = listeners_[i];
      ++r.calls;
      ++l.calls;
      ++stats_.listener_calls;
      if (does.result == outcome::ok) continue;
      const bool threw = does.result == outcome::throws;
      const std::error_code ec = threw ? std::error_code(sigs::errc::listener_exception)
                                       : std::error_code(does.error_value, std::generic_category());
      ++l.errors;
      l.last_error = ec;
      l.last_thrown_by = threw ? id : 0;
      ++(threw ? stats_.exceptions : stats_.errors);
      if (is_try) {
        r.error = ec;
        r.listener = id;
        r.key = l.key;
        r.index = r.calls - 1;
        r.thrown_by = threw ? id : 0;
        --depth_;
        return r;
      }
      out.push_back("report " + fmt::id(id) + " " + fmt::error(ec) + (threw ? " threw" : ""));
      handler(id, l.on_error, out);
    }
    --depth_;
    return r;
  }

  /// The error handler's action after listener `id` failed in an emit.
  void handler(std::uint64_t id, handler_action action, trace& out) {
    switch (action) {
      case handler_action::none: return;
      case handler_action::remove: return run(op::remove_id(id), out);
      case handler_action::remove_and_wait: return run(op::remove_and_wait_id(id), out);
      case handler_action::throws:
        out.push_back("handler throws for " + fmt::id(id));
        ++stats_.handler_failures;
        return;
    }
  }

  bool is_running(std::uint64_t id) const {
    for (std::uint64_t r : running_)
      if (r == id) return true;
    return false;
  }

  static std::optional<metadata_report> metadata(const listener* l) {
    if (!l) return std::nullopt;
    return metadata_report{l->id,   l->key,         l->calls,    l->errors, l->last_error, l->last_thrown_by,
                           l->once, l->error_aware, l->calls > 0};
  }

  limits limits_;
  std::vector<listener> listeners_;     // every listener ever accepted, in registration order
  std::vector<std::uint64_t> running_;  // listeners whose call is in progress, innermost last
  std::size_t depth_ = 0;               // emissions in progress
  std::size_t nested_emits_ = 0;        // emissions started from inside listeners, this op
  std::size_t calls_ = 0;               // listener calls, this op
  std::size_t cancel_budget_ = 0;       // emit_ctx: calls left before the stop is requested
  bool stop_requested_ = false;
  bool expired_ = false;
  stats_report stats_;
};

}  // namespace sigs_test
