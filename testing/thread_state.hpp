// testing/thread_state.hpp — whether another thread of this process is asleep (Linux).
//
//   std::atomic<long> tid{0};
//   std::thread t([&] { tid = sigs::testing::this_tid(); wait_for_something(); });
//   sigs::testing::wait_asleep(tid);  // t has started, and sleeps in the kernel
//
// Read from /proc/self/task/<tid>/stat: a test that must know a thread blocks (rather than
// spins or has not got there yet) waits for its state letter to be 'S'. Defined only where
// __linux__ is: a test that uses it skips elsewhere.
#pragma once

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace sigs::testing {

/// The kernel's id of the calling thread (gettid), as /proc/self/task names it.
inline long this_tid() { return static_cast<long>(::syscall(SYS_gettid)); }

/// The scheduler state letter of thread `tid` of this process ('R' running, 'S' asleep), or 0.
inline char thread_state(long tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ? '\0' : stat[paren + 2];
}

/// Yields until `tid` is set (non-zero: the thread has stored its this_tid()), then until
/// that thread is asleep ('S').
inline void wait_asleep(const std::atomic<long>& tid) {
  while (tid.load() == 0) std::this_thread::yield();
  while (thread_state(tid.load()) != 'S') std::this_thread::yield();
}

}  // namespace sigs::testing
#endif
