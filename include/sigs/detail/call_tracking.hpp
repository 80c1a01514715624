// sigs/detail/call_tracking.hpp — which listener each thread is calling, the removal wait
// for those calls, and signal_domain: the hazard domain (hazard.hpp) with both, which is the
// `Domain` signal_core takes.
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
// Frames. Each emission running on a thread opens a frame: its nesting level, hence its
// call word, and the signal it belongs to (`source`). A thread's frames form the stack of
// the emissions it is running, innermost first; emitting() walks it to tell whether the
// thread is running listeners of a given signal (async_signal::drain() must not wait for
// an emission its own caller is part of).
//
// Where the state lives. The call words and frames are per thread, and an emission needs
// its hazard slots too: so they ride in the thread's hazard record as its extension
// (thread_calls; hazard.hpp, "One record per thread"), found with one thread-local lookup.
// A waiter walks the same record list as a scan, from scan_head() (HP-R5: a record pushed
// before its owner's CALL-1 is walked). What is per domain (the waiter count, the
// generation waiters sleep on, listener ids) is in signal_domain, a hazard_domain over such
// records. The fence mode is the hazard domain's: one mode per domain for both protocols.
//
// Why over 400 lines: about 70 of them are the argument above, which stays beside the code
// it argues about; the callers' side, the wait and its cycle search share the call words,
// the waiter count and the generation, and one argument covers them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <sigs/detail/atomics.hpp>
#include <sigs/detail/hazard.hpp>
#include <sigs/detail/modes.hpp>
#include <sigs/detail/port.hpp>

namespace sigs::detail {

/// One emission running on the owning thread (its frame of listener calls). Lives on the
/// owner's stack; only the owner reads it.
template <class A>
struct call_frame {
  call_frame* prev = nullptr;
  const void* source = nullptr;  // the signal this emission belongs to (emitting())
  std::size_t level = 0;         // index into thread_calls::running, or >= Slots: a deep frame
  typename A::template atomic<std::uint64_t>* word = nullptr;  // &running[level]; null when deep
  std::uint64_t current = 0;  // deep frames only: the listener being called, 0 between calls
};

/// One thread's call words and frames: the extension of its hazard record.
template <class A, std::size_t Slots>
struct thread_calls {
  thread_calls() {
    for (auto& c : running) c.store(0, std::memory_order_relaxed);  // not yet shared
    waiting_for.store(0, std::memory_order_relaxed);                // not yet shared
    deep_frames.store(0, std::memory_order_relaxed);                // not yet shared
  }

  typename A::template atomic<std::uint64_t> running[Slots];  // CALL-1 / CALL-3
  typename A::template atomic<std::uint64_t> waiting_for;     // the listener id a wait is for
  typename A::template atomic<std::size_t> deep_frames;       // frames past Slots (cycle check)

  // Owner-only state, handed over with the record (HP-R2 / HP-R1).
  std::size_t frame_depth = 0;      // frames open
  call_frame<A>* frames = nullptr;  // innermost emission running on this thread

  /// The record goes back (hazard_domain::release_record): no frame is open any more.
  void on_release() noexcept {
    frame_depth = 0;
    frames = nullptr;
  }

  /// After fork(), for a thread that did not follow: its calls and wait are over.
  void on_forget() noexcept {
    for (auto& c : running) c.store(0, std::memory_order_relaxed);  // relaxed: the child has one thread
    waiting_for.store(0, std::memory_order_relaxed);                // relaxed: as above
    deep_frames.store(0, std::memory_order_relaxed);                // relaxed: as above
    // Its frames lived on a stack the child does not have.
    on_release();
  }
};

/// The hazard domain of signals: hazard pointers for their snapshots, and, in each record,
/// which listener each of its thread's emissions is calling, for the removal wait.
template <class A, std::size_t Slots = 8>
class signal_domain : public hazard_domain<A, Slots, thread_calls<A, Slots>> {
  using base = hazard_domain<A, Slots, thread_calls<A, Slots>>;

 public:
  using record = typename base::record;
  using frame = call_frame<A>;
  using deep_count = typename A::template atomic<std::uint32_t>;

