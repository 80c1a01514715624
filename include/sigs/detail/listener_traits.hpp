// sigs/detail/listener_traits.hpp — what a callable must be to be a listener of a T signal,
// and what it returns: compile-time tests used by registration and by the entries.
//
//   is_listener<F, T>      invocable as f(const T&) or f(const context&, const T&)
//   takes_context<F, T>    the second form
//   is_error_aware<F, T>   returns std::error_code (a non-empty code is a failure)
//   is_empty_callable(f)   a null pointer, an empty std::function or the like: refused
#pragma once

#include <system_error>
#include <type_traits>

#include <sigs/context.hpp>

namespace sigs::detail {

template <class F>
constexpr bool has_bool_member = requires {
  &F::operator bool;
};

/// True for callables that are "empty": null pointers, empty std::function and the like.
template <class F>
bool is_empty_callable(const F& f) noexcept {
  if constexpr (std::is_pointer_v<F> || std::is_member_pointer_v<F>) {
    return f == nullptr;
  } else if constexpr (has_bool_member<F>) {
    return !static_cast<bool>(f);
  } else {
    return false;
  }
}

template <class F, class T>
constexpr bool takes_context = std::is_invocable_v<F&, const context&, const T&>;

template <class F, class T>
constexpr bool is_listener = std::is_invocable_v<F&, const context&, const T&> || std::is_invocable_v<F&, const T&>;

template <class F, class T>
using listener_result = std::conditional_t<takes_context<F, T>, std::invoke_result<F&, const context&, const T&>,
                                           std::invoke_result<F&, const T&>>;

template <class F, class T>
constexpr bool is_error_aware = std::is_same_v<typename listener_result<F, T>::type, std::error_code>;

}  // namespace sigs::detail
