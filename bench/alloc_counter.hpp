// bench/alloc_counter.hpp — how many heap allocations the calling thread has made.
//
// alloc_counter.cpp replaces every global operator new/delete of the benchmark binary with a
// malloc-backed version that bumps a thread-local counter. Thread-local, so that in a
// 2-thread case each thread counts only its own allocations over its own timed loop.
#pragma once

#include <cstdint>

namespace sigs_bench {

/// Allocations made by the calling thread through any operator new since it started.
std::uint64_t thread_allocations() noexcept;

}  // namespace sigs_bench
