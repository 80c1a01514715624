// fuzz/fuzz_common.hpp — decoding fuzzer bytes into reference-model ops, and the loop that
// runs them on the model and on a real signal and stops the process at the first difference.
//
// Encoding of one op (every byte string decodes to something; see byte_reader.hpp):
//
//   action byte % 12:
//     0, 1  add            form%6, key, flags, error value, [actions: count%3, op...]
//                          flags: bit0 error-aware; bits1-3 all set: empty callable
//                          (any two of them in hostile mode); bits4-5: 0,1 ok, 2 error, 3 throw;
//                          bits6-7: when it fails, the error handler does nothing, removes
//                          it, removes it and waits, or throws
//     2     remove_listener(id)            target
//     3     remove_listener(key)           key
//     4     remove_listener_and_wait(id)   target
//     5     remove_listener_and_wait(key)  key
//     6     reset()
//     7, 8  emit
//     9     try_emit
//     10    emit/try_emit with a context   byte: bit0 try, bits1-2 both set: expired deadline,
//                                          bits3-5: cancel after 0..6 calls, 7 never
//                                          (from inside a listener: a plain try_emit/emit)
//     11    introspect                     key, target
//   key:    byte % 5 -> "", "a", "b", "c", "d"; hostile mode: byte % 8, and also
//           5 raw bytes (length byte % 9), 6 huge (1 KiB..64 KiB of one byte), 7 "<pool>\0"
//   target: 0 the invalid id, 255 an id never issued, else 1 + (byte - 1) % (issued + 1)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <testing/alive_token.hpp>
#include <testing/operations.hpp>
#include <testing/reference_model.hpp>
#include <testing/signal_driver.hpp>

#include "byte_reader.hpp"

namespace sigs_fuzz {

using namespace sigs_test;

struct decode_options {
  bool actions = false;  // listeners get re-entrant actions
  bool hostile = false;  // binary, huge and NUL-suffixed keys; more empty callables
};

inline std::string decode_key(byte_reader& in, const decode_options& o) {
  static const char* const pool[] = {"", "a", "b", "c", "d"};
  const unsigned k = in.below(o.hostile ? 8 : 5);
  switch (k) {
    case 5: return in.bytes(in.below(9));
    case 6: {
      const std::size_t kib = 1 + in.below(64);
      return std::string(kib * 1024, static_cast<char>(in.byte()));
    }
    case 7: return std::string(pool[1 + in.below(4)]) + std::string(1, '\0');
    default: return pool[k];
  }
}

inline std::uint64_t decode_target(byte_reader& in, std::uint64_t issued) {
  const std::uint8_t b = in.byte();
  if (b == 0) return 0;
  if (b == 255) return unknown_id;
  return 1 + (b - 1u) % (issued + 1);
}

/// One op. `issued` is the model's count of ids so far; `inner` means it will run from
/// inside a listener (no context ops, no further actions on listeners it adds).
inline op decode_op(byte_reader& in, std::uint64_t issued, const decode_options& o, bool inner = false) {
  switch (in.below(12)) {
    case 0:
    case 1: {
      listener_spec s;
      s.form = static_cast<add_form>(in.below(6));
      s.key = decode_key(in, o);
      const std::uint8_t flags = in.byte();
      s.error_aware = flags & 1;
      const unsigned empties = ((flags >> 1) & 1) + ((flags >> 2) & 1) + ((flags >> 3) & 1);
      s.empty = empties == 3 || (o.hostile && empties == 2);
      const unsigned result = (flags >> 4) & 3;
      s.does.result = result < 2 ? outcome::ok : result == 2 ? outcome::error : outcome::throws;
      s.does.error_value = 1 + static_cast<int>(in.below(4));
      s.on_error = static_cast<handler_action>(flags >> 6);
      if (o.actions && !inner) {
        const unsigned n = in.below(3);
        for (unsigned i = 0; i < n; ++i) s.does.actions.push_back(decode_op(in, issued + 1, o, true));
      }
      return op::add(normalised(std::move(s)));
    }
    case 2: return op::remove_id(decode_target(in, issued));
    case 3: return op::remove_key(decode_key(in, o));
    case 4: return op::remove_and_wait_id(decode_target(in, issued));
    case 5: return op::remove_and_wait_key(decode_key(in, o));
    case 6: return op::reset();
    case 7:
    case 8: return op::emit();
    case 9: return op::try_emit();
    case 10: {
      const std::uint8_t b = in.byte();
      const bool as_try = b & 1;
      if (inner) return as_try ? op::try_emit() : op::emit();
      const unsigned k = (b >> 3) & 7;
      return op::emit_ctx(as_try, k == 7 ? never : k, (b & 6) == 6);
    }
    default: {
      std::string key = decode_key(in, o);
      return op::introspect(std::move(key), decode_target(in, issued));
    }
  }
}

[[noreturn]] inline void mismatch(std::size_t n, const op& o, const trace& want, const trace& got, const char* what) {
  std::fprintf(stderr, "\n*** sigs differs from the reference model (%s) at op %zu: %s\n", what, n,
               fmt::describe(o).c_str());
  std::fprintf(stderr, "--- model:\n");
  for (const auto& l : want) std::fprintf(stderr, "  %s\n", l.c_str());
  std::fprintf(stderr, "--- sigs:\n");
  for (const auto& l : got) std::fprintf(stderr, "  %s\n", l.c_str());
  std::abort();
}

/// Decodes up to `max_ops` ops, applies each to the model and to a real signal, and aborts
/// at the first difference in traces, size() or keys(); at the end checks that destroying
/// the signal released every listener callable.
inline void run_against_model(byte_reader& in, const decode_options& o, limits lim, std::size_t max_ops = 64) {
  const long before = alive_token::live.load();
  {
    reference_signal model(lim);
    signal_driver real(lim);
    for (std::size_t n = 0; n < max_ops && !in.empty(); ++n) {
      const op next = decode_op(in, model.issued(), o);
      const trace want = model.apply(next);
      const trace got = real.apply(next);
      if (got != want) mismatch(n, next, want, got, "trace");
      if (real.signal().size() != model.size() || real.signal().keys() != model.keys()) {
        mismatch(n, next, {"size=" + std::to_string(model.size()) + " keys=" + fmt::keys(model.keys())},
                 {"size=" + std::to_string(real.signal().size()) + " keys=" + fmt::keys(real.signal().keys())},
                 "size/keys");
      }
    }
  }
  if (alive_token::live.load() != before) {
    std::fprintf(stderr, "\n*** listener callables leaked or destroyed twice: %ld live\n",
                 alive_token::live.load() - before);
    std::abort();
  }
}

}  // namespace sigs_fuzz
