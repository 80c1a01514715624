// testing/operations.hpp — the operations the reference model and the real signal are driven by.
//
// The vocabulary of the sequential harness: an `op` is one call on a sigs::sync_signal<int>
// (add_* with a listener spec that says what the listener does when called, remove by id
// or key, reset, emit, try_emit, emit with a context, introspection); a `trace` is
// everything observable an op caused. reference_model.hpp applies ops to the model and
// signal_driver.hpp to a real signal, and both print what happened through `fmt` below, one
// format, so that their traces compare as strings. props/ generates ops, fuzz/ decodes them
// from bytes; the concurrent and async program harnesses reuse the listener vocabulary
// (add_form, outcome, listener_threw) and `fmt`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace sigs_test {

/// Everything observable an operation caused, in order; its last line is the op's result.
using trace = std::vector<std::string>;

// ======================================================================================
// The operation vocabulary
// ======================================================================================

/// The six registration functions.
enum class add_form : std::uint8_t {
  listener,               // add_listener(f, key)
  listener_with_err,      // add_listener_with_err(f, key)
  once,                   // add_once(f)
  once_with_key,          // add_once_with_key(f, key)
  once_with_err,          // add_once_with_err(f)
  once_with_err_and_key,  // add_once_with_err_and_key(f, key)
};

inline bool takes_key(add_form f) {
  return f == add_form::listener || f == add_form::listener_with_err || f == add_form::once_with_key ||
         f == add_form::once_with_err_and_key;
}
inline bool is_once_form(add_form f) { return f != add_form::listener && f != add_form::listener_with_err; }
inline bool requires_error_aware(add_form f) {
  return f == add_form::listener_with_err || f == add_form::once_with_err || f == add_form::once_with_err_and_key;
}

/// How a listener's call ends.
enum class outcome : std::uint8_t {
  ok,      // returns normally (an empty error_code if error-aware)
  error,   // returns std::error_code(error_value, std::generic_category()); error-aware only
  throws,  // throws listener_threw{its id}
};

/// What the error handler does when this listener fails (in emit; try_emit has no handler).
enum class handler_action : std::uint8_t {
  none,             // just records the report
  remove,           // remove_listener(failed listener's id)
  remove_and_wait,  // remove_listener_and_wait(failed listener's id)
  throws,           // throws; swallowed by the signal, counted in stats().handler_failures
};

/// What a throwing listener throws: its own (model) id, so reports can be checked.
struct listener_threw {
  std::uint64_t id;
};

struct op;

/// What a listener does when called: first its re-entrant actions, in order, on the same
/// signal, then it ends with `result`.
struct behaviour {
  outcome result = outcome::ok;
  int error_value = 1;      // for outcome::error, 1..: a std::generic_category() code
  std::vector<op> actions;  // ops run from inside the call (no nested emit_ctx)
};

/// One add_* call.
struct listener_spec {
  add_form form = add_form::listener;
  std::string key;           // must be empty for the forms without a key
  bool error_aware = false;  // the callable returns std::error_code
  bool empty = false;        // pass an empty callable (refused)
  behaviour does;
  handler_action on_error = handler_action::none;  // the error handler, when this one fails
};

/// Listener ids as the model numbers them. 0 stands for a default (invalid) listener_id and
/// `unknown_id` for a valid-looking id the signal never issued.
inline constexpr std::uint64_t unknown_id = ~std::uint64_t{0};

/// `emit_ctx`: never cancel (but cancellable, so the checks run).
inline constexpr std::size_t never = ~std::size_t{0};

enum class op_kind : std::uint8_t {
  add,
  remove_id,
  remove_key,
  remove_and_wait_id,
  remove_and_wait_key,
  reset,
  emit,
  try_emit,
  emit_ctx,    // emit or try_emit with a context (top level only)
  introspect,  // size, keys, has_key(key), metadata(key), metadata(target), stats
};

/// One operation on the signal. Only the fields its kind names are used.
struct op {
  op_kind kind = op_kind::emit;
  listener_spec spec;            // add
  std::uint64_t target = 0;      // *_id, introspect: a model id, 0 or unknown_id
  std::string key;               // *_key, introspect
  bool as_try = false;           // emit_ctx: try_emit(ctx) rather than emit(ctx)
  std::size_t cancel_after = 0;  // emit_ctx: request stop after this many listener calls (any
                                 // depth) in this emission; 0 = already cancelled; `never`
  bool expired = false;          // emit_ctx: the context's deadline has passed

