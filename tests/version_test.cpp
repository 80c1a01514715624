// The generated <sigs/version.hpp>: the macros, the string and sigs::version agree.
#include <sigs/version.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

static_assert(SIGS_VERSION_MINOR < 100 && SIGS_VERSION_PATCH < 100);  // SIGS_VERSION's encoding
// NOLINTNEXTLINE(misc-redundant-expression): both sides are literals once the macros expand
static_assert(SIGS_VERSION == SIGS_VERSION_MAJOR * 10000 + SIGS_VERSION_MINOR * 100 + SIGS_VERSION_PATCH);
static_assert(sigs::version.major == SIGS_VERSION_MAJOR);
static_assert(sigs::version.minor == SIGS_VERSION_MINOR);
static_assert(sigs::version.patch == SIGS_VERSION_PATCH);
static_assert(std::string_view(sigs::version.string) == SIGS_VERSION_STRING);

TEST(Version, StringIsMajorDotMinorDotPatch) {
  const std::string expected = std::to_string(SIGS_VERSION_MAJOR) + "." + std::to_string(SIGS_VERSION_MINOR) + "." +
                               std::to_string(SIGS_VERSION_PATCH);
  EXPECT_EQ(std::string(SIGS_VERSION_STRING), expected);
  EXPECT_EQ(std::string(sigs::version.string), expected);
}

}  // namespace
