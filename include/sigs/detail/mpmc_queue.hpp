// sigs/detail/mpmc_queue.hpp — a bounded multi-producer multi-consumer queue.
//
// The worker pool's run queue. It is a ring of cells in the style of Dmitry Vyukov's
// bounded MPMC queue: every cell carries a sequence number that says whose turn it is.
// For the cell at ring position `pos & mask`:
//
//   seq == pos                 empty, waiting for the producer that claims position pos;
//   seq == pos + 1             full, waiting for the consumer that claims position pos;
//   seq == pos + capacity      empty again, waiting for the producer of the next lap.
//
// A producer claims a position with one CAS on `enqueue_pos_`, writes the element and
// hands the cell over with a release store of its sequence; a consumer claims with one
// CAS on `dequeue_pos_`, moves the element out and hands the cell back to the next lap.
// Producers and consumers only meet on a cell, never on each other's index, and nothing
// blocks: try_push / try_pop fail at once when the queue is full / empty.
//
//   sigs::detail::mpmc_queue<int> q(8);            // capacity 8
//   int x = 42; if (q.try_push(x) == sigs::detail::push_result::ok) { /* x moved from */ }
//   int y; if (q.try_pop(y)) { /* y == 42 */ }
//
// Positions are 64-bit (position_type) whatever the width of std::size_t: the closed bit
// below is their top bit, which a 32-bit counter would reach after 2^31 pushes (minutes of
// a busy pool), and a 64-bit one reaches only after centuries. Cells are indexed by
// `pos & mask_`, so only the index, never the position, is narrowed to std::size_t.
//
// Closing. close() sets the top bit of `enqueue_pos_`. Since claiming is a CAS on that
// same word, every push is linearised against the close: it either claimed its position
// before (and will be popped) or fails with push_result::closed and keeps its element.
// drained() then says when every claimed position has been claimed by a consumer, which
// is how the pool knows that shutdown lost nothing.
//
// Progress and caveats (inherent to the design): the queue is lock-free, not wait-free;
// a producer pre-empted between its claim and its publish makes try_pop report "empty"
// for that cell (and the cells behind it) until it resumes, and symmetrically for a slow
// consumer and try_push. Callers that sleep on "empty" must therefore be woken by the
// producer *after* its publish — the pool does exactly that.
//
// The labels used in the memory-order comments (every label: docs/verification.md):
//   try_push: c->seq.load(acquire)                      pairs with Q-4
//   try_push: c->seq.store(pos + 1, release)            pairs with Q-3
//   try_pop:  c->seq.load(acquire)                      pairs with Q-2
//   try_pop:  c->seq.store(pos + mask_ + 1, release)    pairs with Q-1
// The claim CASes and close() are relaxed: they need only atomicity on one word.
//
// Written against an atomics policy `A` (sigs/detail/atomics.hpp) so that models/ can
// instantiate this very header with Relacy's atomics. It uses only
//   A::atomic<std::uint64_t>: load, store, compare_exchange_weak, fetch_or (explicit orders);
//   A::var<std::uint64_t>:    load, store (a shadow of each cell's payload, see cell::turn).
// No spin or wait loop lives here, so A::yield() is not needed.
#pragma once

#include <atomic>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <sigs/detail/atomics.hpp>
#include <sigs/detail/port.hpp>

namespace sigs::detail {

/// What try_push did with the element.
enum class push_result : unsigned char {
  ok,      ///< enqueued; the caller's element was moved from
  full,    ///< no free cell right now; the element is untouched
  closed,  ///< close() was called; the element is untouched
};

template <class T, class A = std_atomics>
class mpmc_queue {
 public:
  /// A position in the ring: how many pushes (or pops) came before. 64-bit on every target,
  /// so that the closed bit (its top bit) is never reached by counting.
  using position_type = std::uint64_t;

 private:
  // The production policy must not fall back to a lock for the 64-bit positions (as
  // std::atomic would on a 32-bit target without a double-word CAS): the queue promises
  // lock-free pushes and pops.
  static_assert(std::atomic<position_type>::is_always_lock_free,
                "sigs::detail::mpmc_queue needs lock-free 64-bit atomics on this target "
                "(its positions are 64-bit so that the closed bit is never reached)");
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "a claimed cell must be filled: T's move constructor may not throw");
  static_assert(std::is_nothrow_move_assignable_v<T>, "try_pop move-assigns into the caller's T");
  static_assert(std::is_nothrow_destructible_v<T>);

