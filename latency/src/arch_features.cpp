#include "internal/arch_features.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "nasforge/hardware/counts.h"

namespace nasforge::latency {

namespace {
std::string unit_class(const Unit& u) {
  return u.op.empty() ? unit_kind_name(u.kind) : std::string(unit_kind_name(u.kind)) + ":" + u.op;
}
}  // namespace

ArchFeatures::ArchFeatures(const SearchSpace& space) : space_(space) {
  std::set<std::string> classes;
  if (auto all = distinct_units(space_); all.ok())
    for (const Unit& u : *all) classes.insert(unit_class(u));
  classes_.assign(classes.begin(), classes.end());
  countings_differ_ = !space_.cells().empty();
}

ArchFeatures::Seen ArchFeatures::look(const Architecture& a) const {
  Seen s;
  s.arch = a;
  s.deployed = units(space_, a, true, Counting::kAsDeployed);
  if (countings_differ_)
    s.implemented = units(space_, a, true, Counting::kAsImplemented);
  else
    s.implemented = s.deployed;
  return s;
}

std::vector<double> ArchFeatures::class_counts(const Seen& s, Counting counting) const {
  std::vector<double> f(2 * classes_.size(), 0.0);
  for (const Unit& u : counting == Counting::kAsImplemented ? s.implemented : s.deployed) {
    const auto it = std::lower_bound(classes_.begin(), classes_.end(), unit_class(u));
    if (it == classes_.end() || *it != unit_class(u)) continue;
    const size_t k = static_cast<size_t>(it - classes_.begin());
    f[2 * k] += 1;
    f[2 * k + 1] += 1e-6 * static_cast<double>(hardware::unit_cost(u).macs);
  }
  return f;
}

std::vector<double> ArchFeatures::log_costs(const Seen& s) const {
  std::vector<double> f;
  for (const auto* us : {&s.deployed, &s.implemented}) {
    hardware::Cost c;
    for (const Unit& u : *us) c += hardware::unit_cost(u);
    f.push_back(std::log(std::max<double>(1, static_cast<double>(c.macs))));
    f.push_back(std::log(std::max<double>(1, static_cast<double>(c.params))));
  }
  return f;
}

std::vector<double> ArchFeatures::onehot(const Architecture& a) const {
  auto e = space_.encode_onehot(a);
  return {e.begin(), e.end()};
}

}  // namespace nasforge::latency
