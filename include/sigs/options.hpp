// sigs/options.hpp — construction options shared by the signal types.
//
//   sigs::signal_options opts;
//   opts.metrics = true;                       // count emits and calls per listener
//   sigs::sync_signal<int> sig(opts);
#pragma once

#pragma push_macro("emit")
#undef emit

namespace sigs {

/// Options given to a signal's constructor. Defaults are the fast path.
struct signal_options {
  /// Count emits, listener calls and last-call times (signal_stats, listener_metadata).
  /// Off by default: each counted call writes shared counters, which costs scaling when
  /// several threads emit on one signal. Can also be switched later with set_metrics().
  bool metrics = false;
};

}  // namespace sigs

#pragma pop_macro("emit")
