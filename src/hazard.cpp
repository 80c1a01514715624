// src/hazard.cpp — the global hazard domain, each thread's record, and the asymmetric fence.
//
// Records go back through a pthread key, not a C++ thread_local: see "How records go back"
// in sigs/detail/thread_record.hpp for why, and "fork()" there for the child handler.
#include <sigs/detail/thread_record.hpp>

#include <pthread.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace sigs::detail {
namespace {

// The key whose value is the thread's record and whose destructor hands it back. Written
// once, inside global_domain()'s initialisation, which every reader calls first.
pthread_key_t record_key;
bool have_record_key = false;

// The domain, for the fork handler: it must not run global_domain()'s initialisation in
// the child (another parent thread may have been inside it when the process forked).
default_domain* built_domain = nullptr;

// Runs at thread exit, after every C++ thread_local destructor (glibc), with the record
// the thread holds. tls_record is cleared first: anything later in the thread's exit that
// emits (another key's destructor) then takes a record through acquire_thread_record() and
// sets the key again, so glibc runs this again in its next round. Were tls_record left
// pointing here, that emission would write hazards into a record another thread may have
// taken meanwhile.
void return_record(void* rec) noexcept {
  tls_record = nullptr;
  global_domain().release_record(*static_cast<default_domain::record*>(rec));
}

#if defined(__linux__)
long membarrier(int cmd) noexcept { return ::syscall(SYS_membarrier, cmd, 0U, 0); }

bool register_asymmetric_fence() noexcept {
  // Read once per process, on the first registration; a setenv() racing it is the caller's
  // race, as for any getenv() reader.
  // NOLINTNEXTLINE(concurrency-mt-unsafe)
  if (const char* env = std::getenv("SIGS_ASYMMETRIC_FENCE"); env && std::strcmp(env, "0") == 0) return false;
  const long supported = membarrier(MEMBARRIER_CMD_QUERY);
  if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
  return membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}
#else
bool register_asymmetric_fence() noexcept { return false; }
#endif

// pthread_atfork child handler: the child runs only the forking thread. The records of
// the threads that did not follow keep their hazards, call words and waits, which would
// pin snapshots and stall remove_listener_and_wait for ever; hand them back.
void forget_other_threads_in_child() noexcept {
  if (built_domain == nullptr) return;
  built_domain->forget_other_threads(tls_record);
#if defined(__linux__)
  // The registration belongs to the mm. Linux 6.x copies it into the child (checked on
  // 6.18: the child's PRIVATE_EXPEDITED barrier succeeds without it), but nothing
  // documents that, and registering again is cheap in a one-thread process. Should it
  // fail, the domain cannot change its read path (readers and writers must agree): the
  // child's first writer barrier then fails and terminates, as in any process, and a
  // child that writes no signal (one that only calls exec) is unaffected.
  if (built_domain->asymmetric()) (void)membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED);
#endif
}

default_domain* build_domain() {
  auto* d = new default_domain;
  d->preallocate(preallocated_records);
  // Without a key (PTHREAD_KEYS_MAX keys already taken) records are still taken but never
  // handed back: each thread that emits keeps one, as if it never exited.
  have_record_key = ::pthread_key_create(&record_key, return_record) == 0;
  built_domain = d;
  // Without the handler (out of memory), a child behaves as before forget_other_threads.
  (void)::pthread_atfork(nullptr, nullptr, forget_other_threads_in_child);
  return d;
}

}  // namespace

bool std_atomics::asymmetric_fence_available() noexcept {
  static const bool available = register_asymmetric_fence();
  return available;
}

void std_atomics::writer_barrier() noexcept {
#if defined(__linux__)
  // Registered before any domain used the asymmetric path (and again in a fork child), so
  // this cannot fail with EPERM; any failure would leave readers unfenced, so it is fatal
  // rather than silent.
  if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) std::terminate();
#endif
}

default_domain& global_domain() noexcept {
  static default_domain* domain = build_domain();
  return *domain;
}

default_domain::record& acquire_thread_record() {
  default_domain& d = global_domain();
  default_domain::record& r = d.acquire_record();
  // glibc keeps the first 32 keys' values in the thread itself, so this allocates (and can
  // fail) only for a key created after 32 others.
  if (have_record_key && ::pthread_setspecific(record_key, &r) != 0) {
    d.release_record(r);
    throw std::bad_alloc();
  }
  tls_record = &r;
  return r;
}

}  // namespace sigs::detail
