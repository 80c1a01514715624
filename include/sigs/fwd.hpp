// sigs/fwd.hpp — forward declarations of the public types. The public headers that only
// name a type include this instead of its header; sigs.hpp includes it beside the
// definitions, so a declaration here that drifts from its definition fails to compile.
#pragma once

namespace sigs {

enum class errc : int;
class context;
class listener_id;
struct listener_metadata;
struct listener_error;
class scoped_listener;
struct emit_result;
struct submit_result;
struct signal_stats;
struct sync_options;
struct async_options;
enum class overflow_policy : unsigned char;
class worker_pool;
class task;
struct worker_pool_options;
struct worker_pool_stats;
enum class shutdown_mode : unsigned char;
class completion;
struct delivery_failure;
struct trace_context;
class tracer;

namespace detail {
enum class snapshot_pins : bool;
}  // namespace detail
template <class T, detail::snapshot_pins Pins>
class signal_base;
template <class T>
class sync_signal;
template <class T>
class async_signal;

}  // namespace sigs
