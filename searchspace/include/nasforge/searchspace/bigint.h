// Exact unsigned integers for space sizes, which overflow 64 bits for realistic spaces.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nasforge {

class BigUint {
 public:
  BigUint() = default;
  BigUint(uint64_t v);  // NOLINT: implicit from small integers is natural here

  BigUint& operator+=(const BigUint& o);
  BigUint& operator*=(const BigUint& o);
  friend BigUint operator+(BigUint a, const BigUint& b) { return a += b; }
  friend BigUint operator*(BigUint a, const BigUint& b) { return a *= b; }
  bool operator==(const BigUint& o) const { return limbs_ == o.limbs_; }
  bool operator!=(const BigUint& o) const { return !(*this == o); }
  bool operator<(const BigUint& o) const;
  bool is_zero() const { return limbs_.empty(); }

  std::string str() const;  // decimal, no separators
  double log10() const;     // -inf for zero
  // True and sets *out when the value fits in 64 bits.
  bool to_u64(uint64_t* out) const;

 private:
  void trim();
  std::vector<uint32_t> limbs_;  // base 1e9, little-endian; empty means zero
};

// "325989846" -> "325,989,846"
std::string group_thousands(const std::string& digits);

}  // namespace nasforge
