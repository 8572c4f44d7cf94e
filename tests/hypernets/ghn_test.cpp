// Graph hypernetworks (and SMASH): the graph they read (edges, waves, virtual edges), the decoder's
// output shapes for every op of every zoo space, learning on synthetic data, exact resume and the
// checkpoint's refusals.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "../searchspace/test_util.h"
#include "nasforge/hypernets/arch_graph.h"
#include "nasforge/hypernets/ghn.h"
#include "nasforge/hypernets/trainer.h"
#include "nasforge/supernet/graph_run.h"
#include "nasforge/supernet/run.h"

namespace nasforge::hypernets {
namespace {

using supernet::Graph;
using supernet::GraphOp;
using supernet::OpKind;

// input -> conv -> act -> conv -> add(conv, act): distances and waves by hand.
TEST(ArchGraph, EdgesWavesAndVirtualEdges) {
  Graph g;
  g.ops.resize(5);
  g.ops[1].kind = OpKind::kConv;
  g.ops[1].inputs = {0};
  g.ops[1].weight = torch::zeros({4, 3, 3, 3});
  g.ops[2].kind = OpKind::kAct;
  g.ops[2].inputs = {1};
  g.ops[3].kind = OpKind::kConv;
  g.ops[3].inputs = {2};
  g.ops[3].weight = torch::zeros({4, 4, 1, 1});
  g.ops[4].kind = OpKind::kAdd;
  g.ops[4].inputs = {3, 2};
  g.output = 4;
  const ArchGraph a = make_arch_graph(g, 3);
  EXPECT_EQ(a.edges.size(), 5u);
  ASSERT_EQ(a.forward_waves.size(), 5u);  // 0, 1, 2, 3, 4 by longest path
  EXPECT_EQ(a.forward_waves[4], std::vector<int64_t>{4});
  EXPECT_EQ(a.backward_waves[0], std::vector<int64_t>{4});
  EXPECT_EQ(a.param_nodes, (std::vector<int>{1, 3}));
  // Shortest distances 2..3: 0->2 (2), 0->3 (3), 0->4 (3: 0-1-2-4), 1->3 (2), 1->4 (2).
  std::set<std::tuple<int, int, int>> v;
  for (const auto& e : a.virtual_edges) v.insert({e.from, e.to, e.distance});
  EXPECT_EQ(v, (std::set<std::tuple<int, int, int>>{
                   {0, 2, 2}, {0, 3, 3}, {0, 4, 3}, {1, 3, 2}, {1, 4, 2}}));
  EXPECT_TRUE(make_arch_graph(g, 1).virtual_edges.empty());
  EXPECT_NE(node_type(g.ops[1]), node_type(g.ops[3]));  // 3x3 and 1x1 convs differ
}

// Every op that holds parameters gets them, in its own shape, on every zoo space, and the
// network with predicted weights runs to logits of the right shape.
TEST(Ghn, DecodesEveryOpOfEveryZooSpaceInItsShape) {
  for (GhnKind kind : {GhnKind::kGhn2, GhnKind::kGhn1, GhnKind::kSmash}) {
    for (const char* file : testing::kZoo) {
      SCOPED_TRACE(std::string(file) + " " + ghn_kind_name(kind));
      auto space = std::make_shared<const SearchSpace>(testing::load(file));
      GhnOptions o;
      o.kind = kind;
      o = for_space(o, *space);
      Ghn ghn(o, 1);
      supernet::Supernet net(space, supernet::SupernetOptions().seed(2));
      Rng rng(3);
      const Architecture arch = space->sample(rng);
      const auto& in = space->input();
      const Graph g = net->extract(arch)->lower({2, in.channels, in.height, in.width});
      torch::NoGradGuard no_grad;
      const ArchGraph a = make_arch_graph(g, o.s_max, space->encode_onehot(arch));
      const Graph p = ghn->predict(g, a);
      ASSERT_EQ(p.ops.size(), g.ops.size());
      int checked = 0;
      for (int id : a.param_nodes) {
        const GraphOp &was = g.ops[id], &now = p.ops[id];
        EXPECT_EQ(now.weight.sizes(), was.weight.sizes()) << supernet::op_kind_name(was.kind);
        EXPECT_FALSE(now.weight.is_same(was.weight));
        if (was.bias.defined()) {
          EXPECT_EQ(now.bias.sizes(), was.bias.sizes());
        }
        EXPECT_TRUE(torch::isfinite(now.weight).all().item<bool>());
        ++checked;
      }
      EXPECT_GT(checked, 0);
      const at::Tensor x = torch::randn({2, in.channels, in.height, in.width});
      const at::Tensor y = supernet::run_graph(p, x, {supernet::NormMode::kBatch}).output;
      EXPECT_EQ(y.reshape({2, -1}).size(1), space->classes());
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    }
  }
}

struct Tiny {
  std::shared_ptr<const SearchSpace> space =
      std::make_shared<const SearchSpace>(testing::load("tests/data/diff_tiny.yaml"));
  data::Splits data = *supernet::load_data_for("synthetic:256", *space, 0, 64);
  supernet::TrainConfig config() const {
    supernet::TrainConfig c;
    c.optimizer = supernet::OptimizerKind::kAdam;
    c.lr = 3e-3;
    c.weight_decay = 0;
    c.label_smoothing = 0;
    c.batch_size = 32;
    c.epochs = 6;
    c.bn_recalibration_batches = 2;
    c.seed = 5;
    return c;
  }
};

TEST(GhnTrainer, LearnsOnSyntheticData) {
  Tiny t;
  GhnTrainer trainer(t.space, t.data, t.config(), {}, 2);
  Rng rng(1);
  const Architecture a = t.space->sample(rng);
  const double before = trainer.evaluate(a, t.data.valid).loss;
  double first = 0, last = 0;
  int steps = 0;
  while (trainer.epoch() < 6) {
    auto s = trainer.step();
    if (!s) continue;
    if (steps < 4) first += s->loss / 4;
    last = 0.8 * last + 0.2 * s->loss;
    ++steps;
  }
  const auto after = trainer.evaluate(a, t.data.valid);
  EXPECT_LT(after.loss, before) << "validation loss of a fixed architecture";
  EXPECT_LT(last, first) << "training loss";
  EXPECT_GT(after.accuracy, 0.25 + 0.1);  // 4 classes
}

TEST(GhnTrainer, ResumesExactlyAndRefusesWhatIsNotItsCheckpoint) {
  Tiny t;
  const std::string path = testing::temp_path("ghn.pt");
  GhnTrainer a(t.space, t.data, t.config(), {}, 2);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(a.step());
  ASSERT_TRUE(a.save(path).ok());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(a.step());
  GhnTrainer b(t.space, t.data, t.config(), {}, 2);
  ASSERT_TRUE(b.load(path).ok());
  EXPECT_EQ(b.global_step(), 3);
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(b.step());
  auto pa = a.ghn()->parameters(), pb = b.ghn()->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << i;

  // Another space's trainer, other options, a damaged file.
  auto other = std::make_shared<const SearchSpace>(testing::load("zoo/resnet.yaml"));
  auto odata = *supernet::load_data_for("synthetic:64", *other, 0, 16);
  GhnTrainer c(other, odata, t.config(), {}, 1);
  auto st = c.load(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("another space"), std::string::npos) << st.message();
  GhnOptions ghn1;
  ghn1.kind = GhnKind::kGhn1;
  GhnTrainer d(t.space, t.data, t.config(), ghn1, 2);
  EXPECT_FALSE(d.load(path).ok());
  GhnOptions smash;
  smash.kind = GhnKind::kSmash;
  GhnTrainer f(t.space, t.data, t.config(), smash, 2);
  EXPECT_FALSE(f.load(path).ok());
  {
    std::string bytes;
    {
      std::ifstream f(path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(f), {});
    }
    bytes.resize(bytes.size() / 2);
    std::ofstream(path, std::ios::binary) << bytes;
  }
  GhnTrainer e(t.space, t.data, t.config(), {}, 2);
  st = e.load(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(path), std::string::npos);
}

// Prediction for another space's architectures (GHN-2's unseen architectures): the weights load
// into a trainer of the other space without its position, and predict the same parameters as the
// source trainer's hypernetwork does for that architecture; SMASH is refused.
TEST(GhnTrainer, PredictsForAnotherSpaceFromItsWeights) {
  Tiny t;
  const std::string path = testing::temp_path("ghn_transfer.pt");
  GhnTrainer a(t.space, t.data, t.config(), {}, 2);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(a.step());
  ASSERT_TRUE(a.save(path).ok());

  auto other = std::make_shared<const SearchSpace>(testing::load("zoo/resnet.yaml"));
  auto odata = *supernet::load_data_for("synthetic:64", *other, 0, 16);
  GhnTrainer b(other, odata, t.config(), {}, 2);
  const auto fresh = b.ghn()->parameters();
  std::vector<at::Tensor> before;
  for (const auto& p : fresh) before.push_back(p.clone());
  ASSERT_FALSE(b.load(path).ok()) << "resuming on another space";
  auto st = b.load(path, GhnTrainer::LoadScope::kWeights);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(b.global_step(), 0) << "the position stays the trainer's own";
  auto pa = a.ghn()->parameters(), pb = b.ghn()->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  bool changed = false;
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(pa[i], pb[i])) << i;
    changed = changed || !torch::equal(before[i], pb[i]);
  }
  EXPECT_TRUE(changed) << "the fresh hypernetwork already had the trained weights";

