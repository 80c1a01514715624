// Unit tests of sigs::sync_signal: each public function, its bad input, and the
// single-threaded semantics stated in docs/guarantees.md.
#include <sigs/sigs.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <type_traits>
#include <system_error>
#include <vector>

namespace {

using sigs::errc;
using sigs::sync_signal;

void free_listener(const int& v);
std::vector<int>* free_sink = nullptr;
void free_listener(const int& v) { free_sink->push_back(v); }

// Handles cannot be forged: a valid listener_id comes only from a registration.
static_assert(!std::is_constructible_v<sigs::listener_id, std::uint64_t>);
static_assert(!std::is_convertible_v<std::uint64_t, sigs::listener_id>);
// A sync signal takes sync_options: the async settings (pool, queue, overflow) are not
// silently accepted and ignored.
static_assert(std::is_constructible_v<sigs::sync_signal<int>, sigs::sync_options>);
static_assert(!std::is_constructible_v<sigs::sync_signal<int>, sigs::async_options>);

TEST(SyncSignal, EmitCallsEveryListenerInRegistrationOrder) {
  sync_signal<int> sig;
  std::vector<std::string> calls;
  sig.add_listener([&](const int& v) { calls.push_back("a" + std::to_string(v)); });
  sig.add_listener([&](const int& v) { calls.push_back("b" + std::to_string(v)); }, "b");
  sig.add_listener([&](const sigs::context&, const int& v) { calls.push_back("c" + std::to_string(v)); });
  sig.emit(1);
  sig(2);
  EXPECT_EQ(calls, (std::vector<std::string>{"a1", "b1", "c1", "a2", "b2", "c2"}));
}

TEST(SyncSignal, AcceptsFunctionPointersStdFunctionAndMoveOnlyCallables) {
  sync_signal<int> sig;
  std::vector<int> got;
  free_sink = &got;
  EXPECT_TRUE(sig.add_listener(&free_listener));
  EXPECT_TRUE(sig.add_listener(std::function<void(const int&)>([&](const int& v) { got.push_back(v * 10); })));
  auto owned = std::make_unique<int>(7);
  EXPECT_TRUE(sig.add_listener([p = std::move(owned), &got](const int& v) { got.push_back(v + *p); }));
  sig.emit(1);
  EXPECT_EQ(got, (std::vector<int>{1, 10, 8}));
}

TEST(SyncSignal, EmptyCallableIsRefused) {
  sync_signal<int> sig;
  void (*null_fn)(const int&) = nullptr;
  std::function<void(const int&)> empty;
  std::function<std::error_code(const int&)> empty_err;
  for (sigs::listener_id id : {sig.add_listener(null_fn), sig.add_listener(empty), sig.add_once(empty),
                               sig.add_once_with_key(empty, "k"), sig.add_listener_with_err(empty_err),
                               sig.add_once_with_err(empty_err), sig.add_once_with_err_and_key(empty_err, "k")}) {
    EXPECT_FALSE(id.valid());
    EXPECT_EQ(id.error(), errc::invalid_listener);
  }
  EXPECT_EQ(sig.size(), 0u);
  EXPECT_FALSE(sig.has_key("k"));
}

TEST(SyncSignal, DuplicateKeyIsRefusedAndNothingChanges) {
  sync_signal<int> sig;
  int first = 0, second = 0;
  auto a = sig.add_listener([&](const int&) { ++first; }, "k");
  ASSERT_TRUE(a);
  auto b = sig.add_listener([&](const int&) { ++second; }, "k");
  EXPECT_FALSE(b);
  EXPECT_EQ(b.error(), errc::duplicate_key);
  EXPECT_FALSE(sig.add_once_with_key([&](const int&) { ++second; }, "k"));
  EXPECT_EQ(sig.size(), 1u);
  EXPECT_EQ(sig.keys(), std::vector<std::string>{"k"});
  sig.emit(0);
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 0);
  // Once the key is removed it can be used again.
  EXPECT_FALSE(sig.remove_listener("k"));
  EXPECT_TRUE(sig.add_listener([&](const int&) { ++second; }, "k"));
}

