// testing/signal_round_trip.hpp — a short check that a sync_signal works end to end.
//
// For a test that has changed how the process runs (a seccomp filter, no pthread key left,
// ...) and wants to see that signals still work on whichever read path was chosen: it adds
// and removes enough listeners for scans to run on either path, emitting in between.
#pragma once

#include <sigs/sync_signal.hpp>

#include <vector>

namespace sigs::testing {

/// Adds 65 listeners, emits, removes 64, emits again. True when every call and every
/// removal happened as expected.
inline bool signal_round_trip() {
  sigs::sync_signal<int> sig;
  int calls = 0;
  sig.add_listener([&](const int&) { ++calls; });
  std::vector<sigs::listener_id> ids;
  for (int i = 0; i < 64; ++i) ids.push_back(sig.add_listener([&](const int&) { ++calls; }));
  sig.emit(0);
  for (auto id : ids) {
    if (sig.remove_listener(id)) return false;
  }
  sig.emit(0);
  return calls == 66 && sig.size() == 1;
}

}  // namespace sigs::testing
