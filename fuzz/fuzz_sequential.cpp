// fuzz_sequential: byte strings decoded into sequences of sync_signal operations (every
// add form, removal by id/key, remove_and_wait, reset, emit, try_emit, contexts that cancel
// after k calls or have expired, introspection), run on the reference model and on a real
// signal. Any difference in the traces (calls in order, error-handler reports, every
// result), in size() or keys(), or a leaked listener, aborts. Encoding: fuzz_common.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sigs_test::byte_reader in(data, size);
  sigs_fuzz::run_against_model(in, sigs_fuzz::decode_options{false, false}, sigs_test::limits{3, 24, 400, 256});
  return 0;
}
