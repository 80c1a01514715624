#include <sigs/errors.hpp>

#include <gtest/gtest.h>

#include <system_error>

namespace {

TEST(Errors, CategoryNameAndMessages) {
  EXPECT_STREQ(sigs::error_category().name(), "sigs");
  for (int v = static_cast<int>(sigs::errc::canceled); v <= static_cast<int>(sigs::errc::listener_error); ++v) {
    std::error_code ec = static_cast<sigs::errc>(v);
    EXPECT_TRUE(ec);
    EXPECT_NE(ec.message(), "unknown sigs error") << v;
  }
  EXPECT_EQ(std::error_code(999, sigs::error_category()).message(), "unknown sigs error");
}

TEST(Errors, CompareWithGenericConditions) {
  std::error_code canceled = sigs::errc::canceled;
  EXPECT_EQ(canceled, std::errc::operation_canceled);
  EXPECT_EQ(std::error_code(sigs::errc::deadline_exceeded), std::errc::timed_out);
  EXPECT_EQ(std::error_code(sigs::errc::would_deadlock), std::errc::resource_deadlock_would_occur);
  EXPECT_NE(std::error_code(sigs::errc::backpressure), std::errc::timed_out);
  EXPECT_EQ(canceled, sigs::errc::canceled);
}

}  // namespace