TEST(SyncSignal, EmptyKeyMeansNoKey) {
  sync_signal<int> sig;
  EXPECT_TRUE(sig.add_listener([](const int&) {}, ""));
  EXPECT_TRUE(sig.add_listener([](const int&) {}, ""));  // not a duplicate
  EXPECT_EQ(sig.size(), 2u);
  EXPECT_TRUE(sig.keys().empty());
  EXPECT_FALSE(sig.has_key(""));
  EXPECT_EQ(sig.remove_listener(std::string_view{}), errc::not_found);
  EXPECT_EQ(sig.remove_listener_and_wait(std::string_view{}), errc::not_found);
  EXPECT_FALSE(sig.metadata(std::string_view{}));
  EXPECT_EQ(sig.size(), 2u);
}

TEST(SyncSignal, KeysAreArbitraryBytesOfAnyLength) {
  sync_signal<int> sig;
  const std::string binary("a\0b\xff", 4);
  const std::string huge(1 << 20, 'x');
  int calls = 0;
  EXPECT_TRUE(sig.add_listener([&](const int&) { ++calls; }, binary));
  EXPECT_TRUE(sig.add_listener([&](const int&) { ++calls; }, huge));
  EXPECT_TRUE(sig.has_key(binary));
  EXPECT_FALSE(sig.has_key(std::string("a", 1)));
  EXPECT_TRUE(sig.has_key(huge));
  EXPECT_EQ(sig.keys(), (std::vector<std::string>{binary, huge}));
  EXPECT_EQ(sig.metadata(huge)->key.size(), huge.size());
  sig.emit(1);
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(sig.remove_listener(huge));
  EXPECT_FALSE(sig.has_key(huge));
}

TEST(SyncSignal, RemoveByIdAndKeyAndUnknownOnes) {
  sync_signal<int> sig;
  std::vector<int> calls;
  auto a = sig.add_listener([&](const int&) { calls.push_back(1); }, "a");
  auto b = sig.add_listener([&](const int&) { calls.push_back(2); });
  sig.add_listener([&](const int&) { calls.push_back(3); }, "c");
  EXPECT_FALSE(sig.remove_listener(b));
  EXPECT_EQ(sig.remove_listener(b), errc::not_found);
  EXPECT_FALSE(sig.remove_listener("c"));
  EXPECT_EQ(sig.remove_listener("c"), errc::not_found);
  EXPECT_EQ(sig.remove_listener("nope"), errc::not_found);
  sync_signal<int> other;
  const sigs::listener_id foreign = other.add_listener([](const int&) {});
  EXPECT_EQ(sig.remove_listener(foreign), errc::not_found);  // another signal's listener
  EXPECT_EQ(other.size(), 1u);
  EXPECT_EQ(sig.remove_listener(sigs::listener_id{}), errc::not_found);
  sig.emit(0);
  EXPECT_EQ(calls, std::vector<int>{1});
  EXPECT_EQ(sig.size(), 1u);
  EXPECT_FALSE(sig.remove_listener(a));
  EXPECT_TRUE(sig.empty());
}

TEST(SyncSignal, IdsAreNotReusedAfterRemoval) {
  sync_signal<int> sig;
  auto a = sig.add_listener([](const int&) {});
  sig.remove_listener(a);
  auto b = sig.add_listener([](const int&) {});
  EXPECT_NE(a, b);
  EXPECT_EQ(sig.remove_listener(a), errc::not_found);
  EXPECT_EQ(sig.size(), 1u);
}

TEST(SyncSignal, OnceListenersFireOnceThenDisappear) {
  sync_signal<int> sig;
  int plain = 0, once = 0, keyed = 0;
  sig.add_listener([&](const int&) { ++plain; });
  sig.add_once([&](const int&) { ++once; });
  sig.add_once_with_key([&](const int&) { ++keyed; }, "o");
  EXPECT_EQ(sig.size(), 3u);
  EXPECT_TRUE(sig.has_key("o"));
  EXPECT_TRUE(sig.metadata("o")->is_once);
  sig.emit(0);
  EXPECT_EQ(sig.size(), 1u);
  EXPECT_FALSE(sig.has_key("o"));
  EXPECT_TRUE(sig.keys().empty());
  sig.emit(0);
  sig.emit(0);
  EXPECT_EQ(plain, 3);
  EXPECT_EQ(once, 1);
  EXPECT_EQ(keyed, 1);
  EXPECT_EQ(sig.remove_listener("o"), errc::not_found);
  // The key is free again after firing.
  EXPECT_TRUE(sig.add_once_with_key([&](const int&) { ++keyed; }, "o"));
}

