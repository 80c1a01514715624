// models/mutants/envelope.hpp — the mutants of the envelope family (envelope_models.cpp),
// detail::async_delivery's envelope: the reference drop (ENV-R1), the claim RMW, the first drop
// reason's RMW.
#pragma once

#include "common.hpp"

namespace sigs::models {

/// (ENV-R1) release_ref()'s drop is relaxed instead of acq_rel: the finaliser is ordered
/// neither after the other copies' counts and payload reads nor they before its destruction.
struct envelope_release_relaxed : production {
  static constexpr const char* name = "envelope_release_relaxed";
  using policy_mutation = envelope_release_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::fetch_sub && called_from(func, "release_ref") ? std::memory_order_relaxed : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::envelope_copies ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (ENV-R1) release_ref()'s drop is release only: every copy publishes, but the last one
/// does not acquire what the others published.
struct envelope_release_no_acquire : production {
  static constexpr const char* name = "envelope_release_no_acquire";
  using policy_mutation = envelope_release_no_acquire;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::fetch_sub && called_from(func, "release_ref") ? std::memory_order_release : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::envelope_copies ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// claim()'s fetch_add becomes a load and a store: two copies may claim one listener.
struct envelope_claim_split : production {
  static constexpr const char* name = "envelope_claim_split";
  using policy_mutation = envelope_claim_split;
  template <class T>
  static bool split_cas(op k, const char* func) noexcept {
    return k == op::fetch_add && called_from(func, "claim");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::envelope_copies ? rl::test_result_user_assert_failed : rl::test_result_success;
  }
};

/// note_drop()'s exchange becomes a load and a store: two copies that drop listeners at
/// once may both write the reason.
struct envelope_reason_split : production {
  static constexpr const char* name = "envelope_reason_split";
  using policy_mutation = envelope_reason_split;
  template <class T>
  static bool split_cas(op k, const char* func) noexcept {
    return k == op::exchange && called_from(func, "note_drop");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::envelope_drops ? rl::test_result_data_race : rl::test_result_success;
  }
};

}  // namespace sigs::models
