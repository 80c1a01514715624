// fuzz_bad_input: the inputs a careless or hostile caller gives sigs.
//
// Part 1 (first bytes, model-checked like fuzz_reentrant): empty callables of every shape,
// duplicate, empty, binary, NUL-suffixed and huge (up to 64 KiB) keys, removal of ids never
// issued and of the invalid id, remove_listener_and_wait from inside the listener itself or
// from a nested emission of it, and emissions nested 16 deep — past the 8 hazard slots of
// a thread, onto the overflow fallback — with writers inside the deep nest.
// Part 2 (the rest): a payload type whose copy constructor throws, and functors whose
// operator bool says they are empty. emit must pass the payload by reference (no copy), a
// listener that copies it throws inside its call, emit goes on, try_emit stops there.
#include <algorithm>
#include <cstddef>
#include <exception>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "fuzz_common.hpp"

namespace {

using namespace sigs_test;

struct copy_failed {};

/// A payload that refuses to be copied when asked to.
struct touchy {
  bool refuse_copy = false;
  explicit touchy(bool refuse) : refuse_copy(refuse) {}
  touchy(const touchy& o) : refuse_copy(o.refuse_copy) {
    if (o.refuse_copy) throw copy_failed{};
  }
  touchy& operator=(const touchy&) = delete;
};

/// A functor that reports itself empty (or not) through operator bool.
struct maybe_empty {
  bool present;
  int* calls;
  explicit operator bool() const { return present; }
  void operator()(const touchy&) const { ++*calls; }
};

[[noreturn]] void fail(const char* what, std::size_t step) {
  std::fprintf(stderr, "\n*** bad_input part 2, step %zu: %s\n", step, what);
  std::abort();
}

void payload_part(byte_reader& in) {
  struct entry {
    sigs::listener_id id;
    bool copies;
  };
  sigs::sync_signal<touchy> sig;
  std::vector<entry> live;  // the model: listeners in registration order
  int calls = 0;
  for (std::size_t step = 0; step < 32 && !in.empty(); ++step) {
    switch (in.below(8)) {
      case 0:
      case 1: {
        const bool copies = in.flag();
        sigs::listener_id id = copies ? sig.add_listener([&calls](const touchy& t) {
          ++calls;
          touchy copy(t);
          (void)copy;
        })
                                      : sig.add_listener([&calls](const touchy&) { ++calls; });
        if (!id) fail("add refused", step);
        live.push_back({id, copies});
        break;
      }
      case 2: {
        const bool present = in.flag();
        sigs::listener_id id = sig.add_listener(maybe_empty{present, &calls});
        if (present != static_cast<bool>(id)) fail("operator bool not honoured", step);
        if (!present && id.error() != sigs::errc::invalid_listener) fail("empty functor: wrong error", step);
        if (present) live.push_back({id, false});
        break;
      }
      case 3: {
        const std::function<void(const touchy&)> empty;
        void (*null_fn)(const touchy&) = nullptr;
        if (sig.add_listener(empty) || sig.add_once(null_fn) || sig.add_once_with_key(empty, "k"))
          fail("empty callable accepted", step);
        break;
      }
      case 4:
      case 5: {
        const touchy payload(in.flag());
        std::size_t expect = 0, copying = 0;
        for (const entry& e : live) {
          ++expect;
          copying += e.copies;
        }
        const auto exceptions = sig.stats().exceptions;
        calls = 0;
        try {
          sig.emit(payload);
        } catch (...) {
          fail("exception escaped emit", step);
        }
        if (static_cast<std::size_t>(calls) != expect) fail("emit did not call every listener", step);
        if (sig.stats().exceptions - exceptions != (payload.refuse_copy ? copying : 0))
          fail("exceptions miscounted", step);
        break;
      }
      case 6: {
        const touchy payload(in.flag());
        std::size_t expect = 0;
        bool stops = false;
        for (const entry& e : live) {
          ++expect;
          if (payload.refuse_copy && e.copies) {
            stops = true;
            break;
          }
        }
        calls = 0;
        const sigs::emit_result r = sig.try_emit(payload);
        if (r.calls != expect || static_cast<std::size_t>(calls) != expect)
          fail("try_emit called the wrong listeners", step);
        if (stops != !r.ok()) fail("try_emit did not stop at the copying listener", step);
        if (stops) {
          if (r.error != sigs::errc::listener_exception || !r.exception || r.index != expect - 1)
            fail("bad report", step);
          try {
            std::rethrow_exception(r.exception);
          } catch (const copy_failed&) {
          } catch (...) {
            fail("wrong exception kept", step);
          }
        }
        break;
      }
      default: {
        if (live.empty()) break;
        const std::size_t victim = in.below(static_cast<unsigned>(std::min<std::size_t>(live.size(), 256)));
        if (sig.remove_listener(live[victim].id)) fail("remove failed", step);
        if (sig.remove_listener(live[victim].id) != sigs::errc::not_found) fail("second remove succeeded", step);
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(victim));
        break;
      }
    }
    if (sig.size() != live.size()) fail("size wrong", step);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  byte_reader in(data, size);
  // The first byte says how many ops part 1 decodes (0..63); the rest goes to part 2.
  const std::size_t ops = in.below(64);
  sigs_fuzz::run_against_model(in, sigs_fuzz::decode_options{true, true}, limits{16, 64, 150, 48}, ops);
  payload_part(in);
  return 0;
}
