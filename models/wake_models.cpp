// models/wake_models.cpp — wake.hpp's detail::wake_count on its own, on the production code
// over the Relacy policy, used as its header describes it:
//
//   publish(x); count.wake_one(m, cv);                              // notifier
//   std::unique_lock lock(m);                                       // sleeper
//   count.sleep([&] { cv.wait(lock, [&] { return consume(x); }); });
//
// with a small event of the models' own (an item count and one rl::var payload per item,
// published with release and taken with acquire): the handshake's fences (SLEEP-W1/W2) and the
// notify under the sleepers' mutex, against the store-buffering outcome that only two
// seq_cst fences forbid. ThreadSanitizer does not model fences; Relacy does
// (rl::atomic_thread_fence, seq_cst fences in the total order S).
//
// The worker pool's two uses of it — POOL-F1/F2 between push_and_wake and wait_for_work,
// POOL-F3/F4 between after_pop and wait_for_space — run on the production pool code in
// pool_models.cpp (pool_work, pool_two_workers, pool_space), not restated here.
//
// rl::condition_variable allows spurious wake-ups and reports a thread blocked for ever as
// DEADLOCK: a lost wake-up is a DEADLOCK. The count type is the build's (model_wake_count:
// the production wake_count, or a mutant's subclass).
#include "mutants/wake.hpp"  // this family's mutants, before model.hpp selects one
#include "model.hpp"

namespace sigs::models {
namespace {

using wake_t = model_wake_count<model_policy>;

/// One count, its mutex and condition variable, and the event: `published` items (release
/// on publish, acquire on take) of which `taken` were consumed (one CAS per item).
struct wake_part {
  wake_t count;
  typename model_policy::mutex mutex;
  typename model_policy::condition_variable cv;
  rl::atomic<int> published;
  rl::atomic<int> taken;
  rl::var<int> payload[2];

  wake_part() {
    // relaxed: before the threads, which Relacy starts after before().
    published.store(0, rl::mo_relaxed, RL_INFO);
    taken.store(0, rl::mo_relaxed, RL_INFO);
    for (auto& p : payload) p(RL_INFO).store(-1);
  }

  /// Notifier: publishes item `i` (its payload first), then wake_one (SLEEP-W1).
  void publish(int i, int v) {
    payload[i](RL_INFO).store(v);
    published.fetch_add(1, rl::mo_release, RL_INFO);  // release: the payload, for take()'s acquire
    count.wake_one(mutex, cv);
  }

  /// Takes the next published item, if any.
  bool take(int& i) {
    int t = taken.load(rl::mo_relaxed, RL_INFO);  // relaxed: the CAS below decides
    // acquire: pairs with publish()'s release, so item t's payload is visible.
    while (t < published.load(rl::mo_acquire, RL_INFO)) {
      if (taken.compare_exchange_weak(t, t + 1, rl::mo_relaxed, RL_INFO)) {  // relaxed: ownership only
        i = t;
        return true;
      }
    }
    return false;
  }

  /// Sleeper: takes an item, or under the mutex sleep() (SLEEP-W2) around cv.wait(lock, take);
  /// returns its payload.
  int take_or_sleep() {
    int i = -1;
    if (!take(i)) {
      std::unique_lock<typename model_policy::mutex> lock(mutex);
      count.sleep([&] { cv.wait(lock, [&] { return take(i); }); });
    }
    return payload[i](RL_INFO).load();
  }
};

/// (k) One notifier, one sleeper.
///
///   thread 0 (notifier): publish(0, 7), i.e. the event, then wake_one (SLEEP-W1)
///   thread 1 (sleeper):  take, or under the mutex sleep() (SLEEP-W2) around
///                        cv.wait(lock, take)
///
/// Proves: no lost wake-up — the sleeper always ends up with the item (DEADLOCK if it sleeps
/// for ever), and with its payload (DATA RACE otherwise).
struct wake_work : rl::test_suite<wake_work, 2, expected_result(scenario::wake_work)> {
  wake_part* part = nullptr;

  void before() { part = new wake_part; }

  void thread(unsigned index) {
    if (index == 0) {
      part->publish(0, 7);
    } else {
      RL_ASSERT(part->take_or_sleep() == 7);
    }
  }

  void after() { delete part; }
};

/// (k2) Two sleepers on one count, two events: notify_one with more than one sleeper.
///
///   thread 0 (notifier): publish(0, 7), wake_one (SLEEP-W1); publish(1, 8), wake_one
///   thread 1, 2 (sleepers): as (k)
///
/// Proves: no lost wake-up when one count covers two sleepers: the second notifier reads
/// a count that still includes a sleeper already woken by the first one (whose decrement
/// comes after its re-check), or the second sleeper's re-check sees the second item; each
/// sleeper ends up with one item (DEADLOCK otherwise).
struct wake_two_workers : rl::test_suite<wake_two_workers, 3, expected_result(scenario::wake_two_workers)> {
  wake_part* part = nullptr;
  rl::var<int> got[2];

  void before() {
    part = new wake_part;
    for (auto& g : got) g(RL_INFO) = 0;
  }

  void thread(unsigned index) {
    if (index == 0) {
      part->publish(0, 7);
      part->publish(1, 8);
    } else {
      got[index - 1](RL_INFO).store(part->take_or_sleep());
    }
  }

  void after() {
    const int a = got[0](RL_INFO).load();
    const int b = got[1](RL_INFO).load();
    RL_ASSERT((a == 7 && b == 8) || (a == 8 && b == 7));
    delete part;
  }
};

}  // namespace
}  // namespace sigs::models

SIGS_MODEL_MAIN(SIGS_MODEL("wake_work", sigs::models::wake_work),
                SIGS_MODEL("wake_two_workers", sigs::models::wake_two_workers))
