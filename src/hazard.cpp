#include <sigs/detail/thread_record.hpp>

#include <cstdlib>
#include <cstring>
#include <exception>

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace sigs::detail {
namespace {

// Returns the thread's record to the domain when the thread exits.
struct record_owner {
  default_domain::record* rec = nullptr;
  ~record_owner();
};

// Set once record_owner is destroyed: a thread_local destroyed after it (and emitting in
// its destructor) then gets a record that is never handed back rather than touching a
// dead object. The record stays in the domain's list, so nothing leaks.
thread_local bool owner_gone = false;
thread_local record_owner owner;

record_owner::~record_owner() {
  owner_gone = true;
  if (rec) {
    tls_record = nullptr;
    global_domain().release_record(*rec);
  }
}

#if defined(__linux__)
long membarrier(int cmd) noexcept { return ::syscall(SYS_membarrier, cmd, 0U, 0); }

bool register_asymmetric_fence() noexcept {
  if (const char* env = std::getenv("SIGS_ASYMMETRIC_FENCE"); env && std::strcmp(env, "0") == 0) return false;
  const long supported = membarrier(MEMBARRIER_CMD_QUERY);
  if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
  return membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}
#else
bool register_asymmetric_fence() noexcept { return false; }
#endif

}  // namespace

bool std_atomics::asymmetric_fence_available() noexcept {
  static const bool available = register_asymmetric_fence();
  return available;
}

void std_atomics::writer_barrier() noexcept {
#if defined(__linux__)
  // Registered before any domain used the asymmetric path, so this cannot fail with
  // EPERM; any failure would leave readers unfenced, so it is fatal rather than silent.
  if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) std::terminate();
#endif
}

default_domain& global_domain() noexcept {
  static default_domain* domain = new default_domain;
  return *domain;
}

default_domain::record& acquire_thread_record() {
  default_domain::record& r = global_domain().acquire_record();
  tls_record = &r;
  if (!owner_gone) owner.rec = &r;
  return r;
}

}  // namespace sigs::detail
