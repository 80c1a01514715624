// Each thread's hazard record (include/sigs/detail/thread_record.hpp, src/hazard.cpp): it
// goes back to the domain whatever the order of the thread's exit destructors, two threads
// never use one record at once, and a fork() child forgets the threads that did not follow.
#include <sigs/detail/thread_record.hpp>
#include <sigs/sync_signal.hpp>

#include <testing/watchdog.hpp>

#include <gtest/gtest.h>

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using sigs::sync_signal;
using sigs::detail::global_domain;

// Emits on `sig` from a thread_local destructor. A thread that sets it before its first
// emission constructs it before anything the library keeps per thread, so it is destroyed
// after all of that (thread_locals die in reverse order of construction).
struct emit_at_exit {
  sync_signal<int>* sig = nullptr;
  ~emit_at_exit() {
    if (sig) sig->emit(2);
  }
};
thread_local emit_at_exit at_exit;

// Runs `total` threads of `body`, `live` at a time.
template <class F>
void run_threads(int total, int live, F body) {
  for (int started = 0; started < total; started += live) {
    std::vector<std::thread> batch;
    for (int i = 0; i < live && started + i < total; ++i) batch.emplace_back(body);
    for (auto& t : batch) t.join();
  }
}

TEST(ThreadRecord, ThreadsThatEmitFromThreadLocalDestructorsHandTheirRecordsBack) {
  sync_signal<int> sig;
  std::atomic<long> calls{0};
  sig.add_listener([&](const int&) { calls.fetch_add(1, std::memory_order_relaxed); });  // relaxed: read after join
  const std::size_t before = global_domain().record_count();
  constexpr int total = 10000;
  constexpr int live = 4;
  run_threads(total, live, [&] {
    at_exit.sig = &sig;
    sig.emit(1);
  });
  const std::size_t after = global_domain().record_count();
  std::printf("records: %zu before, %zu after %d threads (%d at a time) emitting at exit\n", before, after, total,
              live);
  EXPECT_EQ(calls.load(), 2L * total);
  // At most `live` threads held a record at once besides those holding one before.
  EXPECT_LE(after, before + live);
}

// Which thread uses which record, seen from inside listeners: two threads inside a
// listener at once with the same record is the fault looked for.
class record_users {
 public:
  // The calling thread is inside a listener, emitting with `rec`.
  bool enter(const void* rec) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto [it, fresh] = users_.try_emplace(rec, std::this_thread::get_id(), 0);
    if (!fresh && it->second.first != std::this_thread::get_id()) {
      ++violations_;
      return false;
    }
    ++it->second.second;
    return true;
  }
  void leave(const void* rec) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = users_.find(rec);
    if (--it->second.second == 0) users_.erase(it);
  }
  void flag() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++violations_;
  }
  int violations() {
    std::lock_guard<std::mutex> lock(mutex_);
    return violations_;
  }

 private:
  std::mutex mutex_;
  std::map<const void*, std::pair<std::thread::id, int>> users_;  // record -> (thread, nesting)
  int violations_ = 0;
};

TEST(ThreadRecord, EmissionsDuringThreadExitNeverUseARecordAnotherThreadHolds) {
  sync_signal<int> sig;  // builds the domain, and so creates the library's key first
  record_users users;
  std::atomic<long> calls{0};
  sig.add_listener([&](const int&) {
    calls.fetch_add(1, std::memory_order_relaxed);  // relaxed: read after join
    const auto* rec = sigs::detail::tls_record;
    // relaxed: the flag of the record this thread holds, which it set itself.
    if (rec == nullptr || !rec->in_use.load(std::memory_order_relaxed)) {
      users.flag();  // emitting with no record, or one handed back already
      return;
    }
    if (!users.enter(rec)) return;
    std::this_thread::sleep_for(std::chrono::microseconds(50));  // widen the window
    users.leave(rec);
  });
  // A key created after the library's: glibc runs its destructor after the library's in
  // the same round, so this emission comes after the thread's record went back.
  pthread_key_t late_key;
  ASSERT_EQ(::pthread_key_create(&late_key, [](void* s) { static_cast<sync_signal<int>*>(s)->emit(3); }), 0);
  const std::size_t before = global_domain().record_count();
  constexpr int total = 2000;
  constexpr int live = 8;
  run_threads(total, live, [&] {
    at_exit.sig = &sig;                     // emits during the C++ thread_local destructors
    ::pthread_setspecific(late_key, &sig);  // and again after the library's key destructor
    sig.emit(1);
  });
  ::pthread_key_delete(late_key);
  const std::size_t after = global_domain().record_count();
  std::printf("records: %zu before, %zu after %d threads (%d at a time) emitting at exit twice\n", before, after, total,
              live);
  EXPECT_EQ(calls.load(), 3L * total);
  EXPECT_EQ(users.violations(), 0);
  EXPECT_LE(after, before + live);
}

