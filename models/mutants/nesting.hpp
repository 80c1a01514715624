// models/mutants/nesting.hpp — the mutants of the nesting family (nesting_models.cpp): the
// slot stack of nested emissions (b) and the overflow-reader count past it (HP-O1/HP-O2,
// HP-S2) (f).
#pragma once

#include "common.hpp"

namespace sigs::models {

/// Every guard of a thread uses slot 0, as if a record had a single hazard pointer: a
/// nested emission overwrites, then clears, the hazard of the emission around it.
template <class A, std::size_t Slots>
class shared_slot_domain : public production_domain<A, Slots> {
  using base = production_domain<A, Slots>;

 public:
  using base::base;
  class guard : public base::guard {
   public:
    guard(shared_slot_domain& d, typename base::record& r) noexcept : base::guard(d, r), rec_(r) {}

    template <class T, class Atomic>
    T* protect(const Atomic& src, sigs::detail::overflow_count<A>& overflow) noexcept {
      const std::size_t depth = rec_.depth;
      rec_.depth = 0;  // the production guard then takes slot 0 and sets depth to 1
      T* p = base::guard::template protect<T>(src, overflow);
      rec_.depth = depth + 1;  // keeps the production clear()'s bookkeeping balanced
      return p;
    }

   private:
    typename base::record& rec_;
  };
};

struct shared_slot : production {
  static constexpr const char* name = "shared_slot";
  template <class A, std::size_t Slots>
  using domain = shared_slot_domain<A, Slots>;
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::nested_emit ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (HP-S2) scan() ignores its signal's overflow-reader count: it frees snapshots that a
/// reader past its slot stack (HP-O1) is walking.
struct overflow_ignored : production {
  static constexpr const char* name = "overflow_ignored";
  using policy_mutation = overflow_ignored;
  template <class T>
  static T loaded(T v, std::memory_order mo, const char* func) noexcept {
    if constexpr (std::is_same_v<T, std::size_t>) {
      if (mo == std::memory_order_seq_cst && called_from(func, "scan")) return 0;
    }
    return v;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::overflow_fallback ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (HP-O1) the overflow-reader count is raised with relaxed instead of seq_cst.
struct overflow_publish_relaxed : production {
  static constexpr const char* name = "overflow_publish_relaxed";
  using policy_mutation = overflow_publish_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::fetch_add && called_from(func, "protect") ? std::memory_order_relaxed : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::overflow_fallback ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (HP-O2) the overflow-reader count is dropped with relaxed instead of release.
struct overflow_done_relaxed : production {
  static constexpr const char* name = "overflow_done_relaxed";
  using policy_mutation = overflow_done_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::fetch_sub && called_from(func, "clear") ? std::memory_order_relaxed : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::overflow_fallback ? rl::test_result_data_race : rl::test_result_success;
  }
};

}  // namespace sigs::models
