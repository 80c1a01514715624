// Unit tests of sigs::context: cancellation, deadlines, and how the two combine.
#include <sigs/context.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <stop_token>
#include <system_error>

namespace {

using namespace std::chrono_literals;
using sigs::context;
using sigs::errc;

TEST(Context, DefaultCanNeverEnd) {
  const context c;
  EXPECT_FALSE(c.can_be_canceled());
  EXPECT_FALSE(c.error());
  EXPECT_FALSE(c.deadline());
  EXPECT_FALSE(c.stop_token().stop_possible());
}

TEST(Context, AStopTokenMakesItCancellable) {
  std::stop_source stop;
  const context c(stop.get_token());
  EXPECT_TRUE(c.can_be_canceled());
  EXPECT_FALSE(c.error());
  stop.request_stop();
  EXPECT_EQ(c.error(), errc::canceled);
  EXPECT_EQ(c.error(), std::errc::operation_canceled);
}

TEST(Context, TheEarlierDeadlineWins) {
  const auto now = context::clock::now();
  const auto early = now + 1h;
  const auto late = now + 2h;
  const context a = context().with_deadline(late);
  ASSERT_TRUE(a.deadline());
  EXPECT_EQ(*a.deadline(), late);
  EXPECT_EQ(*a.with_deadline(early).deadline(), early);     // earlier: replaces
  EXPECT_EQ(*a.with_deadline(late + 1h).deadline(), late);  // later: ignored
  EXPECT_EQ(*a.with_deadline(late).deadline(), late);
  EXPECT_EQ(*a.deadline(), late);  // the original is unchanged
  // with_timeout is with_deadline(now + timeout): a long timeout keeps the earlier deadline.
  EXPECT_EQ(*context().with_deadline(early).with_timeout(24h).deadline(), early);
  const auto before = context::clock::now();
  const auto from_timeout = *context().with_timeout(1h).with_deadline(late).deadline();
  EXPECT_GE(from_timeout, before + 1h);
  EXPECT_LT(from_timeout, late);  // the timeout's deadline was earlier than `late`
  EXPECT_TRUE(a.can_be_canceled());
  EXPECT_FALSE(a.error());
}

TEST(Context, APassedDeadlineIsExceeded) {
  const context c = context().with_deadline(context::clock::now() - 1s);
  EXPECT_EQ(c.error(), errc::deadline_exceeded);
  EXPECT_EQ(c.error(), std::errc::timed_out);
  // A later deadline does not revive it.
  EXPECT_EQ(c.with_deadline(context::clock::now() + 1h).error(), errc::deadline_exceeded);
}

TEST(Context, CancellationWinsOverAnExpiredDeadline) {
  std::stop_source stop;
  stop.request_stop();
  const context c = context(stop.get_token()).with_deadline(context::clock::now() - 1s);
  EXPECT_EQ(c.error(), errc::canceled);
}

TEST(Context, WithStopTokenReplacesTheTokenAndKeepsTheDeadline) {
  std::stop_source first, second;
  const auto deadline = context::clock::now() + 1h;
  const context a = context(first.get_token()).with_deadline(deadline);
  const context b = a.with_stop_token(second.get_token());
  first.request_stop();
  EXPECT_EQ(a.error(), errc::canceled);
  EXPECT_FALSE(b.error());  // no longer follows the first source
  EXPECT_EQ(*b.deadline(), deadline);
  second.request_stop();
  EXPECT_EQ(b.error(), errc::canceled);
  // Dropping the token entirely leaves only the deadline.
  const context c = a.with_stop_token(std::stop_token{});
  EXPECT_FALSE(c.error());
  EXPECT_TRUE(c.can_be_canceled());  // the deadline still can end it
}

}  // namespace