// ---- fork() ----------------------------------------------------------------------------

// Counts the live copies of a listener callable: zero once the signal freed the last
// snapshot that held it.
struct counted {
  static inline std::atomic<int> live{0};
  counted() noexcept { live.fetch_add(1, std::memory_order_relaxed); }  // relaxed: a count, read single-threaded
  counted(const counted&) noexcept { live.fetch_add(1, std::memory_order_relaxed); }
  counted& operator=(const counted&) noexcept = default;
  ~counted() { live.fetch_sub(1, std::memory_order_relaxed); }
};

// The coverage lane must see the fork handler run (tests/CMakeLists.txt sets the switch).
// g++ --coverage turns a call of fork() into __gcov_fork(), which zeroes the child's
// counters after the handlers ran: call it through a pointer instead. And the child ends
// with _exit, so it writes its counters itself (libgcov's __gcov_dump).
#if defined(SIGS_TEST_GCOV_DUMP)
extern "C" void __gcov_dump(void);
pid_t (*volatile fork_process)() = ::fork;
#else
pid_t fork_process() { return ::fork(); }
#endif

// The child's side: every check, as an exit code (0: all passed).
int child_checks(sync_signal<int>& x, sigs::listener_id blocked_listener) {
  // The parent thread that was calling it does not exist here: nothing to wait for.
  if (x.remove_listener_and_wait(blocked_listener)) return 2;
  // Writers scan (with the writer barrier on the asymmetric path): the dead thread's
  // hazard must neither pin snapshots nor make the barrier fail.
  int calls = 0;
  for (int i = 0; i < 100; ++i) {
    const auto id = x.add_listener([&calls](const int&) { ++calls; });
    x.emit(0);
    if (x.remove_listener(id)) return 3;
    x.emit(0);
  }
  if (calls != 100 || x.size() != 1) return 4;
  // The snapshot the dead thread was walking was freed, and with it the removed listener.
  if (counted::live.load(std::memory_order_relaxed) != 0) return 5;  // relaxed: one thread
  return 0;
}

TEST(ThreadRecordFork, AChildForgetsTheThreadsThatDidNotFollow) {
  sync_signal<int> x;
  std::atomic<int> phase{0};  // 1: the listener runs on `blocked`; 2: it may return
  const auto blocked_listener = x.add_listener([&phase, token = counted{}](const int& v) {
    if (v != 1) return;
    // release: pairs with the main thread's acquire load (the call has begun: CALL-1 is done).
    phase.store(1, std::memory_order_release);
    while (phase.load(std::memory_order_acquire) != 2) std::this_thread::yield();  // acquire: pairs with the store of 2
  });
  x.add_listener([](const int&) {});  // a listener that stays
  // The main thread takes its record first, so the child keeps using that one and the
  // blocked thread's record stays as the fork left it (not reused and overwritten).
  x.emit(0);
  std::thread blocked([&] { x.emit(1); });
  {
    sigs::testing::watchdog dog(std::chrono::seconds(10), "the listener to start on the blocked thread");
    while (phase.load(std::memory_order_acquire) != 1) std::this_thread::yield();  // acquire: pairs with its release
  }
  const pid_t pid = fork_process();
  if (pid == 0) {
    ::alarm(10);  // a hang in the child ends as SIGALRM
    const int code = child_checks(x, blocked_listener);
#if defined(SIGS_TEST_GCOV_DUMP)
    __gcov_dump();
#endif
    ::_exit(code);
  }
  int status = 0;
  pid_t waited = -1;
  if (pid > 0) {
    sigs::testing::watchdog dog(std::chrono::seconds(30), "the fork child");
    waited = ::waitpid(pid, &status, 0);
  }
  phase.store(2, std::memory_order_release);  // release: pairs with the listener's acquire loads
  blocked.join();
  ASSERT_GT(pid, 0) << "fork failed";
  ASSERT_EQ(waited, pid);
  if (WIFSIGNALED(status)) {
    ADD_FAILURE() << "the child died of signal " << WTERMSIG(status) << " (SIGALRM: it hung)";
  } else {
    EXPECT_EQ(WEXITSTATUS(status), 0) << "2: remove_listener_and_wait failed, 3: remove_listener failed, "
                                         "4: wrong calls or size, 5: the removed listener was never freed";
  }
  // The parent is untouched: the listener the child removed is still here.
  EXPECT_EQ(x.size(), 2u);
}

}  // namespace
