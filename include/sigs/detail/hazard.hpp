// sigs/detail/hazard.hpp — the hazard-pointer domain that protects signal snapshots, and
// the per-thread record of which listener each emission is calling (for removal waits).
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
// Which listener is running: the removal wait
// -------------------------------------------
// remove_listener_and_wait(x) must wait for exactly the calls of x running on other
// threads: not for a thread that merely holds a snapshot containing x (that thread may be
// waiting for us), and also for calls of an x that was already removed or fired. So each
// emission publishes, in a word of its thread's record (`running`, one per nesting level
// up to Slots), the id of the listener it is calling; a waiter reads those words.
//   (CALL-1) caller: running[level] := id        before the call (asym: release store and
//                                                 compiler barrier; else seq_cst exchange)
//   (CALL-4) caller: waiters_.load()              after CALL-1 and CALL-3: wake a waiter if
//                                                 any (asym: relaxed; else seq_cst)
//   (CALL-2) caller: state.load(relaxed)          validate: re-read the listener's state,
//                                                 after CALL-4
//   (CALL-3) caller: running[level] := next / 0   after the call, as CALL-1 (release: the
//                                                 call's effects happen-before a waiter that
//                                                 reads the new value)
//   (WAIT-1) waiter: kill: state CAS              signal_core's removal (CORE-K1)
//   (WAIT-2) waiter: waiters_.fetch_add(seq_cst)  announce the wait, after WAIT-1
//   (WAIT-3) waiter: writer_barrier() (asym)      then running[*].load (acquire / seq_cst)
// Start of a call against the removal. seq_cst mode: CALL-1 and CALL-4 against WAIT-2 and
// WAIT-3, the Dekker shape of the hazard publish. Either CALL-4 reads WAIT-2's increment
// (or later): then WAIT-1, sequenced before WAIT-2, happens-before CALL-2, which reads
// `removed` and skips the call; or CALL-4 precedes WAIT-2 in the single total order, hence
// CALL-1 precedes WAIT-3, and the waiter sees the id (or a later value of the word, written
// by a release CALL-3 after the call ended) and waits. Asymmetric mode: WAIT-3's membarrier
// runs a full barrier in the caller either after CALL-1 (the waiter sees the id) or before
// it, and then CALL-2, later in program order, sees the kill.
// End of a call against the sleep (CALL-3, CALL-4 against WAIT-2, WAIT-3): the same shape,
// so either the waiter sees the call ended, or the caller sees waiters_ > 0 and bumps
// generation_ and wakes it (WAKE-1 release / WAIT-4 acquire: a waiter that sees the new
// generation also sees the running word cleared).
// Past Slots nested emissions a call has no word of its own: it counts itself in the
// listener's entry instead (deep_calls): a seq_cst RMW, then a seq_cst CALL-2, against the
// seq_cst kill (CORE-K1) and the waiter's seq_cst load of the count: the same Dekker shape
// with the RMW as the fence; its end is a seq_cst RMW followed by CALL-4. Waiters sleep in
// the kernel (A::wait, a futex), after a short spin: no wait spins without bound, so thread
// priorities cannot livelock it.
//   (WAIT-4) waiter: generation_.load(acquire)    before re-reading the words; pairs with
//                                                 (WAKE-1) wake_waiters()' release bump
//   (WAIT-5) waiter: waiting_for := id / 0 (seq_cst), read by other waiters' cycle checks
//
// Cycles. A waiter publishes what it waits for (`waiting_for`). Before it sleeps it
// follows the chain "x is run by thread B, B waits for y, y is run by C, ..."; if the chain
// comes back to a listener the waiter itself is running, the wait can never end and it
// returns would_deadlock instead. The waiter publishes waiting_for (seq_cst) before it
// reads the others' (seq_cst), so of two threads closing a cycle at once at least one sees
// the other. A call past Slots levels has no word that names its thread; a chain that
// needs one treats every thread nested that deep and itself waiting as a possible holder,
// which may refuse a wait that would have ended (never the reverse).
//
// Why over 600 lines: about 120 of them are the argument above, which stays beside the
// code it argues about. The hazard slots and the call words share one per-thread record,
// one record list and one fence mode, so one class holds both.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

#include <sigs/detail/atomics.hpp>
#include <sigs/detail/modes.hpp>
#include <sigs/detail/port.hpp>

