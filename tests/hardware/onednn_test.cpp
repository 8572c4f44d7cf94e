// The oneDNN lowering computes what LibTorch computes: extracted networks of every CNN zoo space
// (with non-trivial BN statistics, so folding is exercised) and single units, at batch 1 and 3.
#include "nasforge/hardware/onednn.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../searchspace/test_util.h"
#include "nasforge/hardware/device.h"
#include "nasforge/searchspace/rng.h"
#include "nasforge/supernet/supernet.h"
#include "nasforge/supernet/unit_net.h"

namespace nasforge::hardware {
namespace {

// Running statistics away from (0, 1) and BN affine terms away from (1, 0).
void perturb_norms(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(5);
  for (auto& b : m.named_buffers(true)) {
    if (b.key().find("running_mean") != std::string::npos) b.value().normal_(0, 0.2, gen);
    if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 2.0, gen);
  }
  for (auto& p : m.named_parameters(true))
    if (p.value().dim() == 1) p.value().add_(torch::randn(p.value().sizes(), gen) * 0.1);
}

double max_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

struct SpaceCase {
  std::string file;
  int archs;
};

class OneDnnZoo : public ::testing::TestWithParam<SpaceCase> {};

TEST_P(OneDnnZoo, LoweredNetworksMatchLibTorch) {
  auto space = std::make_shared<const SearchSpace>(testing::load(GetParam().file));
  supernet::Supernet net(space, supernet::SupernetOptions().seed(2));
  perturb_norms(*net);
  net->eval();
  const auto& in = space->input();
  Rng rng(8);
  for (int i = 0; i < GetParam().archs; ++i) {
    Architecture a = space->sample(rng);
    auto extracted = net->extract(a);
    extracted->eval();
    for (int64_t batch : {1, 3}) {
      auto x = torch::randn({batch, in.channels, in.height, in.width});
      torch::NoGradGuard no_grad;
      auto want = extracted->forward(x);
      OneDnnProgram program(extracted->lower({batch, in.channels, in.height, in.width}));
      auto got = program.run(x);
      ASSERT_EQ(got.sizes(), want.sizes());
      const double scale = std::max(1.0, want.abs().max().item<double>());
      ASSERT_LE(max_diff(got, want) / scale, 1e-4) << space->to_string(a) << " batch " << batch;
    }
  }
}

TEST_P(OneDnnZoo, LoweredUnitsMatchLibTorch) {
  auto space = testing::load(GetParam().file);
  const auto all = *distinct_units(space);
  const size_t step = std::max<size_t>(1, all.size() / 25);
  for (size_t i = 0; i < all.size(); i += step) {
    supernet::UnitNet unit(all[i], 3);
    perturb_norms(*unit);
    auto x = torch::randn(unit->input_shape(2));
    torch::NoGradGuard no_grad;
    auto want = unit->forward(x);
    OneDnnProgram program(unit->lower(2));
    const double scale = std::max(1.0, want.abs().max().item<double>());
    EXPECT_LE(max_diff(program.run(x), want) / scale, 1e-4) << all[i].key();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, OneDnnZoo,
    ::testing::Values(SpaceCase{"zoo/nb201.yaml", 30}, SpaceCase{"zoo/darts.yaml", 8},
                      SpaceCase{"zoo/mobilenet.yaml", 30}, SpaceCase{"zoo/mobilenet32.yaml", 10},
                      SpaceCase{"zoo/nasbench_macro.yaml", 10}, SpaceCase{"zoo/resnet.yaml", 10},
                      SpaceCase{"zoo/fbnet.yaml", 10}, SpaceCase{"zoo/spos.yaml", 10},
                      SpaceCase{"zoo/proxyless.yaml", 10},
                      SpaceCase{"tests/data/swish_choice.yaml", 30},
                      SpaceCase{"tests/data/design_mobile_tiny.yaml", 30}),
    [](const auto& info) {
      std::string n = info.param.file;
      n = n.substr(n.rfind('/') + 1);
      return n.substr(0, n.find('.'));
    });

TEST(OneDnnDevice, TimesAndRefusesWhatItCannotLower) {
  DeviceOptions o;
  o.measure.time_limit_s = 0.2;
  auto dev = make_device("onednn", o);
  ASSERT_TRUE(dev.ok()) << dev.status().message();
  auto space = testing::load("tests/data/design_mobile_tiny.yaml");
  Rng rng(1);
  auto m = (*dev)->measure_network(space, space.sample(rng));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_GT(m->median_ms, 0);
  auto vit = testing::load("zoo/transformer.yaml");
  auto refused = (*dev)->measure_network(vit, vit.sample(rng));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(refused.status().message().find("cannot lower"), std::string::npos)
      << refused.status().message();
}

}  // namespace
}  // namespace nasforge::hardware
