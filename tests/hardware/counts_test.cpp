// Exact counts against counting on the real modules: parameters by numel, MACs by observing the
// convolutions, linear layers and matrix products that actually run (ATen's RecordFunction).
#include "nasforge/hardware/counts.h"

#include <ATen/record_function.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>

#include "../searchspace/test_util.h"
#include "nasforge/searchspace/rng.h"
#include "nasforge/supernet/supernet.h"
#include "nasforge/supernet/unit_net.h"

namespace nasforge::hardware {
namespace {

// MACs of the ops that run while a MacCounter lives (this thread only). Nested ops (the addmm
// inside linear) are not counted twice.
class MacCounter {
 public:
  MacCounter() {
    macs_ = 0;
    depth_ = 0;
    handle_ =
        at::addThreadLocalCallback(at::RecordFunctionCallback(&MacCounter::start, &MacCounter::end)
                                       .needsInputs(true)
                                       .needsOutputs(true));
  }
  ~MacCounter() { at::removeCallback(handle_); }
  int64_t macs() const { return macs_; }

 private:
  static bool counted(const at::RecordFunction& fn) {
    const char* n = fn.name();
    for (const char* op : {"aten::convolution", "aten::linear", "aten::matmul", "aten::addmm",
                           "aten::mm", "aten::bmm"})
      if (std::strcmp(n, op) == 0) return true;
    return false;
  }
  static std::unique_ptr<at::ObserverContext> start(const at::RecordFunction& fn) {
    if (counted(fn)) ++depth_;
    return nullptr;
  }
  static void end(const at::RecordFunction& fn, at::ObserverContext*) {
    if (!counted(fn)) return;
    if (--depth_ > 0) return;
    const auto& out = fn.outputs()[0].toTensor();
    const auto& in = fn.inputs();
    const std::string n = fn.name();
    if (n == "aten::matmul" || n == "aten::mm" || n == "aten::bmm") {
      macs_ += out.numel() * in[0].toTensor().size(-1);
    } else if (n == "aten::addmm") {  // bias, input, weight^T
      macs_ += out.numel() * in[1].toTensor().size(-1);
    } else if (n == "aten::linear") {
      macs_ += out.numel() * in[1].toTensor().size(1);
    } else {  // weight: out x in/groups x kh x kw
      const auto& w = in[1].toTensor();
      macs_ += out.numel() * w.size(1) * w.size(2) * w.size(3);
    }
  }
  static thread_local int64_t macs_;
  static thread_local int depth_;
  at::CallbackHandle handle_;
};
thread_local int64_t MacCounter::macs_ = 0;
thread_local int MacCounter::depth_ = 0;

int64_t numel(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

struct SpaceCase {
  std::string file;
  int archs;
};

class CountsZoo : public ::testing::TestWithParam<SpaceCase> {};

TEST_P(CountsZoo, MatchCountingOnTheExtractedNetwork) {
  auto space = std::make_shared<const SearchSpace>(testing::load(GetParam().file));
  supernet::Supernet net(space);
  const auto& in = space->input();
  auto x = torch::randn({1, in.channels, in.height, in.width});
  Rng rng(11);
  int64_t smallest = INT64_MAX, largest = 0;
  for (int i = 0; i < GetParam().archs; ++i) {
    Architecture a = space->sample(rng);
    auto extracted = net->extract(a);
    extracted->eval();
    Cost c = count(*space, a);
    ASSERT_EQ(c.params, numel(*extracted)) << space->to_string(a);
    torch::NoGradGuard no_grad;
    MacCounter counter;
    extracted->forward(x);
    ASSERT_EQ(c.macs, counter.macs()) << space->to_string(a);
    smallest = std::min(smallest, c.macs);
    largest = std::max(largest, c.macs);
  }
  EXPECT_LT(smallest, largest);  // the samples differ in cost
}

TEST_P(CountsZoo, EveryDistinctUnitBuildsAndCostsWhatItsModuleHolds) {
  auto space = testing::load(GetParam().file);
  auto all = distinct_units(space);
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_FALSE(all->empty());
  // Every unit of random architectures is among the distinct units.
  std::set<std::string> keys;
  for (const auto& u : *all) keys.insert(u.key());
  Rng rng(3);
  for (int i = 0; i < 200; ++i)
    for (const auto& u : units(space, space.sample(rng)))
      ASSERT_TRUE(keys.count(u.key())) << u.key();
  // A spread of them build as modules with the counted parameters and MACs.
  const size_t step = std::max<size_t>(1, all->size() / 40);
  for (size_t i = 0; i < all->size(); i += step) {
    const Unit& u = (*all)[i];
    supernet::UnitNet m(u, 1);
    EXPECT_EQ(numel(*m), unit_cost(u).params) << u.key();
    torch::NoGradGuard no_grad;
    MacCounter counter;
    auto y = m->forward(torch::randn(m->input_shape(2)));
    EXPECT_EQ(2 * unit_cost(u).macs, counter.macs()) << u.key();
    EXPECT_EQ(y.size(0), 2);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, CountsZoo,
    ::testing::Values(SpaceCase{"zoo/nb201.yaml", 100}, SpaceCase{"zoo/darts.yaml", 40},
                      SpaceCase{"zoo/mobilenet.yaml", 100}, SpaceCase{"zoo/mobilenet32.yaml", 40},
                      SpaceCase{"zoo/transformer.yaml", 100},
                      SpaceCase{"zoo/nasbench_macro.yaml", 60}, SpaceCase{"zoo/resnet.yaml", 40},
                      SpaceCase{"zoo/fbnet.yaml", 40}, SpaceCase{"zoo/spos.yaml", 40},
                      SpaceCase{"zoo/proxyless.yaml", 40},
                      SpaceCase{"tests/data/swish_choice.yaml", 60},
                      SpaceCase{"tests/data/design_mobile_tiny.yaml", 100}),
    [](const auto& info) {
      std::string n = info.param.file;
      n = n.substr(n.rfind('/') + 1);
      n = n.substr(0, n.find('.'));
      return n;
    });

TEST(Counts, KnownNetwork) {
  // A 3x3 conv of 8 channels on 1x8x8, then a global-pool head of 10 classes, by hand.
  auto space = testing::load_text(R"(nasforge: 1
name: t
input: {channels: 1, height: 8, width: 8}
classes: 10
network:
  - conv: {out: 8, kernel: 3}
  - head: {pool: global_avg}
)");
  Cost c = count(space, Architecture(std::vector<uint32_t>{}));
  EXPECT_EQ(c.params, 8 * 9 + 16 + 8 * 10 + 10);
  EXPECT_EQ(c.macs, 8 * 9 * 64 + 80);
}

}  // namespace
}  // namespace nasforge::hardware