namespace sigs::detail {

/// Readers of one source (one signal's snapshot pointer) nested past their record's slots.
/// A writer of that source frees nothing while it is non-zero (HP-O1/HP-O2, HP-S2).
template <class A>
struct overflow_count {
  overflow_count() { readers.store(0, std::memory_order_relaxed); }  // not yet shared
  typename A::template atomic<std::size_t> readers;
};

template <class A, std::size_t Slots = 8>
class hazard_domain {
 public:
  static constexpr std::size_t slots_per_record = Slots;

  /// One emission running on the owning thread (its frame of listener calls). Lives on the
  /// owner's stack; only the owner reads it.
  struct frame {
    frame* prev = nullptr;
    std::size_t level = 0;  // index into record::running, or >= Slots: a deep frame
    typename A::template atomic<std::uint64_t>* word = nullptr;  // &running[level]; null when deep
    std::uint64_t current = 0;  // deep frames only: the listener being called, 0 between calls
  };

  /// One thread's hazard slots and call words. Records are never freed while the domain
  /// lives; a thread that exits hands its record back for reuse.
  struct alignas(cache_line) record {
    record() {
      for (auto& s : slot) s.store(nullptr, std::memory_order_relaxed);  // not yet shared
      for (auto& c : running) c.store(0, std::memory_order_relaxed);     // not yet shared
      waiting_for.store(0, std::memory_order_relaxed);                   // not yet shared
      deep_frames.store(0, std::memory_order_relaxed);                   // not yet shared
      in_use.store(false, std::memory_order_relaxed);                    // not yet shared
    }

    typename A::template atomic<const void*> slot[Slots];
    typename A::template atomic<std::uint64_t> running[Slots];  // CALL-1 / CALL-3
    typename A::template atomic<std::uint64_t> waiting_for;     // the listener id a wait is for
    typename A::template atomic<std::size_t> deep_frames;       // frames past Slots (cycle check)
    typename A::template atomic<bool> in_use;
    record* next = nullptr;  // written once before the record is published in the list

    // Owner-only state: only the thread that holds `in_use` touches these. Ownership moves
    // between threads through the in_use release (HP-R2) / acquire CAS (HP-R1).
    std::size_t depth = 0;        // slots in use, a stack
    std::size_t frame_depth = 0;  // frames open
    frame* frames = nullptr;      // innermost emission running on this thread
  };

