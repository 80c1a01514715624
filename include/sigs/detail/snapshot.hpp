// sigs/detail/snapshot.hpp — an immutable snapshot of a signal's listeners: a header on
// its own cache line, followed by `size` entry pointers in registration order.
//
// Writers build a new snapshot for every change and publish it (signal_core.hpp, CORE-P1);
// nobody writes a published snapshot's contents again. An emission walks the one it
// loaded under a hazard pointer. The header also carries the error handler in force when
// it was built, so an emission reports to the handler of its own snapshot.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <new>

#include <sigs/detail/atomics.hpp>
#include <sigs/detail/listener_entry.hpp>
#include <sigs/detail/port.hpp>
#include <sigs/listener.hpp>

namespace sigs::detail {

template <class A, class T>
struct snapshot {
  using entry_t = entry<A, T>;
  using error_handler = std::function<void(const listener_error&)>;

  snapshot() {
    pins.store(0, std::memory_order_relaxed);    // published by CORE-P1
    unpins.store(0, std::memory_order_relaxed);  // published by CORE-P1
  }
  // A var, not a plain member, so that the model checker sees every read of the header:
  // a worker's read not ordered before the snapshot's free (CORE-K3/K4) is a data race
  // on it there. In production it is a plain std::size_t.
  typename A::template var<std::size_t> size_;
  std::shared_ptr<const error_handler> handler;
  snapshot* garbage_next = nullptr;  // links freed snapshots awaiting deallocation (garbage)
  void* block = nullptr;             // the allocation it was placed in (make)
  // The async emissions pinning it (signal_core::hold()): pins - unpins. Two counts on two
  // lines: emitters add pins and workers add unpins, so neither side's RMW takes a line the
  // other side writes, and neither writes the header, which both read.
  alignas(cache_line) typename A::template atomic<std::size_t> pins;
  alignas(cache_line) typename A::template atomic<std::size_t> unpins;

  // The destructor's store is what the model checker sees as the free (see size_).
  ~snapshot() { size_.store(0); }
  snapshot(const snapshot&) = delete;
  snapshot& operator=(const snapshot&) = delete;

  [[nodiscard]] std::size_t size() const noexcept { return size_.load(); }
  entry_t** items() noexcept { return reinterpret_cast<entry_t**>(this + 1); }
  entry_t* const* begin() noexcept { return items(); }
  entry_t* const* end() noexcept { return items() + size(); }

  /// A snapshot with room for `n` entries (its size is `n` until the writer sets it), on a
  /// cache-line boundary placed by hand in an ordinary allocation: the aligned operator
  /// new would hide snapshots from Relacy's memory checks (models/). Throws
  /// std::bad_alloc.
  static snapshot* make(std::size_t n, const std::shared_ptr<const error_handler>& handler) {
    const std::size_t bytes = sizeof(snapshot) + n * sizeof(entry_t*);
    std::size_t space = bytes + cache_line - 1;
    void* block = ::operator new(space);
    void* mem = block;
    std::align(cache_line, bytes, mem, space);  // cannot fail: the block has cache_line - 1 spare bytes
    auto* s = new (mem) snapshot;
    s->block = block;
    s->size_.store(n);
    s->handler = handler;
    return s;
  }

  /// Destroys a snapshot from make() (not the entries it points to).
  static void destroy(snapshot* s) noexcept {
    void* block = s->block;
    s->~snapshot();
    ::operator delete(block);
  }
};

}  // namespace sigs::detail
