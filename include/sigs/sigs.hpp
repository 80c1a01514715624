// sigs/sigs.hpp — the whole public API in one include.
//
// sigs is a library of typed, thread-safe, in-process signals:
//
//   #include <sigs/sigs.hpp>
//   sigs::sync_signal<int> ticks;
//   ticks.add_listener([](const int& n) { std::cout << n << '\n'; });
//   ticks.emit(42);
//
// Emission never takes a lock: listeners live in an immutable copy-on-write snapshot
// protected by hazard pointers (sigs/detail/hazard.hpp explains the protocol).
#pragma once

#include <sigs/async_signal.hpp>
#include <sigs/completion.hpp>
#include <sigs/context.hpp>
#include <sigs/emit_result.hpp>
#include <sigs/errors.hpp>
#include <sigs/fwd.hpp>
#include <sigs/health.hpp>
#include <sigs/listener.hpp>
#include <sigs/metrics.hpp>
#include <sigs/options.hpp>
#include <sigs/recording_tracer.hpp>
#include <sigs/signal_base.hpp>
#include <sigs/sync_signal.hpp>
#include <sigs/task.hpp>
#include <sigs/trace_context.hpp>
#include <sigs/tracer.hpp>
#include <sigs/worker_pool.hpp>