TEST(SyncSignal, OnceListenerIsGoneBeforeTheEmitThatFiredItReturns) {
  sync_signal<int> sig;
  std::size_t size_inside = 99;
  bool key_inside = true;
  sig.add_once_with_key(
      [&](const int&) {
        size_inside = sig.size();
        key_inside = sig.has_key("o");
      },
      "o");
  sig.emit(0);
  EXPECT_EQ(size_inside, 0u);
  EXPECT_FALSE(key_inside);
}

TEST(SyncSignal, OnceListenerFiresOnceEvenWhenReEmittedFromItself) {
  sync_signal<int> sig;
  int once = 0;
  sig.add_once([&](const int& v) {
    ++once;
    if (v < 3) sig.emit(v + 1);
  });
  sig.emit(0);
  EXPECT_EQ(once, 1);
}

TEST(SyncSignal, ErrorAwareOnceForms) {
  sync_signal<int> sig;
  int a = 0, b = 0;
  sig.add_once_with_err([&](const int&) -> std::error_code {
    ++a;
    return errc::listener_error;
  });
  sig.add_once_with_err_and_key(
      [&](const int&) -> std::error_code {
        ++b;
        return {};
      },
      "b");
  EXPECT_TRUE(sig.metadata("b")->is_error_aware);
  auto r = sig.try_emit(0);
  EXPECT_EQ(r.error, errc::listener_error);
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 0);  // stopped before it
  r = sig.try_emit(0);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(a, 1);  // fired once even though it failed
  EXPECT_EQ(b, 1);
  EXPECT_TRUE(sig.empty());
}

TEST(SyncSignal, TryEmitStopsAtFirstErrorAndReportsWhere) {
  sync_signal<int> sig;
  std::vector<int> calls;
  sig.add_listener([&](const int&) { calls.push_back(0); }, "zero");
  auto bad = sig.add_listener_with_err(
      [&](const int& v) -> std::error_code {
        calls.push_back(1);
        return v > 0 ? std::make_error_code(std::errc::invalid_argument) : std::error_code{};
      },
      "one");
  sig.add_listener([&](const int&) { calls.push_back(2); }, "two");

  auto ok = sig.try_emit(0);
  EXPECT_TRUE(ok.ok());
  EXPECT_TRUE(static_cast<bool>(ok));
  EXPECT_EQ(ok.calls, 3u);

  calls.clear();
  auto r = sig.try_emit(5);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, std::errc::invalid_argument);
  EXPECT_EQ(r.listener, bad);
  EXPECT_EQ(r.key, "one");
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(r.calls, 2u);
  EXPECT_FALSE(r.exception);
  EXPECT_EQ(calls, (std::vector<int>{0, 1}));
  auto md = sig.metadata(bad);
  ASSERT_TRUE(md);
  EXPECT_EQ(md->error_count, 1u);
  EXPECT_EQ(md->last_error, std::errc::invalid_argument);
  EXPECT_EQ(sig.stats().errors, 1u);
}

TEST(SyncSignal, TryEmitStopsAtAThrowingListener) {
  sync_signal<int> sig;
  int after = 0;
  sig.add_listener([](const int&) { throw std::runtime_error("boom"); }, "thrower");
  sig.add_listener([&](const int&) { ++after; });
  auto r = sig.try_emit(1);
  EXPECT_EQ(r.error, errc::listener_exception);
  EXPECT_EQ(r.key, "thrower");
  ASSERT_TRUE(r.exception);
  EXPECT_THROW(std::rethrow_exception(r.exception), std::runtime_error);
  EXPECT_EQ(after, 0);
}