  // The other space's architecture through the source hypernetwork, by hand, and through b.
  Rng rng(3);
  const Architecture arch = other->sample(rng);
  const supernet::Graph predicted = b.predicted(arch, /*recalibrate=*/false, /*batch=*/2);
  supernet::Graph shapes;
  {
    torch::NoGradGuard no_grad;
    supernet::Supernet net(other, supernet::SupernetOptions().seed(9));
    shapes = net->extract(arch)->lower({2, 3, 32, 32});
  }
  {
    torch::NoGradGuard no_grad;
    const supernet::Graph by_hand = a.ghn()->predict(shapes, make_arch_graph(shapes, 5));
    ASSERT_EQ(predicted.ops.size(), by_hand.ops.size());
    int64_t weights = 0;
    for (size_t i = 0; i < by_hand.ops.size(); ++i)
      if (by_hand.ops[i].weight.defined()) {
        ASSERT_TRUE(predicted.ops[i].weight.defined()) << i;
        EXPECT_TRUE(torch::allclose(predicted.ops[i].weight, by_hand.ops[i].weight)) << i;
        ++weights;
      }
    EXPECT_GT(weights, 5);
    const at::Tensor y = supernet::run_graph(predicted, torch::ones({2, 3, 32, 32})).output;
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  }

  GhnOptions smash;
  smash.kind = GhnKind::kSmash;
  GhnTrainer s(t.space, t.data, t.config(), smash, 2);
  for (int i = 0; i < 1; ++i) ASSERT_TRUE(s.step());
  ASSERT_TRUE(s.save(path).ok());
  GhnTrainer so(other, odata, t.config(), smash, 2);
  st = so.load(path, GhnTrainer::LoadScope::kWeights);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("SMASH reads its space"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace nasforge::hypernets
