#include <sigs/errors.hpp>

namespace sigs {
namespace {

class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sigs"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::canceled: return "emission canceled";
      case errc::deadline_exceeded: return "deadline exceeded";
      case errc::backpressure: return "queue full (backpressure)";
      case errc::pool_stopped: return "worker pool stopped";
      case errc::listener_exception: return "listener threw an exception";
      case errc::duplicate_key: return "duplicate listener key";
      case errc::invalid_listener: return "invalid (empty) listener";
      case errc::not_found: return "no such listener";
      case errc::would_deadlock: return "would deadlock: the wait could only end after the caller";
      case errc::listener_error: return "listener reported an error";
    }
    return "unknown sigs error";
  }

  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::canceled: return std::errc::operation_canceled;
      case errc::deadline_exceeded: return std::errc::timed_out;
      case errc::would_deadlock: return std::errc::resource_deadlock_would_occur;
      default: return {value, *this};
    }
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace sigs
