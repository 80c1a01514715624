// models/queue_models.cpp — the worker pool's run queue, detail::mpmc_queue, instantiated
// directly over the Relacy policy: the per-cell sequence hand-over (Q-1)-(Q-4), the claim CASes
// on enqueue_pos_ / dequeue_pos_, close() (fetch_or of the top bit) and drained().
//
// Relacy sees the payload twice: the element type below is a `token` whose value is an
// rl::var (built by the producer, read and destroyed by the consumer), and the queue's own
// shadow `cell::turn` (an A::var written by every producer of the cell and read by every
// consumer, see mpmc_queue.hpp), which persists across laps, so it also shows whether the
// next lap's producer is ordered after this lap's consumer. The consumer reads `turn` in an
// assert(): this family is built without NDEBUG (below) so that the read is there.
//
// Capacity 2 throughout, so that positions wrap around the ring within a few pushes.
#undef NDEBUG
#include "mutants/queue.hpp"  // this family's mutants, before model.hpp selects one
#include "model.hpp"

namespace sigs::models {
namespace {

using queue_t = sigs::detail::mpmc_queue<token, model_policy>;
using sigs::detail::push_result;

/// Items are numbered producer * 10 + k, k = 0, 1, ...: per-producer order is k's order.
constexpr int item(unsigned producer, int k) noexcept { return static_cast<int>(producer) * 10 + k; }

/// Pushes `v`, retrying (with a scheduling point) while the queue is full. Returns what
/// the last attempt said: ok or closed. A refused element stays with the caller, intact.
inline push_result push(queue_t& q, int v) {
  token t(v);
  for (;;) {
    const push_result r = q.try_push(t);
    if (r != push_result::full) {
      if (r == push_result::closed) RL_ASSERT(t.get() == v);  // the element was not moved from
      return r;
    }
    RL_ASSERT(t.get() == v);
    rl::yield(1, RL_INFO);
  }
}

/// (q1) Two producers against one consumer, two laps of the ring.
///
///   thread 0: push 0, push 1            (retrying while full)
///   thread 1: push 10, push 11
///   thread 2: pop until four elements have come out (retrying while empty)
///
/// Proves: every element pushed is popped exactly once, with its payload (the consumer is
/// ordered after the producer's construction: Q-2 release / Q-3 acquire, else DATA RACE on
/// the token or on `turn`); a producer reusing a cell is ordered after the previous lap's
/// consumer (Q-4 release / Q-1 acquire, else DATA RACE on `turn`); each producer's elements
/// come out in the order it pushed them (the queue is FIFO per producer); the counters end
/// at pushed() == popped() == 4.
struct queue_fifo : rl::test_suite<queue_fifo, 3, expected_result(scenario::queue_fifo)> {
  queue_t* q = nullptr;
  int seen[2] = {-1, -1};  // last k popped per producer (consumer only)

  void before() { q = new queue_t(2); }

  void thread(unsigned index) {
    if (index < 2) {
      RL_ASSERT(push(*q, item(index, 0)) == push_result::ok);
      RL_ASSERT(push(*q, item(index, 1)) == push_result::ok);
      return;
    }
    for (int got = 0; got < 4;) {
      token t;
      if (!q->try_pop(t)) {
        rl::yield(1, RL_INFO);
        continue;
      }
      const int v = t.get();
      const int p = v / 10, k = v % 10;
      RL_ASSERT(p == 0 || p == 1);
      RL_ASSERT(k == seen[p] + 1);  // exactly once, in the producer's order
      seen[p] = k;
      ++got;
    }
  }

  void after() {
    RL_ASSERT(seen[0] == 1 && seen[1] == 1);
    RL_ASSERT(q->pushed() == 4 && q->popped() == 4 && q->size_approx() == 0);
    token t;
    RL_ASSERT(!q->try_pop(t));
    delete q;
  }
};

/// (q2) Two producers against two consumers, over a lap boundary.
///
///   thread 0: push 0, push 1
///   thread 1: push 10
///   thread 2, 3: pop until, together, three elements have come out
///
/// Proves: the consumers' claim CAS on dequeue_pos_ hands each position to one consumer
/// only: every element is popped exactly once, by one consumer, with its payload; the
/// producers' claim CAS likewise (no two producers fill one cell: a DATA RACE on `turn`
/// or a lost element otherwise).
struct queue_mpmc : rl::test_suite<queue_mpmc, 4, expected_result(scenario::queue_mpmc)> {
  queue_t* q = nullptr;
  rl::atomic<int> popped;
  rl::atomic<int> count[3];  // pops of items 0, 1, 10

