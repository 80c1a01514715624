// The global pool is built on its first use. Threads that ask for it while another thread
// is building it wait for that build and get the same pool; the options set before the
// first use are the ones it is built with, and later ones are refused.
//
// To hold the build open, the building thread parks in its first allocation (a replaced
// global operator new, so its own binary; not under ASan/TSan, whose runtimes define
// operator new themselves) until the second thread is seen asleep, waiting for it.
#include <sigs/worker_pool.hpp>

#include <testing/watchdog.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <latch>
#include <new>
#include <string>
#include <thread>

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#error "the sanitizer runtime owns operator new: build this test without sanitizers"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#error "the sanitizer runtime owns operator new: build this test without sanitizers"
#endif
#endif

namespace {

constinit thread_local bool park_in_next_new = false;  // this thread parks in its next allocation
std::atomic<bool> parked{false};
std::atomic<bool> unparked{false};

void* allocate(std::size_t n) {
  if (park_in_next_new) {
    park_in_next_new = false;
    parked = true;
    while (!unparked.load()) std::this_thread::yield();
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

void* allocate_aligned(std::size_t n, std::align_val_t align) {
  std::size_t a = static_cast<std::size_t>(align);
  if (a < sizeof(void*)) a = sizeof(void*);
  void* p = nullptr;
  if (::posix_memalign(&p, a, n == 0 ? 1 : n) == 0) return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void* operator new(std::size_t n, std::align_val_t a) { return allocate_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return allocate_aligned(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

using namespace std::chrono_literals;
using sigs::testing::watchdog;

constexpr auto hang_limit = 10s;

#if defined(__linux__)
/// The scheduler state letter of thread `tid` of this process ('R' running, 'S' asleep), or 0.
char thread_state(long tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ? 0 : stat[paren + 2];
}
#endif

TEST(GlobalPoolFirstUse, AThreadAskingWhileThePoolIsBuiltWaitsAndGetsTheSamePool) {
#if !defined(__linux__)
  GTEST_SKIP() << "reads /proc";
#else
  ASSERT_TRUE(sigs::worker_pool::set_global_threads(3));  // nothing has used the global pool yet
  watchdog dog(hang_limit, "two threads' first use of the global pool");
  sigs::worker_pool* built = nullptr;
  std::atomic<sigs::worker_pool*> waited{nullptr};
  std::thread builder([&] {
    park_in_next_new = true;  // the pool's first allocation, inside its construction
    built = &sigs::worker_pool::global();
  });
  while (!parked.load()) std::this_thread::yield();
  std::atomic<long> tid{0};
  std::thread waiter([&] {
    tid = static_cast<long>(::syscall(SYS_gettid));
    waited = &sigs::worker_pool::global();
  });
  while (tid.load() == 0) std::this_thread::yield();
  while (thread_state(tid.load()) != 'S') std::this_thread::yield();  // waiting for the build
  EXPECT_EQ(waited.load(), nullptr);
  unparked = true;
  builder.join();
  waiter.join();
  ASSERT_NE(built, nullptr);
  EXPECT_EQ(built, waited.load());
  EXPECT_EQ(built, &sigs::worker_pool::global());
  EXPECT_EQ(built->threads(), 3u);
  EXPECT_FALSE(sigs::worker_pool::set_global_threads(1));  // built: too late
  EXPECT_FALSE(sigs::worker_pool::set_global_options({.threads = 1, .queue_capacity = 4}));

  std::latch ran(1);
  sigs::worker_pool::task t = [&] { ran.count_down(); };
  EXPECT_FALSE(built->submit(t));
  ran.wait();
#endif
}

}  // namespace
