// What the library does when the process cannot give it what it prefers, decided once
// when the global hazard domain is built. Each case runs in a fresh child process (a gtest
// death test in the "threadsafe" style re-executes the binary), where nothing is decided yet:
//   - membarrier(2) answers its query but offers no private expedited command: the seq_cst
//     read path is chosen (membarrier_test.cpp covers a membarrier that fails outright);
//   - no pthread key is left for the records' hand-back at thread exit: records are still
//     taken, and kept by their threads as if those never exited (docs/guarantees.md);
//   - several threads ask for the read path at once: the kernel is asked once, and they
//     all get its one answer.
#include <sigs/detail/thread_record.hpp>
#include <sigs/sync_signal.hpp>

#include <testing/seccomp.hpp>
#include <testing/signal_round_trip.hpp>
#include <testing/thread_state.hpp>

#include <gtest/gtest.h>

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#if defined(SIGS_TEST_SECCOMP)
#include <signal.h>
#include <ucontext.h>

#include <cerrno>
#endif

namespace {

using sigs::testing::signal_round_trip;

#if defined(SIGS_TEST_SECCOMP)
using sigs::testing::filter_membarrier;
using sigs::testing::membarrier_supports_nothing;

// Every later membarrier() call traps to on_membarrier(), which parks the calling thread
// until `membarrier_go`, then makes the call fail with ENOSYS.
std::atomic<bool> membarrier_parked{false};
std::atomic<bool> membarrier_go{false};

void on_membarrier(int, siginfo_t*, void* context) {
  membarrier_parked.store(true);
  while (!membarrier_go.load()) {}
  auto* uc = static_cast<ucontext_t*>(context);
#if defined(__x86_64__)
  uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
#else
  uc->uc_mcontext.regs[0] = static_cast<unsigned long long>(-ENOSYS);
#endif
}

bool park_membarrier_callers() {
  struct sigaction sa {};
  sa.sa_sigaction = on_membarrier;
  sa.sa_flags = SA_SIGINFO;
  if (::sigaction(SIGSYS, &sa, nullptr) != 0) return false;
  return filter_membarrier(SECCOMP_RET_TRAP);
}
#endif

TEST(PlatformFallbacksDeathTest, AMembarrierWithoutThePrivateExpeditedCommandLeavesTheSeqCstPath) {
#if defined(SIGS_TEST_SECCOMP)
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process: nothing decided yet
  EXPECT_EXIT(
      {
        if (!membarrier_supports_nothing()) {
          std::fprintf(stderr, "seccomp unavailable: nothing to check\n");
          std::exit(0);
        }
        const bool seq_cst = !sigs::detail::std_atomics::asymmetric_fence_available() &&
                             !sigs::detail::global_domain().asymmetric() &&
                             sigs::detail::global_domain().scan_batch() == 1;
        std::exit(seq_cst && signal_round_trip() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
#else
  GTEST_SKIP() << "needs Linux seccomp";
#endif
}

// Every pthread key taken when the domain is built: signals work, and each thread that
// emits keeps its record after it exits (there is no key whose destructor would hand it
// back), so short-lived threads use up the preallocated records and then allocate more.
TEST(PlatformFallbacksDeathTest, WithoutAPthreadKeyThreadsKeepTheirRecords) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        std::vector<pthread_key_t> keys;
        for (pthread_key_t k; keys.size() < 100000 && ::pthread_key_create(&k, nullptr) == 0;) keys.push_back(k);
        sigs::sync_signal<int> sig;  // builds the domain: no key left for it
        std::atomic<int> calls{0};
        sig.add_listener([&](const int&) { calls.fetch_add(1); });
        sig.emit(0);
        for (pthread_key_t k : keys) ::pthread_key_delete(k);

        constexpr int threads = static_cast<int>(sigs::detail::preallocated_records) + 16;
        for (int i = 0; i < threads; ++i) std::thread([&] { sig.emit(1); }).join();
        const std::size_t records = sigs::detail::global_domain().record_count();
        const bool kept = records >= static_cast<std::size_t>(threads) + 1;  // and the main thread's
        if (!kept) std::fprintf(stderr, "%zu records after %d threads\n", records, threads);
        std::exit(kept && calls.load() == threads + 1 && signal_round_trip() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// The first emissions of a process, on several threads at once, all ask which read path to
// take. The kernel is asked once (here it answers slowly, then refuses); a thread that asks
// meanwhile waits for that answer instead of asking again, and every thread gets the same.
TEST(PlatformFallbacksDeathTest, ThreadsAskingForTheReadPathAtOnceGetTheOneAnswer) {
#if defined(SIGS_TEST_SECCOMP)
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        if (!park_membarrier_callers()) {
          std::fprintf(stderr, "seccomp unavailable: nothing to check\n");
          std::exit(0);
        }
        std::atomic<int> asked{0};
        bool first = true;
        bool second = true;
        std::thread a([&] {
          first = sigs::detail::std_atomics::asymmetric_fence_available();
          asked.fetch_add(1);
        });
        while (!membarrier_parked.load()) std::this_thread::yield();  // a asks the kernel
        std::atomic<long> tid{0};
        std::thread b([&] {
          tid = sigs::testing::this_tid();
          second = sigs::detail::std_atomics::asymmetric_fence_available();
          asked.fetch_add(1);
        });
        sigs::testing::wait_asleep(tid);  // b waits for a's answer
        const bool waited = asked.load() == 0;
        membarrier_go = true;
        a.join();
        b.join();
        const bool one_answer = !first && !second && !sigs::detail::global_domain().asymmetric();
        std::exit(waited && one_answer && signal_round_trip() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
#else
  GTEST_SKIP() << "needs Linux seccomp";
#endif
}

}  // namespace
