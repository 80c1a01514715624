// Tracing: the traceparent format, the trace a context carries, the spans of sync and
// async emissions and their parent links (across worker threads and nested emissions),
// failures as span statuses, tracers that throw, and switching tracing on and off.
#include <gtest/gtest.h>

#include <sigs/recording_tracer.hpp>
#include <sigs/sigs.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using kind = sigs::recorded_span::kind;

constexpr const char* sample_header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

sigs::trace_context sample_parent() {
  sigs::trace_context t;
  EXPECT_FALSE(sigs::trace_context::parse_traceparent(sample_header, t));
  return t;
}

std::vector<sigs::recorded_span> of_kind(const std::vector<sigs::recorded_span>& all, kind k) {
  std::vector<sigs::recorded_span> out;
  for (const auto& s : all)
    if (s.what == k) out.push_back(s);
  return out;
}

// ---- trace_context and the traceparent header --------------------------------------

TEST(TraceContext, DefaultIsInvalidAndNotSampled) {
  const sigs::trace_context t;
  EXPECT_FALSE(t.valid());
  EXPECT_FALSE(t.sampled());
  EXPECT_EQ(t.traceparent(), "00-00000000000000000000000000000000-0000000000000000-00");
}

TEST(TraceContext, ParsesAndFormatsTheW3cExample) {
  sigs::trace_context t;
  ASSERT_FALSE(sigs::trace_context::parse_traceparent(sample_header, t));
  EXPECT_TRUE(t.valid());
  EXPECT_TRUE(t.sampled());
  EXPECT_EQ(t.trace_id[0], 0x4b);
  EXPECT_EQ(t.trace_id[15], 0x36);
  EXPECT_EQ(t.span_id[0], 0x00);
  EXPECT_EQ(t.span_id[7], 0xb7);
  EXPECT_EQ(t.flags, 0x01);
  EXPECT_EQ(t.traceparent(), sample_header);
}

TEST(TraceContext, RoundTripsRandomContexts) {
  sigs::trace_context parent;
  for (int i = 0; i < 100; ++i) {
    sigs::trace_context t = parent.child();
    t.flags = static_cast<std::uint8_t>(i);
    sigs::trace_context back;
    ASSERT_FALSE(sigs::trace_context::parse_traceparent(t.traceparent(), back)) << t.traceparent();
    EXPECT_EQ(back, t);
    char buf[sigs::trace_context::traceparent_size];
    EXPECT_EQ(t.format_traceparent(buf), buf + sizeof buf);
    EXPECT_EQ(std::string(buf, sizeof buf), t.traceparent());
  }
}

TEST(TraceContext, RefusesMalformedHeadersAndLeavesTheOutputAlone) {
  const std::string good = sample_header;
  const std::vector<std::string> bad = {
      "",
      "00",
      good.substr(0, 54),                                          // one short
      good + "-",                                                  // version 00: nothing after the flags
      good + "0",                                                  //
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // uppercase
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",   // not hex
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // separator
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",   //
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",   //
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero span id
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version ff
      "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version not hex
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  // later version: '-' next
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",   // flags not hex
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bg-01",   // span id not hex
      " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // leading space
  };
  const sigs::trace_context before = sigs::trace_context().child();
  for (const std::string& h : bad) {
    sigs::trace_context t = before;
    const std::error_code ec = sigs::trace_context::parse_traceparent(h, t);
    EXPECT_EQ(ec, std::errc::invalid_argument) << '"' << h << '"';
    EXPECT_EQ(t, before) << h;
  }
}

