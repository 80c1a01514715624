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
// Past that depth a reader falls back to a count of "overflow readers" that belongs to the
// source it reads (one per signal, overflow_count below); while that count is non-zero,
// scans of *that* source free nothing. The fallback is slower and delays that signal's
// reclamation only, but it is always correct and has no depth limit.
//
// The protocol, with the labels used in the memory-order comments:
//   (CORE-P1) writer: source.store(new, seq_cst)     publish the replacement (signal_core)
//   (HP-S1)   writer: slot.load(seq_cst)             scan, after CORE-P1
//   (HP-S2)   writer: overflow.load(seq_cst)         scan, after CORE-P1 (signal_core)
//   (HP-H1)   reader: slot.exchange(p, seq_cst)      publish the hazard
//   (HP-H2)   reader: source.load(seq_cst)           validate, after HP-H1
//   (HP-H3)   reader: slot.store(nullptr, release)   done with p
//   (HP-O1)   reader: overflow.fetch_add(1, seq_cst) fallback publish
//   (HP-O2)   reader: overflow.fetch_sub(1, release) fallback done
// All four of CORE-P1, HP-S1, HP-H1, HP-H2 are seq_cst, so in their single total order
// either H1 precedes S1 (the scan sees the hazard and keeps p) or S1 precedes H1, hence P1
// precedes H2 and the reader sees the new pointer and retries. The fallback is the same
// argument with O1 for H1 and S2 for S1. H3/O2 (release) are read by S1/S2 (acquire, as
// part of seq_cst), so every access the reader made to p happens-before the writer frees it.
//
// The record list is part of the argument: a scan sees a hazard only if it walks the
// record holding it.
//   (HP-R1) thread: in_use CAS(false, true, acquire)     take a free record
//   (HP-R2) thread: in_use.store(false, release)         hand it back
//   (HP-R4) thread: head_.load(acquire)                  walk the list (pairs with HP-R3)
//   (HP-R3) thread: head_.compare_exchange(r, seq_cst)      push a new record, before its H1
//   (HP-R5) writer: head_.load(seq_cst)                     scan's list walk, after P1
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
//   (HP-H1a) reader: slot.store(p, relaxed); reader_barrier()  [compiler barrier only]
//   (HP-H2a) reader: source.load(acquire)
//   (HP-W1)  writer: writer_barrier()                          [membarrier, after P1, before S1]
// membarrier runs a full barrier on every CPU running one of our threads. For each reader,
// either its H1a store precedes that barrier, and S1 (after W1) sees it; or its H2a load
// follows the barrier, which follows P1 on the writer, so H2a sees the new pointer and the
// reader retries. The syscall costs microseconds, so scans are batched (scan_batch()).
// The mode is chosen once, when the domain is built, and never changes: a reader and a
// writer always agree on it. The models check both paths: Relacy's system-wide fence
// stands for membarrier in the `_asym` scenarios (docs/models.md).
//
// One record per thread, shared with other per-thread protocols
// ----------------------------------------------------------------
// An emission needs more per-thread state than its hazards: the removal wait's call words
// (call_tracking.hpp). Keeping both in one record costs one thread-local lookup per
// emission instead of two, and both then share the record list and its hand-over between
// threads (HP-R1..R5). So a record derives from an `Extension`, which this domain only
// constructs (before the record is shared), resets when the owner hands the record back
// (on_release(), before HP-R2) and clears after fork() for a thread that did not follow
// (on_forget()). A protocol that scans every record after a publish of its own walks the
// list from scan_head() (HP-R5), for the reason collect() does. The domain knows nothing
// else of what an extension holds.
#pragma once

#include <cstddef>
#include <vector>

#include <sigs/detail/atomics.hpp>
#include <sigs/detail/port.hpp>

namespace sigs::detail {

/// Readers of one source (one signal's snapshot pointer) nested past their record's slots.
/// A writer of that source frees nothing while it is non-zero (HP-O1/HP-O2, HP-S2).
template <class A>
struct overflow_count {
  overflow_count() { readers.store(0, std::memory_order_relaxed); }  // not yet shared
  typename A::template atomic<std::size_t> readers;
};

/// True when the policy offers the asymmetric fence's hooks (atomics.hpp).
template <class A>
inline constexpr bool has_asymmetric_fence = requires {
  A::asymmetric_fence_available();
  A::reader_barrier();
  A::writer_barrier();
};

/// A record's state beyond its hazards: none (see "One record per thread" above).
struct no_record_extension {
  void on_release() noexcept {}
  void on_forget() noexcept {}
};

template <class A, std::size_t Slots = 8, class Extension = no_record_extension>
class hazard_domain {
 public:
  static constexpr std::size_t slots_per_record = Slots;

