// testing/alloc_hooks.hpp — replaced global operator new/delete that count, fail or park
// allocations, for the tests that check what the library does about memory.
//
// INCLUDE IN ONE TRANSLATION UNIT PER TEST BINARY ONLY: it defines the replacement global
// operators (every form: plain, array, nothrow, over-aligned), which are process-wide and
// may be defined once. Each test that includes it is a single .cpp, its own binary.
// Not with ASan/TSan, whose runtimes define operator new themselves (the replacement would
// not link): tests/CMakeLists.txt builds these tests only without sanitizers.
//
// Memory comes from malloc (posix_memalign for the over-aligned forms) and goes back with
// free. The switches and counters, in sigs::testing::alloc_hooks, all off or 0 at start:
//   - fail_at: the n-th unaligned allocation from now, on any thread, throws bad_alloc;
//   - fail_next_here: the next unaligned allocation on the calling thread throws;
//   - fail_aligned_at: the n-th over-aligned allocation from now, on any thread, throws;
//   - park_in_next_new: the calling thread's next unaligned allocation sets parked_in_new,
//     then waits (spinning) until unpark_new is set, then allocates;
//   - failed / failed_next_here / failed_aligned: allocations failed (unaligned by any
//     switch / unaligned by fail_next_here / over-aligned);
//   - allocations_here / aligned_here: unaligned / over-aligned allocations attempted on the
//     calling thread (failed ones included);
//   - count_bytes_here: while set, live_bytes_here adds what the allocator holds for each
//     block the calling thread allocates (its usable size plus glibc's 8-byte chunk
//     header) and subtracts it for each block the calling thread frees.
// A nothrow form returns nullptr where its throwing form would throw.
#pragma once

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#error "the sanitizer runtime owns operator new: build this test without sanitizers"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#error "the sanitizer runtime owns operator new: build this test without sanitizers"
#endif
#endif

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <malloc.h>
#include <new>
#include <thread>

namespace sigs::testing::alloc_hooks {

// The thread_local ones are constinit and trivial: safe to touch from inside operator new.
inline std::atomic<long> fail_at{0};          // 0: off
inline std::atomic<long> fail_aligned_at{0};  // 0: off
inline constinit thread_local bool fail_next_here = false;
inline constinit thread_local bool park_in_next_new = false;
inline std::atomic<bool> parked_in_new{false};
inline std::atomic<bool> unpark_new{false};
inline std::atomic<int> failed{0};
inline std::atomic<int> failed_next_here{0};
inline std::atomic<int> failed_aligned{0};
inline constinit thread_local long allocations_here = 0;
inline constinit thread_local long aligned_here = 0;
inline constinit thread_local bool count_bytes_here = false;
inline constinit thread_local long long live_bytes_here = 0;

namespace detail {

/// What the allocator holds for block `p`: its usable size and the chunk header.
inline long long held(void* p) noexcept {
  return static_cast<long long>(malloc_usable_size(p)) + static_cast<long long>(sizeof(std::size_t));
}

inline void* counted(void* p) noexcept {
  if (count_bytes_here && p != nullptr) live_bytes_here += held(p);
  return p;
}

inline void release(void* p) noexcept {
  if (count_bytes_here && p != nullptr) live_bytes_here -= held(p);
  std::free(p);
}

inline bool countdown(std::atomic<long>& at) { return at.load(std::memory_order_relaxed) > 0 && at.fetch_sub(1) == 1; }

inline void* allocate(std::size_t n) {
  ++allocations_here;
  if (park_in_next_new) {
    park_in_next_new = false;
    parked_in_new = true;
    while (!unpark_new.load()) std::this_thread::yield();
  }
  if (fail_next_here) {
    fail_next_here = false;
    failed_next_here.fetch_add(1);
    failed.fetch_add(1);
    throw std::bad_alloc();
  }
  if (countdown(fail_at)) {
    failed.fetch_add(1);
    throw std::bad_alloc();
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return counted(p);
  throw std::bad_alloc();
}

inline void* allocate_aligned(std::size_t n, std::align_val_t align) {
  ++aligned_here;
  if (countdown(fail_aligned_at)) {
    failed_aligned.fetch_add(1);
    throw std::bad_alloc();
  }
  std::size_t a = static_cast<std::size_t>(align);
  if (a < sizeof(void*)) a = sizeof(void*);
  void* p = nullptr;
  if (::posix_memalign(&p, a, n == 0 ? 1 : n) == 0) return counted(p);
  throw std::bad_alloc();
}

template <class F>
void* or_null(F&& f) noexcept {
  try {
    return f();
  } catch (...) {
    return nullptr;
  }
}

}  // namespace detail
}  // namespace sigs::testing::alloc_hooks

// The replacements: not inline ([replacement.functions]), hence one translation unit.
// NOLINTBEGIN(misc-definitions-in-headers): this header is included by one translation unit per binary
void* operator new(std::size_t n) { return sigs::testing::alloc_hooks::detail::allocate(n); }
void* operator new[](std::size_t n) { return sigs::testing::alloc_hooks::detail::allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return sigs::testing::alloc_hooks::detail::or_null([n] { return sigs::testing::alloc_hooks::detail::allocate(n); });
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return sigs::testing::alloc_hooks::detail::or_null([n] { return sigs::testing::alloc_hooks::detail::allocate(n); });
}
void* operator new(std::size_t n, std::align_val_t a) {
  return sigs::testing::alloc_hooks::detail::allocate_aligned(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return sigs::testing::alloc_hooks::detail::allocate_aligned(n, a);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return sigs::testing::alloc_hooks::detail::or_null(
      [n, a] { return sigs::testing::alloc_hooks::detail::allocate_aligned(n, a); });
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return sigs::testing::alloc_hooks::detail::or_null(
      [n, a] { return sigs::testing::alloc_hooks::detail::allocate_aligned(n, a); });
}
void operator delete(void* p) noexcept { sigs::testing::alloc_hooks::detail::release(p); }
void operator delete[](void* p) noexcept { sigs::testing::alloc_hooks::detail::release(p); }
void operator delete(void* p, std::size_t) noexcept { sigs::testing::alloc_hooks::detail::release(p); }
void operator delete[](void* p, std::size_t) noexcept { sigs::testing::alloc_hooks::detail::release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { sigs::testing::alloc_hooks::detail::release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { sigs::testing::alloc_hooks::detail::release(p); }
void operator delete(void* p, std::align_val_t) noexcept { sigs::testing::alloc_hooks::detail::release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { sigs::testing::alloc_hooks::detail::release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  sigs::testing::alloc_hooks::detail::release(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  sigs::testing::alloc_hooks::detail::release(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  sigs::testing::alloc_hooks::detail::release(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  sigs::testing::alloc_hooks::detail::release(p);
}
// NOLINTEND(misc-definitions-in-headers)
