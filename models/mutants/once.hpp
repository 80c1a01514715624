// models/mutants/once.hpp — the mutants of the once family (once_models.cpp): the
// once-listener's firing CAS and the removal's state CAS.
#pragma once

#include "common.hpp"

namespace sigs::models {

/// The once-listener's firing CAS (claim_once()) becomes a load and a store: two emissions may
/// both see "armed" and both fire.
struct once_split_cas : production {
  static constexpr const char* name = "once_split_cas";
  using policy_mutation = once_split_cas;
  template <class T>
  static bool split_cas(op k, const char* func) noexcept {
    return k == op::cas_strong && called_from(func, "claim_once");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::once_fires_once ? rl::test_result_user_assert_failed : rl::test_result_success;
  }
};

/// The removal's state CAS (kill(): live/armed -> removed) becomes a load and a store: a
/// removal and a once-listener's firing may both win.
struct kill_split_cas : production {
  static constexpr const char* name = "kill_split_cas";
  using policy_mutation = kill_split_cas;
  template <class T>
  static bool split_cas(op k, const char* func) noexcept {
    return k == op::cas_weak && called_from(func, "kill");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::once_vs_remove ? rl::test_result_user_assert_failed : rl::test_result_success;
  }
};

}  // namespace sigs::models