  static op of(op_kind k) {
    op o;
    o.kind = k;
    return o;
  }
  static op add(listener_spec s) {
    op o = of(op_kind::add);
    o.spec = std::move(s);
    return o;
  }
  static op add_listener(listener_spec s) {
    s.form = add_form::listener;
    return add(std::move(s));
  }
  static op by_id(op_kind k, std::uint64_t id) {
    op o = of(k);
    o.target = id;
    return o;
  }
  static op by_key(op_kind k, std::string key) {
    op o = of(k);
    o.key = std::move(key);
    return o;
  }
  static op remove_id(std::uint64_t id) { return by_id(op_kind::remove_id, id); }
  static op remove_key(std::string k) { return by_key(op_kind::remove_key, std::move(k)); }
  static op remove_and_wait_id(std::uint64_t id) { return by_id(op_kind::remove_and_wait_id, id); }
  static op remove_and_wait_key(std::string k) { return by_key(op_kind::remove_and_wait_key, std::move(k)); }
  static op reset() { return of(op_kind::reset); }
  static op emit() { return of(op_kind::emit); }
  static op try_emit() { return of(op_kind::try_emit); }
  static op emit_ctx(bool as_try, std::size_t cancel_after, bool expired) {
    op o = of(op_kind::emit_ctx);
    o.as_try = as_try;
    o.cancel_after = cancel_after;
    o.expired = expired;
    return o;
  }
  static op introspect(std::string k, std::uint64_t id) {
    op o = of(op_kind::introspect);
    o.key = std::move(k);
    o.target = id;
    return o;
  }
};

/// Makes any spec well formed: forms without a key get none, the *_with_err forms get an
/// error-aware callable, and only error-aware callables may end in outcome::error.
/// Generators and decoders call it so that every input means something.
inline listener_spec normalised(listener_spec s) {
  if (!takes_key(s.form)) s.key.clear();
  if (requires_error_aware(s.form)) s.error_aware = true;
  if (!s.error_aware && s.does.result == outcome::error) s.does.result = outcome::throws;
  if (s.does.error_value < 1) s.does.error_value = 1;
  if (s.does.result == outcome::ok) s.on_error = handler_action::none;
  for (op& a : s.does.actions) {
    if (a.kind == op_kind::emit_ctx) a.kind = a.as_try ? op_kind::try_emit : op_kind::emit;
    if (a.kind == op_kind::add) a.spec = normalised(std::move(a.spec));
  }
  return s;
}

inline bool well_formed(const listener_spec& s) {
  if (!takes_key(s.form) && !s.key.empty()) return false;
  if (requires_error_aware(s.form) && !s.error_aware) return false;
  if (!s.error_aware && s.does.result == outcome::error) return false;
  if (s.does.error_value < 1) return false;
  if (s.does.result == outcome::ok && s.on_error != handler_action::none) return false;
  for (const op& a : s.does.actions) {
    if (a.kind == op_kind::emit_ctx) return false;
    if (a.kind == op_kind::add && !well_formed(a.spec)) return false;
  }
  return true;
}

// ======================================================================================
// Results, and how both sides print them (one format, so traces compare as strings)
// ======================================================================================

/// try_emit's emit_result, with ids in model numbering.
struct emit_report {
  std::error_code error;
  std::uint64_t listener = 0;
  std::string key;
  std::size_t index = 0;
  std::size_t calls = 0;
  std::uint64_t thrown_by = 0;  // listener_threw::id carried by `exception`, 0 if none
};

/// listener_metadata, minus the wall-clock times (`called` says last_called is set).
struct metadata_report {
  std::uint64_t id = 0;
  std::string key;
  std::uint64_t calls = 0;
  std::uint64_t errors = 0;
  std::error_code last_error;
  std::uint64_t last_thrown_by = 0;
  bool once = false;
  bool error_aware = false;
  bool called = false;
};

/// signal_stats.
struct stats_report {
  std::uint64_t emits = 0, listener_calls = 0, errors = 0, exceptions = 0, canceled = 0, handler_failures = 0;
};

namespace fmt {

inline std::string id(std::uint64_t v) {
  if (v == 0) return "#invalid";
  if (v == unknown_id) return "#unknown";
  return "#" + std::to_string(v);
}

/// Keys are arbitrary bytes: escaped, and long ones summarised by length and a hash.
inline std::string key(std::string_view k) {
  auto escape = [](std::string_view s) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
        out += static_cast<char>(c);
      } else {
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 15];
      }
    }
    return out;
  };
  if (k.size() <= 48) return "\"" + escape(k) + "\"";
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a
  for (unsigned char c : k) h = (h ^ c) * 1099511628211ull;
  return "\"" + escape(k.substr(0, 16)) + "...\"(len=" + std::to_string(k.size()) + ",fnv=" + std::to_string(h) + ")";
}

