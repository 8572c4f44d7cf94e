// The relaxed (DARTS-family) forward: one-hot weights reproduce the single path, gradients reach
// the architecture logits, and the weights derive an architecture.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../searchspace/test_util.h"
#include "nasforge/supernet/supernet.h"

namespace nasforge::supernet {
namespace {

std::shared_ptr<const SearchSpace> load(const char* file) {
  return std::make_shared<const SearchSpace>(testing::load(file));
}

// Single-path and relaxed forwards agree where every chosen edge is live: the relaxed form
// runs ops on a node that `none` edges left at zero, where the single path skips them.
bool all_edges_live(const SearchSpace& s, const Architecture& a) {
  for (const auto& sec : s.sections()) {
    if (sec.kind != Section::Kind::kCell) continue;
    size_t chosen = 0;
    for (int d : sec.head)
      if (s.decisions()[d].domain.type == DomainType::kOp && s.name_value(a, d) != "none") ++chosen;
    if (s.live_edges(a, sec.cell).size() != chosen) return false;
  }
  return true;
}

class RelaxedZoo : public ::testing::TestWithParam<const char*> {};

TEST_P(RelaxedZoo, OneHotWeightsReproduceTheSinglePath) {
  auto space = load(GetParam());
  Supernet net(space, SupernetOptions().seed(2));
  ASSERT_TRUE(net->supports_relaxed().ok());
  net->eval();
  torch::manual_seed(0);  // the test's inputs only
  Rng rng(3);
  int compared = 0;
  for (int i = 0; i < 60 && compared < 25; ++i) {
    Architecture a = space->sample(rng);
    if (!all_edges_live(*space, a)) continue;
    auto x =
        torch::randn({2, space->input().channels, space->input().height, space->input().width});
    torch::NoGradGuard no_grad;
    auto single = net->forward(x, a);
    auto relaxed = net->forward(x, ArchWeights::one_hot(*space, a));
    EXPECT_LE((single - relaxed).abs().max().item<double>(), 1e-4) << space->to_string(a);
    ++compared;
  }
  EXPECT_GE(compared, 10);
}

INSTANTIATE_TEST_SUITE_P(Cells, RelaxedZoo, ::testing::Values("zoo/nb201.yaml", "zoo/darts.yaml"));

TEST(Relaxed, GradientsReachEveryArchitectureLogit) {
  auto space = load("zoo/nb201.yaml");
  Supernet net(space, SupernetOptions().seed(1));
  std::vector<at::Tensor> logits;
  for (const auto& d : space->decisions())
    logits.push_back(torch::zeros({static_cast<int64_t>(d.domain.size())}).requires_grad_(true));
  auto y = net->forward(torch::randn({2, 3, 32, 32}), ArchWeights::softmax(logits));
  torch::nn::functional::cross_entropy(y, torch::tensor({1, 2}, torch::kInt64)).backward();
  for (size_t i = 0; i < logits.size(); ++i) {
    ASSERT_TRUE(logits[i].grad().defined()) << space->decisions()[i].label;
    EXPECT_GT(logits[i].grad().abs().sum().item<double>(), 0) << space->decisions()[i].label;
  }
}

TEST(Relaxed, WeightsDeriveArchitectures) {
  auto space = load("zoo/darts.yaml");
  Rng rng(4);
  Architecture a = space->sample(rng);
  EXPECT_EQ(ArchWeights::one_hot(*space, a).argmax(*space), a);
  std::vector<at::Tensor> logits;
  for (const auto& d : space->decisions())
    logits.push_back(torch::arange(static_cast<int64_t>(d.domain.size()), torch::kFloat32));
  Rng g1(7), g2(7);
  auto s1 = ArchWeights::gumbel_softmax(logits, 1.0, g1, false);
  auto s2 = ArchWeights::gumbel_softmax(logits, 1.0, g2, false);
  auto hard = ArchWeights::gumbel_softmax(logits, 1.0, g1, true);
  for (size_t i = 0; i < logits.size(); ++i) {
    EXPECT_TRUE(torch::equal(s1.probs[i], s2.probs[i]));  // the same seed, the same noise
    EXPECT_NEAR(s1.probs[i].sum().item<double>(), 1.0, 1e-5);
    EXPECT_NEAR(hard.probs[i].max().item<double>(), 1.0, 1e-6);
    EXPECT_NEAR(hard.probs[i].sum().item<double>(), 1.0, 1e-5);
  }
  EXPECT_TRUE(space->validate(ArchWeights::softmax(logits).argmax(*space)).ok());
}

TEST(Relaxed, OtherDecisionsAreRefusedPlainly) {
  auto space = load("zoo/mobilenet.yaml");
  Supernet net(space);
  EXPECT_EQ(net->supports_relaxed().message(),
            "the relaxed forward covers cell decisions; stage1.depth (depth) is not relaxable yet");
  EXPECT_THROW(net->forward(torch::zeros({1, 1, 28, 28}), ArchWeights::uniform(*space)),
               std::invalid_argument);
}

}  // namespace
}  // namespace nasforge::supernet