TEST(SyncSignal, EmitContinuesPastThrowsAndErrorsAndReportsThem) {
  sync_signal<int> sig;
  std::vector<std::string> reported;
  sig.set_error_handler([&](const sigs::listener_error& e) {
    reported.push_back(std::string(e.key) + ":" + e.error.message() + (e.exception ? ":ex" : ""));
  });
  int after = 0;
  auto thrower = sig.add_listener([](const int&) { throw std::logic_error("x"); }, "t");
  sig.add_listener_with_err([](const int&) -> std::error_code { return errc::listener_error; }, "e");
  sig.add_listener([&](const int&) { ++after; });
  sig.emit(1);
  sig.emit(2);
  EXPECT_EQ(after, 2);
  ASSERT_EQ(reported.size(), 4u);
  EXPECT_EQ(reported[0], "t:" + std::error_code(errc::listener_exception).message() + ":ex");
  EXPECT_EQ(reported[1], "e:" + std::error_code(errc::listener_error).message());
  auto md = sig.metadata(thrower);
  EXPECT_EQ(md->error_count, 2u);
  EXPECT_EQ(md->last_error, errc::listener_exception);
  ASSERT_TRUE(md->last_exception);
  EXPECT_THROW(std::rethrow_exception(md->last_exception), std::logic_error);
  EXPECT_EQ(sig.stats().exceptions, 2u);
  EXPECT_EQ(sig.stats().errors, 2u);
}

TEST(SyncSignal, ThrowingErrorHandlerIsSwallowedAndCounted) {
  sync_signal<int> sig;
  int after = 0;
  sig.set_error_handler([](const sigs::listener_error&) { throw std::runtime_error("handler"); });
  sig.add_listener([](const int&) { throw 1; });
  sig.add_listener([&](const int&) { ++after; });
  EXPECT_NO_THROW(sig.emit(0));
  EXPECT_EQ(after, 1);
  EXPECT_EQ(sig.stats().handler_failures, 1u);
  sig.set_error_handler(nullptr);  // removing the handler
  EXPECT_NO_THROW(sig.emit(0));
  EXPECT_EQ(sig.stats().handler_failures, 1u);
}

TEST(SyncSignal, CancelledContextStopsBeforeTheNextListener) {
  sync_signal<int> sig;
  std::stop_source stop;
  std::vector<int> calls;
  sig.add_listener([&](const int&) { calls.push_back(0); });
  sig.add_listener([&](const int&) {
    calls.push_back(1);
    stop.request_stop();
  });
  sig.add_listener([&](const int&) { calls.push_back(2); }, "late");
  sigs::context ctx(stop.get_token());
  auto r = sig.try_emit(ctx, 0);
  EXPECT_EQ(r.error, errc::canceled);
  EXPECT_EQ(r.error, std::errc::operation_canceled);
  EXPECT_EQ(r.key, "late");
  EXPECT_EQ(r.index, 2u);
  EXPECT_EQ(r.calls, 2u);
  EXPECT_EQ(calls, (std::vector<int>{0, 1}));
  // Already cancelled: nothing runs, in try_emit or emit.
  calls.clear();
  EXPECT_EQ(sig.try_emit(ctx, 0).calls, 0u);
  sig.emit(ctx, 0);
  EXPECT_TRUE(calls.empty());
  EXPECT_EQ(sig.stats().canceled, 3u);
}

// Every kind of emission over more listeners than emission prefetches ahead (four): each
// listener runs once, in order, whether the loop records failures (emit) or stops at
// them (try_emit), and whether it tests a context before each listener or not.
TEST(SyncSignal, EveryKindOfEmitRunsALongListInOrder) {
  constexpr int n = 9;
  sync_signal<int> sig;
  std::vector<int> order;
  for (int i = 0; i < n; ++i) sig.add_listener([&order, i](const int&) { order.push_back(i); });
  std::vector<int> expected;
  for (int i = 0; i < n; ++i) expected.push_back(i);
  std::stop_source stop;  // never stopped: a context that can end, so it is tested each time
  const sigs::context ctx(stop.get_token());

  sig.emit(0);
  EXPECT_EQ(order, expected);
  order.clear();
  sig.emit(ctx, 0);
  EXPECT_EQ(order, expected);
  order.clear();
  EXPECT_TRUE(sig.try_emit(0));
  EXPECT_EQ(order, expected);
  order.clear();
  const auto r = sig.try_emit(ctx, 0);
  EXPECT_TRUE(r);
  EXPECT_EQ(r.calls, static_cast<std::size_t>(n));
  EXPECT_EQ(order, expected);
}

