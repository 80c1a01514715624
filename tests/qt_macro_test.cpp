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

#include <vector>

namespace {

TEST(QtMacros, HeadersCompileAndOperatorCallEmits) {
  sigs::sync_signal<int> sig;
  int got = 0;
  sig.add_listener([&](const int& v) { got = v; });
  emit sig(7);  // Qt style: `emit` expands to nothing, operator() is emit
  EXPECT_EQ(got, 7);
}

TEST(QtMacros, ManyWritesUnderTheMacrosFreeNothingStillInUse) {
  // Enough writes for the retired snapshots to be scanned (scans are batched on the
  // asymmetric read path), while an emission on this thread holds one of them.
  sigs::sync_signal<int> sig;
  int outer = 0, inner = 0;
  sig.add_listener([&](const int& v) {
    ++outer;
    if (v != 0) return;
    std::vector<sigs::listener_id> ids;
    for (int i = 0; i < 100; ++i) ids.push_back(sig.add_listener([&](const int&) { ++inner; }));
    emit sig(1);  // nested: sees the 100 new listeners
    for (auto id : ids) EXPECT_FALSE(sig.remove_listener(id));
  });
  emit sig(0);  // the snapshot it walks was retired 200 times over meanwhile
  EXPECT_EQ(outer, 2);
  EXPECT_EQ(inner, 100);
  emit sig(2);
  EXPECT_EQ(outer, 3);
  EXPECT_EQ(inner, 100);
  EXPECT_EQ(sig.size(), 1u);
}

}  // namespace