  /// `allow_asymmetric`: use the asymmetric fence when the policy offers it (hazard.hpp).
  explicit signal_domain(bool allow_asymmetric = true) : base(allow_asymmetric) {
    waiters_.store(0, std::memory_order_relaxed);     // not yet shared
    generation_.store(0, std::memory_order_relaxed);  // not yet shared
    next_id_.store(0, std::memory_order_relaxed);     // not yet shared
  }

  /// A new listener id, unique in the domain (so across signals): a wait by id can never
  /// confuse a listener of one signal with one of another.
  std::uint64_t new_listener_id() noexcept {
    return next_id_.fetch_add(1, std::memory_order_relaxed) + 1;  // relaxed: uniqueness needs only the RMW
  }

  /// Opens a frame for one emission of `source` on the owner's thread.
  void open_frame(record& r, frame& f, const void* source) noexcept {
    f.prev = r.frames;
    f.source = source;
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
        if (this->asymmetric_) {
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
  /// end_call(..., true) if it is dead. `Fence` must match asymmetric(): callers choose the
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

  /// True when the owner of `self` is running an emission of `source` (a frame opened for
  /// it), at any depth. Only the owner calls it.
  static bool emitting(const record& self, const void* source) noexcept {
    for (const frame* f = self.frames; f; f = f->prev)
      if (f->source == source) return true;
    return false;
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
      if constexpr (has_asymmetric_fence<A>) {
        if (this->asymmetric_) A::writer_barrier();  // (WAIT-3) see the header
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

  /// After fork(), in the child: hands back every record but `survivor`, as
  /// hazard_domain::forget_other_threads() does (which clears their call words, waits and
  /// frames, thread_calls::on_forget()), and counts no waiter any more: a waiter can only
  /// have been another thread. Deep calls a dead thread left counted in a listener's entry
  /// are not reachable from here and stay (docs/guarantees.md, "fork()").
  void forget_other_threads(const record* survivor) noexcept {
    base::forget_other_threads(survivor);
    waiters_.store(0, std::memory_order_relaxed);  // relaxed: the child has one thread
  }

 protected:  // not private: the models' mutants (models/mutants/) build on these
  /// CALL-1 / CALL-3 on one call word, then CALL-4.
  template <fence_mode Fence>
  SIGS_ALWAYS_INLINE void publish_call(typename A::template atomic<std::uint64_t>& word, std::uint64_t id) noexcept {
    if constexpr (Fence == fence_mode::asymmetric && has_asymmetric_fence<A>) {
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
    // From scan_head() (HP-R5): a record pushed before its CALL-1 is walked.
    for (record* r = this->scan_head(); r; r = r->next) {
      if (r == skip) continue;
      for (auto& c : r->running) {
        // (WAIT-3) acquire in asym mode (pairs with the CALL-3 release store); seq_cst
        // otherwise (pairs with the CALL-1/3 exchanges).
        if (c.load(this->asymmetric_ ? std::memory_order_acquire : std::memory_order_seq_cst) == id) return r;
      }
    }
    return nullptr;
  }

  /// The next record after `after` (from the head when null), other than `self`, that is
  /// nested past Slots and waiting: a possible holder of a deep call, which has no word
  /// naming its thread. Returns its waiting_for in `waits`.
  record* deep_waiter(const record& self, const record* after, std::uint64_t& waits) const noexcept {
    record* r = after ? after->next : this->scan_head();  // (HP-R5) as above
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
      // From scan_head() (HP-R5), as in holder_of().
      for (record* r = this->scan_head(); r; r = r->next) {
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
      if (c.load(this->asymmetric_ ? std::memory_order_acquire : std::memory_order_seq_cst) == id) return true;
    return false;
  }

  unsigned spin_rounds_ = 16;
  typename A::template atomic<std::uint64_t> next_id_;
  // Read by every listener call (CALL-4), written only when a wait begins or ends.
  alignas(cache_line) typename A::template atomic<std::uint32_t> waiters_;
  // Bumped by a caller that ends a call while someone waits; waiters sleep on it.
  alignas(cache_line) typename A::template atomic<std::uint32_t> generation_;
};

}  // namespace sigs::detail
