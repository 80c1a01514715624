// fuzz_reentrant: like fuzz_sequential, but listeners carry up to two re-entrant actions
// (add, remove, remove_and_wait — of themselves too —, reset, emit, try_emit, introspect)
// that they run on the same signal from inside their call, nested up to 4 emissions deep (150 listener calls per op at most).
// The model predicts each nested result: snapshot-at-start for adds, skip-if-removed-
// before-reached, would_deadlock for remove_and_wait of a listener on the call stack.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sigs_test::byte_reader in(data, size);
  sigs_fuzz::run_against_model(in, sigs_fuzz::decode_options{true, false}, sigs_test::limits{4, 32, 150, 48});
  return 0;
}
