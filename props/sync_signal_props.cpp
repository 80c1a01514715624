// Stateful properties of sigs::sync_signal against testing/reference_model.hpp.
//
// RapidCheck generates random command sequences (one command per API operation, below),
// runs each on the model and on a real signal (testing/signal_driver.hpp) and
// compares, after every command: the whole trace (every listener call in order, every
// error-handler report, the result of every operation a listener ran from inside its call,
// and the command's own result: ids, error codes, try_emit's error/listener/key/index/
// calls/exception, metadata, stats), then size() and keys(). On a failure it shrinks the
// sequence to a minimal one and prints it with each command's show().
//
//   Sequential  listeners only log and end (ok / error N / throw); when one fails in
//               emit, the error handler may also remove it (with or without waiting) or
//               throw (swallowed, counted in stats().handler_failures)
//   Reentrant   about half the listeners also add, remove, remove_and_wait, reset, emit,
//               try_emit or introspect from inside their call (3 levels of nesting)
//   DeepNesting re-entrant, 12 levels: past the 8 hazard slots of a thread
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>

#include <testing/operations.hpp>
#include <testing/reference_model.hpp>
#include <testing/signal_driver.hpp>

namespace {

using namespace sigs_test;

/// The model state RapidCheck threads through a sequence: the reference signal, plus how
/// this property generates listeners.
struct prop_model {
  reference_signal sig;
  bool reentrant = false;
};

using command = rc::state::Command<prop_model, signal_driver>;

// ---- generators ---------------------------------------------------------------------

/// Keys from a small pool so that duplicates, removals by key and re-use happen often.
std::string any_key() { return *rc::gen::element<std::string>("a", "b", "c", "d"); }
std::string any_key_or_none() {
  return *rc::gen::weightedElement<std::string>({{4, "a"}, {4, "b"}, {3, "c"}, {2, ""}});
}

/// A listener id to aim at: mostly one issued so far (up to `upper`), sometimes the
/// invalid id or one never issued.
std::uint64_t any_target(std::uint64_t upper) {
  const int pick = *rc::gen::inRange(0, 10);
  if (pick == 0 || upper == 0) return pick % 2 ? unknown_id : 0;
  return *rc::gen::inRange<std::uint64_t>(1, upper + 1);
}

/// What the error handler does when the listener fails (normalised() drops it for
/// listeners that never fail).
handler_action any_handler_action() {
  return *rc::gen::weightedElement<handler_action>({{4, handler_action::none},
                                                    {2, handler_action::remove},
                                                    {2, handler_action::remove_and_wait},
                                                    {1, handler_action::throws}});
}

/// An operation a listener runs from inside its call. `self` is the listener's own id.
op any_action(std::uint64_t self) {
  switch (*rc::gen::weightedElement<int>({{3, 0}, {3, 1}, {2, 2}, {2, 3}, {1, 4}, {1, 5}, {3, 6}, {2, 7}, {2, 8}})) {
    case 0: {
      listener_spec s;
      s.form =
          *rc::gen::element(add_form::listener, add_form::once, add_form::once_with_key, add_form::listener_with_err);
      s.key = any_key_or_none();
      s.error_aware = *rc::gen::arbitrary<bool>();
      s.does.result = *rc::gen::element(outcome::ok, outcome::ok, outcome::error, outcome::throws);
      s.on_error = any_handler_action();
      return op::add(normalised(s));
    }
    case 1: return op::remove_id(any_target(self));
    case 2: return op::remove_key(any_key());
    case 3: return op::remove_and_wait_id(any_target(self));
    case 4: return op::remove_and_wait_key(any_key());
    case 5: return op::reset();
    case 6: return op::emit();
    case 7: return op::try_emit();
    default: return op::introspect(any_key_or_none(), any_target(self));
  }
}

/// A listener of the given form: its outcome, and in a re-entrant property sometimes up to
/// two actions.
listener_spec any_listener(const prop_model& m, add_form form, bool keyed) {
  listener_spec s;
  s.form = form;
  s.key = keyed ? any_key_or_none() : "";
  s.error_aware = requires_error_aware(form) || *rc::gen::arbitrary<bool>();
  s.empty = *rc::gen::inRange(0, 20) == 0;
  s.does.result = *rc::gen::weightedElement<outcome>({{6, outcome::ok}, {2, outcome::error}, {2, outcome::throws}});
  s.does.error_value = *rc::gen::inRange(1, 4);
  s.on_error = any_handler_action();
  if (m.reentrant && *rc::gen::arbitrary<bool>()) {
    const int n = *rc::gen::inRange(1, 3);
    for (int i = 0; i < n; ++i) s.does.actions.push_back(any_action(m.sig.issued() + 1));
  }
  return normalised(s);
}

// ---- preconditions --------------------------------------------------------------------

/// Ids an op may name once `issued` ids exist: issued ones, 0 and unknown_id. (A shrunk
/// sequence must not aim at an id that some later add happens to receive.)
void require_target(std::uint64_t target, std::uint64_t issued) {
  RC_PRE(target == 0 || target == unknown_id || target <= issued);
}

void require_spec(const listener_spec& s, const prop_model& m) {
  RC_PRE(well_formed(s));
  RC_PRE(m.reentrant || s.does.actions.empty());
  // A listener's actions may name any listener issued before it, and itself.
  for (const op& a : s.does.actions) {
    RC_PRE(a.kind != op_kind::add || a.spec.does.actions.empty());  // one level of actions
    if (a.kind == op_kind::remove_id || a.kind == op_kind::remove_and_wait_id || a.kind == op_kind::introspect)
      require_target(a.target, m.sig.issued() + 1);
  }
}

// ---- commands ------------------------------------------------------------------------

/// What every command does with its op: apply it to the model; run it on both and compare.
struct op_command : command {
  op o;