  /// One thread's hazard slots (and its Extension). Records are never freed while the
  /// domain lives; a thread that exits hands its record back for reuse.
  struct alignas(cache_line) record : Extension {
    record() {
      for (auto& s : slot) s.store(nullptr, std::memory_order_relaxed);  // not yet shared
      in_use.store(false, std::memory_order_relaxed);                    // not yet shared
    }

    typename A::template atomic<const void*> slot[Slots];
    typename A::template atomic<bool> in_use;
    record* next = nullptr;  // written once before the record is published in the list

    // Owner-only state: only the thread that holds `in_use` touches it. Ownership moves
    // between threads through the in_use release (HP-R2) / acquire CAS (HP-R1).
    std::size_t depth = 0;  // slots in use, a stack
  };

  /// `allow_asymmetric`: use the asymmetric fence when the policy offers it (see above).
  explicit hazard_domain(bool allow_asymmetric = true) : asymmetric_(allow_asymmetric && policy_asymmetric()) {
    head_.store(nullptr, std::memory_order_relaxed);  // not yet shared
  }

  /// True when this domain uses the asymmetric fence.
  [[nodiscard]] bool asymmetric() const noexcept { return asymmetric_; }

  /// How many retired objects a writer should gather before scanning: 1 with the seq_cst
  /// publish; more with the asymmetric fence, whose writer barrier is a syscall.
  [[nodiscard]] std::size_t scan_batch() const noexcept { return asymmetric_ ? 32 : 1; }
  hazard_domain(const hazard_domain&) = delete;
  hazard_domain& operator=(const hazard_domain&) = delete;

  ~hazard_domain() {
    record* r = head_.load(std::memory_order_acquire);  // (HP-R4) pairs with the list push (HP-R3)
    while (r) {
      record* next = r->next;
      delete r;
      r = next;
    }
  }

  /// Takes a free record, or allocates one. The caller owns it until release_record().
  record& acquire_record() {
    for (record* r = head_.load(std::memory_order_acquire); r; r = r->next) {  // (HP-R4) pairs with (HP-R3)
      bool expected = false;
      // (HP-R1) acquire: pairs with the previous owner's release (HP-R2), so its owner-only
      // writes happen-before ours.
      if (!r->in_use.load(std::memory_order_relaxed) &&  // relaxed: a hint, the CAS decides
          r->in_use.compare_exchange_strong(expected, true, std::memory_order_acquire, std::memory_order_relaxed)) {
        return *r;
      }
    }
    record* r = new record;
    r->in_use.store(true, std::memory_order_relaxed);   // not yet shared
    record* h = head_.load(std::memory_order_relaxed);  // relaxed: the CAS below re-checks
    do {
      r->next = h;
      // (HP-R3) seq_cst: publishes the record to list walkers (HP-R4), and precedes its
      // hazards (HP-H1) in the total order, which the scan's list load (HP-R5) needs.
    } while (!head_.compare_exchange_weak(h, r, std::memory_order_seq_cst, std::memory_order_relaxed));
    return *r;
  }

  /// Hands a record back. Its slots must be empty, and its Extension at rest.
  void release_record(record& r) noexcept {
    r.depth = 0;
    r.on_release();
    r.in_use.store(false, std::memory_order_release);  // (HP-R2) pairs with the next owner's CAS (HP-R1)
  }

  /// The head of the record list, for a scan made after a publish of the caller's own
  /// (an extension's: call_tracking.hpp's waits). Walk it through `next`.
  [[nodiscard]] record* scan_head() const noexcept {
    // (HP-R5) seq_cst, as in collect(): a record pushed (HP-R3) before its owner's publish,
    // which the caller's publish did not see, is in the list this load returns.
    return head_.load(std::memory_order_seq_cst);
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
    /// `overflow` is the source's own count of readers past the slot stack.
    template <class T, class Atomic>
    T* protect(const Atomic& src, overflow_count<A>& overflow) noexcept {
      clear();
      if (SIGS_LIKELY(rec_.depth < Slots)) {
        slot_ = &rec_.slot[rec_.depth];
        ++rec_.depth;
        // relaxed: only a first guess; HP-H2 validates it.
        T* p = src.load(std::memory_order_relaxed);
        if (domain_.asymmetric_) {
          if constexpr (has_asymmetric) {
            for (;;) {
              slot_->store(p, std::memory_order_relaxed);  // (HP-H1a) ordered by HP-W1; see header
              A::reader_barrier();
              T* q = src.load(std::memory_order_acquire);  // (HP-H2a) pairs with CORE-P1 (release part)
              if (SIGS_LIKELY(q == p)) return p;
              p = q;
            }
          }
        }
        for (;;) {
          slot_->exchange(p, std::memory_order_seq_cst);  // (HP-H1) see header; pairs with HP-S1
          T* q = src.load(std::memory_order_seq_cst);     // (HP-H2) pairs with CORE-P1
          if (SIGS_LIKELY(q == p)) return p;
          p = q;
        }
      }
      overflow_ = &overflow;
      overflow.readers.fetch_add(1, std::memory_order_seq_cst);  // (HP-O1) pairs with HP-S2
      return src.load(std::memory_order_seq_cst);                // (HP-H2) pairs with CORE-P1
    }

    /// Drops the protection. Idempotent.
    void clear() noexcept {
      if (slot_) {
        slot_->store(nullptr, std::memory_order_release);  // (HP-H3) pairs with HP-S1
        --rec_.depth;
        slot_ = nullptr;
      } else if (overflow_) {
        overflow_->readers.fetch_sub(1, std::memory_order_release);  // (HP-O2) pairs with HP-S2
        overflow_ = nullptr;
      }
    }

    [[nodiscard]] bool overflowed() const noexcept { return overflow_ != nullptr; }

   private:
    hazard_domain& domain_;
    record& rec_;
    typename A::template atomic<const void*>* slot_ = nullptr;
    overflow_count<A>* overflow_ = nullptr;
  };

