// sigs/detail/hazard.hpp — the hazard-pointer domain that protects signal snapshots.
//
// What a hazard pointer is, and why sigs uses them
// ------------------------------------------------
// An emitting thread reads the current snapshot pointer of a signal and then walks the
// snapshot. A writer that replaces the snapshot must not free the old one while a reader
// is still walking it. Before walking, the reader *publishes* the pointer in a slot of its
// own thread record (a hazard pointer) and re-reads the source; a writer frees a retired
// snapshot only once no slot holds it.
//
// Hazard pointers rather than epochs or RCU: listeners are user code and may block. With
// epochs one slow listener stalls reclamation for the whole process; with hazard pointers
// the garbage stays bounded by (threads x nesting depth) snapshots. The read path writes
// only the calling thread's own record, so concurrent emitters do not contend.
//
// Nesting. A listener may emit again, so each record holds a small stack of `Slots` slots.
// Past that depth a reader falls back to a domain-wide count of "overflow readers"; while
// that count is non-zero, scans free nothing. That path is slower and delays reclamation,
// but it is always correct and has no depth limit.
//
// The protocol, with the numbers used in the memory-order comments:
//   (P1) writer: source.store(new, seq_cst)        publish the replacement
//   (S1) writer: slot.load(seq_cst)                scan, after P1
//   (S2) writer: overflow_.load(seq_cst)           scan, after P1
//   (H1) reader: slot.exchange(p, seq_cst)         publish the hazard
//   (H2) reader: source.load(seq_cst)              validate, after H1
//   (H3) reader: slot.store(nullptr, release)      done with p
//   (O1) reader: overflow_.fetch_add(1, seq_cst)   fallback publish
//   (O2) reader: overflow_.fetch_sub(1, release)   fallback done
// P1 and H2 are the signal's; this header provides H1-H3, O1-O2, S1-S2. All four of
// P1, S1, H1, H2 are seq_cst, so in their single total order either H1 precedes S1 (the
// scan sees the hazard and keeps p) or S1 precedes H1, hence P1 precedes H2 and the reader
// sees the new pointer and retries. The fallback is the same argument with O1 for H1 and
// S2 for S1. H3/O2 (release) are read by S1/S2 (acquire, as part of seq_cst), so every
// access the reader made to p happens-before the writer frees it.
//
// The record list is part of the argument: a scan sees a hazard only if it walks the
// record holding it.
//   (R3) thread: head_.compare_exchange(r, seq_cst)      push a new record, before its H1
//   (R5) writer: head_.load(seq_cst)                     scan's list walk, after P1
// When H2 missed P1, R3 < H1 < H2 < P1 < R5 in the total order, so R5 returns a list that
// holds the record. With release/acquire only, R5 may read an older head and S1 skips the
// record: found by the models (docs/models.md), kept by the RECORD_LIST_ACQUIRE mutant.
//
// Ordering costs: H1 is an exchange, not a store plus atomic_thread_fence. Both compilers
// emit `xchg` for it; clang 14 turns a seq_cst fence into `mfence`, about 25 ns here.
//
// The asymmetric fence. An `xchg` still costs 7-10 ns per emit on this hardware. When the
// kernel offers membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) (the policy's
// asymmetric_fence_available()), the domain moves the whole cost to writers:
//   (H1a) reader: slot.store(p, relaxed); reader_barrier()  [compiler barrier only]
//   (H2a) reader: source.load(acquire)
//   (W1)  writer: writer_barrier()                          [membarrier, after P1, before S1]
// membarrier runs a full barrier on every CPU running one of our threads. For each reader,
// either its H1a store precedes that barrier, and S1 (after W1) sees it; or its H2a load
// follows the barrier, which follows P1 on the writer, so H2a sees the new pointer and the
// reader retries. The syscall costs microseconds, so scans are batched (scan_batch()).
// The mode is chosen once, when the domain is built, and never changes: a reader and a
// writer always agree on it. The models check both paths: Relacy's system-wide fence
// stands for membarrier in the `_asym` scenarios (docs/models.md).
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <vector>

#include <sigs/detail/atomics.hpp>
#include <sigs/detail/port.hpp>

namespace sigs::detail {

template <class A, std::size_t Slots = 8>
class hazard_domain {
 public:
  static constexpr std::size_t slots_per_record = Slots;