TEST(SyncSignal, ExpiredDeadlineStops) {
  sync_signal<int> sig;
  int calls = 0;
  sig.add_listener([&](const int&) { ++calls; });
  auto past = sigs::context().with_deadline(sigs::context::clock::now() - std::chrono::seconds(1));
  auto r = sig.try_emit(past, 0);
  EXPECT_EQ(r.error, errc::deadline_exceeded);
  EXPECT_EQ(calls, 0);
  auto future = sigs::context().with_timeout(std::chrono::hours(1));
  EXPECT_TRUE(sig.try_emit(future, 0).ok());
  sig.emit(future, 0);
  EXPECT_EQ(calls, 2);
}

TEST(SyncSignal, AContextThatCanNeverEndIsNotChecked) {
  sync_signal<int> sig;
  std::vector<int> calls;
  sig.add_listener([&](const int& v) { calls.push_back(v); });
  sig.add_listener([&](const sigs::context& ctx, const int& v) {
    EXPECT_FALSE(ctx.can_be_canceled());
    calls.push_back(v + 10);
  });
  const sigs::context never;  // no stop token, no deadline
  ASSERT_FALSE(never.can_be_canceled());
  sig.emit(never, 1);
  auto r = sig.try_emit(never, 2);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.calls, 2u);
  EXPECT_EQ(calls, (std::vector<int>{1, 11, 2, 12}));
  EXPECT_EQ(sig.stats().canceled, 0u);
}

TEST(SyncSignal, TryEmitWithALiveContextStopsAtTheFirstError) {
  sync_signal<int> sig;
  std::stop_source stop;
  std::vector<int> calls;
  sig.add_listener([&](const int&) { calls.push_back(0); });
  auto bad = sig.add_listener_with_err(
      [&](const int&) -> std::error_code {
        calls.push_back(1);
        return errc::listener_error;
      },
      "bad");
  sig.add_listener([&](const int&) { calls.push_back(2); });
  auto r = sig.try_emit(sigs::context(stop.get_token()).with_timeout(std::chrono::hours(1)), 0);
  EXPECT_EQ(r.error, errc::listener_error);
  EXPECT_EQ(r.listener, bad);
  EXPECT_EQ(r.key, "bad");
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(r.calls, 2u);
  EXPECT_EQ(calls, (std::vector<int>{0, 1}));
  EXPECT_EQ(sig.stats().errors, 1u);
  EXPECT_EQ(sig.stats().canceled, 0u);
  sig.emit(sigs::context(stop.get_token()), 0);  // emit goes on past the error
  EXPECT_EQ(calls, (std::vector<int>{0, 1, 0, 1, 2}));
  EXPECT_EQ(sig.stats().errors, 2u);
}

TEST(SyncSignal, ContextIsPassedToListenersThatTakeIt) {
  sync_signal<int> sig;
  std::stop_source stop;
  bool saw_possible = false;
  sig.add_listener([&](const sigs::context& c, const int&) { saw_possible = c.stop_token().stop_possible(); });
  sig.emit(sigs::context(stop.get_token()), 1);
  EXPECT_TRUE(saw_possible);
  sig.emit(1);
  EXPECT_FALSE(saw_possible);
}

TEST(SyncSignal, OnceListenerNotConsumedByACancelledEmission) {
  sync_signal<int> sig;
  std::stop_source stop;
  stop.request_stop();
  int once = 0;
  sig.add_once([&](const int&) { ++once; });
  sig.emit(sigs::context(stop.get_token()), 0);
  EXPECT_EQ(once, 0);
  EXPECT_EQ(sig.size(), 1u);
  sig.emit(0);
  EXPECT_EQ(once, 1);
}

TEST(SyncSignal, RemovalFromInsideAListenerSkipsItInTheSameEmission) {
  sync_signal<int> sig;
  std::vector<int> calls;
  sigs::listener_id later;
  sig.add_listener([&](const int&) {
    calls.push_back(0);
    sig.remove_listener(later);
  });
  later = sig.add_listener([&](const int&) { calls.push_back(1); });
  sig.emit(0);
  sig.emit(0);
  EXPECT_EQ(calls, (std::vector<int>{0, 0}));
}

