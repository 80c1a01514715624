// models/envelope_models.cpp — one async emission shared by its emitter and two pool task
// copies, on the production code async_signal runs: the envelope and its lock-free tally
// (detail::async_delivery::envelope over detail::envelope_tally), the copies' work
// (async_delivery::run_copy, which runs async_delivery::run_listeners over a held
// snapshot of the production signal_core), the finaliser (async_delivery::close, then
// signal_core::release) and the completion the emitter waits on
// (detail::basic_completion_state).
//
// What is not the production code: the pool's push, which publishes the envelope to each
// copy, is a release/acquire inside detail::mpmc_queue (checked in queue_models.cpp); here
// it is one release store / acquire load per copy. async_signal's recycling of the envelope
// and its in-flight count (completion_models.cpp) are left out of the finaliser.
#include "mutants/envelope.hpp"  // this family's mutants, before model.hpp selects one
#include "model.hpp"

namespace sigs::models {
namespace {

/// A payload Relacy can see: written when built and when destroyed, read by every listener
/// call. A call not ordered before the finaliser's destruction of the payload (the
/// reference drop, ENV-R1) is a DATA RACE on it.
class tracked_payload {
 public:
  explicit tracked_payload(int v) { v_(RL_INFO).store(v); }
  tracked_payload(const tracked_payload& o) { v_(RL_INFO).store(o.get()); }
  tracked_payload& operator=(const tracked_payload&) = delete;
  ~tracked_payload() { v_(RL_INFO).store(-1); }
  [[nodiscard]] int get() const { return v_(RL_INFO).load(); }

