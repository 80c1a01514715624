// models/mutants/snapshot.hpp — the mutants of the snapshot family (snapshot_models.cpp):
// emission racing writers — hazard publish (HP-H1), validation (HP-H2, HP-H2a), snapshot
// publish (CORE-P1), the scan (HP-S1, HP-R5), the hazard clear (HP-H3), the writer barrier
// (HP-W1) — and the logical removal an emission must respect.
#pragma once

#include "common.hpp"

namespace sigs::models {

/// (HP-H1) the hazard publish in protect() is relaxed instead of seq_cst: the writer's
/// scan (HP-S1) may miss a hazard the reader then relies on.
struct hazard_publish_relaxed : production {
  static constexpr const char* name = "hazard_publish_relaxed";
  using policy_mutation = hazard_publish_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::exchange && called_from(func, "protect") ? std::memory_order_relaxed : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (HP-H2) protect() still performs the validating load but ignores what it read,
/// returning its first (relaxed) guess: the snapshot may have been retired and freed before
/// HP-H1.
struct no_revalidate : production {
  static constexpr const char* name = "no_revalidate";
  using policy_mutation = no_revalidate;
  template <class T>
  static bool reuse_guess(std::memory_order mo, const char* func) noexcept {
    return mo == std::memory_order_seq_cst && called_from(func, "protect");
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers ? rl::test_result_access_to_freed_memory : rl::test_result_success;
  }
};

/// (CORE-P1) the snapshot publish in republish() is relaxed: a reader may see the new
/// snapshot without the construction of its listeners.
struct snapshot_publish_relaxed : production {
  static constexpr const char* name = "snapshot_publish_relaxed";
  using policy_mutation = snapshot_publish_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::store && called_from(func, "republish") ? std::memory_order_relaxed : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (CORE-P1) the snapshot publish is release instead of seq_cst: the store-load order
/// between CORE-P1 and the scan (HP-S1) against HP-H1 and HP-H2 is lost.
struct snapshot_publish_release : production {
  static constexpr const char* name = "snapshot_publish_release";
  using policy_mutation = snapshot_publish_release;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::store && called_from(func, "republish") ? std::memory_order_release : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers ? rl::test_result_access_to_freed_memory : rl::test_result_success;
  }
};

/// (HP-S1) the scan reads hazard slots with acquire instead of seq_cst.
struct scan_acquire : production {
  static constexpr const char* name = "scan_acquire";
  using policy_mutation = scan_acquire;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::load && std::is_same_v<T, const void*> && mo == std::memory_order_seq_cst &&
                   called_from(func, "collect")
               ? std::memory_order_acquire
               : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// collect() still reads every slot but forgets what it found: scans free snapshots that
/// readers hold.
template <class A, std::size_t Slots>
class scan_ignores_slots_domain : public production_domain<A, Slots> {
  using base = production_domain<A, Slots>;

 public:
  using base::base;
  void collect(std::vector<const void*>& out) const {
    base::collect(out);
    out.clear();
  }
};

struct scan_ignores_slots : production {
  static constexpr const char* name = "scan_ignores_slots";
  template <class A, std::size_t Slots>
  using domain = scan_ignores_slots_domain<A, Slots>;
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (HP-R3, HP-R5) the record-list push in acquire_record() is release and the scan reads
/// the list head in collect() with acquire only, as before the fix in docs/models.md: a
/// scan may read a stale list head and never look at a record whose hazard (or whose
/// release, HP-H3) it needed.
struct record_list_acquire : production {
  static constexpr const char* name = "record_list_acquire";
  using policy_mutation = record_list_acquire;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    if (k == op::cas_weak && called_from(func, "acquire_record") && mo == std::memory_order_seq_cst)
      return std::memory_order_release;
    if (k == op::load && !std::is_same_v<T, const void*> && called_from(func, "collect") &&
        mo == std::memory_order_seq_cst)
      return std::memory_order_acquire;
    return mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (HP-H3) the hazard clear is relaxed instead of release: the writer that sees the empty
/// slot is not ordered after the reader's last use of the snapshot and its listeners.
struct hazard_clear_relaxed : production {
  static constexpr const char* name = "hazard_clear_relaxed";
  using policy_mutation = hazard_clear_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::store && mo == std::memory_order_release && called_from(func, "clear") ? std::memory_order_relaxed
                                                                                           : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (HP-W1) the asymmetric fence's writer barrier does nothing: a scan may miss a reader's
/// relaxed hazard store (HP-H1a) while that reader's acquire validation (HP-H2a) missed
/// CORE-P1.
struct no_writer_barrier : production {
  static constexpr const char* name = "no_writer_barrier";
  using policy_mutation = no_writer_barrier;
  static constexpr bool skip_writer_barrier = true;
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers_asym ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// (HP-H2a) the asymmetric path validates with a relaxed load instead of acquire: a reader
/// may use a snapshot whose listeners' construction it has not synchronised with.
struct validate_relaxed : production {
  static constexpr const char* name = "validate_relaxed";
  using policy_mutation = validate_relaxed;
  template <class T>
  static std::memory_order order(op k, std::memory_order mo, const char* func) noexcept {
    return k == op::load && mo == std::memory_order_acquire && called_from(func, "protect") ? std::memory_order_relaxed
                                                                                            : mo;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::emit_vs_writers_asym ? rl::test_result_data_race : rl::test_result_success;
  }
};

/// emit (run_entry()) skips the logical-removal check: an entry whose state says "removed" is called
/// anyway while its (older) snapshot is being walked.
struct emit_ignores_state : production {
  static constexpr const char* name = "emit_ignores_state";
  using policy_mutation = emit_ignores_state;
  template <class T>
  static T loaded(T v, std::memory_order, const char* func) noexcept {
    if constexpr (std::is_same_v<T, std::uint32_t>) {
      if (v == sigs::detail::state_removed && called_from(func, "run_entry")) return sigs::detail::state_live;
    }
    return v;
  }
  static constexpr rl::test_result_e expect(scenario s) noexcept {
    return s == scenario::removal_then_emit ? rl::test_result_user_assert_failed : rl::test_result_success;
  }
};

}  // namespace sigs::models
