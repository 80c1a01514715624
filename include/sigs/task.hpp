// sigs/task.hpp — a small, move-only, type-erased unit of work for the worker pool.
//
// A task owns one nullary callable and has exactly two ways to end: run() invokes it,
// discard() drops it without invoking it. Whichever happens first consumes the task (the
// callable is destroyed and the task becomes empty); a non-empty task that is destroyed or
// assigned over is discarded. So every non-empty task ends in exactly one run or exactly
// one discard — the invariant async signals build "delivered + dropped == emitted ×
// listeners" on.
//
//   sigs::task t = sigs::task::with_discard([&] { deliver(); }, [&] { ++dropped; });
//   if (pool.try_submit(t)) t.run();   // rejected: run it here (caller_runs) ...
//   // ... or just let `t` go out of scope: its discard hook runs.
//
// Storage: two function pointers and a 48-byte inline buffer, 64 bytes in all, one cache
// line. A callable that fits the buffer (size <= 48, alignment <= alignof(max_align_t),
// nothrow move) lives inline; a larger one is allocated on the heap and the buffer holds
// its pointer. Not std::function: no copy, no RTTI, one indirect call to run.
//
// Discard hook: a callable type with a member `discard()` has it called when the task is
// discarded; task::with_discard(run, on_discard) builds such a callable from two lambdas.
// The hook must not throw (it runs on noexcept paths: destructors, pool shutdown).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace sigs::detail {

/// A callable whose owner wants to hear about it being dropped unrun.
template <class F>
concept discard_aware = requires(F& f) {
  f.discard();
};

/// What a task can wrap: a callable invocable with no arguments, other than a task itself
/// (`Task` is the task class, so the copy and move constructors stay in charge of tasks).
template <class F, class Task>
concept task_callable = !std::is_same_v<std::remove_cvref_t<F>, Task> && std::is_invocable_v<std::decay_t<F>&>;

template <class T>
inline constexpr bool is_std_function_v = false;
template <class R, class... Args>
inline constexpr bool is_std_function_v<std::function<R(Args...)>> = true;

}  // namespace sigs::detail

namespace sigs {

/// A move-only unit of work for a worker_pool (also `worker_pool::task`): run() or
/// discard(), exactly one of them, exactly once.
class task {
 public:
  ///@{
  /// Size and alignment of the inline buffer.
  static constexpr std::size_t inline_size = 48;
  static constexpr std::size_t inline_align = alignof(std::max_align_t);
  ///@}

  /// True when a callable of type F is stored inline (no allocation).
  template <class F>
  // NOLINTNEXTLINE(misc-redundant-expression): for some F both size tests fold to the same constant
  static constexpr bool stored_inline = (sizeof(F) <= inline_size) &&
                                        (alignof(F) <= inline_align) && std::is_nothrow_move_constructible_v<F>;

  /// An empty task: run() and discard() do nothing, and a pool refuses it.
  task() noexcept = default;

  /// Wraps `f`, a callable invocable with no arguments (its result is ignored). A null
  /// function pointer or an empty std::function gives an empty task. May throw what
  /// F's constructor throws, or std::bad_alloc when F does not fit inline.
  /// Implicit, like std::function's; task_callable keeps tasks themselves out, so the copy
  /// and move constructors are never hidden.
  template <detail::task_callable<task> F>
  task(F&& f) {  // NOLINT(google-explicit-constructor,bugprone-forwarding-reference-overload)
    using D = std::decay_t<F>;
    if constexpr (std::is_pointer_v<std::remove_cvref_t<F>> || detail::is_std_function_v<D>) {
      if (f == nullptr) return;
    }
    if constexpr (stored_inline<D>) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
    } else {
      ::new (static_cast<void*>(storage_)) D*(new D(std::forward<F>(f)));
    }
    invoke_ = &invoke_impl<D>;
    manage_ = &manage_impl<D>;
  }

  /// A task that calls `run` when run and `on_discard` (which must not throw) when
  /// discarded instead.
  template <class Run, class OnDiscard>
  static task with_discard(Run&& run, OnDiscard&& on_discard) {
    static_assert(std::is_invocable_v<std::decay_t<Run>&> && std::is_invocable_v<std::decay_t<OnDiscard>&>,
                  "with_discard takes two callables invocable with no arguments");
    return task(with_discard_fn<std::decay_t<Run>, std::decay_t<OnDiscard>>{std::forward<Run>(run),
                                                                            std::forward<OnDiscard>(on_discard)});
  }

