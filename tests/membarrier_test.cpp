// The asymmetric read path rests on membarrier(2). Where the kernel refuses it the library
// must fall back to the seq_cst path, and once registered a barrier that fails must be fatal
// (readers would be left unfenced). Both are simulated in a child process (a gtest death
// test) by a seccomp filter that makes membarrier fail with ENOSYS.
#include <sigs/detail/thread_record.hpp>
#include <sigs/sync_signal.hpp>

#include <testing/seccomp.hpp>
#include <testing/signal_round_trip.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

namespace {

#if defined(SIGS_TEST_SECCOMP)
using sigs::testing::refuse_membarrier;
#endif
using sigs::testing::signal_round_trip;

TEST(MembarrierDeathTest, WithoutMembarrierTheSeqCstPathIsChosen) {
#if defined(SIGS_TEST_SECCOMP)
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process: nothing decided yet
  EXPECT_EXIT(
      {
        if (!refuse_membarrier()) {
          std::fprintf(stderr, "seccomp unavailable: nothing to check\n");
          std::exit(0);
        }
        const bool seq_cst =
            !sigs::detail::std_atomics::asymmetric_fence_available() && !sigs::detail::global_domain().asymmetric();
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
        std::set_terminate([] { std::exit(42); });                      // exit, not abort: observable, and flushes
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
