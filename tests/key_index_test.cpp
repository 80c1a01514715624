// Keyed lookups through the snapshots' key index: has_key, metadata(key),
// remove_listener(key) and the duplicate-key check of add, with many keys (so probe chains
// form in the open-addressing table), removals, re-adds, fired once-listeners and resets.
#include <sigs/sigs.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

namespace {

using sigs::errc;
using sigs::sync_signal;

std::string key_of(std::size_t i) { return "listener-" + std::to_string(i); }

TEST(KeyIndex, EveryKeyIsFoundAmongAThousandAndEachRemovalForgetsExactlyItsKey) {
  sync_signal<int> sig;
  constexpr std::size_t n = 1000;
  std::vector<sigs::listener_id> ids;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 3 == 0) sig.add_listener([](const int&) {});  // unkeyed ones in between
    ids.push_back(sig.add_listener([](const int&) {}, key_of(i)));
    ASSERT_TRUE(ids.back()) << i;
  }
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(sig.has_key(key_of(i))) << i;
    const auto md = sig.metadata(key_of(i));
    ASSERT_TRUE(md) << i;
    EXPECT_EQ(md->id, ids[i]);
    EXPECT_EQ(md->key, key_of(i));
  }
  EXPECT_FALSE(sig.has_key("listener-1000"));
  EXPECT_FALSE(sig.has_key("listener-"));
  EXPECT_EQ(sig.add_listener([](const int&) {}, key_of(7)).error(), errc::duplicate_key);

  for (std::size_t i = 0; i < n; i += 2) ASSERT_FALSE(sig.remove_listener(key_of(i))) << i;
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(sig.has_key(key_of(i)), i % 2 == 1) << i;
    EXPECT_EQ(sig.metadata(key_of(i)).has_value(), i % 2 == 1) << i;
  }
  EXPECT_EQ(sig.remove_listener(key_of(0)), errc::not_found);

  // A removed key can be used again, and then names the new listener.
  const sigs::listener_id again = sig.add_listener([](const int&) {}, key_of(0));
  ASSERT_TRUE(again);
  EXPECT_EQ(sig.metadata(key_of(0))->id, again);
  EXPECT_EQ(sig.size(), n / 2 + 1 + (n + 2) / 3);
}

TEST(KeyIndex, AFiredOnceListenerNoLongerHoldsItsKey) {
  sync_signal<int> sig;
  ASSERT_TRUE(sig.add_once_with_key([](const int&) {}, "once"));
  EXPECT_TRUE(sig.has_key("once"));
  sig.emit(1);  // fires it; the snapshot that lists it is still the current one
  EXPECT_FALSE(sig.has_key("once"));
  EXPECT_FALSE(sig.metadata("once"));
  EXPECT_EQ(sig.remove_listener("once"), errc::not_found);
  EXPECT_TRUE(sig.add_listener([](const int&) {}, "once"));  // the key is free again
  EXPECT_TRUE(sig.has_key("once"));
}

TEST(KeyIndex, ResetAndTheErrorHandlerKeepTheIndexRight) {
  sync_signal<int> sig;
  for (std::size_t i = 0; i < 50; ++i) ASSERT_TRUE(sig.add_listener([](const int&) {}, key_of(i)));
  sig.set_error_handler([](const sigs::listener_error&) {});  // a write that keeps every listener
  for (std::size_t i = 0; i < 50; ++i) EXPECT_TRUE(sig.has_key(key_of(i))) << i;
  sig.reset();
  for (std::size_t i = 0; i < 50; ++i) EXPECT_FALSE(sig.has_key(key_of(i))) << i;
  EXPECT_TRUE(sig.add_listener([](const int&) {}, key_of(3)));
  EXPECT_TRUE(sig.has_key(key_of(3)));
  EXPECT_EQ(sig.keys(), std::vector<std::string>{key_of(3)});
}

TEST(KeyIndex, ASignalWithoutKeysFindsNone) {
  sync_signal<int> sig;
  EXPECT_FALSE(sig.has_key("a"));
  sig.add_listener([](const int&) {});
  EXPECT_FALSE(sig.has_key("a"));
  EXPECT_FALSE(sig.metadata("a"));
  EXPECT_EQ(sig.remove_listener("a"), errc::not_found);
}

}  // namespace
