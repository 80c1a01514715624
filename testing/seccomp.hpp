// testing/seccomp.hpp — seccomp filters that make membarrier(2) fail (Linux x86-64/AArch64).
//
//   #if defined(SIGS_TEST_SECCOMP)
//     if (!sigs::testing::refuse_membarrier()) skip();  // a sandbox that forbids filters
//   #endif
//
// Defines SIGS_TEST_SECCOMP where the filters are available; tests skip without it. A
// filter applies to the whole process for the rest of its life and cannot be removed: use
// it in a child process (a gtest death test in the "threadsafe" style).
#pragma once

#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
#define SIGS_TEST_SECCOMP 1
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace sigs::testing {

/// Installs a filter whose action for every later membarrier() call of this process is
/// `action` (a SECCOMP_RET_* value). False when the filter cannot be installed (a sandbox
/// that forbids it).
inline bool filter_membarrier(std::uint32_t action) {
#if defined(__x86_64__)
  constexpr unsigned arch = AUDIT_ARCH_X86_64;
#else
  constexpr unsigned arch = AUDIT_ARCH_AARCH64;
#endif
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_membarrier, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, action),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  // All threads (sanitizer runtimes may have their own), else at least this one.
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) == 0) return true;
  return ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

/// Every later membarrier() call of this process fails with ENOSYS.
inline bool refuse_membarrier() { return filter_membarrier(SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)); }

/// Every later membarrier() call returns 0 without running ("errno 0"): a query then
/// reports no supported command.
inline bool membarrier_supports_nothing() { return filter_membarrier(SECCOMP_RET_ERRNO | 0); }

}  // namespace sigs::testing
#endif
