// The expected cost as a gather-and-product over unit terms.
#include "nasforge/differentiable/expected_cost.h"

#include <torch/torch.h>

#include <cmath>
#include <map>

#include "nasforge/searchspace/unit_terms.h"

namespace nasforge::differentiable {

StatusOr<ExpectedCost> ExpectedCost::make(const SearchSpace& space,
                                          const std::function<double(const Unit&)>& unit_cost,
                                          Counting counting) {
  auto terms = unit_terms(space, counting);
  if (!terms.ok()) return terms.status();
  // Terms with one condition share one coefficient: a layer's units under one assignment.
  std::map<std::vector<std::pair<int, uint32_t>>, double> merged;
  for (const UnitTerm& t : *terms) {
    const double c = unit_cost(t.unit);
    if (!std::isfinite(c))
      return FailedPrecondition("no cost for unit '" + t.unit.key() + "' of space '" +
                                space.name() + "' (the latency table lacks it?)");
    merged[t.when] += c;
  }
  ExpectedCost e;
  for (const auto& d : space.decisions()) {
    e.offset_.push_back(e.flat_size_);
    e.flat_size_ += static_cast<int64_t>(d.domain.size());
  }
  size_t arity = 1;
  for (const auto& [when, c] : merged) arity = std::max(arity, when.size());
  std::vector<int64_t> index;
  for (const auto& [when, c] : merged) {
    for (const auto& [d, v] : when) index.push_back(e.offset_[static_cast<size_t>(d)] + v);
    for (size_t k = when.size(); k < arity; ++k) index.push_back(e.flat_size_);
    e.when_.push_back(when);
    e.cost_values_.push_back(c);
  }
  const auto n = static_cast<int64_t>(merged.size());
  e.index_ = torch::tensor(index, torch::kInt64).view({n, static_cast<int64_t>(arity)});
  e.cost_ = torch::tensor(e.cost_values_, torch::kFloat64);
  return e;
}

at::Tensor ExpectedCost::operator()(const std::vector<at::Tensor>& probs) const {
  std::vector<at::Tensor> parts;
  parts.reserve(probs.size() + 1);
  for (const auto& p : probs) parts.push_back(p.to(torch::kFloat64).reshape({-1}));
  parts.push_back(torch::ones({1}, torch::kFloat64));
  const at::Tensor flat = torch::cat(parts);
  if (flat.size(0) != flat_size_ + 1)
    throw std::invalid_argument("expected cost: the probabilities do not match the space");
  return (flat.index_select(0, index_.reshape({-1})).view(index_.sizes()).prod(1) * cost_).sum();
}

double ExpectedCost::at(const Architecture& a) const {
  double sum = 0;
  for (size_t t = 0; t < when_.size(); ++t) {
    bool holds = true;
    for (const auto& [d, v] : when_[t]) holds = holds && a[static_cast<size_t>(d)] == v;
    if (holds) sum += cost_values_[t];
  }
  return sum;
}

}  // namespace nasforge::differentiable
