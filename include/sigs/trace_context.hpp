// sigs/trace_context.hpp — the W3C Trace Context fields of one span, and the `traceparent`
// header they travel in between processes.
//
//   sigs::trace_context parent;
//   if (auto ec = sigs::trace_context::parse_traceparent(request.header("traceparent"), parent))
//     parent = {};                                        // malformed: start a new trace
//   sig.emit(sigs::context().with_trace(parent), payload);  // the emit span is its child
//   response.set_header("traceparent", parent.traceparent());
//
// A trace_context is plain data (25 bytes): a 16-byte trace id, an 8-byte span id (the
// W3C "parent-id": the id of the span that is the parent of whatever the receiver starts)
// and the 8 trace flags. An all-zero trace id or span id is invalid: it means "no trace".
// docs/tracing.md describes how sigs carries it through emissions.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

namespace sigs {

/// The identity of one span, as W3C Trace Context defines it. Value-initialised, it is
/// invalid ("no trace").
struct trace_context {
  /// The 16 bytes of a trace id, most significant first (as the hex of `traceparent`).
  using trace_id_type = std::array<std::uint8_t, 16>;
  /// The 8 bytes of a span id, most significant first.
  using span_id_type = std::array<std::uint8_t, 8>;

  /// The `sampled` bit of `flags`: the caller may have recorded its span.
  static constexpr std::uint8_t sampled_flag = 0x01;
  /// Length of a version-00 `traceparent`: "00-" 32 hex "-" 16 hex "-" 2 hex.
  static constexpr std::size_t traceparent_size = 55;

  trace_id_type trace_id{};  ///< all zero: invalid
  span_id_type span_id{};    ///< all zero: invalid
  std::uint8_t flags = 0;    ///< W3C trace-flags; bit 0 is sampled_flag

  /// True when both ids are non-zero: a span to be a child of.
  [[nodiscard]] constexpr bool valid() const noexcept { return !all_zero(trace_id) && !all_zero(span_id); }
  /// True when flags has sampled_flag.
  [[nodiscard]] constexpr bool sampled() const noexcept { return (flags & sampled_flag) != 0; }

  /// Writes the version-00 `traceparent` of these fields, exactly traceparent_size
  /// characters (lowercase hex, no terminator), to `out`; returns the end. Invalid fields
  /// are written as they are (zeros), which parse_traceparent() refuses.
  char* format_traceparent(char* out) const noexcept {
    *out++ = '0';
    *out++ = '0';
    *out++ = '-';
    out = hex(trace_id.data(), trace_id.size(), out);
    *out++ = '-';
    out = hex(span_id.data(), span_id.size(), out);
    *out++ = '-';
    return hex(&flags, 1, out);
  }

  /// The version-00 `traceparent` header value; format_traceparent() into a string.
  [[nodiscard]] std::string traceparent() const {
    std::string s(traceparent_size, '\0');
    format_traceparent(s.data());
    return s;
  }

  /// Parses a `traceparent` header value into `out`. Returns an empty code on success, or
  /// std::errc::invalid_argument (leaving `out` as it was) when `header` is not a valid
  /// traceparent: not "vv-<32 hex>-<16 hex>-<2 hex>" in lowercase hex, version "ff", a
  /// version 00 value with anything after the flags, a later version whose extra fields
  /// do not start with '-', or an all-zero trace id or span id. Later versions are read
  /// as version 00 (their first four fields), as the W3C recommendation asks.
  static std::error_code parse_traceparent(std::string_view header, trace_context& out) noexcept {
    const auto bad = std::make_error_code(std::errc::invalid_argument);
    if (header.size() < traceparent_size) return bad;
    std::uint8_t version = 0;
    if (!unhex(header.substr(0, 2), &version) || version == 0xff) return bad;
    if (version == 0 ? header.size() != traceparent_size
                     : header.size() > traceparent_size && header[traceparent_size] != '-')
      return bad;
    if (header[2] != '-' || header[35] != '-' || header[52] != '-') return bad;
    trace_context t;
    if (!unhex(header.substr(3, 32), t.trace_id.data()) || !unhex(header.substr(36, 16), t.span_id.data()) ||
        !unhex(header.substr(53, 2), &t.flags) || !t.valid())
      return bad;
    out = t;
    return {};
  }

  /// A new span in this trace: the same trace id and flags, a new random span id. When
  /// this context is invalid, a new root: a new random trace id, and the flags sampled.
  [[nodiscard]] trace_context child() const noexcept {
    trace_context c;
    if (valid()) {
      c.trace_id = trace_id;
      c.flags = flags;
    } else {
      fill_random(c.trace_id.data(), c.trace_id.size());
      c.flags = sampled_flag;
    }
    fill_random(c.span_id.data(), c.span_id.size());
    return c;
  }

  /// Field-wise equality.
  friend constexpr bool operator==(const trace_context&, const trace_context&) noexcept = default;

 private:
  template <std::size_t N>
  static constexpr bool all_zero(const std::array<std::uint8_t, N>& a) noexcept {
    for (const std::uint8_t b : a)
      if (b != 0) return false;
    return true;
  }

  static char* hex(const std::uint8_t* in, std::size_t n, char* out) noexcept {
    constexpr std::string_view digits = "0123456789abcdef";
    for (std::size_t i = 0; i < n; ++i) {
      *out++ = digits[in[i] >> 4];
      *out++ = digits[in[i] & 0x0f];
    }
    return out;
  }

  /// Lowercase hex of an even length into bytes; false at any other character.
  static bool unhex(std::string_view s, std::uint8_t* out) noexcept {
    const auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
      const int hi = nibble(s[i]);
      const int lo = nibble(s[i + 1]);
      if (hi < 0 || lo < 0) return false;
      out[i / 2] = static_cast<std::uint8_t>((hi << 4) | lo);
    }
    return true;
  }

  /// Fills `n` bytes with random bits, never all zero (the ids must be valid). A
  /// splitmix64 sequence per thread, seeded once from std::random_device, the clock, the
  /// thread's id and a process-wide count: ids unique with overwhelming probability, not
  /// secrets.
  static void fill_random(std::uint8_t* out, std::size_t n) noexcept {
    for (;;) {
      bool zero = true;
      for (std::size_t i = 0; i < n; i += 8) {
        std::uint64_t r = next_random();
        for (std::size_t j = i; j < n && j < i + 8; ++j, r >>= 8) {
          out[j] = static_cast<std::uint8_t>(r);
          zero = zero && out[j] == 0;
        }
      }
      if (!zero) return;
    }
  }

  static std::uint64_t next_random() noexcept {
    thread_local std::uint64_t state = seed();
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  static std::uint64_t seed() noexcept {
    static std::atomic<std::uint64_t> seeds{0};
    // relaxed: only distinctness matters, which the RMW gives
    std::uint64_t s = seeds.fetch_add(1, std::memory_order_relaxed) * 0xd6e8feb86659fd93ULL;
    s ^= static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    s ^= static_cast<std::uint64_t>(std::hash<std::thread::id>{}(std::this_thread::get_id())) << 17;
    try {
      std::random_device rd;
      s ^= (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    } catch (...) {
      // No entropy source: the count, the clock and the thread id still make seeds distinct.
    }
    return s;
  }
};

}  // namespace sigs
