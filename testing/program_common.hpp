// testing/program_common.hpp — what the concurrent and the async program harnesses share.
//
// Both run a random program on real threads against one signal (concurrent_run.hpp: a
// sigs::sync_signal<int>; async_run.hpp: a sigs::async_signal) and check it for what holds
// under every interleaving. Both register listeners whose calls end as an `outcome` says
// (operations.hpp), and both collect the violations any thread finds. What each harness
// knows about a listener (`known`, `slot`) and what a call checks (`listener_fn`) differ
// with what is being checked, and stay in each harness.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <sigs/sigs.hpp>

#include "operations.hpp"

namespace sigs_test {

/// How a listener's call ends, as a program prints it.
inline const char* outcome_name(outcome o) {
  return o == outcome::ok ? "ok" : o == outcome::error ? "error" : "throws";
}

/// The error the library reports for a failed call of the listener in slot `index`: it
/// returned std::error_code(index + 1, std::generic_category()), or it threw.
inline std::error_code expected_error(outcome result, int index) {
  if (result == outcome::throws) return sigs::errc::listener_exception;
  return std::error_code(index + 1, std::generic_category());
}

/// Registers `f` on `sig` through the add_* function of `form`. An error-aware callable
/// (`Aware`) may take any form; a plain one takes the form's plain counterpart (the
/// *_with_err forms need an error-aware callable).
template <bool Aware, class Signal, class F>
sigs::listener_id add_as(Signal& sig, add_form form, F f, const std::string& key) {
  if constexpr (Aware) {
    switch (form) {
      case add_form::listener: return sig.add_listener(std::move(f), key);
      case add_form::listener_with_err: return sig.add_listener_with_err(std::move(f), key);
      case add_form::once: return sig.add_once(std::move(f));
      case add_form::once_with_key: return sig.add_once_with_key(std::move(f), key);
      case add_form::once_with_err: return sig.add_once_with_err(std::move(f));
      case add_form::once_with_err_and_key: return sig.add_once_with_err_and_key(std::move(f), key);
    }
  } else {
    switch (form) {
      case add_form::once:
      case add_form::once_with_err: return sig.add_once(std::move(f));
      case add_form::once_with_key:
      case add_form::once_with_err_and_key: return sig.add_once_with_key(std::move(f), key);
      case add_form::listener:
      case add_form::listener_with_err: return sig.add_listener(std::move(f), key);
    }
  }
  return {};
}

/// The violations the threads of one run found; the first `Max` are kept.
template <std::size_t Max>
struct violation_log {
  std::mutex mutex;
  std::vector<std::string> violations;  // under mutex

  void fail(std::string what) {
    std::lock_guard lock(mutex);
    if (violations.size() < Max) violations.push_back(std::move(what));
  }
};

}  // namespace sigs_test
