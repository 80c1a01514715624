// testing/pool_options.hpp — the options of an async signal on a given pool, in one call.
//
//   sigs::async_signal<int> sig(sigs::testing::on(pool, sigs::overflow_policy::reject, 4));
#pragma once

#include <cstddef>

#include <sigs/options.hpp>
#include <sigs/worker_pool.hpp>

namespace sigs::testing {

/// Options for a signal on `pool`, with its overflow policy and its own queue capacity
/// (0: the pool's).
inline async_options on(worker_pool& pool, overflow_policy policy = overflow_policy::block, std::size_t capacity = 0) {
  async_options o;
  o.pool = &pool;
  o.overflow = policy;
  o.queue_capacity = capacity;
  return o;
}

}  // namespace sigs::testing
