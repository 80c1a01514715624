// bench/bench_floor.cpp — the floors: what an emit costs with no thread safety at all.
//
//   floor        a loop over std::vector<std::function<void(const int&)>>
//   floor_fnptr  a loop over {function pointer, void*} pairs: the tight type-erased call
//
// Both are read concurrently by the 2-thread cases; nothing writes them after setup.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "bench_common.hpp"
#include "tail_latency.hpp"

namespace sigs_bench {
namespace {

using function_list = std::vector<std::function<void(const int&)>>;

/// {function pointer, context} pairs; the contexts own heap copies of the closures.
class fnptr_list {
 public:
  fnptr_list() = default;
  fnptr_list(const fnptr_list&) = delete;
  fnptr_list& operator=(const fnptr_list&) = delete;
  ~fnptr_list() {
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (destroy_[i] != nullptr) destroy_[i](entries_[i].context);
    }
  }

  template <class F>
  void add(F f) {
    if constexpr (std::is_pointer_v<F>) {
      // A plain function: the entry calls it directly, with no context.
      entries_.push_back({[](void*, const int& v) { free_listener(v); }, nullptr});
      destroy_.push_back(nullptr);
    } else {
      entries_.push_back({[](void* c, const int& v) { (*static_cast<F*>(c))(v); }, new F(std::move(f))});
      destroy_.push_back([](void* c) { delete static_cast<F*>(c); });
    }
  }

  void emit(const int& v) const {
    for (const entry& e : entries_) e.call(e.context, v);
  }

 private:
  struct entry {
    void (*call)(void*, const int&);
    void* context;
  };
  std::vector<entry> entries_;            // the hot part, 16 bytes per listener
  std::vector<void (*)(void*)> destroy_;  // cold
};

template <std::size_t N>
void emit_floor(benchmark::State& state) {
  const function_list& list = shared_instance<function_list, N>([](std::size_t n) {
    auto l = std::make_unique<function_list>();
    add_listeners(n, [&](auto f) { l->emplace_back(std::move(f)); });
    return l;
  });
  run_emit(state, N, [&](const int& v) {
    for (const auto& f : list) f(v);
  });
}

template <std::size_t N>
void emit_floor_fnptr(benchmark::State& state) {
  const fnptr_list& list = shared_instance<fnptr_list, N>([](std::size_t n) {
    auto l = std::make_unique<fnptr_list>();
    add_listeners(n, [&](auto f) { l->add(std::move(f)); });
    return l;
  });
  run_emit(state, N, [&](const int& v) { list.emit(v); });
}

void distinct_floor(benchmark::State& state) {
  const function_list& list = shared_instance<function_list, distinct_count>([](std::size_t) {
    auto l = std::make_unique<function_list>();
    add_distinct([&](auto f) { l->emplace_back(std::move(f)); });
    return l;
  });
  run_emit(state, distinct_count, [&](const int& v) {
    for (const auto& f : list) f(v);
  });
}

/// Writer floor: push_back one listener with an id, find it by id and erase it.
void writer_floor(benchmark::State& state) {
  struct keyed {
    std::uint64_t id;
    std::function<void(const int&)> fn;
  };
  std::vector<keyed> list;
  std::uint64_t next_id = 0;
  add_listeners(10, [&](auto f) { list.push_back({next_id++, std::move(f)}); });
  list.reserve(list.size() + 1);
  run_writer(state, [&] {
    const std::uint64_t id = next_id++;
    list.push_back({id, writer_listener()});
    auto it = std::find_if(list.begin(), list.end(), [id](const keyed& k) { return k.id == id; });
    if (it == list.end()) return false;
    list.erase(it);
    return true;
  });
}

void memory_floor(benchmark::State& state) {
  run_memory(state, 1000, [](std::size_t n) {
    auto v = std::make_unique<function_list>();
    for (std::size_t i = 0; i < n; ++i) v->push_back([](const int&) {});
    return v;
  });
}

// The measurement's own floor: ten std::function calls and two clock reads.
void tail_floor(benchmark::State& state) {
  function_list fns;
  add_listeners(10, [&](auto f) { fns.emplace_back(std::move(f)); });
  run_tail(
      state, writer_pace::none,
      [&](const int& v) {
        for (const auto& f : fns) f(v);
      },
      [] {});
}

[[maybe_unused]] const bool registered = [] {
  register_emit("floor", 1, emit_floor<1>);
  register_emit("floor", 10, emit_floor<10>);
  register_emit("floor", 100, emit_floor<100>);
  register_emit("floor", 1000, emit_floor<1000>);
  register_distinct("floor", distinct_floor);
  register_emit("floor_fnptr", 1, emit_floor_fnptr<1>);
  register_emit("floor_fnptr", 10, emit_floor_fnptr<10>);
  register_emit("floor_fnptr", 100, emit_floor_fnptr<100>);
  register_writer("floor", writer_floor);
  register_memory("floor", 1000, memory_floor);
  register_tail("floor", writer_pace::none, tail_floor);
  return true;
}();

}  // namespace
}  // namespace sigs_bench