TEST(TraceContext, ReadsALaterVersionAsVersion00) {
  sigs::trace_context t;
  ASSERT_FALSE(
      sigs::trace_context::parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", t));
  EXPECT_EQ(t, sample_parent());
  ASSERT_FALSE(sigs::trace_context::parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", t));
  EXPECT_EQ(t.traceparent(), sample_header);  // formatted as version 00
}

TEST(TraceContext, AChildKeepsTheTraceAndFlagsAndGetsANewSpanId) {
  sigs::trace_context p = sample_parent();
  p.flags = 0;  // not sampled: inherited as it is
  const sigs::trace_context c = p.child();
  EXPECT_TRUE(c.valid());
  EXPECT_EQ(c.trace_id, p.trace_id);
  EXPECT_EQ(c.flags, 0);
  EXPECT_NE(c.span_id, p.span_id);
}

TEST(TraceContext, AChildOfNothingIsANewSampledRoot) {
  const sigs::trace_context a = sigs::trace_context().child();
  const sigs::trace_context b = sigs::trace_context().child();
  EXPECT_TRUE(a.valid());
  EXPECT_TRUE(a.sampled());
  EXPECT_NE(a.trace_id, b.trace_id);
  EXPECT_NE(a.span_id, b.span_id);
}

TEST(TraceContext, IdsAreDistinctAcrossThreads) {
  constexpr int threads = 4;
  constexpr int per_thread = 1000;
  std::vector<std::vector<sigs::trace_context>> made(threads);
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i)
    ts.emplace_back([&made, i] {
      for (int j = 0; j < per_thread; ++j) made[i].push_back(sigs::trace_context().child());
    });
  for (auto& t : ts) t.join();
  std::map<std::string, int> seen;
  for (const auto& v : made)
    for (const auto& c : v) ++seen[c.traceparent()];
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(threads * per_thread));
}

TEST(Context, CarriesATraceThroughItsCopies) {
  const sigs::context plain;
  EXPECT_FALSE(plain.trace().valid());
  std::stop_source stop;
  const auto ctx = sigs::context(stop.get_token()).with_trace(sample_parent()).with_timeout(std::chrono::hours(1));
  EXPECT_EQ(ctx.trace(), sample_parent());
  EXPECT_TRUE(ctx.can_be_canceled());
  const sigs::context copy = ctx.with_stop_token({});
  EXPECT_EQ(copy.trace(), sample_parent());
  EXPECT_FALSE(copy.with_trace({}).trace().valid());
}

// ---- sync emissions ------------------------------------------------------------------

TEST(SyncTracing, EmitSpanIsAChildOfTheContextsAndCallSpansOfTheEmits) {
  sigs::recording_tracer rec;
  sigs::sync_signal<int> sig(sigs::sync_options{.name = "orders", .tracer = &rec});
  std::vector<sigs::trace_context> seen;
  const sigs::listener_id first =
      sig.add_listener([&](const sigs::context& c, const int&) { seen.push_back(c.trace()); }, "first");
  const sigs::listener_id second =
      sig.add_listener([&](const sigs::context& c, const int&) { seen.push_back(c.trace()); });
  sig.add_listener([](const int&) {});  // a listener without the context gets its span all the same

  const sigs::trace_context parent = sample_parent();
  sig.emit(sigs::context().with_trace(parent), 7);

  const auto spans = rec.spans();
  ASSERT_EQ(spans.size(), 4u);
  const auto& e = spans[0];
  EXPECT_EQ(e.what, kind::emit);
  EXPECT_EQ(e.signal, "orders");
  EXPECT_FALSE(e.is_async);
  EXPECT_EQ(e.parent, parent);
  EXPECT_EQ(e.parent_span_id, parent.span_id);
  EXPECT_EQ(e.context.trace_id, parent.trace_id);
  EXPECT_NE(e.context.span_id, parent.span_id);
  EXPECT_TRUE(e.ended);
  EXPECT_FALSE(e.error);
  EXPECT_FALSE(e.exception);
  EXPECT_EQ(e.begin_thread, std::this_thread::get_id());
  EXPECT_EQ(e.end_thread, std::this_thread::get_id());

  const auto calls = of_kind(spans, kind::call);
  ASSERT_EQ(calls.size(), 3u);
  for (const auto& c : calls) {
    EXPECT_EQ(c.parent, e.context);
    EXPECT_EQ(c.parent_span_id, e.context.span_id);
    EXPECT_EQ(c.context.trace_id, parent.trace_id);
    EXPECT_EQ(c.signal, "orders");
    EXPECT_TRUE(c.ended);
    EXPECT_FALSE(c.error);
    EXPECT_EQ(c.begin_thread, std::this_thread::get_id());
  }
  EXPECT_EQ(calls[0].listener, first.value());
  EXPECT_EQ(calls[0].key, "first");
  EXPECT_EQ(calls[1].listener, second.value());
  EXPECT_EQ(calls[1].key, "");
  // Each listener reads its own call span from its context.
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], calls[0].context);
  EXPECT_EQ(seen[1], calls[1].context);
}

