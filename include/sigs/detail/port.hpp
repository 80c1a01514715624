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
#else
#define SIGS_LIKELY(x) (x)
#define SIGS_UNLIKELY(x) (x)
#endif

// ThreadSanitizer does not model std::atomic_thread_fence. The protocol never relies on a
// stand-alone fence on the paths TSan runs (the hazard publish is a seq_cst exchange, the
// snapshot publish a seq_cst store), so no order needs strengthening under TSan today. If a
// fence is ever added, strengthen the paired accesses here, under SIGS_TSAN, and say why.
#if defined(__SANITIZE_THREAD__)
#define SIGS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SIGS_TSAN 1
#endif
#endif
