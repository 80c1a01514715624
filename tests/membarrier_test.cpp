// The asymmetric read path rests on membarrier(2). Where the kernel refuses it the library
// must fall back to the seq_cst path, and once registered a barrier that fails must be fatal
// (readers would be left unfenced). Both are simulated in a child process (a gtest death
// test) by a seccomp filter that makes membarrier fail with ENOSYS.
#include <sigs/detail/thread_record.hpp>
#include <sigs/sync_signal.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

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
#endif

namespace {

#if defined(SIGS_TEST_SECCOMP)
// Makes every later membarrier() call of this process fail with ENOSYS. False when the
// filter cannot be installed (a sandbox that forbids it).
bool refuse_membarrier() {
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
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  // All threads (sanitizer runtimes may have their own), else at least this one.
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) == 0) return true;
  return ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}
#endif

// Adds and removes enough listeners for scans to run on either path, emitting in between.
bool signal_round_trip() {
  sigs::sync_signal<int> sig;
  int calls = 0;
  sig.add_listener([&](const int&) { ++calls; });
  std::vector<sigs::listener_id> ids;
  for (int i = 0; i < 64; ++i) ids.push_back(sig.add_listener([&](const int&) { ++calls; }));
  sig.emit(0);
  for (auto id : ids) {
    if (sig.remove_listener(id)) return false;
  }
  sig.emit(0);
  return calls == 66 && sig.size() == 1;
}

TEST(MembarrierDeathTest, WithoutMembarrierTheSeqCstPathIsChosen) {
#if defined(SIGS_TEST_SECCOMP)
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process: nothing decided yet
  EXPECT_EXIT(
      {
        if (!refuse_membarrier()) {
          std::fprintf(stderr, "seccomp unavailable: nothing to check\n");
          std::exit(0);
        }
        const bool seq_cst = !sigs::detail::std_atomics::asymmetric_fence_available() &&
                             !sigs::detail::global_domain().asymmetric();
        std::exit(seq_cst && signal_round_trip() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
#else
  GTEST_SKIP() << "needs Linux seccomp";
#endif
}

TEST(MembarrierDeathTest, AWriterBarrierThatFailsIsFatal) {
#if defined(SIGS_TEST_SECCOMP)
  if (!sigs::detail::std_atomics::asymmetric_fence_available()) {
    GTEST_SKIP() << "the asymmetric read path is not in use here";
  }
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        if (!sigs::detail::global_domain().asymmetric()) std::exit(1);  // registered here
        std::set_terminate([] { std::exit(42); });  // exit, not abort: observable, and flushes
        if (!refuse_membarrier()) {
          std::fprintf(stderr, "seccomp unavailable: nothing to check\n");
          std::exit(42);
        }
        signal_round_trip();  // its scans call the writer barrier, which now fails
        std::exit(0);
      },
      ::testing::ExitedWithCode(42), "");
#else
  GTEST_SKIP() << "needs Linux seccomp";
#endif
}

}  // namespace