  /// `allow_asymmetric`: use the asymmetric fence when the policy offers it (see above).
  explicit hazard_domain(bool allow_asymmetric = true) : asymmetric_(allow_asymmetric && policy_asymmetric()) {
    head_.store(nullptr, std::memory_order_relaxed);  // not yet shared
    waiters_.store(0, std::memory_order_relaxed);     // not yet shared
    generation_.store(0, std::memory_order_relaxed);  // not yet shared
    next_id_.store(0, std::memory_order_relaxed);     // not yet shared
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

  /// A new listener id, unique in the domain (so across signals): a wait by id can never
  /// confuse a listener of one signal with one of another.
  std::uint64_t new_listener_id() noexcept {
    return next_id_.fetch_add(1, std::memory_order_relaxed) + 1;  // relaxed: uniqueness needs only the RMW
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

  /// Hands a record back. Its slots must be empty and no frame may be open.
  void release_record(record& r) noexcept {
    r.depth = 0;
    r.frame_depth = 0;
    r.frames = nullptr;
    r.in_use.store(false, std::memory_order_release);  // (HP-R2) pairs with the next owner's CAS (HP-R1)
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

  // ---- listener calls (see "Which listener is running" above) ------------------------

  using deep_count = typename A::template atomic<std::uint32_t>;

  /// Opens a frame for one emission on the owner's thread.
  void open_frame(record& r, frame& f) noexcept {
    f.prev = r.frames;
    f.current = 0;
    f.level = r.frame_depth++;
    r.frames = &f;
    if (SIGS_LIKELY(f.level < Slots)) {
      f.word = &r.running[f.level];
    } else {
      f.word = nullptr;
      r.deep_frames.store(f.level - Slots + 1, std::memory_order_relaxed);  // relaxed: a hint for cycle checks
    }
  }

  /// Closes the innermost frame: its call word goes back to 0 (CALL-3).
  void close_frame(record& r, frame& f) noexcept {
    if (SIGS_LIKELY(f.word != nullptr)) {
      // relaxed: the owner's own last store; a 0 here only skips a redundant CALL-3.
      if (f.word->load(std::memory_order_relaxed) != 0) {
        if (asymmetric_) {
          publish_call<fence_mode::asymmetric>(*f.word, 0);
        } else {
          publish_call<fence_mode::symmetric>(*f.word, 0);
        }
      }
    } else {
      r.deep_frames.store(f.level - Slots, std::memory_order_relaxed);  // relaxed: a hint for cycle checks
    }
    r.frames = f.prev;
    --r.frame_depth;
  }

  /// Announces that frame `f` is about to call listener `id` (CALL-1, or the deep count).
  /// The caller then reads the listener's state with validate_order() (CALL-2) and calls
  /// end_call(..., true) if it is dead. `Fence` must be mode(): callers choose the
  /// instantiation once per emission, so the loop over listeners does not test the mode.
  template <fence_mode Fence>
  SIGS_ALWAYS_INLINE void begin_call(frame& f, std::uint64_t id, deep_count& deep) noexcept {
    if (SIGS_LIKELY(f.word != nullptr)) {
      publish_call<Fence>(*f.word, id);
    } else {
      f.current = id;
      deep.fetch_add(1, std::memory_order_seq_cst);  // (CALL-1 deep) pairs with WAIT-3's deep load
    }
  }

  /// The order of the state load (CALL-2) after begin_call().
  [[nodiscard]] static std::memory_order validate_order(const frame& f) noexcept {
    // In a slot: relaxed, ordered by CALL-4 / WAIT-3 (see the header). Deep: seq_cst, against
    // CORE-K1 in the single total order.
    return f.word != nullptr ? std::memory_order_relaxed : std::memory_order_seq_cst;
  }

  /// The call announced by begin_call() returned (or was not made). A slot's word is left
  /// as it is unless `now`: the next begin_call() or close_frame() overwrites it (CALL-3),
  /// which saves a store per listener; only library code runs meanwhile. Pass `now` before
  /// running anything that is not the listener (error handlers) or when the call was not made.
  template <fence_mode Fence>
  SIGS_ALWAYS_INLINE void end_call(frame& f, deep_count& deep, bool now) noexcept {
    if (SIGS_LIKELY(f.word != nullptr)) {
      if (now) publish_call<Fence>(*f.word, 0);
    } else {
      f.current = 0;
      deep.fetch_sub(1, std::memory_order_seq_cst);                       // (CALL-3 deep) pairs with WAIT-3's deep load
      if (waiters_.load(std::memory_order_seq_cst) != 0) wake_waiters();  // (CALL-4) pairs with WAIT-2
    }
  }

  /// True when the owner of `self` is calling listener `id` in one of its frames, and how
  /// many of those frames are deep (past Slots). Only the owner calls it: its call words
  /// name what each level is calling whenever user code runs (end_call() above).
  static bool calling(const record& self, std::uint64_t id, std::uint32_t* deep = nullptr) noexcept {
    bool found = false;
    std::uint32_t d = 0;
    const std::size_t words = self.frame_depth < Slots ? self.frame_depth : Slots;
    for (std::size_t l = 0; l < words; ++l)
      found = found || self.running[l].load(std::memory_order_relaxed) == id;  // relaxed: our own words
    for (const frame* f = self.frames; f && f->level >= Slots; f = f->prev) {
      if (f->current == id) {
        found = true;
        ++d;
      }
    }
    if (deep) *deep = d;
    return found;
  }

  /// Waits until no thread but the owner of `self` is calling listener `id`: no other record
  /// names it (CALL-1..3) and `deep` counts no more calls than `own_deep`, the owner's own
  /// deep calls of it. Returns false, without waiting further, when the wait is part of a
  /// cycle that can never end (see "Cycles" above). Spins briefly, then sleeps in the kernel.
  bool wait_for_calls(record& self, std::uint64_t id, const deep_count& deep, std::uint32_t own_deep) {
    self.waiting_for.store(id, std::memory_order_seq_cst);  // (WAIT-5) pairs with the cycle check's loads
    waiters_.fetch_add(1, std::memory_order_seq_cst);       // (WAIT-2) pairs with CALL-4
    // The wait graph changed: the waiters asleep look for a cycle again. The one that closes
    // a cycle may miss it (a waiter it depends on had not published yet); one of the others
    // then sees it.
    wake_waiters();
    bool ended = true;
    for (unsigned round = 0;; ++round) {
      // (WAIT-4) acquire: pairs with wake_waiters()' release (WAKE-1): a generation read here
      // that a caller's wake produced comes with that caller's CALL-3.
      const std::uint32_t seen = generation_.load(std::memory_order_acquire);
      if constexpr (has_asymmetric) {
        if (asymmetric_) A::writer_barrier();  // (WAIT-3) see the header
      }
      record* holder = holder_of(id, &self);
      // (WAIT-3 deep) seq_cst: pairs with the deep RMWs (CALL-1/3 deep).
      const bool deep_busy = deep.load(std::memory_order_seq_cst) > own_deep;
      if (!holder && !deep_busy) break;
      // Twice: a stale read must repeat. Checked at once, not after the spin: each round
      // costs a membarrier in asymmetric mode, which is slow while the other threads run.
      if (in_cycle(self, id) && in_cycle(self, id)) {
        ended = false;
        break;
      }
      if (round < spin_rounds_) {
        A::yield();
      } else {
        A::wait(generation_, seen);  // woken by wake_waiters(), or at once if it moved
      }
    }
    waiters_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a caller that reads 0 only skips a wake nobody needs
    self.waiting_for.store(0, std::memory_order_seq_cst);  // (WAIT-5)
    return ended;
  }

  /// Rounds a waiter re-checks (yielding in between) before it sleeps in the kernel. The
  /// models set it low to keep their state space small.
  void set_spin_rounds(unsigned n) noexcept { spin_rounds_ = n; }

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
  /// hazards, call words, waits and frames are cleared, and no waiter is counted any more.
  /// Runs with no other thread in the process (a pthread_atfork child handler); counts a
  /// dead thread left in a signal (overflow readers, deep calls) are not reachable from
  /// here and stay (docs/guarantees.md, "fork()").
  void forget_other_threads(const record* survivor) noexcept {
    // relaxed, here and below: the child has one thread; nothing is shared yet.
    for (record* r = head_.load(std::memory_order_relaxed); r; r = r->next) {
      if (r == survivor) continue;
      for (auto& s : r->slot) s.store(nullptr, std::memory_order_relaxed);
      for (auto& c : r->running) c.store(0, std::memory_order_relaxed);
      r->waiting_for.store(0, std::memory_order_relaxed);
      r->deep_frames.store(0, std::memory_order_relaxed);
      r->depth = 0;
      r->frame_depth = 0;
      r->frames = nullptr;  // frames lived on stacks the child does not have
      r->in_use.store(false, std::memory_order_relaxed);
    }
    waiters_.store(0, std::memory_order_relaxed);  // a waiter can only have been another thread
  }

 protected:  // not private: the models' mutants (models/mutants/) build on these
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

  /// CALL-1 / CALL-3 on one call word, then CALL-4.
  template <fence_mode Fence>
  SIGS_ALWAYS_INLINE void publish_call(typename A::template atomic<std::uint64_t>& word, std::uint64_t id) noexcept {
    if constexpr (Fence == fence_mode::asymmetric && has_asymmetric) {
      word.store(id,
                 std::memory_order_release);  // (CALL-1/3) ordered by WAIT-3's barrier; release for WAIT-3's acquire
      A::reader_barrier();
      // relaxed: ordered after the store by WAIT-3's barrier, as above (CALL-4).
      if (SIGS_UNLIKELY(waiters_.load(std::memory_order_relaxed) != 0)) wake_waiters();
    } else {
      word.exchange(id, std::memory_order_seq_cst);  // (CALL-1/3) pairs with WAIT-3's seq_cst loads
      if (SIGS_UNLIKELY(waiters_.load(std::memory_order_seq_cst) != 0)) wake_waiters();  // (CALL-4) pairs with WAIT-2
    }
  }

  SIGS_COLD void wake_waiters() noexcept {
    generation_.fetch_add(1, std::memory_order_release);  // (WAKE-1) pairs with WAIT-4
    A::notify_all(generation_);
  }

  /// A record other than `skip` whose call words name `id`, or nullptr.
  record* holder_of(std::uint64_t id, const record* skip) const noexcept {
    // (HP-R5) seq_cst, as in collect(): a record pushed before its CALL-1 is walked.
    for (record* r = head_.load(std::memory_order_seq_cst); r; r = r->next) {
      if (r == skip) continue;
      for (auto& c : r->running) {
        // (WAIT-3) acquire in asym mode (pairs with the CALL-3 release store); seq_cst
        // otherwise (pairs with the CALL-1/3 exchanges).
        if (c.load(asymmetric_ ? std::memory_order_acquire : std::memory_order_seq_cst) == id) return r;
      }
    }
    return nullptr;
  }

  /// The next record after `after` (from the head when null), other than `self`, that is
  /// nested past Slots and waiting: a possible holder of a deep call, which has no word
  /// naming its thread. Returns its waiting_for in `waits`.
  record* deep_waiter(const record& self, const record* after, std::uint64_t& waits) const noexcept {
    record* r = after ? after->next : head_.load(std::memory_order_seq_cst);  // (HP-R5) as above
    for (; r; r = r->next) {
      if (r == &self) continue;
      // waiting_for first (seq_cst, pairs with WAIT-5): the owner stores deep_frames before
      // it, so a waiter seen here is seen with its depth. relaxed: ordered by that pair.
      waits = r->waiting_for.load(std::memory_order_seq_cst);
      if (waits != 0 && r->deep_frames.load(std::memory_order_relaxed) != 0) return r;
    }
    return nullptr;
  }

  /// True when waiting for `id` can never end: following "called by thread R, which waits
  /// for" from `id` reaches a listener `self` is calling. Each listener the search visits
  /// after `id` is what some record waits for, so it visits at most one per record: the
  /// search is bounded by the number of threads, whatever the length of the chain.
  bool in_cycle(const record& self, std::uint64_t id) const noexcept {
    id_list seen;
    seen.add(id);
    // Adds what a thread waits for to the search; true when it is ours.
    // (A holder may wait for the very listener it calls: for the other threads' calls of a
    // dead listener. If ours is one of them, that is a cycle too.)
    auto follow = [&](std::uint64_t w) {
      if (w == 0) return false;  // not waiting
      if (calling(self, w)) return true;
      if (!seen.contains(w)) seen.add(w);
      return false;
    };
    for (std::size_t i = 0; i < seen.size(); ++i) {
      const std::uint64_t want = seen[i];
      bool held = false;
      // (HP-R5) seq_cst, as in holder_of().
      for (record* r = head_.load(std::memory_order_seq_cst); r; r = r->next) {
        if (r == &self || !names(*r, want)) continue;
        held = true;
        // (WAIT-5) pairs with the holder's store of what it waits for.
        if (follow(r->waiting_for.load(std::memory_order_seq_cst))) return true;
      }
      if (held) continue;
      // No word names `want`: a deep call, or none left. Any deep waiter may hold it.
      std::uint64_t w = 0;
      for (const record* d = deep_waiter(self, nullptr, w); d; d = deep_waiter(self, d, w)) {
        if (follow(w)) return true;
      }
    }
    return false;
  }

  /// The listener ids of one cycle search: on the stack up to `inline_ids`, then on the
  /// heap (a chain of more waiting threads than that). If that allocation fails the id is
  /// left out: this search may then miss a cycle, and the waiter looks again only when
  /// something wakes it (another wait beginning, a call ending).
  class id_list {
   public:
    void add(std::uint64_t id) noexcept {
      if (n_ < inline_ids) {
        inline_[n_++] = id;
        return;
      }
      try {
        more_.push_back(id);
        ++n_;
      } catch (...) {
        // Out of memory: see above.
      }
    }
    [[nodiscard]] std::size_t size() const noexcept { return n_; }
    std::uint64_t operator[](std::size_t i) const noexcept {
      return i < inline_ids ? inline_[i] : more_[i - inline_ids];
    }
    [[nodiscard]] bool contains(std::uint64_t id) const noexcept {
      const std::uint64_t* end = inline_ + std::min(n_, inline_ids);
      return std::find(inline_, end, id) != end || std::find(more_.begin(), more_.end(), id) != more_.end();
    }

   private:
    static constexpr std::size_t inline_ids = 64;
    std::uint64_t inline_[inline_ids];
    std::size_t n_ = 0;
    std::vector<std::uint64_t> more_;
  };

  /// True when one of `r`'s call words names `id` (WAIT-3's loads, as in holder_of()).
  bool names(const record& r, std::uint64_t id) const noexcept {
    for (auto& c : r.running)
      if (c.load(asymmetric_ ? std::memory_order_acquire : std::memory_order_seq_cst) == id) return true;
    return false;
  }

  const bool asymmetric_;
  unsigned spin_rounds_ = 16;
  typename A::template atomic<record*> head_;
  typename A::template atomic<std::uint64_t> next_id_;
  // Read by every listener call (CALL-4), written only when a wait begins or ends.
  alignas(cache_line) typename A::template atomic<std::uint32_t> waiters_;
  // Bumped by a caller that ends a call while someone waits; waiters sleep on it.
  alignas(cache_line) typename A::template atomic<std::uint32_t> generation_;
};

}  // namespace sigs::detail
