// models/mutants/queue.hpp — the mutants of the queue family (queue_models.cpp),
// detail::mpmc_queue: the cell hand-over (Q-1)-(Q-4), the claim CASes, close().
#pragma once

#include "common.hpp"

namespace sigs::models {

/// True for the queue scenarios, where every queue mutant must be caught.
constexpr bool queue_scenario(scenario s) noexcept {
  return s == scenario::queue_fifo || s == scenario::queue_mpmc || s == scenario::queue_close;
}

/// the producer publishes the cell's sequence with relaxed instead of release: the
/// consumer that sees the cell full is not ordered after the element's construction.
struct queue_publish_relaxed : production {
  static constexpr const char* name = "queue_publish_relaxed";
  using policy_mutation = queue_publish_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::store && mo == std::memory_order_release && called_from(func, "try_push")
               ? std::memory_order_relaxed
               : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return queue_scenario(s) ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// the consumer loads the cell's sequence with relaxed instead of acquire.
struct queue_consume_relaxed : production {
  static constexpr const char* name = "queue_consume_relaxed";
  using policy_mutation = queue_consume_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::load && mo == std::memory_order_acquire && called_from(func, "try_pop") ? std::memory_order_relaxed
                                                                                            : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return queue_scenario(s) ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// the consumer hands the cell back to the next lap with relaxed instead of
/// release: the next lap's producer is not ordered after the move-out.
struct queue_handback_relaxed : production {
  static constexpr const char* name = "queue_handback_relaxed";
  using policy_mutation = queue_handback_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::store && mo == std::memory_order_release && called_from(func, "try_pop") ? std::memory_order_relaxed
                                                                                             : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return queue_scenario(s) ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// the producer loads the cell's sequence with relaxed instead of acquire.
struct queue_reuse_relaxed : production {
  static constexpr const char* name = "queue_reuse_relaxed";
  using policy_mutation = queue_reuse_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::load && mo == std::memory_order_acquire && called_from(func, "try_push") ? std::memory_order_relaxed
                                                                                             : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return queue_scenario(s) ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// The consumers' claim CAS on dequeue_pos_ becomes a load and a store: two consumers may
/// claim one position and pop one element twice; the second one's accesses to the cell
/// then race with the next lap's producer, which the first one's hand-over let in.
struct queue_pop_split_cas : production {
  static constexpr const char* name = "queue_pop_split_cas";
  using policy_mutation = queue_pop_split_cas;
  template <class T>
  static bool split_cas(op k, const char* func) noexcept {
    return k == op::cas_weak && called_from(func, "try_pop");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::queue_mpmc ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// The producers' claim CAS on enqueue_pos_ becomes a load and a store: two producers may
/// fill one cell.
struct queue_push_split_cas : production {
  static constexpr const char* name = "queue_push_split_cas";
  using policy_mutation = queue_push_split_cas;
  template <class T>
  static bool split_cas(op k, const char* func) noexcept {
    return k == op::cas_weak && called_from(func, "try_push");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return queue_scenario(s) ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// close()'s fetch_or becomes a load and a store: a claim between the two is overwritten
/// and enqueue_pos_ goes back, so dequeue_pos_ has passed it and drained() never holds —
/// the consumer waiting for it spins forever (LIVELOCK); the claimed element is lost.
struct queue_close_split : production {
  static constexpr const char* name = "queue_close_split";
  using policy_mutation = queue_close_split;
  template <class T>
  static bool split_cas(op k, const char* func) noexcept {
    return k == op::fetch_or && called_from(func, "close");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::queue_close ? rl::test_result_livelock : rl::test_result_success;
  }
};

}  // namespace sigs::models
