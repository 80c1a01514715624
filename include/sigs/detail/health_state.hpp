// sigs/detail/health_state.hpp — what healthy() remembers between calls (sigs/health.hpp):
// the counts of earlier calls within the window, since when the queue has been above its
// threshold, and which task each pool worker was last seen in. Made at the first
// healthy() call and guarded by its own mutex: checks are rare and never on a hot path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include <sigs/health.hpp>

namespace sigs::detail {

/// What one check reads from the object.
struct health_input {
  std::uint64_t now = 0;    // meter_now()
  bool calls_known = true;  // false: a sync signal with metrics off counts no calls
  std::uint64_t calls = 0;
  std::uint64_t failures = 0;
  std::uint64_t dropped = 0;
  std::size_t queued = 0;
  std::size_t capacity = 0;  // 0: no queue to watch
  /// Pools: per worker, whether it runs a task and how many it has finished.
  struct worker {
    bool busy = false;
    std::uint64_t completed = 0;
  };
  std::vector<worker> workers;
};

class health_state {
 public:
  health_report check(const health_options& o, const health_input& in);

 private:
  struct sample {
    std::uint64_t at, calls, failures, dropped;
  };
  struct watch {
    bool busy = false;
    std::uint64_t completed = 0;
    std::uint64_t since = 0;  // when first seen busy with this count
  };
  std::mutex mutex_;
  std::deque<sample> samples_;
  bool above_ = false;
  std::uint64_t above_since_ = 0;
  std::vector<watch> workers_;
};

/// The lazily made state of one object: a once-flag and a pointer until healthy() is
/// called. The once-flag orders the state's construction before every use of it.
class health_slot {
 public:
  health_slot() = default;
  health_slot(const health_slot&) = delete;
  health_slot& operator=(const health_slot&) = delete;
  ~health_slot() = default;

  health_state& get() {
    std::call_once(made_, [this] { state_ = std::make_unique<health_state>(); });
    return *state_;
  }

 private:
  std::once_flag made_;
  std::unique_ptr<health_state> state_;
};

}  // namespace sigs::detail
