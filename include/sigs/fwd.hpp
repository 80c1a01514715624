// sigs/fwd.hpp — forward declarations of the public types.
#pragma once

namespace sigs {

enum class errc : int;
class context;
class listener_id;
struct listener_metadata;
struct listener_error;
class scoped_listener;
struct emit_result;
struct signal_stats;
struct signal_options;
enum class overflow_policy : unsigned char;
class worker_pool;
struct worker_pool_options;
class completion;
struct delivery_failure;

template <class T>
class sync_signal;
template <class T>
class async_signal;

}  // namespace sigs