  void apply(prop_model& m) const override { m.sig.apply(o); }

  void run(const prop_model& m, signal_driver& sut) const override {
    reference_signal expected = m.sig;
    const trace want = expected.apply(o);
    const trace got = sut.apply(o);
    RC_ASSERT(got == want);
    RC_ASSERT(sut.signal().size() == expected.size());
    RC_ASSERT(sut.signal().empty() == (expected.size() == 0));
    RC_ASSERT(sut.signal().keys() == expected.keys());
  }

  void show(std::ostream& os) const override { os << name() << "  " << fmt::describe(o); }
  virtual const char* name() const = 0;
};

/// The seven add_* commands: a listener of one form.
template <add_form Form, bool Keyed>
struct add_command : op_command {
  explicit add_command(const prop_model& m) { o = op::add(any_listener(m, Form, Keyed)); }
  void checkPreconditions(const prop_model& m) const override {
    RC_PRE(o.kind == op_kind::add && o.spec.form == Form);
    RC_PRE(Keyed || o.spec.key.empty());
    require_spec(o.spec, m);
  }
};

struct Add : add_command<add_form::listener, false> {
  using add_command::add_command;
  const char* name() const override { return "Add"; }
};
struct AddKeyed : add_command<add_form::listener, true> {
  using add_command::add_command;
  const char* name() const override { return "AddKeyed"; }
};
struct AddWithErr : add_command<add_form::listener_with_err, true> {
  using add_command::add_command;
  const char* name() const override { return "AddWithErr"; }
};
struct AddOnce : add_command<add_form::once, false> {
  using add_command::add_command;
  const char* name() const override { return "AddOnce"; }
};
struct AddOnceWithKey : add_command<add_form::once_with_key, true> {
  using add_command::add_command;
  const char* name() const override { return "AddOnceWithKey"; }
};
struct AddOnceWithErr : add_command<add_form::once_with_err, false> {
  using add_command::add_command;
  const char* name() const override { return "AddOnceWithErr"; }
};
struct AddOnceWithErrAndKey : add_command<add_form::once_with_err_and_key, true> {
  using add_command::add_command;
  const char* name() const override { return "AddOnceWithErrAndKey"; }
};

struct RemoveById : op_command {
  explicit RemoveById(const prop_model& m) { o = op::remove_id(any_target(m.sig.issued())); }
  void checkPreconditions(const prop_model& m) const override {
    RC_PRE(o.kind == op_kind::remove_id);
    require_target(o.target, m.sig.issued());
  }
  const char* name() const override { return "RemoveById"; }
};

struct RemoveByKey : op_command {
  RemoveByKey() { o = op::remove_key(any_key_or_none()); }
  void checkPreconditions(const prop_model&) const override { RC_PRE(o.kind == op_kind::remove_key); }
  const char* name() const override { return "RemoveByKey"; }
};

/// remove_listener_and_wait, by id or by key, from outside any listener: never refused.
struct RemoveAndWait : op_command {
  explicit RemoveAndWait(const prop_model& m) {
    o = *rc::gen::arbitrary<bool>() ? op::remove_and_wait_id(any_target(m.sig.issued()))
                                    : op::remove_and_wait_key(any_key_or_none());
  }
  void checkPreconditions(const prop_model& m) const override {
    RC_PRE(o.kind == op_kind::remove_and_wait_id || o.kind == op_kind::remove_and_wait_key);
    if (o.kind == op_kind::remove_and_wait_id) require_target(o.target, m.sig.issued());
  }
  const char* name() const override { return "RemoveAndWait"; }
};

struct Reset : op_command {
  Reset() { o = op::reset(); }
  void checkPreconditions(const prop_model&) const override { RC_PRE(o.kind == op_kind::reset); }
  const char* name() const override { return "Reset"; }
};

struct Emit : op_command {
  Emit() { o = op::emit(); }
  void checkPreconditions(const prop_model&) const override { RC_PRE(o.kind == op_kind::emit); }
  const char* name() const override { return "Emit"; }
};

struct TryEmit : op_command {
  TryEmit() { o = op::try_emit(); }
  void checkPreconditions(const prop_model&) const override { RC_PRE(o.kind == op_kind::try_emit); }
  const char* name() const override { return "TryEmit"; }
};

/// try_emit (or emit) with a context that is cancelled after k listener calls, already
/// cancelled (k = 0), never cancelled, and/or past its deadline.
struct TryEmitCancelled : op_command {
  TryEmitCancelled() {
    const std::size_t k = *rc::gen::weightedElement<std::size_t>({{2, 0}, {3, 1}, {3, 2}, {2, 3}, {1, 5}, {2, never}});
    o = op::emit_ctx(*rc::gen::weightedElement<bool>({{3, true}, {1, false}}), k, *rc::gen::inRange(0, 6) == 0);
  }
  void checkPreconditions(const prop_model&) const override {
    RC_PRE(o.kind == op_kind::emit_ctx);
    RC_PRE(o.cancel_after <= 5 || o.cancel_after == never);
  }
  const char* name() const override { return "TryEmitCancelled"; }
};

/// size(), keys(), has_key(), metadata() by key and by id, stats().
struct Introspect : op_command {
  explicit Introspect(const prop_model& m) { o = op::introspect(any_key_or_none(), any_target(m.sig.issued())); }
  void checkPreconditions(const prop_model& m) const override {
    RC_PRE(o.kind == op_kind::introspect);
    require_target(o.target, m.sig.issued());
  }
  const char* name() const override { return "Introspect"; }
};

auto any_command() {
  return rc::state::gen::execOneOfWithArgs<Add, AddKeyed, AddWithErr, AddOnce, AddOnceWithKey, AddOnceWithErr,
                                           AddOnceWithErrAndKey, RemoveById, RemoveByKey, RemoveAndWait, Reset, Emit,
                                           TryEmit, TryEmitCancelled, Introspect>();
}

/// Runs one random sequence, then checks that destroying the signal released every
/// listener callable it held (no leak, no double destruction).
void check_sequence(bool reentrant, limits lim) {
  const long before = alive_token::live.load();
  {
    const prop_model initial{reference_signal(lim), reentrant};
    signal_driver sut(lim);
    rc::state::check(initial, sut, any_command());
  }
  RC_ASSERT(alive_token::live.load() == before);
}

RC_GTEST_PROP(SyncSignalModel, Sequential, ()) { check_sequence(false, limits{}); }

RC_GTEST_PROP(SyncSignalModel, Reentrant, ()) { check_sequence(true, limits{3, 24, 400, 256}); }

RC_GTEST_PROP(SyncSignalModel, DeepNesting, ()) { check_sequence(true, limits{12, 64, 400, 256}); }

}  // namespace
