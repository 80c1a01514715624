// sigs/detail/modes.hpp — the compile-time choices of the emission and removal paths,
// named, so that a call site says what it picks (emit<on_failure::stop,
// ctx_check::each_listener>) instead of passing bare booleans.
#pragma once

namespace sigs::detail {

/// What an emission does when a listener fails: record it and go on (emit), or stop there
/// and report it to the caller (try_emit).
enum class on_failure : bool { record, stop };

/// Whether an emission tests its context before each listener (only worth it when the
/// context can end).
enum class ctx_check : bool { off, each_listener };

/// The protocol a hazard domain runs (hazard.hpp): seq_cst read-modify-writes on the read
/// side, or plain stores made visible by the writers' asymmetric fence. Fixed per domain;
/// emission loops are instantiated once per mode.
enum class fence_mode : bool { symmetric, asymmetric };

/// Whether a signal's snapshots carry pin counts. An async emission pins the snapshot it
/// delivers from (signal_core::hold()) so that its emitter can let go of it at once; a
/// sync signal never pins, and its snapshot header keeps to one cache line.
enum class snapshot_pins : bool { none, counted };

/// How many entries a removal's predicate can match over the signal's life: an id names
/// one, a key may have named several (each removed before the next was added).
enum class matches : bool { any_number, at_most_one };

}  // namespace sigs::detail
