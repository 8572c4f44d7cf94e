// The supernet: every zoo space compiles; a path's output equals its extracted standalone
// network's; weights are seeded; single-path training touches only the active slices.
#include "nasforge/supernet/supernet.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../searchspace/test_util.h"
#include "nasforge/supernet/elastic.h"
#include "nasforge/supernet/errors.h"

namespace nasforge::supernet {
namespace {

struct SpaceCase {
  const char* file;
  int archs;  // how many random architectures to compare
};
void PrintTo(const SpaceCase& c, std::ostream* os) { *os << c.file; }  // stable test names

class SupernetZoo : public ::testing::TestWithParam<SpaceCase> {};

TEST_P(SupernetZoo, ExtractedPathComputesWhatTheSupernetComputes) {
  auto space = std::make_shared<const SearchSpace>(testing::load(GetParam().file));
  Supernet net(space, SupernetOptions().seed(3));
  const auto& in = space->input();
  torch::manual_seed(0);  // only for this test's random inputs
  Rng rng(11);
  // Move the BN statistics away from their initial values with a few training-mode paths.
  net->train();
  {
    torch::NoGradGuard no_grad;
    for (int i = 0; i < 3; ++i)
      net->forward(torch::randn({4, in.channels, in.height, in.width}), space->sample(rng));
  }
  net->eval();
  double worst = 0;
  at::Tensor first;
  bool outputs_vary = false;  // the comparison is not between two constants
  for (int i = 0; i < GetParam().archs; ++i) {
    Architecture arch =
        space->sample(rng, i % 2 ? SampleMode::kUniformDecision : SampleMode::kUniformArchitecture);
    auto x = torch::randn({2, in.channels, in.height, in.width});
    torch::NoGradGuard no_grad;
    auto y = net->forward(x, arch);
    StaticNetwork alone = net->extract(arch);
    alone->eval();
    auto z = alone->forward(x);
    ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2, space->classes()})) << space->to_string(arch);
    ASSERT_EQ(z.sizes(), y.sizes());
    if (!first.defined()) first = y;
    outputs_vary |= !torch::allclose(first, y);
    double diff = (y - z).abs().max().item<double>();
    worst = std::max(worst, diff);
    ASSERT_LE(diff, 1e-6) << space->to_string(arch);
  }
  EXPECT_TRUE(outputs_vary);
  RecordProperty("worst_abs_diff", std::to_string(worst));
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, SupernetZoo,
    ::testing::Values(SpaceCase{"zoo/nb201.yaml", 200}, SpaceCase{"zoo/darts.yaml", 200},
                      SpaceCase{"zoo/mobilenet.yaml", 200}, SpaceCase{"zoo/mobilenet32.yaml", 200},
                      SpaceCase{"zoo/transformer.yaml", 200},
                      SpaceCase{"zoo/nasbench_macro.yaml", 60}, SpaceCase{"zoo/resnet.yaml", 60},
                      SpaceCase{"zoo/fbnet.yaml", 30}, SpaceCase{"zoo/spos.yaml", 30},
                      SpaceCase{"zoo/proxyless.yaml", 30},
                      SpaceCase{"tests/data/swish_choice.yaml", 100},
                      SpaceCase{"tests/data/design_mobile_tiny.yaml", 200},
                      SpaceCase{"tests/data/relaxed_preact.yaml", 60}));

TEST(Supernet, SameSeedSameWeights) {
  auto space = std::make_shared<const SearchSpace>(testing::load("zoo/mobilenet.yaml"));
  Supernet a(space, SupernetOptions().seed(5)), b(space, SupernetOptions().seed(5)),
      c(space, SupernetOptions().seed(6));
  auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  bool all_equal = true, any_differs = false;
  for (size_t i = 0; i < pa.size(); ++i) {
    all_equal &= torch::equal(pa[i], pb[i]);
    any_differs |= !torch::equal(pa[i], pc[i]);
  }
  EXPECT_TRUE(all_equal);
  EXPECT_TRUE(any_differs);
}

