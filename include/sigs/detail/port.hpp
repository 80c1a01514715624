// sigs/detail/port.hpp — compiler and platform facts the core needs, in one place.
#pragma once

#include <cstddef>

namespace sigs::detail {

/// Destructive-interference size on the x86-64 and AArch64 parts we target. Hard-coded
/// because std::hardware_destructive_interference_size warns under g++ (-Winterference-size).
inline constexpr std::size_t cache_line = 64;

}  // namespace sigs::detail

#if defined(__GNUC__) || defined(__clang__)
#define SIGS_LIKELY(x) __builtin_expect(!!(x), 1)
#define SIGS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SIGS_COLD [[gnu::cold, gnu::noinline]]
#define SIGS_PREFETCH(p) __builtin_prefetch(p)
// The per-listener steps of emit: inlined into the loop even when the compiler judges
// them too large (a call per listener costs more than the step itself). The coverage
// build turns it off (SIGS_NO_FORCED_INLINE), so that each step's branches count once.
#if defined(SIGS_NO_FORCED_INLINE)
#define SIGS_ALWAYS_INLINE inline
#else
#define SIGS_ALWAYS_INLINE [[gnu::always_inline]] inline
#endif
#else
#define SIGS_LIKELY(x) (x)
#define SIGS_UNLIKELY(x) (x)
#define SIGS_COLD
#define SIGS_PREFETCH(p) ((void)(p))
#define SIGS_ALWAYS_INLINE inline
#endif

// ThreadSanitizer does not model std::atomic_thread_fence. The hazard-pointer and
// snapshot protocol never relies on a stand-alone fence (the hazard publish is a seq_cst
// exchange, the snapshot publish a seq_cst store), so no order there needs strengthening
// under TSan. The worker pool's wake-up handshakes (detail/pool_core.hpp, POOL-F1 to POOL-F4) do use
// seq_cst fences; no happens-before rests on them, so they stay as they are under TSan
// (strengthening them would add edges that could hide races) and only g++'s -Wtsan is
// silenced (std_atomics::fence, detail/atomics.hpp). Relacy checks that handshake instead
// (detail/wake.hpp; models/wake_models.cpp, models/pool_models.cpp). A new fence that
// carries happens-before must be strengthened here, under SIGS_TSAN, with the reason.
#if defined(__SANITIZE_THREAD__)
#define SIGS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SIGS_TSAN 1
#endif
#endif
