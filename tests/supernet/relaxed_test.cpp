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
    const double scale = 1 + single.abs().max().item<double>();
    EXPECT_LE((single - relaxed).abs().max().item<double>(), 1e-4 * scale) << space->to_string(a);
    ++compared;
  }
  EXPECT_GE(compared, 10);
}

// Every zoo space, plus one that makes the remaining kinds of decision: a conv's width and
// kernel, a resblock's width (identity or projected shortcut by P(in == out)), squeeze-excite on
// or off, a head's hidden width, and a flattening head; and one with the pre-activation
// resblocks and the normalising head at widths that are decisions.
INSTANTIATE_TEST_SUITE_P(Zoo, RelaxedZoo, ::testing::ValuesIn(testing::kZoo));
INSTANTIATE_TEST_SUITE_P(Blocks, RelaxedZoo,
                         ::testing::Values("tests/data/relaxed_blocks.yaml",
                                           "tests/data/relaxed_preact.yaml"));

// Softmax weights from zero logits: every decision of every space gets a gradient (but one with
// a single value, such as a DARTS node whose inputs are its only two predecessors).
TEST_P(RelaxedZoo, GradientsReachEveryArchitectureLogit) {
  auto space = load(GetParam());
  Supernet net(space, SupernetOptions().seed(1));
  std::vector<at::Tensor> logits;
  for (const auto& d : space->decisions())
    logits.push_back(torch::zeros({static_cast<int64_t>(d.domain.size())}).requires_grad_(true));
  torch::manual_seed(1);  // the test's inputs only
  const auto& in = space->input();
  auto y = net->forward(torch::randn({2, in.channels, in.height, in.width}),
                        ArchWeights::softmax(logits));
  torch::nn::functional::cross_entropy(y, torch::tensor({1, 2}, torch::kInt64)).backward();
  for (size_t i = 0; i < logits.size(); ++i) {
    ASSERT_TRUE(logits[i].grad().defined()) << space->decisions()[i].label;
    if (logits[i].numel() < 2) continue;  // softmax of one value has no gradient
    EXPECT_GT(logits[i].grad().abs().sum().item<double>(), 0) << space->decisions()[i].label;
  }
}

TEST(Relaxed, MixesAreWeightedSumsOfTheirPaths) {
  // A kernel mixture is the mixture of the single kernels' outputs, since convolution is linear
  // in its weight: p * conv3(x) + (1 - p) * conv5(x).
  auto space = std::make_shared<const SearchSpace>(testing::load_text(R"(nasforge: 1
name: k
input: {channels: 2, height: 8, width: 8}
classes: 3
network:
  - conv: {out: 4, kernel: {choice: [3, 5]}, act: none}
  - head: {pool: flatten}
)"));
  Supernet net(space, SupernetOptions().seed(5));
  net->eval();
  torch::NoGradGuard no_grad;
  auto x = torch::randn({3, 2, 8, 8});
  Architecture k3(std::vector<uint32_t>{0}), k5(std::vector<uint32_t>{1});
  ArchWeights w;
  w.probs.push_back(torch::tensor({0.3f, 0.7f}));
  auto mixed = net->forward(x, w);
  auto expected = 0.3 * net->forward(x, k3) + 0.7 * net->forward(x, k5);
  EXPECT_LE((mixed - expected).abs().max().item<double>(), 1e-4);
}

TEST(Relaxed, WrongWeightsAreRefusedPlainly) {
  auto space = load("zoo/mobilenet.yaml");
  Supernet net(space);
  auto x = torch::zeros({1, 1, 28, 28});
  ArchWeights w = ArchWeights::uniform(*space);
  w.probs.pop_back();
  EXPECT_THROW(net->forward(x, w), std::invalid_argument);
  w = ArchWeights::uniform(*space);
  w.probs[0] = torch::ones({7});
  try {
    net->forward(x, w);
    ADD_FAILURE() << "expected a refusal";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "relaxed forward: stage1.depth expects 3 weights, one per value of its domain");
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

}  // namespace
}  // namespace nasforge::supernet
