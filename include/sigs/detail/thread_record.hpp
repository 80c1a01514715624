// sigs/detail/thread_record.hpp — the production signal domain and each thread's record.
//
// Production uses one process-wide domain (hazard pointers and call words,
// call_tracking.hpp) for every signal. Each thread takes a record from it on its first
// emission and hands it back when the thread exits. The fast path is one thread-local load.
//
// Where records come from. The domain is built with `preallocated_records` free records,
// so the first threads take one without allocating; a thread allocates a record only when
// every record is held by a live thread (docs/guarantees.md, "Threads and records").
//
// How records go back (src/hazard.cpp). The record is kept in a pthread key whose
// destructor hands it back. glibc runs key destructors after every C++ thread_local
// destructor of the exiting thread, and runs them again (up to
// PTHREAD_DESTRUCTOR_ITERATIONS rounds) when one of them set a key again; so a thread that
// emits from a thread_local destructor, or from another key's destructor, still returns
// its record. The destructor clears `tls_record` before the record goes back: an emission
// later in the thread's exit then takes a record of its own instead of writing to one
// another thread may already hold.
//
// fork(). The child is a copy with one thread. A pthread_atfork child handler (installed
// with the domain) hands back every record but the forking thread's, and re-registers the
// asymmetric fence (docs/guarantees.md, "fork()").
#pragma once

#include <sigs/detail/atomics.hpp>
#include <sigs/detail/call_tracking.hpp>
#include <sigs/detail/port.hpp>

namespace sigs::detail {

/// Nesting depth served by hazard slots before the overflow fallback (hazard.hpp).
inline constexpr std::size_t default_hazard_slots = 8;

/// Free records the global domain is built with: threads up to this many holding records
/// at once take theirs without allocating.
inline constexpr std::size_t preallocated_records = 64;

using default_domain = signal_domain<std_atomics, default_hazard_slots>;

/// The process-wide domain. Never destroyed: threads may still emit during static
/// destruction, and it stays reachable, so LeakSanitizer does not report it.
default_domain& global_domain() noexcept;

/// The calling thread's record, or nullptr before its first use and after it went back.
inline thread_local default_domain::record* tls_record = nullptr;

/// Slow path of local_record(): takes a record and arranges its return at thread exit.
/// Throws std::bad_alloc when every record is held and a new one cannot be allocated.
default_domain::record& acquire_thread_record();

/// The calling thread's record (its hazards and its call words), taken on first use.
inline default_domain::record& local_record() {
  default_domain::record* r = tls_record;
  if (SIGS_LIKELY(r != nullptr)) return *r;
  return acquire_thread_record();
}

}  // namespace sigs::detail