TEST(Supernet, SinglePathTrainsOnlyTheActiveSlices) {
  auto space =
      std::make_shared<const SearchSpace>(testing::load("tests/data/design_mobile_tiny.yaml"));
  Supernet net(space, SupernetOptions().seed(1));
  auto arch = space->parse("stage1=d2w24:k3e3,k3e3/stage2=d2w40:k3e3,k3e3");
  ASSERT_TRUE(arch.ok());
  auto loss = net->forward(torch::ones({2, 1, 28, 28}), *arch).sum();
  loss.backward();
  auto params = net->named_parameters(true);
  // Block 3 of stage 1 is past the active depth: no gradient reaches it.
  for (const auto& p : params) {
    if (p.key().find("stage1.block3") == std::string::npos) continue;
    EXPECT_TRUE(!p.value().grad().defined() || p.value().grad().abs().sum().item<double>() == 0)
        << p.key();
  }
  // In block 1, only the first 24 output channels and the centre 3x3 of the 7x7 kernel learn.
  auto grad = params["stage1.block1.dw.weight"].grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_GT(grad.slice(0, 0, 48).slice(2, 2, 5).slice(3, 2, 5).abs().sum().item<double>(), 0);
  EXPECT_EQ(grad.slice(2, 0, 2).abs().sum().item<double>(), 0);  // outside the 3x3 centre
  EXPECT_EQ(grad.slice(0, 48).abs().sum().item<double>(), 0);    // mid = 16 x 3 channels
  auto project = params["stage1.block1.project.weight"].grad();
  EXPECT_EQ(project.slice(0, 24).abs().sum().item<double>(), 0);  // width 24 of 32
}

TEST(ElasticConv, KernelIsTheCentreCropAndTransformStartsAsIdentity) {
  ElasticConv2d plain(4, 8, 7, 1), transformed(4, 8, 7, 1, false, 1, true);
  torch::NoGradGuard no_grad;
  plain->weight.normal_();
  transformed->weight.copy_(plain->weight);
  auto crop = plain->active_weight(4, 8, 3);
  EXPECT_TRUE(torch::equal(crop, plain->weight.slice(2, 2, 5).slice(3, 2, 5)));
  // The transforms are learnable and start as identity, so both give the same kernel at first.
  EXPECT_TRUE(torch::allclose(transformed->active_weight(4, 8, 3), crop));
  EXPECT_EQ(transformed->parameters().size(), 4u);  // weight, 5x5, 3x3 and 1x1 transforms
  EXPECT_EQ(plain->forward(torch::ones({1, 4, 9, 9}), 6, 5).sizes(),
            (std::vector<int64_t>{1, 6, 9, 9}));
}

// Users see LibTorch's message, never its C++ stack trace; an allocation failure says so.
TEST(ErrorText, DropsLibTorchTracesAndNamesOutOfMemory) {
  try {
    auto a = torch::zeros({2, 3});
    auto b = torch::zeros({4, 5});
    (void)torch::matmul(a, b);
    FAIL() << "expected LibTorch to refuse the shapes";
  } catch (const c10::Error& e) {
    const std::string text = error_text(e);
    EXPECT_NE(std::string(e.what()).find("Exception raised from"), std::string::npos);
    EXPECT_EQ(text.find("Exception raised from"), std::string::npos) << text;
    EXPECT_EQ(text.find("frame #"), std::string::npos) << text;
    EXPECT_EQ(text.find('\n'), std::string::npos) << text;
    EXPECT_NE(text.find("cannot be multiplied"), std::string::npos) << text;
  }
  EXPECT_EQ(error_text(std::bad_alloc()),
            "out of memory (a tensor or buffer could not be allocated)");
  EXPECT_EQ(error_text(std::runtime_error("plain\n")), "plain");
}

}  // namespace
}  // namespace nasforge::supernet