TEST(SyncTracing, WithoutATraceInTheContextTheEmitSpanIsANewRoot) {
  sigs::recording_tracer rec;
  sigs::sync_signal<int> sig;  // no name
  sig.set_tracer(&rec);
  EXPECT_EQ(sig.tracer(), &rec);
  sig.add_listener([](const int&) {});
  sig.emit(1);
  sig.emit(2);
  const auto spans = rec.spans();
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[0].what, kind::emit);
  EXPECT_EQ(spans[0].signal, "");
  EXPECT_FALSE(spans[0].parent.valid());
  EXPECT_TRUE(spans[0].context.valid());
  EXPECT_TRUE(spans[0].context.sampled());
  EXPECT_EQ(spans[1].parent, spans[0].context);
  EXPECT_NE(spans[2].context.trace_id, spans[0].context.trace_id);  // each emission its own trace
  EXPECT_EQ(spans[3].parent, spans[2].context);
}

TEST(SyncTracing, OffByDefaultAndSwitchable) {
  sigs::recording_tracer rec;
  sigs::sync_signal<int> sig;
  EXPECT_EQ(sig.tracer(), nullptr);
  sigs::trace_context inside;
  sig.add_listener([&](const sigs::context& c, const int&) { inside = c.trace(); });
  const auto ctx = sigs::context().with_trace(sample_parent());
  sig.emit(ctx, 1);
  EXPECT_EQ(rec.size(), 0u);
  EXPECT_EQ(inside, sample_parent());  // untraced: the listener sees the caller's trace
  sig.set_tracer(&rec);
  sig.emit(ctx, 2);
  EXPECT_EQ(rec.size(), 2u);
  sig.set_tracer(nullptr);
  EXPECT_EQ(sig.tracer(), nullptr);
  sig.emit(ctx, 3);
  (void)sig.try_emit(ctx, 4);
  EXPECT_EQ(rec.size(), 2u);
}

TEST(SyncTracing, MetricsAndTracingSwitchIndependently) {
  sigs::recording_tracer rec;
  sigs::sync_signal<int> sig(sigs::sync_options{.metrics = sigs::metrics_level::counters, .tracer = &rec});
  sig.add_listener([](const int&) {});
  EXPECT_EQ(sig.metrics().level, sigs::metrics_level::counters);
  sig.emit(1);
  EXPECT_EQ(rec.size(), 2u);
  EXPECT_EQ(sig.stats().listener_calls, 1u);
  sig.set_metrics(sigs::metrics_level::off);
  EXPECT_EQ(sig.tracer(), &rec);
  sig.emit(2);
  EXPECT_EQ(rec.size(), 4u);
  sig.set_metrics(sigs::metrics_level::full);
  sig.set_tracer(nullptr);
  EXPECT_EQ(sig.metrics().level, sigs::metrics_level::full);
  sig.emit(3);
  EXPECT_EQ(rec.size(), 4u);
  EXPECT_EQ(sig.stats().listener_calls, 2u);
  sig.set_tracer(&rec);
  EXPECT_EQ(sig.metrics().level, sigs::metrics_level::full);
  sig.emit(4);
  EXPECT_EQ(rec.size(), 6u);
  EXPECT_EQ(sig.stats().listener_calls, 3u);
}

