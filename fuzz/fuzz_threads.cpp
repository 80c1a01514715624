// fuzz_threads: byte strings decoded into programs of 2-3 threads sharing one signal (the
// steps of testing/concurrent_program.hpp), run on real threads; aborts if any
// invariant that holds under every interleaving is violated (no call after a
// happened-before removal, remove_and_wait waits, once fires exactly once, per-emission
// uniqueness and order, predictable results, final size/keys/stats, no leak).
//
// Encoding: byte 0: setup length % 5, thread count 2 + (bit 7); then each step as
//   kind%13, form%6, flags (bit0 keyed, bits1-2 result 0,1 ok 2 error 3 throw, bit3 slow),
//   slot, cancel_after%4
// assigned round-robin to the setup, then to the threads, 48 steps at most.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <testing/concurrent_program.hpp>
#include <testing/concurrent_run.hpp>

#include "byte_reader.hpp"

namespace {

using namespace sigs_test;
using namespace sigs_test::concurrent;

step decode_step(byte_reader& in) {
  step s;
  s.kind = static_cast<step_kind>(in.below(step_kinds));
  s.form = static_cast<add_form>(in.below(6));
  const std::uint8_t flags = in.byte();
  s.keyed = flags & 1;
  const unsigned result = (flags >> 1) & 3;
  s.result = result < 2 ? outcome::ok : result == 2 ? outcome::error : outcome::throws;
  s.slow = (flags >> 3) & 1;
  s.slot = in.byte();
  s.cancel_after = static_cast<std::uint8_t>(in.below(4));
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  byte_reader in(data, size);
  program p;
  const std::uint8_t head = in.byte();
  const unsigned setup = head % 5;
  p.threads.resize(2 + (head >> 7));
  for (unsigned i = 0; i < setup && !in.empty(); ++i) p.setup.push_back(decode_step(in));
  for (std::size_t n = 0; n < 48 && !in.empty(); ++n) p.threads[n % p.threads.size()].push_back(decode_step(in));
  const verdict v = run(p);
  if (!v.ok()) {
    std::ostringstream os;
    os << p;
    std::fprintf(stderr, "\n*** concurrent invariants violated by program\n%s\n", os.str().c_str());
    for (const auto& x : v.violations) std::fprintf(stderr, "  %s\n", x.c_str());
    std::abort();
  }
  return 0;
}