 private:
  rl::var<int> v_;
};

constexpr std::size_t listeners = 3;

/// (n) An emission of three listeners, delivered by two task copies.
///
///   before:   A, B, C added                                       s0 = [A, B, C]
///   thread 0 (emitter): payload = 42; s0 = hold(); prepare the envelope; for each copy:
///             add_ref(), push it (release); remove(B) [envelope_copies only]; drop its own
///             reference; wait on the completion; check the totals; reset() (a write whose
///             scan frees s0 once it is unpinned)
///   thread 1, 2 (copies): take the envelope (acquire); run_copy(); drop their reference
///   whoever drops the last reference finalises: close(), then release(s0).
///
/// envelope_copies: a plain context; B is removed while the copies run, so it is delivered
/// or skipped. envelope_drops: the context is cancelled before the emission, so every
/// listener is dropped and both copies record a drop reason at once.
///
/// The _pre forms, for the context-bound search (which three threads make far too long):
/// before() does the emitter's part up to its reference drop, with records taken up front;
/// the two copies are the only threads; after() checks the completion. No removal there,
/// so the plain one delivers all three.
///
/// Proves, on the production functions: every listener index is claimed exactly once
/// (claim()'s RMW: a listener body runs twice otherwise); the finaliser runs exactly once,
/// whichever thread is last, after every copy's counts and payload reads (release_ref()'s
/// acq_rel, ENV-R1: DATA RACE on the payload otherwise); the first drop reason is written by
/// one copy only (note_drop()'s RMW: DATA RACE on the reason otherwise); the completion's
/// totals are exact (delivered = the bodies that ran, skipped = the rest; or 3 dropped,
/// errc::canceled) and every listener call happens-before the emitter's wait returns; the
/// snapshot is unpinned after the copies' last read of it, and freed once.
/// `Which`: envelope_copies (a live context) or envelope_drops (a cancelled one). `How`:
/// in_threads runs the emitter as thread 0; before_threads emits in before(), leaving the
/// two copies alone (the smaller search).
template <scenario Which, records How>
struct envelope_emission
    : rl::test_suite<envelope_emission<Which, How>, How == records::in_threads ? 3 : 2, expected_result(Which)> {
  static constexpr bool Canceled = Which == scenario::envelope_drops;
  static constexpr bool WithEmitter = How == records::in_threads;
  static constexpr unsigned threads = WithEmitter ? 3 : 2;
  static constexpr records how = How;
  using signal = model_signal<2, hazard_mode::seq_cst, tracked_payload>;
  using delivery = typename signal::delivery;
  using envelope = typename delivery::envelope;
  using completion_t = typename delivery::completion_type;
  using core_t = typename signal::core_t;
  using domain_t = typename signal::domain_t;

  signal sig;
  thread_records<domain_t, threads, how> recs{sig.domain};
  envelope* env = nullptr;
  std::shared_ptr<completion_t> done;
  std::stop_source stop;
  rl::atomic<int> pushed[2];
  rl::atomic<int> calls[listeners];
  rl::atomic<int> finalised;
  listener_id b;

  void before() {
    for (auto& p : pushed) p.store(0, rl::mo_relaxed, RL_INFO);
    for (auto& c : calls) c.store(0, rl::mo_relaxed, RL_INFO);
    finalised.store(0, rl::mo_relaxed, RL_INFO);
    for (std::size_t i = 0; i < listeners; ++i) {
      const listener_id id = sig.add([this, i, c = canary()](const tracked_payload& p) {
        c.check(RL_INFO);
        RL_ASSERT(p.get() == 42);
        RL_ASSERT(calls[i].fetch_add(1, rl::mo_relaxed, RL_INFO) == 0);  // claimed once
      });
      if (i == 1) b = id;
    }
    if constexpr (Canceled) stop.request_stop();
    env = new envelope;
    done = std::make_shared<completion_t>();
    recs.before();
    if constexpr (!WithEmitter) {
      scoped_record<domain_t> r(sig.domain);
      emit(r);
      RL_ASSERT(!env->release_ref());  // the copies hold theirs
    }
  }

  /// The emitter's part up to its reference drop (async_signal::submit).
  void emit(typename domain_t::record& r) {
    env->payload.emplace(42);
    const sigs::context ctx = Canceled ? sigs::context(stop.get_token()) : sigs::context();
    env->prepare(sig.core->hold(r), ctx, done, false);
    for (auto& p : pushed) {
      env->add_ref();
      p.store(1, rl::mo_release, RL_INFO);  // the pool's push
    }
  }

  /// The finaliser: as async_signal::release_ref() after the last drop.
  void finalize() {
    RL_ASSERT(finalised.fetch_add(1, rl::mo_relaxed, RL_INFO) == 0);  // exactly once
    typename core_t::snapshot* s = delivery::close(
        *env, [](std::size_t n, const sigs::detail::delivery_outcome& o, bool rejected, std::error_code) {
          RL_ASSERT(!rejected && n == listeners && o.claimed == listeners);
          return o.dropped;
        });
    RL_ASSERT(!env->payload && !env->done);
    core_t::release(s);
  }

  /// What the completion says, once every listener call is ordered before the caller.
  void check_totals(bool removed) {
    int ran = 0;
    for (auto& c : calls) ran += c.load(rl::mo_relaxed, RL_INFO);
    const auto skipped = static_cast<std::uint64_t>(static_cast<int>(listeners) - ran);
    if constexpr (Canceled) {
      RL_ASSERT(ran == 0 && done->dropped == listeners && done->drop_reason == sigs::errc::canceled);
    } else {
      RL_ASSERT(done->delivered == static_cast<std::uint64_t>(ran) && done->skipped == skipped && done->dropped == 0 &&
                !done->drop_reason);
      RL_ASSERT(removed || ran == static_cast<int>(listeners));
    }
  }

  void thread(unsigned index) {
    typename decltype(recs)::scope r(recs, index);
    if (WithEmitter && index == 0) {
      emit(r);
      if constexpr (!Canceled) RL_ASSERT(!sig.remove(b));
      if (env->release_ref()) finalize();
      done->wait();
      check_totals(true);
      sig.reset();  // scans: frees s0 if the finaliser unpinned it
      return;
    }
    const unsigned copy = WithEmitter ? index - 1 : index;
    while (pushed[copy].load(rl::mo_acquire, RL_INFO) == 0) rl::yield(1, RL_INFO);
    delivery::run_copy(*sig.core, r, *env);
    if (env->release_ref()) finalize();
  }

  void after() {
    RL_ASSERT(finalised.load(rl::mo_relaxed, RL_INFO) == 1);
    RL_ASSERT(env->refs.load(std::memory_order_relaxed) == 0);
    if constexpr (!WithEmitter) {
      RL_ASSERT(done->is_done());
      check_totals(false);
    }
    delete env;
    done.reset();
    recs.after();
  }
};

}  // namespace
}  // namespace sigs::models

SIGS_MODEL_MAIN(
    SIGS_MODEL(
        "envelope_copies",
        sigs::models::envelope_emission<sigs::models::scenario::envelope_copies, sigs::models::records::in_threads>),
    SIGS_MODEL("envelope_copies_pre", sigs::models::envelope_emission<sigs::models::scenario::envelope_copies,
                                                                      sigs::models::records::before_threads>),
    SIGS_MODEL(
        "envelope_drops",
        sigs::models::envelope_emission<sigs::models::scenario::envelope_drops, sigs::models::records::in_threads>),
    SIGS_MODEL(
        "envelope_drops_pre",
        sigs::models::envelope_emission<sigs::models::scenario::envelope_drops, sigs::models::records::before_threads>))