  /// Takes `other`'s callable; `other` is left empty.
  task(task&& other) noexcept { take(other); }

  /// Discards the callable this task holds (if any), then takes `other`'s.
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      discard();
      take(other);
    }
    return *this;
  }

  task(const task&) = delete;
  task& operator=(const task&) = delete;

  /// Discards a callable that was neither run nor discarded.
  ~task() { discard(); }

  /// Invokes the callable once, then destroys it; the task is empty afterwards, also when
  /// the callable throws (the exception propagates). Does nothing on an empty task.
  void run() {
    if (invoke_ == nullptr) return;
    const invoke_fn invoke = invoke_;
    const manage_fn manage = manage_;
    invoke_ = nullptr;
    manage_ = nullptr;
    struct destroy_on_exit {
      manage_fn manage;
      void* storage;
      ~destroy_on_exit() { manage(op::destroy, storage, nullptr); }
    } guard{manage, storage_};
    invoke(storage_);
  }

  /// Calls the discard hook (if the callable has one) instead of running it, then destroys
  /// the callable; the task is empty afterwards. Does nothing on an empty task.
  void discard() noexcept {
    if (manage_ == nullptr) return;
    const manage_fn manage = manage_;
    invoke_ = nullptr;
    manage_ = nullptr;
    manage(op::discard, storage_, nullptr);
  }

  /// True when the task holds a callable.
  explicit operator bool() const noexcept { return invoke_ != nullptr; }

  /// The callable this task holds, when it is exactly of type F; nullptr otherwise (also
  /// when the task is empty). Like std::function::target: lets the owner of a task that
  /// was not queued adjust it before dropping it.
  template <class F>
  [[nodiscard]] F* target() noexcept {
    if (manage_ == nullptr || manage_ != &manage_impl<F>) return nullptr;
    return &get<F>(storage_);
  }

 private:
  enum class op : unsigned char { move, destroy, discard };
  using invoke_fn = void (*)(void* storage);
  using manage_fn = void (*)(op, void* storage, void* target) noexcept;

  template <class Run, class OnDiscard>
  struct with_discard_fn {
    Run run;
    OnDiscard on_discard;
    void operator()() { run(); }
    void discard() noexcept { on_discard(); }
  };

  template <class D>
  static D& get(void* storage) noexcept {
    if constexpr (stored_inline<D>) {
      return *std::launder(static_cast<D*>(storage));
    } else {
      return **std::launder(static_cast<D**>(storage));
    }
  }

  template <class D>
  static void invoke_impl(void* storage) {
    std::invoke(get<D>(storage));
  }

  template <class D>
  static void manage_impl(op o, void* storage, void* target) noexcept {
    if constexpr (stored_inline<D>) {
      D* self = std::launder(static_cast<D*>(storage));
      switch (o) {
        case op::move:
          ::new (target) D(std::move(*self));
          self->~D();
          return;
        case op::discard:
          if constexpr (detail::discard_aware<D>) self->discard();
          self->~D();
          return;
        case op::destroy: self->~D(); return;
      }
    } else {
      D* self = *std::launder(static_cast<D**>(storage));
      switch (o) {
        case op::move:
          ::new (target) D*(self);  // the heap object stays put; only its pointer moves
          return;
        case op::discard:
          if constexpr (detail::discard_aware<D>) self->discard();
          delete self;
          return;
        case op::destroy: delete self; return;
      }
    }
  }

  void take(task& other) noexcept {
    if (other.manage_ == nullptr) return;
    other.manage_(op::move, other.storage_, storage_);
    invoke_ = other.invoke_;
    manage_ = other.manage_;
    other.invoke_ = nullptr;
    other.manage_ = nullptr;
  }

  alignas(inline_align) unsigned char storage_[inline_size];
  invoke_fn invoke_ = nullptr;
  manage_fn manage_ = nullptr;
};

static_assert(sizeof(task) == 64, "a task is meant to fill exactly one cache line");

}  // namespace sigs
