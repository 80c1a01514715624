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

/// While on, the calling thread keeps a balance of the heap bytes it allocates and frees
/// through operator new/delete, as the allocator holds them: each block's usable size plus
/// its 8-byte chunk header. Off by default, so that timed cases pay one branch only.
void count_live_bytes(bool on) noexcept;

/// The calling thread's balance since count_live_bytes(true): bytes allocated minus bytes
/// freed (negative if it freed blocks allocated before).
std::int64_t live_bytes() noexcept;

}  // namespace sigs_bench
