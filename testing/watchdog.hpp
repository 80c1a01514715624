// testing/watchdog.hpp — turns a test that would hang into a test that fails.
//
//   sigs::testing::watchdog dog(std::chrono::seconds(10), "drain after a discarding shutdown");
//   sig.drain();  // a regression that never returns aborts the process after 10 s
//   // ~watchdog disarms it
//
// A watchdog starts a thread that waits for the given time on a condition variable. If the
// watchdog is still armed then, it prints the test's name and what was being waited for to
// stderr and calls std::abort(), so the test process ends (ctest reports the failure) instead
// of hanging the CI lane until its global timeout. The destructor disarms it and joins the
// thread. The limit is a bound on a hang, not a measurement: keep it generous (sanitizer
// builds are slow) and never use it to assert on speed.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace sigs::testing {

class watchdog {
 public:
  /// Arms a watchdog that aborts the process unless destroyed within `limit`. `what` says
  /// what is being waited for; it is printed on abort.
  template <class Rep, class Period>
  watchdog(std::chrono::duration<Rep, Period> limit, std::string what)
      : what_(std::move(what)), test_(current_test_name()) {
    const auto wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(limit);
    thread_ = std::thread([this, wait] { watch(wait); });
  }

  /// Disarms the watchdog and joins its thread.
  ~watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      disarmed_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

 private:
  // Read on the test's thread: gtest's current test is not meant to be read from another one.
  static std::string current_test_name() {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    if (info == nullptr) return "(no test)";
    return std::string(info->test_suite_name()) + "." + info->name();
  }

  void watch(std::chrono::steady_clock::duration limit) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (cv_.wait_for(lock, limit, [this] { return disarmed_; })) return;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(limit).count();
    std::fprintf(stderr, "\nwatchdog: %s: still waiting for %s after %lld ms; aborting\n", test_.c_str(), what_.c_str(),
                 static_cast<long long>(ms));
    std::fflush(stderr);
    std::abort();
  }

  const std::string what_;
  const std::string test_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool disarmed_ = false;  // guarded by mutex_
  std::thread thread_;     // started last, once everything it reads is built
};

}  // namespace sigs::testing
