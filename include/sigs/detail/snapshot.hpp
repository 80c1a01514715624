// sigs/detail/snapshot.hpp — an immutable snapshot of a signal's listeners: a header on
// its own cache line, followed by `size` entry pointers in registration order.
//
// Writers build a new snapshot for every change and publish it (signal_core.hpp, CORE-P1);
// nobody writes a published snapshot's contents again. An emission walks the one it
// loaded under a hazard pointer. The header also carries the error handler in force when
// it was built, so an emission reports to the handler of its own snapshot.
//
// Key index. A snapshot with keyed listeners also carries an open-addressing table of its
// keyed entries, after the entry pointers, at most half full, filled by the writer before
// publication and read-only afterwards: has_key, metadata(key), remove_listener(key) and
// the duplicate-key check of add find a key in O(1) expected time instead of scanning.
// All the entries of one snapshot have distinct keys: a snapshot is built from the alive
// entries only, and no two alive entries share a key.
#pragma once

#include <bit>
#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <string_view>

#include <sigs/detail/atomics.hpp>
#include <sigs/detail/listener_entry.hpp>
#include <sigs/detail/modes.hpp>
#include <sigs/detail/port.hpp>
#include <sigs/listener.hpp>

namespace sigs::detail {

/// What a snapshot of a sync signal carries for pins: nothing.
template <class A, snapshot_pins Pins>
struct pin_counts {};

/// The async emissions pinning a snapshot (signal_core::hold()): pins - unpins. Two counts
/// on two lines: emitters add pins and workers add unpins, so neither side's RMW takes a
/// line the other side writes, and neither writes the header, which both read.
template <class A>
struct pin_counts<A, snapshot_pins::counted> {
  pin_counts() {
    pins.store(0, std::memory_order_relaxed);    // published by CORE-P1
    unpins.store(0, std::memory_order_relaxed);  // published by CORE-P1
  }
  alignas(cache_line) typename A::template atomic<std::size_t> pins;
  alignas(cache_line) typename A::template atomic<std::size_t> unpins;
};

template <class A, class T, snapshot_pins Pins = snapshot_pins::none>
struct alignas(cache_line) snapshot {
  using entry_t = entry<A, T>;
  using error_handler = std::function<void(const listener_error&)>;

  snapshot() = default;
  // A var, not a plain member, so that the model checker sees every read of the header:
  // a worker's read not ordered before the snapshot's free (CORE-K3/K4) is a data race
  // on it there. In production it is a plain std::size_t.
  typename A::template var<std::size_t> size_;
  std::shared_ptr<const error_handler> handler;
  snapshot* garbage_next = nullptr;                  // links freed snapshots awaiting deallocation (garbage)
  void* block = nullptr;                             // the allocation it was placed in (make)
  std::size_t capacity = 0;                          // entry slots allocated; size() <= capacity
  std::size_t index_mask = 0;                        // key index slots - 1; 0: no index (no keyed entry)
  [[no_unique_address]] pin_counts<A, Pins> pinned;  // async signals only

  // The destructor's store is what the model checker sees as the free (see size_).
  ~snapshot() { size_.store(0); }
  snapshot(const snapshot&) = delete;
  snapshot& operator=(const snapshot&) = delete;

  [[nodiscard]] std::size_t size() const noexcept { return size_.load(); }
  entry_t** items() noexcept { return reinterpret_cast<entry_t**>(this + 1); }
  entry_t* const* begin() noexcept { return items(); }
  entry_t* const* end() noexcept { return items() + size(); }

  /// The bytes its allocation takes (make()), for the writer's reclamation budget.
  [[nodiscard]] std::size_t footprint() const noexcept {
    const std::size_t index_slots = index_mask == 0 ? 0 : index_mask + 1;
    return sizeof(snapshot) + (capacity + index_slots) * sizeof(entry_t*) + cache_line - 1;
  }

  /// The key index's slots (index_mask + 1 of them), after the entry slots.
  entry_t** index() noexcept { return items() + capacity; }

  /// Adds a keyed entry to the index. Writer only, before publication.
  void index_insert(entry_t* e) noexcept {
    std::size_t i = e->details_if_any()->key_hash & index_mask;  // a keyed entry has its details
    while (index()[i] != nullptr) i = (i + 1) & index_mask;
    index()[i] = e;
  }

  /// The entry of this snapshot whose key is `key` (with hash `h`), alive or not, or null.
  entry_t* find_key(std::string_view key, std::size_t h) noexcept {
    if (index_mask == 0) return nullptr;
    for (std::size_t i = h & index_mask;; i = (i + 1) & index_mask) {
      entry_t* e = index()[i];
      if (e == nullptr) return nullptr;
      const auto* d = e->details_if_any();  // a keyed entry has its details
      if (d->key_hash == h && d->key == key) return e;
    }
  }

  /// A snapshot with room for `n` entries (its size is `n` until the writer sets it) and,
  /// when `keyed` > 0, an empty key index for up to `keyed` of them, on a cache-line
  /// boundary placed by hand in an ordinary allocation: the aligned operator new would
  /// hide snapshots from Relacy's memory checks (models/). Throws std::bad_alloc.
  static snapshot* make(std::size_t n, std::size_t keyed, const std::shared_ptr<const error_handler>& handler) {
    const std::size_t index_slots = keyed == 0 ? 0 : std::bit_ceil(2 * keyed);
    const std::size_t bytes = sizeof(snapshot) + (n + index_slots) * sizeof(entry_t*);
    std::size_t space = bytes + cache_line - 1;
    void* block = ::operator new(space);
    void* mem = block;
    std::align(cache_line, bytes, mem, space);  // cannot fail: the block has cache_line - 1 spare bytes
    auto* s = new (mem) snapshot;
    s->block = block;
    s->size_.store(n);
    s->capacity = n;
    s->index_mask = index_slots == 0 ? 0 : index_slots - 1;
    for (std::size_t i = 0; i < index_slots; ++i) s->index()[i] = nullptr;
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