  /// The pointers some reader protects in a slot right now, for a writer's scan. Must be
  /// called after the writer's publish (CORE-P1) of whatever it is about to free; the
  /// caller then checks its source's overflow_count (HP-S2).
  void collect(std::vector<const void*>& out) const {
    out.clear();
    if constexpr (has_asymmetric) {
      if (asymmetric_) A::writer_barrier();  // (HP-W1) after CORE-P1, before HP-S1; see header
    }
    // (HP-R5) seq_cst: an acquire load may return a list head older than a record pushed
    // long ago, and S1 then misses that record's hazard (or its H3 release). R3 < H1 < H2 <
    // P1 < R5 in the total order when H2 missed P1, so R5 sees the record. Found by models/.
    for (record* r = head_.load(std::memory_order_seq_cst); r; r = r->next) {
      for (auto& s : r->slot) {
        const void* p = s.load(std::memory_order_seq_cst);  // (HP-S1) pairs with HP-H1 and HP-H3
        if (p) out.push_back(p);
      }
    }
  }

  /// Number of records in the domain (live threads, plus records waiting for reuse).
  [[nodiscard]] std::size_t record_count() const noexcept {
    std::size_t n = 0;
    for (record* r = head_.load(std::memory_order_acquire); r; r = r->next) ++n;  // (HP-R4) pairs with (HP-R3)
    return n;
  }

  /// Adds `n` free records, so that the first threads to need one take it without
  /// allocating (acquire_record() then finds one). Strong guarantee: on std::bad_alloc no
  /// record was added.
  void preallocate(std::size_t n) {
    if (n == 0) return;
    record* first = nullptr;  // a private chain, linked before it is published
    record* last = nullptr;
    try {
      for (; n > 0; --n) {
        record* r = new record;
        r->next = first;
        first = r;
        if (!last) last = r;
      }
    } catch (...) {
      while (first) {
        record* next = first->next;
        delete first;
        first = next;
      }
      throw;
    }
    record* h = head_.load(std::memory_order_relaxed);  // relaxed: the CAS below re-checks
    do {
      last->next = h;
      // (HP-R3) seq_cst: publishes the chain to list walkers (HP-R4, HP-R5), as a single
      // record's push in acquire_record().
    } while (!head_.compare_exchange_weak(h, first, std::memory_order_seq_cst, std::memory_order_relaxed));
  }

  /// After fork(), in the child: hands back every record but `survivor` (the forking
  /// thread's, or nullptr), as if their threads had exited between two emissions. Their
  /// hazards are cleared, and their Extensions forgotten (on_forget()). Runs with no other
  /// thread in the process (a pthread_atfork child handler); a count that a dead thread
  /// left in a signal (overflow readers) is not reachable from here and stays
  /// (docs/guarantees.md, "fork()").
  void forget_other_threads(const record* survivor) noexcept {
    // relaxed, here and below: the child has one thread; nothing is shared yet.
    for (record* r = head_.load(std::memory_order_relaxed); r; r = r->next) {
      if (r == survivor) continue;
      for (auto& s : r->slot) s.store(nullptr, std::memory_order_relaxed);
      r->depth = 0;
      r->on_forget();
      r->in_use.store(false, std::memory_order_relaxed);
    }
  }

 protected:  // not private: the models' mutants (models/mutants/) build on these
  static constexpr bool has_asymmetric = has_asymmetric_fence<A>;

  static bool policy_asymmetric() noexcept {
    if constexpr (has_asymmetric) {
      return A::asymmetric_fence_available();
    } else {
      return false;
    }
  }

  const bool asymmetric_;
  typename A::template atomic<record*> head_;
};

}  // namespace sigs::detail