  /// Per-emission bookkeeping the owning thread keeps on its own stack: which listener it
  /// is running, so that remove_listener_and_wait can refuse to wait for itself.
  struct frame {
    frame* prev = nullptr;
    const void* current = nullptr;
  };

  /// One thread's hazard slots. Records are never freed while the domain lives; a thread
  /// that exits hands its record back for reuse.
  struct alignas(cache_line) record {
    record() {
      for (auto& s : slot) s.store(nullptr, std::memory_order_relaxed);  // not yet shared
      in_use.store(false, std::memory_order_relaxed);                  // not yet shared
    }

    typename A::template atomic<const void*> slot[Slots];
    typename A::template atomic<bool> in_use;
    record* next = nullptr;  // written once before the record is published in the list

    // Owner-only state: only the thread that holds `in_use` touches these. Ownership moves
    // between threads through the in_use release (R2) / acquire CAS (R1).
    std::size_t depth = 0;     // slots in use, a stack
    std::size_t overflow = 0;  // nested levels protected by the domain's overflow count
    frame* frames = nullptr;   // innermost emission running on this thread
  };

  /// `allow_asymmetric`: use the asymmetric fence when the policy offers it (see above).
  explicit hazard_domain(bool allow_asymmetric = true) : asymmetric_(allow_asymmetric && policy_asymmetric()) {
    head_.store(nullptr, std::memory_order_relaxed);      // not yet shared
    overflow_.store(0, std::memory_order_relaxed);        // not yet shared
  }

  /// True when this domain uses the asymmetric fence.
  [[nodiscard]] bool asymmetric() const noexcept { return asymmetric_; }

  /// How many retired objects a writer should gather before scanning: 1 with the seq_cst
  /// publish; more with the asymmetric fence, whose writer barrier is a syscall.
  [[nodiscard]] std::size_t scan_batch() const noexcept { return asymmetric_ ? 32 : 1; }
  hazard_domain(const hazard_domain&) = delete;
  hazard_domain& operator=(const hazard_domain&) = delete;

  ~hazard_domain() {
    record* r = head_.load(std::memory_order_acquire);  // (R4) pairs with the list push (R3)
    while (r) {
      record* next = r->next;
      delete r;
      r = next;
    }
  }

  /// Takes a free record, or allocates one. The caller owns it until release_record().
  record& acquire_record() {
    for (record* r = head_.load(std::memory_order_acquire); r; r = r->next) {  // (R4) pairs with (R3)
      bool expected = false;
      // (R1) acquire: pairs with the previous owner's release (R2), so its owner-only
      // writes happen-before ours.
      if (!r->in_use.load(std::memory_order_relaxed) &&  // relaxed: a hint, the CAS decides
          r->in_use.compare_exchange_strong(expected, true, std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
        return *r;
      }
    }
    record* r = new record;
    r->in_use.store(true, std::memory_order_relaxed);  // not yet shared
    record* h = head_.load(std::memory_order_relaxed);  // relaxed: the CAS below re-checks
    do {
      r->next = h;
      // (R3) seq_cst: publishes the record to list walkers (R4), and precedes its hazards
      // (H1) in the total order, which the scan's list load (R5) needs; see collect().
    } while (!head_.compare_exchange_weak(h, r, std::memory_order_seq_cst, std::memory_order_relaxed));
    return *r;
  }

  /// Hands a record back. Its slots must be empty and no frame may be open.
  void release_record(record& r) noexcept {
    r.depth = 0;
    r.overflow = 0;
    r.frames = nullptr;
    r.in_use.store(false, std::memory_order_release);  // (R2) pairs with the next owner's CAS (R1)
  }

  /// RAII protection of one pointer loaded from an atomic source. Nesting follows the
  /// record's slot stack; guards on one record must be destroyed in reverse order.
  class guard {
   public:
    guard(hazard_domain& d, record& r) noexcept : domain_(d), rec_(r) {}
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
    ~guard() { clear(); }