inline std::string error(std::error_code ec) {
  if (!ec) return "ok";
  return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

inline std::string keys(const std::vector<std::string>& ks) {
  std::string out = "[";
  for (std::size_t i = 0; i < ks.size(); ++i) out += (i ? "," : "") + key(ks[i]);
  return out + "]";
}

inline std::string report(const emit_report& r) {
  std::string out = error(r.error) + " calls=" + std::to_string(r.calls);
  if (r.error) {
    out += " listener=" + id(r.listener) + " key=" + key(r.key) + " index=" + std::to_string(r.index) +
           " thrown_by=" + (r.thrown_by ? id(r.thrown_by) : "-");
  }
  return out;
}

inline std::string report(const std::optional<metadata_report>& m) {
  if (!m) return "none";
  return "{" + id(m->id) + " key=" + key(m->key) + " once=" + std::to_string(m->once) +
         " aware=" + std::to_string(m->error_aware) + " calls=" + std::to_string(m->calls) +
         " errors=" + std::to_string(m->errors) + " last=" + error(m->last_error) +
         " last_thrown_by=" + (m->last_thrown_by ? id(m->last_thrown_by) : "-") +
         " called=" + std::to_string(m->called) + "}";
}

inline std::string report(const stats_report& s) {
  return "emits=" + std::to_string(s.emits) + " calls=" + std::to_string(s.listener_calls) +
         " errors=" + std::to_string(s.errors) + " exceptions=" + std::to_string(s.exceptions) +
         " canceled=" + std::to_string(s.canceled) + " handler_failures=" + std::to_string(s.handler_failures);
}

/// The line an `introspect` op ends with.
inline std::string introspection(std::size_t size, const std::vector<std::string>& ks, bool has,
                                 const std::optional<metadata_report>& by_key,
                                 const std::optional<metadata_report>& by_id, const stats_report& stats) {
  return "size=" + std::to_string(size) + " keys=" + keys(ks) + " has_key=" + std::to_string(has) +
         " by_key=" + report(by_key) + " by_id=" + report(by_id) + " stats=" + report(stats);
}

inline const char* form(add_form f) {
  switch (f) {
    case add_form::listener: return "add_listener";
    case add_form::listener_with_err: return "add_listener_with_err";
    case add_form::once: return "add_once";
    case add_form::once_with_key: return "add_once_with_key";
    case add_form::once_with_err: return "add_once_with_err";
    case add_form::once_with_err_and_key: return "add_once_with_err_and_key";
  }
  return "?";
}

inline std::string describe(const op& o);

inline std::string describe(const listener_spec& s) {
  std::string out = form(s.form);
  out += "(";
  if (takes_key(s.form)) out += "key=" + key(s.key) + ", ";
  if (s.empty) return out + "EMPTY CALLABLE)";
  out += s.error_aware ? "aware, " : "";
  out += s.does.result == outcome::ok       ? "ok"
         : s.does.result == outcome::throws ? "throws"
                                            : "error " + std::to_string(s.does.error_value);
  switch (s.on_error) {
    case handler_action::none: break;
    case handler_action::remove: out += ", handler removes it"; break;
    case handler_action::remove_and_wait: out += ", handler removes it and waits"; break;
    case handler_action::throws: out += ", handler throws"; break;
  }
  if (!s.does.actions.empty()) {
    out += ", does [";
    for (std::size_t i = 0; i < s.does.actions.size(); ++i) out += (i ? "; " : "") + describe(s.does.actions[i]);
    out += "]";
  }
  return out + ")";
}

inline std::string describe(const op& o) {
  switch (o.kind) {
    case op_kind::add: return describe(o.spec);
    case op_kind::remove_id: return "remove_listener(" + id(o.target) + ")";
    case op_kind::remove_key: return "remove_listener(" + key(o.key) + ")";
    case op_kind::remove_and_wait_id: return "remove_listener_and_wait(" + id(o.target) + ")";
    case op_kind::remove_and_wait_key: return "remove_listener_and_wait(" + key(o.key) + ")";
    case op_kind::reset: return "reset()";
    case op_kind::emit: return "emit";
    case op_kind::try_emit: return "try_emit";
    case op_kind::emit_ctx:
      return std::string(o.as_try ? "try_emit" : "emit") + "(ctx: " +
             (o.cancel_after == never ? std::string("never cancelled")
                                      : "cancel after " + std::to_string(o.cancel_after)) +
             (o.expired ? ", expired deadline" : "") + ")";
    case op_kind::introspect: return "introspect(" + key(o.key) + ", " + id(o.target) + ")";
  }
  return "?";
}

}  // namespace fmt

}  // namespace sigs_test
