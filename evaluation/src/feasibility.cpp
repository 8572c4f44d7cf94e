// The pre-search feasibility check. For each constraint it finds the best value the space can
// reach (the smallest for <=, the largest for >=): exactly from a table's rows or by
// enumerating a small space, by coordinate descent for a monotone source (counts, lookup-table
// latency) in a large one. A bound beyond that value is reported before any search starts.
#include <cmath>
#include <functional>
#include <limits>

#include "internal/feasibility.h"
#include "nasforge/searchspace/rng.h"

namespace nasforge::evaluation {

bool CheapFeasibility::feasible(const Architecture& a) const {
  for (const auto& [k, src] : constraints_) {
    auto v = src->evaluate(a);
    if (!v.ok() || k.violation(*v) > 0) return false;
  }
  return true;
}

namespace {

constexpr uint64_t kEnumerateLimit = 200000;

// Coordinate descent on f (minimised) from the architecture whose numeric decisions all take
// their smallest (or, for `largest`, their largest) value.
std::pair<double, Architecture> descend(const SearchSpace& s,
                                        const std::function<double(const Architecture&)>& f,
                                        bool largest) {
  const auto& ds = s.decisions();
  Architecture a(std::vector<uint32_t>(ds.size(), 0));
  for (size_t d = 0; d < ds.size(); ++d) {
    const auto& v = ds[d].domain.ints;
    if (v.empty()) continue;
    size_t k = 0;
    for (size_t i = 1; i < v.size(); ++i)
      if (largest ? v[i] > v[k] : v[i] < v[k]) k = i;
    a[d] = static_cast<uint32_t>(k);
  }
  s.normalize(a);
  double best = f(a);
  for (int sweep = 0; sweep < 20; ++sweep) {
    bool moved = false;
    for (size_t d = 0; d < ds.size(); ++d) {
      if (!s.is_active(a, static_cast<int>(d))) continue;
      for (uint32_t v = 0; v < ds[d].domain.size(); ++v) {
        if (v == a[d]) continue;
        Architecture b = a;
        b[d] = v;
        s.normalize(b);
        const double y = f(b);
        if (y < best) best = y, a = b, moved = true;
      }
    }
    if (!moved) break;
  }
  return {best, a};
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

FeasibilityReport check_feasibility(
    const SearchSpace& space, const std::vector<std::pair<ConstraintSpec, MetricSource*>>& all,
    const CheapFeasibility* cheap, uint64_t seed) {
  FeasibilityReport rep;
  const bool small = !(BigUint(kEnumerateLimit) < space.size());
  for (const auto& [k, src] : all) {
    for (int side = 0; side < 2; ++side) {
      const bool upper = side == 0;  // checking `<= max` needs the minimum
      if (upper ? !k.max : !k.min) continue;
      BoundCheck b;
      b.constraint = k.str();
      const double sign = upper ? 1 : -1;  // minimise sign * value
      if (auto ex = src->extremes()) {
        const auto& e = upper ? ex->first : ex->second;
        b.kind = BoundCheck::Kind::kExact;
        b.best = e.value;
        b.arch = e.arch;
        b.how = "exact, over every row of " + src->describe();
      } else if (src->cheap() && small) {
        double best = std::numeric_limits<double>::infinity();
        Architecture arg;
        bool failed = false;
        space.for_each([&](const Architecture& a) {
          auto v = src->evaluate(a);
          if (!v.ok()) return !(failed = true);
          if (sign * *v < best) best = sign * *v, arg = a;
          return true;
        });
        if (!failed) {
          b.kind = BoundCheck::Kind::kExact;
          b.best = sign * best;
          b.arch = arg;
          b.how = "exact, over all " + space.size().str() + " architectures";
        }
      } else if (src->cheap() && src->monotone()) {
        bool failed = false;
        auto f = [&](const Architecture& a) {
          auto v = src->evaluate(a);
          if (!v.ok()) failed = true;
          return v.ok() ? sign * *v : std::numeric_limits<double>::infinity();
        };
        auto [best, arg] = descend(space, f, !upper);
        if (!failed) {
          b.kind = BoundCheck::Kind::kDescent;
          b.best = sign * best;
          b.arch = arg;
          b.how = std::string("by coordinate descent from the ") +
                  (upper ? "smallest" : "largest") + " architecture (" + src->describe() +
                  " grows with every numeric decision)";
        }
      }
      if (b.kind == BoundCheck::Kind::kUnchecked)
        b.how = src->describe() +
                " cannot be bounded before the search; trials that break it are "
                "recorded as infeasible and never returned";
      if (b.best) {
        const double bound = upper ? *k.max : *k.min;
        b.feasible = upper ? *b.best <= bound : *b.best >= bound;
        if (!b.feasible && rep.feasible) {
          rep.feasible = false;
          rep.message = "constraint " + k.str() + " cannot be met: the " +
                        (upper ? "smallest " : "largest ") + k.metric.name + " in " + space.name() +
                        " is " + num(*b.best) +
                        (k.metric.unit().empty() ? "" : " " + k.metric.unit()) + " (" + b.how +
                        "), at " + space.to_string(*b.arch);
        }
      }
      rep.checks.push_back(std::move(b));
    }
  }
  if (!rep.feasible || !cheap) return rep;
  // A witness: an architecture that meets every cheap constraint together.
  for (const auto& b : rep.checks)
    if (b.arch && cheap->feasible(*b.arch)) {
      rep.witness = b.arch;
      return rep;
    }
  Rng rng(seed ^ 0x5eed);
  constexpr int kSamples = 4000;
  for (int i = 0; i < kSamples; ++i) {
    Architecture a = space.sample(rng);
    if (cheap->feasible(a)) {
      rep.witness = a;
      return rep;
    }
  }
  rep.feasible = false;
  rep.message =
      "no architecture meets all constraints together: each can be met alone, but "
      "neither the architecture that best meets each one nor " +
      std::to_string(kSamples) + " random architectures meet them all";
  return rep;
}

}  // namespace nasforge::evaluation