TEST(SyncTracing, FailuresBecomeSpanStatuses) {
  sigs::recording_tracer rec;
  sigs::sync_signal<int> sig(sigs::sync_options{.tracer = &rec});
  sig.add_listener([](const int&) {});
  sig.add_listener([](const int&) { return make_error_code(sigs::errc::listener_error); });
  sig.add_listener([](const int&) { throw std::runtime_error("boom"); });
  sig.add_listener([](const int&) { return std::error_code(); });

  sig.emit(1);  // records the failures and goes on
  auto spans = rec.spans();
  ASSERT_EQ(spans.size(), 5u);
  auto calls = of_kind(spans, kind::call);
  EXPECT_FALSE(calls[0].error);
  EXPECT_EQ(calls[1].error, sigs::errc::listener_error);
  EXPECT_FALSE(calls[1].exception);
  EXPECT_EQ(calls[2].error, sigs::errc::listener_exception);
  ASSERT_TRUE(calls[2].exception);
  EXPECT_THROW(std::rethrow_exception(calls[2].exception), std::runtime_error);
  EXPECT_FALSE(calls[3].error);
  // The emission's status: its first failure.
  EXPECT_EQ(spans[0].error, sigs::errc::listener_error);
  EXPECT_FALSE(spans[0].exception);

  rec.clear();
  const sigs::emit_result r = sig.try_emit(2);  // stops at the first failure
  EXPECT_FALSE(r);
  spans = rec.spans();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].error, sigs::errc::listener_error);
  EXPECT_EQ(spans[2].error, sigs::errc::listener_error);
  EXPECT_TRUE(spans[0].ended);
}

TEST(SyncTracing, AThrowFirstIsTheEmissionsStatusWithItsException) {
  sigs::recording_tracer rec;
  sigs::sync_signal<int> sig(sigs::sync_options{.tracer = &rec});
  sig.add_listener([](const int&) { throw std::logic_error("first"); });
  sig.add_listener([](const int&) { return make_error_code(sigs::errc::listener_error); });
  sig.emit(1);
  auto spans = rec.spans();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].error, sigs::errc::listener_exception);
  ASSERT_TRUE(spans[0].exception);
  EXPECT_THROW(std::rethrow_exception(spans[0].exception), std::logic_error);
  rec.clear();
  const auto r = sig.try_emit(2);
  spans = rec.spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].error, sigs::errc::listener_exception);
  EXPECT_EQ(spans[0].exception, r.exception);
}

TEST(SyncTracing, ACancelledContextEndsTheEmitSpanWithItsError) {
  sigs::recording_tracer rec;
  sigs::sync_signal<int> sig(sigs::sync_options{.tracer = &rec});
  std::stop_source stop;
  sig.add_listener([&](const int&) { stop.request_stop(); });
  sig.add_listener([](const int&) { ADD_FAILURE() << "runs after the stop"; });
  sig.emit(sigs::context(stop.get_token()).with_trace(sample_parent()), 1);
  auto spans = rec.spans();
  ASSERT_EQ(spans.size(), 2u);  // the emission and the one call made
  EXPECT_EQ(spans[0].parent, sample_parent());
  EXPECT_EQ(spans[0].error, sigs::errc::canceled);
  EXPECT_FALSE(spans[1].error);

  rec.clear();
  const auto r = sig.try_emit(sigs::context(stop.get_token()), 2);  // stopped before any listener
  EXPECT_EQ(r.error, sigs::errc::canceled);
  spans = rec.spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].error, sigs::errc::canceled);
  EXPECT_EQ(sig.stats().canceled, 2u);
}

TEST(SyncTracing, OnceListenersAndRemovedOnesGetASpanOnlyWhenCalled) {
  sigs::recording_tracer rec;
  sigs::sync_signal<int> sig(sigs::sync_options{.tracer = &rec});
  sigs::listener_id later;
  sig.add_once([](const int&) {});
  sig.add_listener([&](const int&) { (void)sig.remove_listener(later); });
  later = sig.add_listener([](const int&) { ADD_FAILURE(); });
  sig.emit(1);
  sig.emit(2);
  const auto calls = of_kind(rec.spans(), kind::call);
  EXPECT_EQ(calls.size(), 3u);  // once + remover, then remover alone
}

/// A tracer that throws from the hooks named in `throw_in`, and records otherwise.
class throwing_tracer final : public sigs::tracer {
 public:
  enum hook : unsigned { begin_emit_h = 1, end_emit_h = 2, begin_call_h = 4, end_call_h = 8 };
  explicit throwing_tracer(unsigned throw_in) : throw_in_(throw_in) {}

