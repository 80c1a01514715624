// A listener's error record (its error count, last error and last exception) changes under
// a small lock of its own: a few tries, then a sleep in the kernel (a futex) until the
// holder lets go. Two threads that record errors of the same listener at once meet on it.
// These tests take that lock from the test itself, as such a thread would, so that the
// other side reliably finds it held past its tries and goes to sleep.
#include <sigs/sync_signal.hpp>

#include <testing/watchdog.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using sigs::errc;
using sigs::testing::watchdog;

constexpr auto hang_limit = 10s;

// The lock's states (listener_entry.hpp, entry_details::error_lock).
constexpr std::uint32_t unlocked = 0;
constexpr std::uint32_t held_with_sleepers = 2;

/// A sync_signal that hands out a listener's details (its error record and its lock).
/// The listener must have them: a key, or an error code to return.
struct inspectable_signal : sigs::sync_signal<int> {
  using entry_t = core_type::entry_t;
  entry_t::details_t& details_of(sigs::listener_id id) {
    entry_t::details_t* found = nullptr;
    core().for_each_alive(sigs::detail::local_record(), [&](entry_t& e) {
      if (e.id == id.value()) found = e.details_if_any();
    });
    EXPECT_NE(found, nullptr);
    return *found;
  }
};

// Errors of one listener recorded on two threads while the record is locked: they wait (at
// least one asleep, as the lock says), and once it is released each error is recorded,
// none lost, and the lock is left free.
TEST(ListenerErrorLock, ErrorsRecordedWhileTheRecordIsLockedWaitAsleepAndAreAllCounted) {
  inspectable_signal sig;
  const auto id = sig.add_listener_with_err([](const int& v) -> std::error_code {
    return v == 1 ? make_error_code(errc::listener_error) : make_error_code(errc::backpressure);
  });
  ASSERT_TRUE(id);
  auto& e = sig.details_of(id);

  e.lock_errors();  // as a thread copying or updating the record would
  std::atomic<int> emitted{0};
  std::vector<std::thread> emitters;
  for (int v : {1, 2}) {
    emitters.emplace_back([&, v] {
      sig.emit(v);
      emitted.fetch_add(1);
    });
  }
  {
    watchdog dog(hang_limit, "an emitter to give up spinning on a held error record");
    while (e.error_lock.load() != held_with_sleepers) std::this_thread::yield();
  }
  EXPECT_EQ(emitted.load(), 0);  // neither has recorded its error yet
  EXPECT_EQ(e.errors.load(), 0u);
  e.unlock_errors();  // wakes the sleepers
  {
    watchdog dog(hang_limit, "the emitters to be woken by the unlock");
    for (std::thread& t : emitters) t.join();
  }
  EXPECT_EQ(e.error_lock.load(), unlocked);
  const auto md = sig.metadata(id);
  ASSERT_TRUE(md);
  EXPECT_EQ(md->error_count, 2u);
  EXPECT_TRUE(md->last_error == errc::listener_error || md->last_error == errc::backpressure)
      << md->last_error.message();
  EXPECT_FALSE(md->last_exception);
  EXPECT_EQ(sig.stats().errors, 2u);
}

// A metadata read while the record is locked waits as well, and then sees the record as the
// holder left it: the count and the last error together.
TEST(ListenerErrorLock, AMetadataReadWhileTheRecordIsLockedSeesTheHoldersWholeUpdate) {
  inspectable_signal sig;
  const auto id = sig.add_listener([](const int&) {}, "k");  // keyed: it has its details
  ASSERT_TRUE(id);
  auto& e = sig.details_of(id);

  e.lock_errors();
  std::optional<sigs::listener_metadata> read;
  std::thread reader([&] { read = sig.metadata(id); });
  {
    watchdog dog(hang_limit, "a metadata read to give up spinning on a held error record");
    while (e.error_lock.load() != held_with_sleepers) std::this_thread::yield();
  }
  // The holder's update, as note_error() makes it.
  e.errors.fetch_add(1);
  e.last_error = make_error_code(errc::not_found);
  e.unlock_errors();
  {
    watchdog dog(hang_limit, "the metadata read to be woken by the unlock");
    reader.join();
  }
  ASSERT_TRUE(read);
  EXPECT_EQ(read->error_count, 1u);
  EXPECT_EQ(read->last_error, errc::not_found);
  EXPECT_EQ(e.error_lock.load(), unlocked);
}

}  // namespace
