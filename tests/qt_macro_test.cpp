// Qt defines `emit`, `signals` and `slots` as macros. Every public header must compile in
// such a translation unit and leave the macros as it found them.
#define emit
#define signals public
#define slots

#include <sigs/sigs.hpp>

#ifndef emit
#error "a sigs header removed the user's emit macro"
#endif

#include <gtest/gtest.h>

namespace {

TEST(QtMacros, HeadersCompileAndOperatorCallEmits) {
  sigs::sync_signal<int> sig;
  int got = 0;
  sig.add_listener([&](const int& v) { got = v; });
  emit sig(7);  // Qt style: `emit` expands to nothing, operator() is emit
  EXPECT_EQ(got, 7);
}

}  // namespace
