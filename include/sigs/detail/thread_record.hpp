// sigs/detail/thread_record.hpp — the production hazard domain and each thread's record.
//
// Production uses one process-wide hazard domain for every signal. Each thread takes a
// record from it on its first emission and hands it back when the thread exits. The fast
// path is one thread-local load.
#pragma once

#include <sigs/detail/atomics.hpp>
#include <sigs/detail/hazard.hpp>
#include <sigs/detail/port.hpp>

namespace sigs::detail {

/// Nesting depth served by hazard slots before the overflow fallback (hazard.hpp).
inline constexpr std::size_t default_hazard_slots = 8;

using default_domain = hazard_domain<std_atomics, default_hazard_slots>;

/// The process-wide domain. Never destroyed: threads may still emit during static
/// destruction, and it stays reachable, so LeakSanitizer does not report it.
default_domain& global_domain() noexcept;

/// The calling thread's record, or nullptr before its first use.
inline thread_local default_domain::record* tls_record = nullptr;

/// Slow path of local_record(): takes a record and arranges its return at thread exit.
default_domain::record& acquire_thread_record();

/// The calling thread's hazard record.
inline default_domain::record& local_record() {
  default_domain::record* r = tls_record;
  if (SIGS_LIKELY(r != nullptr)) return *r;
  return acquire_thread_record();
}

}  // namespace sigs::detail
