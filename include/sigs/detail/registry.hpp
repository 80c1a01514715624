// sigs/detail/registry.hpp — the process-wide list of named signals and pools that
// collect_metrics() reads (sigs/metrics.hpp).
//
// A named signal or pool owns a `listed` object: a registry entry that knows how to read
// it. Registering and unregistering take the registry's mutex, and so does
// collect_metrics() while it reads the entries: an object being destroyed waits, in its
// unregistration, for a collection reading it to finish, and is never read afterwards.
// The collection hands its result to a collector only after the mutex is released.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include <sigs/signal_metrics.hpp>

namespace sigs {
struct pool_metrics;
}  // namespace sigs

namespace sigs::detail {

/// A registry entry. The derived class reads the object it lists; `kind` says which
/// read() collect_metrics() calls.
class listed {
 public:
  enum class kind : unsigned char { signal, pool };

  listed(const listed&) = delete;
  listed& operator=(const listed&) = delete;
  virtual ~listed() = default;

  /// Reads the signal (kind::signal) or the pool (kind::pool) listed.
  virtual void read_signal(signal_metrics&) const {}
  virtual void read_pool(pool_metrics&) const {}

  /// The series this entry is collected under: its name, or overflow_name when its name
  /// came past the limit.
  [[nodiscard]] const std::string& series() const noexcept { return series_; }
  /// The name it was given.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] kind what() const noexcept { return kind_; }

  /// Registers: from then on collections read it. Throws std::bad_alloc.
  void enlist();
  /// Unregisters, if registered; waits for a collection reading it. The derived class's
  /// destructor calls it first, before the members read() uses go.
  void delist() noexcept;

 protected:
  listed(std::string name, kind k) : name_(std::move(name)), kind_(k) {}

 private:
  std::string name_;
  std::string series_;
  kind kind_;
  bool enlisted_ = false;
};

}  // namespace sigs::detail