TEST(SyncSignal, ListenerCanRemoveItself) {
  sync_signal<int> sig;
  int calls = 0;
  sigs::listener_id self;
  self = sig.add_listener([&](const int&) {
    ++calls;
    EXPECT_FALSE(sig.remove_listener(self));
  });
  sig.emit(0);
  sig.emit(0);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(sig.empty());
}

TEST(SyncSignal, AddFromInsideAListenerIsNotSeenByTheRunningEmission) {
  sync_signal<int> sig;
  int added_calls = 0;
  sig.add_listener([&](const int&) { sig.add_listener([&](const int&) { ++added_calls; }); });
  sig.emit(0);
  EXPECT_EQ(added_calls, 0);
  EXPECT_EQ(sig.size(), 2u);
  sig.emit(0);
  EXPECT_EQ(added_calls, 1);
}

TEST(SyncSignal, ResetDuringEmitStopsTheRest) {
  sync_signal<int> sig;
  std::vector<int> calls;
  sig.add_listener([&](const int&) {
    calls.push_back(0);
    sig.reset();
  });
  sig.add_listener([&](const int&) { calls.push_back(1); });
  sig.emit(0);
  EXPECT_EQ(calls, std::vector<int>{0});
  EXPECT_TRUE(sig.empty());
  sig.emit(0);
  EXPECT_EQ(calls, std::vector<int>{0});
}

TEST(SyncSignal, NestedEmitsPastTheSlotStackStillWork) {
  // 8 hazard slots per thread; go far past them, on one signal and across two.
  sync_signal<int> a, b;
  constexpr int depth = 40;
  int a_calls = 0, b_calls = 0;
  a.add_listener([&](const int& d) {
    ++a_calls;
    if (d < depth) b.emit(d + 1);
  });
  b.add_listener([&](const int& d) {
    ++b_calls;
    if (d < depth) a.emit(d + 1);
  });
  a.emit(0);
  EXPECT_EQ(a_calls + b_calls, depth + 1);
  // Writers inside the deep nest: add/remove at every level while overflow readers exist.
  sync_signal<int> deep;
  std::vector<sigs::listener_id> added;
  int deep_calls = 0;
  deep.add_listener([&](const int& d) {
    ++deep_calls;
    added.push_back(deep.add_listener([](const int&) {}));
    if (d < depth) deep.emit(d + 1);
    deep.remove_listener(added.back());
    added.pop_back();
  });
  deep.emit(0);
  EXPECT_GE(deep_calls, depth + 1);
  EXPECT_EQ(deep.size(), 1u);
  // After unwinding, reclamation resumes and emission still works.
  deep_calls = 0;
  deep.emit(depth);
  EXPECT_EQ(deep_calls, 1);
}

TEST(SyncSignal, RemoveAndWaitFromInsideTheSameListenerRefuses) {
  sync_signal<int> sig;
  std::error_code inner;
  sigs::listener_id self;
  self = sig.add_listener([&](const int&) { inner = sig.remove_listener_and_wait(self); });
  sig.emit(0);
  EXPECT_EQ(inner, errc::would_deadlock);
  EXPECT_EQ(inner, std::errc::resource_deadlock_would_occur);
  EXPECT_EQ(sig.size(), 1u);  // nothing was done
  EXPECT_FALSE(sig.remove_listener_and_wait(self));
  EXPECT_TRUE(sig.empty());
  EXPECT_EQ(sig.remove_listener_and_wait(self), errc::not_found);
}

TEST(SyncSignal, RemoveAndWaitFromNestedEmissionOfTheListenerRefuses) {
  sync_signal<int> outer, inner_sig;
  std::error_code inner;
  outer.add_listener([&](const int&) { inner_sig.emit(0); }, "outer");
  inner_sig.add_listener([&](const int&) { inner = outer.remove_listener_and_wait("outer"); });
  outer.emit(0);
  EXPECT_EQ(inner, errc::would_deadlock);
  EXPECT_TRUE(outer.has_key("outer"));
}

