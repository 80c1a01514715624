// models/mutants/held.hpp — the mutants of the held family (held_models.cpp): the hold
// count of a held snapshot (CORE-K3/K4).
#pragma once

#include "common.hpp"

namespace sigs::models {

/// (CORE-K3) release() unpins with relaxed instead of release: a scan that sees the unpin
/// (CORE-K4) frees the snapshot without being ordered after the worker's last read of it.
struct unpin_relaxed : production {
  static constexpr const char* name = "unpin_relaxed";
  using policy_mutation = unpin_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::fetch_add && called_from(func, "release") ? std::memory_order_relaxed : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::held_snapshot ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (CORE-K4) scan() ignores the hold count: it frees a held snapshot a worker will still run.
/// Both its loads of the count (unpins, then pins) read 0, so the count looks balanced.
struct scan_ignores_holds : production {
  static constexpr const char* name = "scan_ignores_holds";
  using policy_mutation = scan_ignores_holds;
  template <class T>
  static T loaded(T v, std::memory_order, const char* func) noexcept {
    if constexpr (std::is_same_v<T, std::size_t>) {
      if (called_from(func, "scan")) return 0;
    }
    return v;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::held_snapshot ? rl::test_result_data_race : rl::test_result_success;
  }
};

}  // namespace sigs::models