  sigs::trace_span begin_emit(const sigs::emit_info& info) override {
    maybe_throw(begin_emit_h);
    return inner.begin_emit(info);
  }
  void end_emit(const sigs::trace_span& s, std::error_code ec, const std::exception_ptr& ex) override {
    inner.end_emit(s, ec, ex);
    maybe_throw(end_emit_h);
  }
  sigs::trace_span begin_call(const sigs::call_info& info) override {
    maybe_throw(begin_call_h);
    return inner.begin_call(info);
  }
  void end_call(const sigs::trace_span& s, std::error_code ec, const std::exception_ptr& ex) override {
    inner.end_call(s, ec, ex);
    maybe_throw(end_call_h);
  }

  sigs::recording_tracer inner;

 private:
  void maybe_throw(unsigned h) const {
    if ((throw_in_ & h) != 0) throw std::runtime_error("tracer");
  }
  unsigned throw_in_;
};

TEST(SyncTracing, ATracerThatThrowsBreaksNothing) {
  for (unsigned mask = 1; mask < 16; ++mask) {
    SCOPED_TRACE(mask);
    throwing_tracer t(mask);
    sigs::sync_signal<int> sig(sigs::sync_options{.tracer = &t});
    int calls = 0;
    std::vector<sigs::trace_context> seen;
    sig.add_listener([&](const sigs::context& c, const int&) {
      ++calls;
      seen.push_back(c.trace());
    });
    sig.add_listener([&](const int&) { ++calls; });
    const auto ctx = sigs::context().with_trace(sample_parent());
    sig.emit(ctx, 1);
    EXPECT_TRUE(sig.try_emit(ctx, 2));
    EXPECT_EQ(calls, 4);
    // Two emissions, each with two calls: one failure per emission for a throwing emit
    // hook (a begin that throws has no end to throw), one per call for a call hook.
    std::uint64_t expected = 0;
    if ((mask & (throwing_tracer::begin_emit_h | throwing_tracer::end_emit_h)) != 0) expected += 2;
    if ((mask & (throwing_tracer::begin_call_h | throwing_tracer::end_call_h)) != 0) expected += 4;
    EXPECT_EQ(sig.stats().tracer_failures, expected);
    const auto spans = t.inner.spans();
    const auto emits = of_kind(spans, kind::emit);
    const auto cs = of_kind(spans, kind::call);
    ASSERT_EQ(seen.size(), 2u);
    // Without an emit span, calls are children of the context's trace; without a call
    // span, the listener sees its parent's.
    const sigs::trace_context call_parent = emits.empty() ? sample_parent() : emits[0].context;
    if (mask & throwing_tracer::begin_call_h) {
      EXPECT_TRUE(cs.empty());
      EXPECT_EQ(seen[0], call_parent);
    } else {
      ASSERT_EQ(cs.size(), 4u);
      EXPECT_EQ(cs[0].parent, call_parent);
      EXPECT_EQ(seen[0], cs[0].context);
    }
  }
}

/// A tracer that starts no span (an invalid context): a sampler that said no.
class null_tracer final : public sigs::tracer {
 public:
  sigs::trace_span begin_emit(const sigs::emit_info&) override {
    ++begins;
    return {};
  }
  void end_emit(const sigs::trace_span&, std::error_code, const std::exception_ptr&) override { ++ends; }
  sigs::trace_span begin_call(const sigs::call_info& info) override {
    ++begins;
    parents.push_back(info.parent);
    return {};
  }
  void end_call(const sigs::trace_span&, std::error_code, const std::exception_ptr&) override { ++ends; }
  int begins = 0;
  int ends = 0;
  std::vector<sigs::trace_context> parents;
};

TEST(SyncTracing, ATracerMayStartNoSpanAndTheTraceGoesThroughUnchanged) {
  null_tracer t;
  sigs::sync_signal<int> sig(sigs::sync_options{.tracer = &t});
  sigs::trace_context seen;
  sig.add_listener([&](const sigs::context& c, const int&) { seen = c.trace(); });
  sig.emit(sigs::context().with_trace(sample_parent()), 1);
  EXPECT_EQ(t.begins, 2);
  EXPECT_EQ(t.ends, 2);  // ends are called all the same
  ASSERT_EQ(t.parents.size(), 1u);
  EXPECT_EQ(t.parents[0], sample_parent());
  EXPECT_EQ(seen, sample_parent());
}