// Found while building props/ (docs/regressions.md #1): the running-listener
// mark outlived the call, so the error handler could not remove_and_wait the listener
// that had just failed.
TEST(SyncSignal, RemoveAndWaitOfTheFailedListenerFromTheErrorHandlerWorks) {
  sync_signal<int> sig;
  std::error_code from_handler = errc::not_found;
  sig.set_error_handler([&](const sigs::listener_error& e) {
    from_handler = sig.remove_listener_and_wait(e.listener);  // the listener has returned
  });
  sig.add_listener_with_err([](const int&) -> std::error_code { return errc::listener_error; }, "f");
  sig.emit(0);
  EXPECT_FALSE(from_handler) << from_handler.message();
  EXPECT_FALSE(sig.has_key("f"));
  EXPECT_EQ(sig.size(), 0u);
}

TEST(SyncSignal, RemoveAndWaitOfAnotherListenerFromInsideOneWorks) {
  sync_signal<int> sig;
  std::vector<int> calls;
  std::error_code inner = errc::not_found;
  sig.add_listener([&](const int&) {
    calls.push_back(0);
    inner = sig.remove_listener_and_wait("b");
  });
  sig.add_listener([&](const int&) { calls.push_back(1); }, "b");
  sig.emit(0);
  EXPECT_FALSE(inner);
  EXPECT_EQ(calls, std::vector<int>{0});
  EXPECT_FALSE(sig.has_key("b"));
}

TEST(SyncSignal, MetadataReportsWhatItKnows) {
  sigs::sync_options opts;
  opts.metrics = sigs::metrics_on;
  sync_signal<int> sig(opts);
  auto before = std::chrono::system_clock::now();
  auto id = sig.add_listener_with_err(
      [](const int& v) -> std::error_code { return v ? std::error_code(errc::listener_error) : std::error_code{}; },
      "k");
  auto md = sig.metadata("k");
  ASSERT_TRUE(md);
  EXPECT_EQ(md->id, id);
  EXPECT_EQ(md->key, "k");
  EXPECT_GE(md->added_at, before);
  EXPECT_EQ(md->call_count, 0u);
  EXPECT_FALSE(md->is_once);
  EXPECT_TRUE(md->is_error_aware);
  EXPECT_EQ(md->last_called, std::chrono::system_clock::time_point{});
  sig.emit(0);
  sig.emit(1);
  md = sig.metadata(id);
  EXPECT_EQ(md->call_count, 2u);
  EXPECT_EQ(md->error_count, 1u);
  EXPECT_EQ(md->last_error, errc::listener_error);
  EXPECT_GE(md->last_called, before);
  EXPECT_EQ(sig.stats().emits, 2u);
  EXPECT_EQ(sig.stats().listener_calls, 2u);
  EXPECT_FALSE(sig.metadata("missing"));
  sync_signal<int> other;
  EXPECT_FALSE(sig.metadata(other.add_listener([](const int&) {})));  // another signal's listener
  // Metrics off: call counts stop moving, errors are still kept.
  sig.set_metrics(false);
  sig.emit(1);
  md = sig.metadata(id);
  EXPECT_EQ(md->call_count, 2u);
  EXPECT_EQ(md->error_count, 2u);
  EXPECT_EQ(sig.stats().emits, 2u);
}

TEST(SyncSignal, PlainListenerIsNotErrorAware) {
  sync_signal<int> sig;
  sig.add_listener([](const int&) {}, "p");
  sig.add_listener([](const int&) -> std::error_code { return {}; }, "e");  // detected by return type
  EXPECT_FALSE(sig.metadata("p")->is_error_aware);
  EXPECT_TRUE(sig.metadata("e")->is_error_aware);
}

