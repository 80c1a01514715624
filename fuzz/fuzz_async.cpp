// fuzz_async: byte strings decoded into programs on an async_signal<int> over a pool of 1-2
// workers with a 2- or 4-cell queue, every overflow policy and a signal queue_capacity of
// 0-4: emit / try_emit / emit_tracked / emit_and_wait (with contexts that are cancelled,
// expired or about to expire), add / once-add / remove / remove_and_wait / reset, drain,
// shutdown(drain | discard), cancel. One thread runs them in order (so the listener count
// of every emission is known, up to once-listeners in flight), or two threads share them.
// testing/async_run.hpp checks, after drain, the accounting identity
// (delivered + dropped + skipped against each accepted emission's count), completions,
// emit_and_wait, errors and exceptions caught on the workers, once-listeners firing exactly
// once, no call after a removal, remove_and_wait waiting, no leak; any violation aborts.
//
// Encoding (every byte string decodes to some program; see byte_reader.hpp):
//   byte 0   bit0 pool threads 1|2, bit1 pool queue 2|4, bits2-3 policy %3
//            (block, reject, caller_runs), bits4-6 signal queue_capacity %5, bit7 metrics
//   byte 1   bit0 no error handler, bit1 two threads (steps dealt alternately),
//            bits2-4 setup listeners %5
//   listener two bytes: form %6 (bits0-2), bit3 keyed, bits4-5 result (0,1 ok, 2 error,
//            3 throw), bit6 slow; second byte: bit0 probe, bit1 the error handler throws
//   setup    that many listeners
//   steps    kind %12 (emit, try_emit, emit_tracked, emit_and_wait, cancel, drain,
//            shutdown(drain), shutdown(discard), add, remove, remove_and_wait, reset), then
//            emissions: ctx %5 (none, token, expired, 200 us, token + 200 us);
//            add: a listener; remove*: slot byte, bit7 of it: by key
//            48 steps at most.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <testing/async_program.hpp>
#include <testing/async_run.hpp>

#include "byte_reader.hpp"

namespace {

using namespace sigs_test;
using namespace sigs_test::async;

constexpr std::size_t max_steps = 48;

listener_plan decode_listener(byte_reader& in) {
  listener_plan l;
  const std::uint8_t a = in.byte();
  l.form = static_cast<add_form>((a & 7) % 6);
  l.keyed = (a >> 3) & 1;
  const unsigned result = (a >> 4) & 3;
  l.result = result < 2 ? outcome::ok : result == 2 ? outcome::error : outcome::throws;
  l.slow = (a >> 6) & 1;
  const std::uint8_t b = in.byte();
  l.probe = b & 1;
  l.handler_throws = (b >> 1) & 1;
  return normalised(l);
}

step decode_step(byte_reader& in) {
  step s;
  s.kind = static_cast<step_kind>(in.below(step_kinds));
  if (is_emission(s.kind)) {
    s.ctx = static_cast<ctx_kind>(in.below(ctx_kinds));
  } else if (s.kind == step_kind::add) {
    s.listener = decode_listener(in);
  } else if (s.kind == step_kind::remove || s.kind == step_kind::remove_and_wait) {
    const std::uint8_t b = in.byte();
    s.slot = b & 0x7f;
    s.by_key = (b >> 7) & 1;
  }
  return s;
}

constexpr sigs::overflow_policy policies[] = {sigs::overflow_policy::block, sigs::overflow_policy::reject,
                                              sigs::overflow_policy::caller_runs};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  byte_reader in(data, size);
  program p;
  const std::uint8_t c0 = in.byte();
  p.cfg.pool_threads = 1 + (c0 & 1);
  p.cfg.pool_queue = (c0 >> 1) & 1 ? 4 : 2;
  p.cfg.policy = policies[((c0 >> 2) & 3) % 3];
  p.cfg.capacity = ((c0 >> 4) & 7) % 5;
  p.cfg.metrics = (c0 >> 7) & 1;
  const std::uint8_t c1 = in.byte();
  p.cfg.handler = !(c1 & 1);
  p.threads.resize((c1 >> 1) & 1 ? 2 : 1);
  const unsigned setup = ((c1 >> 2) & 7) % 5;
  for (unsigned i = 0; i < setup; ++i) p.setup.push_back(decode_listener(in));
  for (std::size_t n = 0; n < max_steps && !in.empty(); ++n) p.threads[n % p.threads.size()].push_back(decode_step(in));

  const verdict v = run(p, std::chrono::seconds(60));
  if (!v.ok()) {
    std::ostringstream os;
    os << p;
    std::fprintf(stderr, "\n*** async invariants violated%s by program\n%s\n", v.hung ? " (hung)" : "",
                 os.str().c_str());
    for (const auto& x : v.violations) std::fprintf(stderr, "  %s\n", x.c_str());
    std::abort();
  }
  return 0;
}
