#include "nasforge/searchspace/bigint.h"

#include <cmath>
#include <limits>

namespace nasforge {

namespace {
constexpr uint64_t kBase = 1000000000ull;
}

BigUint::BigUint(uint64_t v) {
  while (v > 0) {
    limbs_.push_back(static_cast<uint32_t>(v % kBase));
    v /= kBase;
  }
}

void BigUint::trim() {
  while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
}

BigUint& BigUint::operator+=(const BigUint& o) {
  if (limbs_.size() < o.limbs_.size()) limbs_.resize(o.limbs_.size(), 0);
  uint64_t carry = 0;
  for (size_t i = 0; i < limbs_.size(); ++i) {
    uint64_t s = carry + limbs_[i] + (i < o.limbs_.size() ? o.limbs_[i] : 0);
    limbs_[i] = static_cast<uint32_t>(s % kBase);
    carry = s / kBase;
  }
  if (carry) limbs_.push_back(static_cast<uint32_t>(carry));
  return *this;
}

BigUint& BigUint::operator*=(const BigUint& o) {
  if (is_zero() || o.is_zero()) {
    limbs_.clear();
    return *this;
  }
  std::vector<uint64_t> acc(limbs_.size() + o.limbs_.size() + 1, 0);
  for (size_t i = 0; i < limbs_.size(); ++i) {
    uint64_t carry = 0;
    for (size_t j = 0; j < o.limbs_.size() || carry; ++j) {
      uint64_t cur = acc[i + j] + carry +
                     (j < o.limbs_.size() ? static_cast<uint64_t>(limbs_[i]) * o.limbs_[j] : 0);
      acc[i + j] = cur % kBase;
      carry = cur / kBase;
    }
  }
  limbs_.assign(acc.begin(), acc.end());
  trim();
  return *this;
}

bool BigUint::operator<(const BigUint& o) const {
  if (limbs_.size() != o.limbs_.size()) return limbs_.size() < o.limbs_.size();
  for (size_t i = limbs_.size(); i-- > 0;)
    if (limbs_[i] != o.limbs_[i]) return limbs_[i] < o.limbs_[i];
  return false;
}

std::string BigUint::str() const {
  if (limbs_.empty()) return "0";
  std::string s = std::to_string(limbs_.back());
  for (size_t i = limbs_.size() - 1; i-- > 0;) {
    std::string part = std::to_string(limbs_[i]);
    s += std::string(9 - part.size(), '0') + part;
  }
  return s;
}

double BigUint::log10() const {
  if (limbs_.empty()) return -std::numeric_limits<double>::infinity();
  // Use the top two limbs for the mantissa; the rest only shift the exponent.
  size_t n = limbs_.size();
  double top = limbs_[n - 1];
  if (n >= 2) top = top * static_cast<double>(kBase) + limbs_[n - 2];
  double exp = 9.0 * static_cast<double>(n >= 2 ? n - 2 : 0);
  return std::log10(top) + exp;
}

bool BigUint::to_u64(uint64_t* out) const {
  unsigned __int128 v = 0;
  for (size_t i = limbs_.size(); i-- > 0;) {
    v = v * kBase + limbs_[i];
    if (v > std::numeric_limits<uint64_t>::max()) return false;
  }
  *out = static_cast<uint64_t>(v);
  return true;
}

std::string group_thousands(const std::string& digits) {
  std::string out;
  int n = static_cast<int>(digits.size());
  for (int i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace nasforge
