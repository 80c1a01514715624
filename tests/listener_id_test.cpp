// sigs::listener_id: what a registration returns. A valid id carries no error; a refused
// one is invalid and says why; a default one is neither valid nor refused.
#include <sigs/sync_signal.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <system_error>

namespace {

using sigs::errc;
using sigs::listener_id;

TEST(ListenerId, AValidIdCarriesNoError) {
  sigs::sync_signal<int> sig;
  const listener_id id = sig.add_listener([](const int&) {}, "k");
  ASSERT_TRUE(id.valid());
  EXPECT_TRUE(static_cast<bool>(id));
  EXPECT_FALSE(id.error());
  EXPECT_EQ(id.error(), std::error_code{});
  EXPECT_NE(id.value(), 0u);
}

TEST(ListenerId, ADefaultIdIsInvalidWithoutAReason) {
  const listener_id id;
  EXPECT_FALSE(id.valid());
  EXPECT_FALSE(static_cast<bool>(id));
  EXPECT_FALSE(id.error());
  EXPECT_EQ(id.value(), 0u);
  EXPECT_EQ(id, listener_id{});
}

TEST(ListenerId, ARefusedIdIsInvalidAndSaysWhy) {
  sigs::sync_signal<int> sig;
  const listener_id first = sig.add_listener([](const int&) {}, "k");
  const listener_id duplicate = sig.add_listener([](const int&) {}, "k");
  const listener_id empty = sig.add_listener(std::function<void(const int&)>{});
  EXPECT_FALSE(duplicate.valid());
  EXPECT_EQ(duplicate.error(), errc::duplicate_key);
  EXPECT_FALSE(empty.valid());
  EXPECT_EQ(empty.error(), errc::invalid_listener);
  // Refused ids compare by value like any invalid id: equal to each other, not to a valid one.
  EXPECT_EQ(duplicate, empty);
  EXPECT_EQ(duplicate, listener_id{});
  EXPECT_FALSE(first == duplicate);
  EXPECT_EQ(listener_id::refused(errc::not_found).error(), errc::not_found);
}

}  // namespace