  template <class U>
  using atomic = typename A::template atomic<U>;
  template <class U>
  using var = typename A::template var<U>;

  static constexpr position_type closed_bit = position_type(1) << (std::numeric_limits<position_type>::digits - 1);

  struct cell {
    atomic<position_type> seq;
    // Shadow of the payload for the model checker: the producer writes its position here
    // right after constructing the element, the consumer reads it right before moving it
    // out. Relacy cannot see the raw bytes of `storage`, but it sees this plain variable,
    // so a missing happens-before on the payload shows up as a DATA RACE on `turn`.
    var<position_type> turn;
    alignas(T) unsigned char storage[sizeof(T)];  // NOLINT(bugprone-sizeof-expression): T may be a pointer

    T* element() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
  };

 public:
  /// The largest capacity the constructor accepts.
  static constexpr std::size_t max_capacity =
      std::bit_floor(static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) / sizeof(cell));

  /// Makes an empty queue holding at least `capacity` elements: the capacity is rounded up
  /// to a power of two, and to at least 2 (the sequence scheme needs two cells to tell a
  /// full cell from an empty one), so 0 and 1 give 2. Throws std::length_error above
  /// max_capacity, std::bad_alloc when the ring cannot be allocated.
  explicit mpmc_queue(std::size_t capacity) : cells_(make_cells(capacity)), mask_(rounded(capacity) - 1) {
    for (std::size_t i = 0; i <= mask_; ++i) {
      // relaxed: the queue is handed to other threads by something that synchronises
      // (thread creation, a mutex), which publishes these initial values.
      cells_[i].seq.store(position_type{i}, std::memory_order_relaxed);
    }
    enqueue_pos_.store(0, std::memory_order_relaxed);  // relaxed: as above
    dequeue_pos_.store(0, std::memory_order_relaxed);  // relaxed: as above
  }

  /// Destroys the elements still queued. No other thread may use the queue any more.
  ~mpmc_queue() {
    // relaxed: the caller guarantees exclusive access, which already synchronised.
    const position_type end = enqueue_pos_.load(std::memory_order_relaxed) & ~closed_bit;
    for (position_type pos = dequeue_pos_.load(std::memory_order_relaxed); pos != end; ++pos) {
      cell& c = at(pos);
      if (c.seq.load(std::memory_order_relaxed) == pos + 1) c.element()->~T();  // relaxed: as above
    }
  }

  mpmc_queue(const mpmc_queue&) = delete;
  mpmc_queue& operator=(const mpmc_queue&) = delete;

  /// Enqueues `value` by moving from it, unless the queue is full or closed, in which case
  /// `value` is left untouched and stays with the caller. Lock-free; never blocks.
  push_result try_push(T& value) noexcept {
    // relaxed: only a starting guess; the CAS below decides, and the cell's sequence
    // carries the synchronisation.
    position_type pos = enqueue_pos_.load(std::memory_order_relaxed);
    cell* c;
    for (;;) {
      if (pos & closed_bit) return push_result::closed;
      c = &at(pos);
      // acquire, pairs with release: the consumer of the previous lap has
      //       finished moving out of and destroying this cell's element before we construct
      //       ours.
      const position_type seq = c->seq.load(std::memory_order_acquire);
      const auto dif = static_cast<std::int64_t>(seq - pos);
      if (dif == 0) {
        // relaxed: the CAS only arbitrates which producer owns position `pos`; ownership
        // needs atomicity, not ordering. A set closed_bit makes it fail (value differs).
        if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed, std::memory_order_relaxed)) {
          break;
        }
      } else if (dif < 0) {
        return push_result::full;  // the cell still holds last lap's element
      } else {
        // relaxed: another producer claimed `pos` already; reload the guess.
        pos = enqueue_pos_.load(std::memory_order_relaxed);
      }
    }
    ::new (static_cast<void*>(c->storage)) T(std::move(value));
    c->turn.store(pos);
    // release, pairs with acquire: the element and `turn` are visible to the
    //       consumer that sees the cell as full.
    c->seq.store(pos + 1, std::memory_order_release);
    return push_result::ok;
  }

  /// Moves the oldest element into `out` and returns true, or returns false (leaving `out`
  /// untouched) when no element is ready. Lock-free; never blocks. Works after close().
  bool try_pop(T& out) noexcept {
    // relaxed: a starting guess, as in try_push; the cell's sequence synchronises.
    position_type pos = dequeue_pos_.load(std::memory_order_relaxed);
    cell* c;
    for (;;) {
      c = &at(pos);
      // acquire, pairs with release: the producer's element and `turn` are
      //       visible.
      const position_type seq = c->seq.load(std::memory_order_acquire);
      const auto dif = static_cast<std::int64_t>(seq - (pos + 1));
      if (dif == 0) {
        // relaxed: the CAS only arbitrates which consumer owns position `pos`.
        if (dequeue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed, std::memory_order_relaxed)) {
          break;
        }
      } else if (dif < 0) {
        return false;  // not yet published (empty, or its producer is mid-push)
      } else {
        // relaxed: another consumer claimed `pos` already; reload the guess.
        pos = dequeue_pos_.load(std::memory_order_relaxed);
      }
    }
    assert(c->turn.load() == pos);
    T* elem = c->element();
    out = std::move(*elem);
    elem->~T();
    // release, pairs with acquire: our move-out and destruction happen before
    //       the next lap's producer reuses the storage.
    c->seq.store(pos + mask_ + 1, std::memory_order_release);
    return true;
  }

  /// Makes every later try_push fail with push_result::closed. Idempotent; pops go on.
  void close() noexcept {
    // relaxed: an RMW on enqueue_pos_ is ordered against every claim CAS by the
    // modification order of that one word, which is all the linearisation needs.
    enqueue_pos_.fetch_or(closed_bit, std::memory_order_relaxed);
  }

  /// True once close() has been called (by this thread, or visibly to it).
  [[nodiscard]] bool closed() const noexcept {
    return (enqueue_pos_.load(std::memory_order_relaxed) & closed_bit) != 0;  // relaxed: a status read
  }

  /// True when the queue is closed and every position ever claimed by a producer has been
  /// claimed by a consumer: nothing is queued and nothing can be queued any more.
  /// A snapshot: callers that wait for it must be re-checked by whoever changes it.
  [[nodiscard]] bool drained() const noexcept {
    // relaxed: status reads; the pool orders them with its mutex (see pool_core.hpp).
    const position_type e = enqueue_pos_.load(std::memory_order_relaxed);
    return (e & closed_bit) != 0 && dequeue_pos_.load(std::memory_order_relaxed) == (e & ~closed_bit);
  }

  /// The number of cells (a power of two, at least 2).
  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }

  /// Elements queued or being pushed/popped right now; approximate under concurrency,
  /// always within [0, capacity()].
  [[nodiscard]] std::size_t size_approx() const noexcept {
    // relaxed: statistics; the two loads are not a consistent snapshot, hence the clamp.
    const position_type d = dequeue_pos_.load(std::memory_order_relaxed);
    const position_type e = enqueue_pos_.load(std::memory_order_relaxed) & ~closed_bit;
    if (e <= d) return 0;
    return e - d < capacity() ? static_cast<std::size_t>(e - d) : capacity();
  }

  /// Successful pushes so far (positions claimed by producers).
  [[nodiscard]] std::uint64_t pushed() const noexcept {
    return enqueue_pos_.load(std::memory_order_relaxed) & ~closed_bit;  // relaxed: statistics
  }

  /// Successful pops so far (positions claimed by consumers).
  [[nodiscard]] std::uint64_t popped() const noexcept {
    return dequeue_pos_.load(std::memory_order_relaxed);  // relaxed: statistics
  }

 private:
  static std::size_t rounded(std::size_t requested) {
    if (requested > max_capacity) throw std::length_error("sigs::detail::mpmc_queue: capacity too large");
    return requested < 2 ? 2 : std::bit_ceil(requested);
  }
  static std::unique_ptr<cell[]> make_cells(std::size_t requested) {
    return std::unique_ptr<cell[]>(new cell[rounded(requested)]);
  }

  /// The cell of ring position `pos`: only the index is narrowed to std::size_t.
  cell& at(position_type pos) const noexcept { return cells_[static_cast<std::size_t>(pos & mask_)]; }

  // Hot indices live on their own cache lines (detail::cache_line, 64 bytes).
  // Read-only after construction: its own line, so index traffic never invalidates it.
  alignas(cache_line) const std::unique_ptr<cell[]> cells_;
  const std::size_t mask_;
  // Written by every producer / every consumer respectively: one line each.
  alignas(cache_line) atomic<position_type> enqueue_pos_;
  alignas(cache_line) atomic<position_type> dequeue_pos_;
};

}  // namespace sigs::detail