TEST(SyncSignal, ScopedListenerRemovesOnScopeExit) {
  sync_signal<int> sig;
  int calls = 0;
  {
    sigs::scoped_listener guard(sig, sig.add_listener([&](const int&) { ++calls; }));
    EXPECT_EQ(sig.size(), 1u);
    sig.emit(0);
    sigs::scoped_listener moved(std::move(guard));
    // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move): the moved-from state is specified
    EXPECT_FALSE(guard.id());
    EXPECT_TRUE(moved.id());
  }
  EXPECT_TRUE(sig.empty());
  sig.emit(0);
  EXPECT_EQ(calls, 1);

  sigs::scoped_listener kept(sig, sig.add_listener([](const int&) {}));
  auto id = kept.release();
  kept.reset();
  EXPECT_EQ(sig.size(), 1u);
  sigs::scoped_listener a(sig, id), b;
  b = std::move(a);
  b = sigs::scoped_listener{};
  EXPECT_TRUE(sig.empty());
}

TEST(SyncSignal, ScopedListenerOfARefusedIdRemovesNothingAndSelfMoveKeepsOwnership) {
  sync_signal<int> sig;
  int calls = 0;
  auto count = [&](const int&) { ++calls; };
  ASSERT_TRUE(sig.add_listener(count, "k"));
  {
    // A refused registration: the guard owns nothing, so it must not remove "k".
    sigs::scoped_listener refused(sig, sig.add_listener(count, "k"));
    EXPECT_FALSE(refused.id());
    EXPECT_EQ(refused.id(), sigs::listener_id{});
  }
  EXPECT_TRUE(sig.has_key("k"));
  sigs::scoped_listener guard(sig, sig.add_listener([&](const int&) { calls += 10; }));
  const auto id = guard.id();
  sigs::scoped_listener& same = guard;
  guard = std::move(same);  // self-move: still owns the listener
  EXPECT_EQ(guard.id(), id);
  sig.emit(0);
  EXPECT_EQ(calls, 11);
  guard.reset();
  sig.emit(0);
  EXPECT_EQ(calls, 12);
  EXPECT_EQ(sig.size(), 1u);
}

// A listener whose copy throws while add_listener stores it: the exception reaches the
// caller, nothing is registered, and the signal stays usable (its writer lock released).
struct copy_may_throw {
  int* calls;
  const bool* armed;
  copy_may_throw(int* c, const bool* a) : calls(c), armed(a) {}
  copy_may_throw(const copy_may_throw& o) : calls(o.calls), armed(o.armed) {
    if (*armed) throw std::runtime_error("copy");
  }
  void operator()(const int&) const { ++*calls; }
};

TEST(SyncSignal, AListenerWhoseCopyThrowsIsNotRegistered) {
  sync_signal<int> sig;
  int calls = 0;
  bool armed = true;
  const copy_may_throw f(&calls, &armed);
  EXPECT_THROW(sig.add_listener(f, "k"), std::runtime_error);
  EXPECT_TRUE(sig.empty());
  EXPECT_FALSE(sig.has_key("k"));
  armed = false;
  auto id = sig.add_listener(f, "k");  // the key is free, the writer lock was released
  ASSERT_TRUE(id);
  sig.emit(0);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(sig.size(), 1u);
}

TEST(SyncSignal, DestroyingListenersThatTouchTheSignalFromTheirDestructor) {
  // A listener's captured state may call back into the signal when destroyed: entries
  // are destroyed outside the writer lock.
  auto sig = std::make_unique<sync_signal<int>>();
  struct remover {
    sync_signal<int>* s;
    std::shared_ptr<int> token = std::make_shared<int>();
    ~remover() {
      if (s && token) (void)s->size();
    }
  };
  sig->add_listener([r = remover{sig.get()}](const int&) { (void)r; }, "r");
  EXPECT_FALSE(sig->remove_listener("r"));
  EXPECT_TRUE(sig->empty());
}

TEST(SyncSignal, PayloadIsPassedByReferenceWithoutCopies) {
  struct counted {
    int* copies;
    explicit counted(int* c) : copies(c) {}
    counted(const counted& o) : copies(o.copies) { ++*copies; }
  };
  int copies = 0;
  sync_signal<counted> sig;
  const counted* seen = nullptr;
  sig.add_listener([&](const counted& c) { seen = &c; });
  sig.add_listener([&](const counted& c) { EXPECT_EQ(&c, seen); });
  counted payload(&copies);
  sig.emit(payload);
  EXPECT_EQ(seen, &payload);
  EXPECT_EQ(copies, 0);
}

}  // namespace
