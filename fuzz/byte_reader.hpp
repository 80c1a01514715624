// fuzz/byte_reader.hpp — reads fuzzer bytes as small decisions.
//
// Every read succeeds: past the end it returns zeros, so any byte string decodes to some
// program and libFuzzer's mutations stay meaningful. Works with any compiler (no
// FuzzedDataProvider, whose header lives in clang's resource directory).
//
//   sigs_test::byte_reader in(data, size);
//   switch (in.below(4)) { ... }          // an action byte
//   std::string key = in.bytes(in.below(8));
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sigs_test {

class byte_reader {
 public:
  byte_reader(const std::uint8_t* data, std::size_t size) noexcept : p_(data), end_(data + size) {}

  [[nodiscard]] bool empty() const noexcept { return p_ == end_; }
  [[nodiscard]] std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - p_); }

  /// The next byte, or 0 past the end.
  std::uint8_t byte() noexcept { return p_ == end_ ? 0 : *p_++; }

  /// A value in [0, n), 0 < n <= 256, from one byte.
  unsigned below(unsigned n) noexcept { return byte() % n; }

  bool flag() noexcept { return (byte() & 1) != 0; }

  /// Up to `n` raw bytes (fewer if the input ends).
  std::string bytes(std::size_t n) {
    if (n > left()) n = left();
    std::string out(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return out;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

}  // namespace sigs_test
