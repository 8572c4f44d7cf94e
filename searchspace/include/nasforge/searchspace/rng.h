// A small, portable, seedable random generator (xoshiro256**, seeded through splitmix64).
// The standard distributions are implementation-defined, so nasforge draws through this class
// to give the same run for the same seed on every platform. There is no global instance.
#pragma once

#include <array>
#include <cstdint>

namespace nasforge {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t next();
  // Uniform integer in [0, n). n must be > 0.
  uint64_t uniform(uint64_t n);
  // Uniform double in [0, 1).
  double uniform01();
  // An independent generator derived from this one (for handing to a sub-task).
  Rng split();

  // The full state, for checkpoints: a restored generator continues the same sequence.
  std::array<uint64_t, 4> state() const { return {s_[0], s_[1], s_[2], s_[3]}; }
  void set_state(const std::array<uint64_t, 4>& s) {
    for (int i = 0; i < 4; ++i) s_[i] = s[i];
  }

 private:
  uint64_t s_[4];
};

}  // namespace nasforge