TEST(SyncTracing, ANestedEmissionUnderTheListenersContextIsAChildOfItsCall) {
  sigs::recording_tracer rec;
  sigs::sync_signal<int> inner(sigs::sync_options{.name = "inner", .tracer = &rec});
  sigs::sync_signal<int> outer(sigs::sync_options{.name = "outer", .tracer = &rec});
  inner.add_listener([](const int&) {});
  outer.add_listener([&](const sigs::context& c, const int& v) { inner.emit(c, v); });  // passes it on
  outer.add_listener([&](const int& v) { inner.emit(v); });                             // does not
  outer.emit(sigs::context().with_trace(sample_parent()), 1);

  const auto spans = rec.spans();
  ASSERT_EQ(spans.size(), 7u);
  // outer emit, call 1, inner emit, inner call, call 2, inner emit (root), inner call
  EXPECT_EQ(spans[0].signal, "outer");
  EXPECT_EQ(spans[1].parent, spans[0].context);
  EXPECT_EQ(spans[2].signal, "inner");
  EXPECT_EQ(spans[2].what, kind::emit);
  EXPECT_EQ(spans[2].parent, spans[1].context);
  EXPECT_EQ(spans[2].parent_span_id, spans[1].context.span_id);
  EXPECT_EQ(spans[2].context.trace_id, sample_parent().trace_id);
  EXPECT_EQ(spans[3].parent, spans[2].context);
  EXPECT_EQ(spans[4].parent, spans[0].context);
  EXPECT_FALSE(spans[5].parent.valid());  // no context given: a new trace
  EXPECT_NE(spans[5].context.trace_id, sample_parent().trace_id);
  EXPECT_EQ(spans[6].parent, spans[5].context);
  for (const auto& s : spans) EXPECT_TRUE(s.ended);
}

TEST(SyncTracing, ConcurrentEmittersWhileTracingAndMetricsSwitch) {
  sigs::recording_tracer rec;
  sigs::sync_signal<int> sig(sigs::sync_options{.name = "busy"});
  std::atomic<int> calls{0};
  sig.add_listener([&](const sigs::context&, const int&) { calls.fetch_add(1); });
  sig.add_listener([&](const int&) { calls.fetch_add(1); });
  std::atomic<bool> stop{false};
  std::vector<std::thread> emitters;
  for (int i = 0; i < 2; ++i)
    emitters.emplace_back([&] {
      const auto ctx = sigs::context().with_trace(sample_parent());
      while (!stop.load()) sig.emit(ctx, 1);
    });
  for (int i = 0; i < 200; ++i) {
    sig.set_tracer(i % 2 == 0 ? &rec : nullptr);
    sig.set_metrics(i % 3 == 0 ? sigs::metrics_level::full : sigs::metrics_level::off);
    std::this_thread::yield();
  }
  sig.set_tracer(&rec);
  while (rec.size() < 3) std::this_thread::yield();  // at least one whole traced emission
  stop.store(true);
  for (auto& t : emitters) t.join();
  EXPECT_EQ(sig.tracer(), &rec);
  const auto spans = rec.spans();
  std::map<std::string, sigs::recorded_span> by_id;
  for (const auto& s : spans) {
    EXPECT_TRUE(s.ended);
    by_id[sigs::trace_context{{}, s.context.span_id, 0}.traceparent()] = s;
  }
  for (const auto& s : spans) {
    if (s.what == kind::emit) {
      EXPECT_EQ(s.parent, sample_parent());
    } else {
      // A call whose emission started while tracing was off has the context's parent.
      auto p = by_id.find(sigs::trace_context{{}, s.parent_span_id, 0}.traceparent());
      if (p != by_id.end()) {
        EXPECT_EQ(p->second.what, kind::emit);
      } else {
        EXPECT_EQ(s.parent, sample_parent());
      }
    }
  }
}

// ---- async emissions -----------------------------------------------------------------