  void before() {
    q = new queue_t(2);
    popped.store(0, rl::mo_relaxed, RL_INFO);
    for (auto& c : count) c.store(0, rl::mo_relaxed, RL_INFO);
  }

  void thread(unsigned index) {
    if (index == 0) {
      RL_ASSERT(push(*q, item(0, 0)) == push_result::ok);
      RL_ASSERT(push(*q, item(0, 1)) == push_result::ok);
    } else if (index == 1) {
      RL_ASSERT(push(*q, item(1, 0)) == push_result::ok);
    } else {
      while (popped.load(rl::mo_relaxed, RL_INFO) < 3) {
        token t;
        if (!q->try_pop(t)) {
          rl::yield(1, RL_INFO);
          continue;
        }
        const int v = t.get();
        RL_ASSERT(v == 0 || v == 1 || v == 10);
        RL_ASSERT(count[v == 10 ? 2 : v].fetch_add(1, rl::mo_relaxed, RL_INFO) == 0);  // popped once
        popped.fetch_add(1, rl::mo_relaxed, RL_INFO);
      }
    }
  }

  void after() {
    for (auto& c : count) RL_ASSERT(c.load(rl::mo_relaxed, RL_INFO) == 1);
    RL_ASSERT(q->pushed() == 3 && q->popped() == 3);
    delete q;
  }
};

/// (q3) close() linearised against pushes; drained().
///
///   thread 0: push 0, push 1            (stops at the first `closed`)
///   thread 1: push 10, then close()
///   thread 2: pop until drained()
///
/// Proves: a push either claimed its position before the close (returns ok, and its
/// element is popped) or fails with `closed` and keeps its element intact — nothing is
/// lost, nothing popped twice; a push after a `closed` fails too; thread 1's push, which
/// precedes its close(), is never refused; drained() becomes true only once every
/// element pushed has been popped (the consumer stops on it); closed() holds at the end.
struct queue_close : rl::test_suite<queue_close, 3, expected_result(scenario::queue_close)> {
  queue_t* q = nullptr;
  bool ok0[2] = {false, false};  // thread 0's pushes that returned ok
  int pops[3] = {0, 0, 0};       // pops of items 0, 1, 10 (consumer only)

  void before() { q = new queue_t(2); }

  void thread(unsigned index) {
    if (index == 0) {
      for (int k = 0; k < 2; ++k) {
        if (push(*q, item(0, k)) != push_result::ok) {
          if (k == 0) RL_ASSERT(push(*q, item(0, 1)) == push_result::closed);  // stays closed
          break;
        }
        ok0[k] = true;
      }
    } else if (index == 1) {
      RL_ASSERT(push(*q, item(1, 0)) == push_result::ok);
      q->close();
      RL_ASSERT(q->closed());
    } else {
      for (;;) {
        token t;
        if (q->try_pop(t)) {
          const int v = t.get();
          RL_ASSERT(v == 0 || v == 1 || v == 10);
          ++pops[v == 10 ? 2 : v];
          continue;
        }
        if (q->drained()) break;
        rl::yield(1, RL_INFO);
      }
    }
  }

  void after() {
    RL_ASSERT(pops[2] == 1);
    for (int k = 0; k < 2; ++k) RL_ASSERT(pops[k] == (ok0[k] ? 1 : 0));  // ok <=> popped, once
    RL_ASSERT(q->closed() && q->drained());
    RL_ASSERT(q->pushed() == q->popped());
    delete q;
  }
};

}  // namespace
}  // namespace sigs::models

SIGS_MODEL_MAIN(SIGS_MODEL("queue_fifo", sigs::models::queue_fifo), SIGS_MODEL("queue_mpmc", sigs::models::queue_mpmc),
                SIGS_MODEL("queue_close", sigs::models::queue_close))
