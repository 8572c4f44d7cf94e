// The one stable hash of nasforge: 64-bit FNV-1a. Canonical architecture hashes and space
// fingerprints are stored in trial databases and checkpoints, so they must not depend on the
// platform, the compiler or the run (std::hash guarantees none of that).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace nasforge {

inline constexpr uint64_t kFnvOffset = 1469598103934665603ull;
inline constexpr uint64_t kFnvPrime = 1099511628211ull;

inline uint64_t fnv1a64(const std::string& bytes, uint64_t h = kFnvOffset) {
  for (unsigned char c : bytes) h = (h ^ c) * kFnvPrime;
  return h;
}

// 16 lower-case hex digits.
inline std::string hex64(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace nasforge