TEST(AsyncTracing, WorkerCallSpansAreChildrenOfTheEmitSpan) {
  sigs::worker_pool pool(sigs::worker_pool_options{.threads = 2});
  sigs::recording_tracer rec;
  sigs::async_signal<int> sig(sigs::async_options{.name = "ticks", .tracer = &rec, .pool = &pool});
  std::mutex m;
  std::vector<std::pair<std::thread::id, sigs::trace_context>> seen;
  for (int i = 0; i < 3; ++i)
    sig.add_listener([&](const sigs::context& c, const int&) {
      std::lock_guard<std::mutex> lock(m);
      seen.emplace_back(std::this_thread::get_id(), c.trace());
    });
  const auto ctx = sigs::context().with_trace(sample_parent());
  for (int i = 0; i < 5; ++i) sig.emit(ctx, i);
  sig.emit(9);  // no context: a root, and an int payload with no context still carries the trace
  ASSERT_FALSE(sig.drain());

  const auto spans = rec.spans();
  const auto emits = of_kind(spans, kind::emit);
  const auto calls = of_kind(spans, kind::call);
  ASSERT_EQ(emits.size(), 6u);
  ASSERT_EQ(calls.size(), 18u);
  ASSERT_EQ(seen.size(), 18u);
  std::map<std::string, sigs::recorded_span> emit_by_span;
  for (const auto& e : emits) {
    EXPECT_TRUE(e.is_async);
    EXPECT_EQ(e.signal, "ticks");
    EXPECT_EQ(e.begin_thread, std::this_thread::get_id());
    EXPECT_EQ(e.end_thread, std::this_thread::get_id());
    EXPECT_TRUE(e.ended);
    EXPECT_FALSE(e.error);
    emit_by_span[e.context.traceparent()] = e;
  }
  EXPECT_EQ(std::count_if(emits.begin(), emits.end(), [](const auto& e) { return e.parent == sample_parent(); }), 5);
  std::map<std::string, int> children;
  for (const auto& c : calls) {
    EXPECT_TRUE(c.is_async);
    EXPECT_NE(c.begin_thread, std::this_thread::get_id());  // on a worker
    EXPECT_EQ(c.end_thread, c.begin_thread);
    EXPECT_TRUE(c.ended);
    const auto p = emit_by_span.find(c.parent.traceparent());
    ASSERT_NE(p, emit_by_span.end()) << "a call span's parent is not an emit span";
    EXPECT_EQ(c.parent_span_id, p->second.context.span_id);
    EXPECT_EQ(c.context.trace_id, p->second.context.trace_id);
    ++children[c.parent.traceparent()];
  }
  for (const auto& [span, n] : children) EXPECT_EQ(n, 3) << span;
  // Each listener saw its own call span.
  for (const auto& one : seen) {
    const auto it = std::find_if(calls.begin(), calls.end(), [&](const auto& c) { return c.context == one.second; });
    ASSERT_NE(it, calls.end());
    EXPECT_EQ(it->begin_thread, one.first);
  }
}

TEST(AsyncTracing, FailuresOnWorkersAndARefusedTryEmit) {
  sigs::worker_pool pool(sigs::worker_pool_options{.threads = 1});
  sigs::recording_tracer rec;
  sigs::async_signal<std::string> sig(sigs::async_options{.tracer = &rec, .pool = &pool});
  sig.add_listener([](const std::string&) { throw std::runtime_error("worker"); });
  sig.add_listener([](const std::string&) { return make_error_code(sigs::errc::listener_error); });
  EXPECT_EQ(sig.emit_and_wait("x"), sigs::errc::listener_exception);
  ASSERT_FALSE(sig.drain());
  const auto calls = of_kind(rec.spans(), kind::call);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].error, sigs::errc::listener_exception);
  EXPECT_TRUE(calls[0].exception);
  EXPECT_EQ(calls[1].error, sigs::errc::listener_error);
  EXPECT_FALSE(calls[1].exception);

  rec.clear();
  std::stop_source stop;
  stop.request_stop();
  const auto r = sig.try_emit(sigs::context(stop.get_token()), "y");  // refused before queueing
  EXPECT_EQ(r.error, sigs::errc::canceled);
  const auto spans = rec.spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].what, kind::emit);
  EXPECT_EQ(spans[0].error, sigs::errc::canceled);
}

