// One value per decision of a SearchSpace: the currency passed between strategies,
// predictors, evaluators and the trial store. It is a plain value; the SearchSpace that made
// it gives it meaning (strings, hashing, encodings).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace nasforge {

class Architecture {
 public:
  Architecture() = default;
  explicit Architecture(std::vector<uint32_t> choices) : choices_(std::move(choices)) {}

  // Index into each decision's domain. Decisions that are inactive (blocks past the active
  // depth) hold 0, so equal architectures compare equal.
  const std::vector<uint32_t>& choices() const { return choices_; }
  uint32_t operator[](size_t decision) const { return choices_[decision]; }
  uint32_t& operator[](size_t decision) { return choices_[decision]; }
  size_t size() const { return choices_.size(); }

  bool operator==(const Architecture& o) const { return choices_ == o.choices_; }
  bool operator!=(const Architecture& o) const { return choices_ != o.choices_; }
  bool operator<(const Architecture& o) const { return choices_ < o.choices_; }

 private:
  std::vector<uint32_t> choices_;
};

struct ArchitectureHash {
  size_t operator()(const Architecture& a) const {
    size_t h = a.size();
    for (uint32_t c : a.choices()) h = h * 1000003u ^ c;
    return h;
  }
};

}  // namespace nasforge
