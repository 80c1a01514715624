// SIGS_ASYMMETRIC_FENCE: only "0" forces the seq_cst read path. Any other value leaves the
// choice to the kernel, exactly as when the variable is unset (the ctest runs named
// *.seq_cst cover "0"). This binary sets it to "1" before anything reads it.
#include <sigs/detail/thread_record.hpp>
#include <sigs/sync_signal.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace {

// Runs during static initialisation, before main() and so before the library decides.
const bool env_set = ::setenv("SIGS_ASYMMETRIC_FENCE", "1", 1) == 0;

// What the kernel offers, asked independently of the library.
bool kernel_offers_private_expedited_membarrier() {
#if defined(__linux__)
  const long supported = ::syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0U, 0);
  return supported >= 0 && (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0;
#else
  return false;
#endif
}

TEST(FenceEnvironment, AValueOtherThanZeroLeavesTheChoiceToTheKernel) {
  ASSERT_TRUE(env_set);
  EXPECT_EQ(sigs::detail::global_domain().asymmetric(), kernel_offers_private_expedited_membarrier());
  EXPECT_EQ(sigs::detail::std_atomics::asymmetric_fence_available(), sigs::detail::global_domain().asymmetric());
}

TEST(FenceEnvironment, SignalsWorkOnTheChosenPath) {
  sigs::sync_signal<int> sig;
  std::vector<int> seen;
  sig.add_listener([&](const int& v) { seen.push_back(v); }, "keep");
  std::vector<sigs::listener_id> ids;
  for (int i = 0; i < 100; ++i) ids.push_back(sig.add_listener([&](const int& v) { seen.push_back(-v); }));
  sig.emit(1);
  for (auto id : ids) EXPECT_FALSE(sig.remove_listener(id));  // enough writes to scan
  sig.emit(2);
  ASSERT_EQ(seen.size(), 102u);
  EXPECT_EQ(seen.front(), 1);
  EXPECT_EQ(seen.back(), 2);
  EXPECT_EQ(sig.size(), 1u);
}

}  // namespace