TEST(AsyncTracing, CallerRunsCallsAreChildrenOnTheEmittingThread) {
  sigs::worker_pool pool(sigs::worker_pool_options{.threads = 1});
  sigs::recording_tracer rec;
  sigs::async_signal<int> sig(sigs::async_options{
      .tracer = &rec, .pool = &pool, .queue_capacity = 1, .overflow = sigs::overflow_policy::caller_runs});
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  sig.add_listener([&](const int& v) {
    if (v == 0) {
      started.store(true);
      while (!release.load()) std::this_thread::yield();
    }
  });
  sig.emit(0);  // holds the one place
  while (!started.load()) std::this_thread::yield();
  sig.emit(1);  // runs here
  release.store(true);
  ASSERT_FALSE(sig.drain());
  const auto spans = rec.spans();
  ASSERT_EQ(spans.size(), 4u);
  const auto emits = of_kind(spans, kind::emit);
  const auto calls = of_kind(spans, kind::call);
  ASSERT_EQ(calls.size(), 2u);
  int here = 0;
  for (const auto& c : calls) {
    EXPECT_TRUE(c.parent == emits[0].context || c.parent == emits[1].context);
    here += c.begin_thread == std::this_thread::get_id() ? 1 : 0;
  }
  EXPECT_EQ(here, 1);
}

TEST(AsyncTracing, AWorkerListenerPassesItsSpanOnToASyncEmission) {
  sigs::worker_pool pool(sigs::worker_pool_options{.threads = 2});
  sigs::recording_tracer rec;
  sigs::sync_signal<int> audit(sigs::sync_options{.name = "audit", .tracer = &rec});
  audit.add_listener([](const int&) {});
  sigs::async_signal<int> sig(sigs::async_options{.name = "work", .tracer = &rec, .pool = &pool});
  sig.add_listener([&](const sigs::context& c, const int& v) { audit.emit(c, v); });
  sig.emit(sigs::context().with_trace(sample_parent()), 1);
  ASSERT_FALSE(sig.drain());
  const auto spans = rec.spans();
  ASSERT_EQ(spans.size(), 4u);  // work emit, work call, audit emit, audit call
  EXPECT_EQ(spans[0].parent, sample_parent());
  EXPECT_EQ(spans[1].parent, spans[0].context);
  EXPECT_EQ(spans[2].signal, "audit");
  EXPECT_EQ(spans[2].parent, spans[1].context);
  EXPECT_EQ(spans[2].begin_thread, spans[1].begin_thread);
  EXPECT_NE(spans[2].begin_thread, std::this_thread::get_id());
  EXPECT_EQ(spans[3].parent, spans[2].context);
  for (const auto& s : spans) EXPECT_EQ(s.context.trace_id, sample_parent().trace_id);
}

TEST(AsyncTracing, SwitchingOffStopsNewSpans) {
  sigs::worker_pool pool(sigs::worker_pool_options{.threads = 1});
  sigs::recording_tracer rec;
  sigs::async_signal<int> sig(sigs::async_options{.pool = &pool});
  sig.add_listener([](const int&) {});
  sig.emit(1);
  ASSERT_FALSE(sig.drain());
  EXPECT_EQ(rec.size(), 0u);
  sig.set_tracer(&rec);
  sig.emit(2);
  ASSERT_FALSE(sig.drain());
  EXPECT_EQ(rec.size(), 2u);
  sig.set_tracer(nullptr);
  sig.emit(3);
  ASSERT_FALSE(sig.drain());
  EXPECT_EQ(rec.size(), 2u);
}

// ---- the recording tracer ------------------------------------------------------------

TEST(RecordingTracer, IgnoresTheEndOfASpanClearedBefore) {
  sigs::recording_tracer rec;
  const sigs::trace_span a = rec.begin_emit(sigs::emit_info{"s", false, {}});
  rec.clear();
  const sigs::trace_span b = rec.begin_emit(sigs::emit_info{"t", false, {}});
  rec.end_emit(a, make_error_code(sigs::errc::canceled), nullptr);
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_EQ(rec.ended(), 0u);
  rec.end_emit(b, {}, nullptr);
  EXPECT_EQ(rec.ended(), 1u);
  const auto found = rec.find(b.context.span_id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->signal, "t");
  EXPECT_FALSE(rec.find(a.context.span_id));
  sigs::trace_span unknown;  // a handle this tracer never gave
  unknown.handle = 1000;
  rec.end_emit(unknown, {}, nullptr);
  EXPECT_EQ(rec.ended(), 1u);
}

}  // namespace
