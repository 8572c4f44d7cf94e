// Unit terms: every architecture's units as a sum of terms over decision values. Checked as a
// multiset against units() on every zoo space, and as an exact expectation against enumeration.
#include "nasforge/searchspace/unit_terms.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <tuple>

#include "nasforge/searchspace/hash.h"
#include "nasforge/searchspace/rng.h"
#include "test_util.h"

namespace nasforge {
namespace {

using testing::load_text;
using testing::source_path;

using UnitBag = std::map<std::tuple<std::string, int, int>, int>;

UnitBag bag(const std::vector<Unit>& us) {
  UnitBag b;
  for (const Unit& u : us) ++b[{u.key(), u.layer, u.part}];
  return b;
}

UnitBag bag_of_terms(const std::vector<UnitTerm>& terms, const Architecture& a) {
  std::vector<Unit> us;
  for (const auto& t : terms)
    if (holds(t, a)) us.push_back(t.unit);
  return bag(us);
}

class ZooTerms : public ::testing::TestWithParam<std::tuple<const char*, Counting>> {};

TEST_P(ZooTerms, HoldingTermsAreTheArchitecturesUnits) {
  const auto [name, counting] = GetParam();
  Diagnostics diags;
  auto space = load_space(source_path(std::string("zoo/") + name + ".yaml"), diags);
  ASSERT_TRUE(space) << diags.str();
  auto terms = unit_terms(*space, counting);
  ASSERT_TRUE(terms.ok()) << terms.status().message();
  Rng rng(7);
  for (int i = 0; i < 40; ++i) {
    Architecture a = space->sample(rng);
    ASSERT_EQ(bag_of_terms(*terms, a), bag(units(*space, a, true, counting)))
        << name << " " << space->to_string(a);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, ZooTerms,
    ::testing::Combine(::testing::Values("nb201", "darts", "mobilenet", "mobilenet32", "fbnet",
                                         "proxyless", "spos", "nasbench_macro", "resnet",
                                         "transformer"),
                       ::testing::Values(Counting::kAsDeployed, Counting::kAsImplemented)));

// Width decisions that feed the next layer, elastic depth, a layer choice and a head.
const char* kTiny = R"(nasforge: 1
name: terms_tiny
input: {channels: 3, height: 16, width: 16}
classes: 10
network:
  - stem: {conv: {out: {choice: [8, 16]}, kernel: 3}}
  - stage:
      depth: {choice: [1, 2]}
      out: {choice: [16, 24]}
      stride: 2
      block: {mbconv: {kernel: {choice: [3, 5]}, expand: {choice: [3, 6]}}}
  - choose: [{identity: {out: 24}}, {mbconv: {out: 24, kernel: 3, expand: 3}}]
  - stage: {depth: {choice: [1, 2]}, out: 24, block: {choose: [zero, {mbconv: {kernel: 3, expand: {choice: [3, 6]}}}]}}
  - head: {classifier: {hidden: {choice: [32, 64]}}}
)";

// A cost per unit that no structure could fake: a hash of its key.
double pseudo_cost(const Unit& u) { return static_cast<double>(fnv1a64(u.key()) % 1000) + 1; }

TEST(UnitTerms, ExpectationEqualsEnumerationUnderAFactorisedDistribution) {
  SearchSpace s = load_text(kTiny);
  auto terms = unit_terms(s);
  ASSERT_TRUE(terms.ok()) << terms.status().message();
  Rng rng(3);
  std::vector<std::vector<double>> p;
  for (const auto& d : s.decisions()) {
    std::vector<double> v(d.domain.size());
    double sum = 0;
    for (auto& x : v) sum += (x = 0.1 + rng.uniform01());
    for (auto& x : v) x /= sum;
    p.push_back(v);
  }
  double from_terms = 0;
  for (const auto& t : *terms) {
    double w = pseudo_cost(t.unit);
    for (const auto& [d, v] : t.when) w *= p[static_cast<size_t>(d)][v];
    from_terms += w;
  }
  // Every raw assignment (inactive decisions too: they are summed out), weighted by its
  // probability.
  double enumerated = 0, total_p = 0;
  Architecture a(std::vector<uint32_t>(s.decisions().size(), 0));
  size_t count = 0;
  while (true) {
    double pa = 1;
    for (size_t d = 0; d < a.size(); ++d) pa *= p[d][a[d]];
    double cost = 0;
    for (const Unit& u : units(s, a)) cost += pseudo_cost(u);
    enumerated += pa * cost;
    total_p += pa;
    ++count;
    size_t k = 0;
    for (; k < a.size(); ++k) {
      if (++a[k] < s.decisions()[k].domain.size()) break;
      a[k] = 0;
    }
    if (k == a.size()) break;
  }
  EXPECT_GT(count, 100u);
  EXPECT_NEAR(total_p, 1.0, 1e-9);
  EXPECT_NEAR(from_terms, enumerated, 1e-9 * enumerated);
}

TEST(UnitTerms, RefusesWhatItCannotEnumerateAndNamesTheLayer) {
  Diagnostics diags;
  auto space = load_space(source_path("zoo/nb201.yaml"), diags);
  ASSERT_TRUE(space);
  auto terms = unit_terms(*space, Counting::kAsDeployed, /*limit=*/1000);
  ASSERT_FALSE(terms.ok());
  EXPECT_NE(terms.status().message().find("layer '"), std::string::npos)
      << terms.status().message();
  EXPECT_TRUE(unit_terms(*space, Counting::kAsImplemented, 1000).ok());
}

}  // namespace
}  // namespace nasforge
