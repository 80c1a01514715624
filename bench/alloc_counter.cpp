// bench/alloc_counter.cpp — counting replacements of the global allocation functions.
//
// All replaceable forms are covered (plain, array, nothrow, aligned, sized), so that no
// allocation made by a library under test escapes the count. Memory comes from malloc and
// posix_memalign; every delete form goes to free, which accepts both.
#include "alloc_counter.hpp"

#include <malloc.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace {

// constinit and trivial: no dynamic TLS initialisation, so this is safe to touch from inside
// operator new on any thread, at any time, and costs one fs-relative add.
constinit thread_local std::uint64_t t_allocations = 0;
constinit thread_local bool t_count_bytes = false;
constinit thread_local std::int64_t t_live_bytes = 0;

// What the allocator holds for a block: its usable size and glibc's 8-byte chunk header.
std::int64_t held(void* p) noexcept { return static_cast<std::int64_t>(malloc_usable_size(p) + sizeof(std::size_t)); }

void* note(void* p) noexcept {
  if (t_count_bytes && p) t_live_bytes += held(p);
  return p;
}

void release(void* p) noexcept {
  if (t_count_bytes && p) t_live_bytes -= held(p);
  std::free(p);
}

void* allocate(std::size_t size) noexcept {
  ++t_allocations;
  return note(std::malloc(size == 0 ? 1 : size));
}

void* allocate_aligned(std::size_t size, std::align_val_t align) noexcept {
  ++t_allocations;
  std::size_t a = static_cast<std::size_t>(align);
  if (a < sizeof(void*)) a = sizeof(void*);
  void* p = nullptr;
  if (posix_memalign(&p, a, size == 0 ? 1 : size) != 0) return nullptr;
  return note(p);
}

// The throwing forms retry through the new-handler, as [new.delete.single] requires.
void* allocate_or_throw(std::size_t size) {
  for (;;) {
    if (void* p = allocate(size)) return p;
    std::new_handler h = std::get_new_handler();
    if (h == nullptr) throw std::bad_alloc();
    h();
  }
}

void* allocate_aligned_or_throw(std::size_t size, std::align_val_t align) {
  for (;;) {
    if (void* p = allocate_aligned(size, align)) return p;
    std::new_handler h = std::get_new_handler();
    if (h == nullptr) throw std::bad_alloc();
    h();
  }
}

}  // namespace

namespace sigs_bench {
std::uint64_t thread_allocations() noexcept { return t_allocations; }
void count_live_bytes(bool on) noexcept {
  t_count_bytes = on;
  t_live_bytes = 0;
}
std::int64_t live_bytes() noexcept { return t_live_bytes; }
}  // namespace sigs_bench

// Plain and array.
void* operator new(std::size_t n) { return allocate_or_throw(n); }
void* operator new[](std::size_t n) { return allocate_or_throw(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return allocate(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return allocate(n); }

// Over-aligned.
void* operator new(std::size_t n, std::align_val_t a) { return allocate_aligned_or_throw(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return allocate_aligned_or_throw(n, a); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return allocate_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate_aligned(n, a);
}

// Every delete form frees (and keeps the byte balance); free() needs no size or alignment.
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete(void* p, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