    /// Loads `src` and returns a pointer that stays valid until this guard is cleared.
    template <class T, class Atomic>
    T* protect(const Atomic& src) noexcept {
      clear();
      if (SIGS_LIKELY(rec_.depth < Slots)) {
        slot_ = &rec_.slot[rec_.depth];
        ++rec_.depth;
        // relaxed: only a first guess; H2 validates it.
        T* p = src.load(std::memory_order_relaxed);
        if (domain_.asymmetric_) {
          if constexpr (has_asymmetric) {
            for (;;) {
              slot_->store(p, std::memory_order_relaxed);  // (H1a) ordered by W1; see header
              A::reader_barrier();
              T* q = src.load(std::memory_order_acquire);  // (H2a) pairs with P1 (release part)
              if (SIGS_LIKELY(q == p)) return p;
              p = q;
            }
          }
        }
        for (;;) {
          slot_->exchange(p, std::memory_order_seq_cst);        // (H1) see header; pairs with S1
          T* q = src.load(std::memory_order_seq_cst);           // (H2) pairs with P1
          if (SIGS_LIKELY(q == p)) return p;
          p = q;
        }
      }
      overflowed_ = true;
      ++rec_.overflow;
      domain_.overflow_.fetch_add(1, std::memory_order_seq_cst);  // (O1) pairs with S2
      return src.load(std::memory_order_seq_cst);                 // (H2) pairs with P1
    }

    /// Publishes `p` without validating it against a source: for a pointer the caller
    /// keeps alive by other means, published only so that scans see it in use (H1 / O1).
    void publish(const void* p) noexcept {
      clear();
      if (SIGS_LIKELY(rec_.depth < Slots)) {
        slot_ = &rec_.slot[rec_.depth];
        ++rec_.depth;
        if (domain_.asymmetric_) {
          if constexpr (has_asymmetric) {
            slot_->store(p, std::memory_order_relaxed);  // (H1a) ordered by W1
            A::reader_barrier();
            return;
          }
        }
        slot_->exchange(p, std::memory_order_seq_cst);  // (H1) pairs with S1
        return;
      }
      overflowed_ = true;
      ++rec_.overflow;
      domain_.overflow_.fetch_add(1, std::memory_order_seq_cst);  // (O1) pairs with S2
    }

    /// Drops the protection. Idempotent.
    void clear() noexcept {
      if (slot_) {
        slot_->store(nullptr, std::memory_order_release);  // (H3) pairs with S1
        --rec_.depth;
        slot_ = nullptr;
      } else if (overflowed_) {
        --rec_.overflow;
        domain_.overflow_.fetch_sub(1, std::memory_order_release);  // (O2) pairs with S2
        overflowed_ = false;
      }
    }

    [[nodiscard]] bool overflowed() const noexcept { return overflowed_; }

   private:
    hazard_domain& domain_;
    record& rec_;
    typename A::template atomic<const void*>* slot_ = nullptr;
    bool overflowed_ = false;
  };

  /// The set of pointers some reader protects right now, for a writer's scan. Must be
  /// called after the writer's publish (P1) of whatever it is about to free.
  /// Returns false when an overflow reader exists: nothing may be freed then.
  /// `skip` (optional) is a record whose slots are ignored: the caller's own.
  bool collect(std::vector<const void*>& out, const record* skip = nullptr) const {
    out.clear();
    if constexpr (has_asymmetric) {
      if (asymmetric_) A::writer_barrier();  // (W1) after P1, before S1; see header
    }
    // (R5) seq_cst: an acquire load may return a list head older than a record pushed long
    // ago, and S1 then misses that record's hazard (or its H3 release). R3 < H1 < H2 < P1 < R5
    // in the total order when H2 missed P1, so R5 sees the record. Found by models/.
    for (record* r = head_.load(std::memory_order_seq_cst); r; r = r->next) {
      if (r == skip) continue;
      for (auto& s : r->slot) {
        const void* p = s.load(std::memory_order_seq_cst);  // (S1) pairs with H1 and H3
        if (p) out.push_back(p);
      }
    }
    std::size_t own = skip ? skip->overflow : 0;
    return overflow_.load(std::memory_order_seq_cst) == own;  // (S2) pairs with O1 and O2
  }

 private:
  static constexpr bool has_asymmetric = requires {
    A::asymmetric_fence_available();
    A::reader_barrier();
    A::writer_barrier();
  };

  static bool policy_asymmetric() noexcept {
    if constexpr (has_asymmetric) {
      return A::asymmetric_fence_available();
    } else {
      return false;
    }
  }

  const bool asymmetric_;
  typename A::template atomic<record*> head_;
  typename A::template atomic<std::size_t> overflow_;
};

}  // namespace sigs::detail
