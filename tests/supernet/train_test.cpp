// Supernet training: the config file, the path policies, the recipe pieces, evaluation with BN
// recalibration, and checkpoints that resume exactly. Synthetic data, a few steps each.
#include "nasforge/supernet/train.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "../searchspace/test_util.h"
#include "nasforge/searchspace/hash.h"

namespace nasforge::supernet {
namespace {

std::shared_ptr<const SearchSpace> tiny_space() {
  return std::make_shared<const SearchSpace>(testing::load("tests/data/design_mobile_tiny.yaml"));
}

data::Splits tiny_data(uint64_t seed = 0) {
  data::SyntheticOptions o;
  o.train = 256;
  o.valid = 128;
  o.test = 64;
  o.seed = seed;
  return data::make_synthetic(o);
}

TrainConfig small_config() {
  TrainConfig c;
  c.batch_size = 32;
  c.epochs = 2;
  c.lr = 0.05;
  c.bn_recalibration_batches = 4;
  return c;
}

std::string diagnose(const std::string& yaml) {
  Diagnostics d;
  auto c = parse_train_config(yaml, "train.yaml", d);
  EXPECT_EQ(c.has_value(), d.ok());
  return d.str();
}

TEST(TrainConfig, DefaultsAndEveryKey) {
  Diagnostics d;
  auto empty = parse_train_config("", "train.yaml", d);
  ASSERT_TRUE(empty) << d.str();
  EXPECT_EQ(empty->policy, PathPolicy::kUniform);
  EXPECT_EQ(empty->batch_size, 128);
  auto c = parse_train_config(R"(policy: sandwich
sandwich_random: 3
inplace_distillation: true
progressive_shrinking:
  - {unlock: none, epochs: 2}
  - {unlock: kernel, epochs: 3}
optimizer: {type: adam, lr: 0.001, weight_decay: 0}
warmup_epochs: 1
epochs: 20
label_smoothing: 0.1
grad_clip: 5
batch_size: 64
augment: {pad_crop: 2, hflip: true}
bn_recalibration_batches: 10
seed: 7
)",
                              "train.yaml", d);
  ASSERT_TRUE(c) << d.str();
  EXPECT_EQ(c->policy, PathPolicy::kSandwich);
  EXPECT_EQ(c->sandwich_random, 3);
  ASSERT_EQ(c->shrinking.size(), 2u);
  EXPECT_EQ(c->shrinking[1].unlock, Unlock::kKernel);
  EXPECT_EQ(c->optimizer, OptimizerKind::kAdam);
  EXPECT_EQ(c->lr, 0.001);
  EXPECT_EQ(c->augment.pad_crop, 2);
  EXPECT_EQ(c->seed, 7u);
  // The stored form parses back to the same config.
  auto again = parse_train_config(c->str(), "stored.yaml", d);
  ASSERT_TRUE(again) << d.str();
  EXPECT_EQ(again->str(), c->str());
}

TEST(TrainConfig, Diagnostics) {
  EXPECT_EQ(diagnose("polcy: uniform\n"),
            "train.yaml:1:1: error: polcy: expected one of policy, sandwich_random, "
            "inplace_distillation, progressive_shrinking, optimizer, warmup_epochs, epochs, "
            "label_smoothing, grad_clip, batch_size, augment, bn_recalibration_batches, seed, "
            "got unknown key 'polcy' (did you mean 'policy'?)\n");
  EXPECT_EQ(diagnose("policy: sandwhich\nbatch_size: 0\nlabel_smoothing: 1\n"
                     "optimizer: {type: rmsprop}\n"),
            "train.yaml:1:9: error: policy: expected one of uniform, sandwich, got 'sandwhich' "
            "(did you mean 'sandwich'?)\n"
            "train.yaml:4:19: error: optimizer.type: expected one of sgd, adam, got 'rmsprop'\n"
            "train.yaml:3:18: error: label_smoothing: expected a number in [0, 1), got '1'\n"
            "train.yaml:2:13: error: batch_size: expected an integer in [1, 65536], got '0'\n");
  EXPECT_EQ(diagnose("inplace_distillation: true\n"),
            "train.yaml:1:1: error: inplace_distillation: expected policy: sandwich, whose "
            "largest path is the teacher, got policy: uniform\n");
  EXPECT_EQ(diagnose("progressive_shrinking: [{unlock: width, epochs: 1}]\n"),
            "train.yaml:1:34: error: progressive_shrinking[0].unlock: expected one of none, "
            "kernel, depth, expand, all, got 'width'\n");
}

TEST(PathSampler, SandwichVisitsTheLargestAndSmallestEveryStep) {
  auto space = tiny_space();
  TrainConfig c = small_config();
  c.policy = PathPolicy::kSandwich;
  c.sandwich_random = 2;
  PathSampler sampler(*space, c);
  EXPECT_EQ(space->to_string(sampler.largest()),
            "stage1=d4w32:k7e6,k7e6,k7e6,k7e6/stage2=d4w64:k7e6,k7e6,k7e6,k7e6");
  EXPECT_EQ(space->to_string(sampler.smallest()), "stage1=d2w24:k3e3,k3e3/stage2=d2w40:k3e3,k3e3");
  Rng rng(1);
  for (int step = 0; step < 50; ++step) {
    auto paths = sampler.paths(rng, 0);
    ASSERT_EQ(paths.size(), 4u);
    EXPECT_EQ(paths[0], sampler.largest());
    EXPECT_EQ(paths[1], sampler.smallest());
    for (const auto& p : paths) EXPECT_TRUE(space->validate(p).ok());
  }
}

// A layer choice's largest path takes the alternative holding the most weights, not its first.
TEST(PathSampler, LayerChoiceExtremesFollowTheAlternativesWeights) {
  auto space = std::make_shared<const SearchSpace>(testing::load("zoo/nasbench_macro.yaml"));
  TrainConfig c = small_config();
  Supernet net(space, SupernetOptions().seed(1));
  PathSampler sampler(*space, c);
  // Without the weights, every choice takes its first alternative (identity) both ways.
  EXPECT_EQ(sampler.largest(), sampler.smallest());
  sampler.set_alternative_params(net->alternative_params());
  std::string all_k5, all_identity;
  for (int l = 1; l <= 8; ++l) {
    all_k5 += (l > 1 ? "/layer" : "layer") + std::to_string(l) + "=mbconv_k5_e6";
    all_identity += (l > 1 ? "/layer" : "layer") + std::to_string(l) + "=identity";
  }
  EXPECT_EQ(space->to_string(sampler.largest()), all_k5);
  EXPECT_EQ(space->to_string(sampler.smallest()), all_identity);
}

TEST(PathSampler, ProgressiveShrinkingNeverSamplesWhatIsLocked) {
  auto space = tiny_space();
  TrainConfig c = small_config();
  c.shrinking = {
      {Unlock::kNone, 1}, {Unlock::kKernel, 1}, {Unlock::kDepth, 1}, {Unlock::kExpand, 1}};
  PathSampler sampler(*space, c);
  Rng rng(2);
  auto seen = [&](int64_t epoch, DomainType type) {
    std::set<int64_t> values;
    for (int i = 0; i < 300; ++i) {
      Architecture a = sampler.paths(rng, epoch)[0];
      for (size_t d = 0; d < a.size(); ++d)
        if (space->decisions()[d].domain.type == type && space->is_active(a, static_cast<int>(d)))
          values.insert(space->int_value(a, static_cast<int>(d)));
    }
    return values;
  };
  EXPECT_EQ(seen(0, DomainType::kKernel), (std::set<int64_t>{7}));
  EXPECT_EQ(seen(0, DomainType::kDepth), (std::set<int64_t>{4}));
  EXPECT_EQ(seen(1, DomainType::kKernel), (std::set<int64_t>{3, 5, 7}));
  EXPECT_EQ(seen(1, DomainType::kDepth), (std::set<int64_t>{4}));
  EXPECT_EQ(seen(1, DomainType::kExpand), (std::set<int64_t>{6}));
  EXPECT_EQ(seen(2, DomainType::kDepth), (std::set<int64_t>{2, 3, 4}));
  EXPECT_EQ(seen(2, DomainType::kExpand), (std::set<int64_t>{6}));
  EXPECT_EQ(seen(2, DomainType::kChannels), (std::set<int64_t>{32, 64}));  // widths come last
  EXPECT_EQ(seen(3, DomainType::kExpand), (std::set<int64_t>{3, 4, 6}));
  EXPECT_EQ(seen(4, DomainType::kChannels), (std::set<int64_t>{24, 32, 40, 48, 64}));
}

TEST(SupernetTrainer, LearnsSyntheticDataAndFollowsTheSchedule) {
  auto space = tiny_space();
  auto data = tiny_data();
  TrainConfig c = small_config();
  c.warmup_epochs = 0.5;
  c.epochs = 3;
  SupernetTrainer trainer(Supernet(space, SupernetOptions().seed(1)), data, c);
  EXPECT_EQ(trainer.steps_per_epoch(), 8);
  std::vector<double> losses, lrs;
  while (trainer.epoch() < 3) {
    if (auto s = trainer.step()) {
      losses.push_back(s->loss);
      lrs.push_back(s->lr);
    }
  }
  ASSERT_EQ(losses.size(), 24u);
  // Linear warm-up over the first half epoch, then cosine decay towards 0.
  EXPECT_LT(lrs[0], 0.01);
  EXPECT_LT(lrs[1], lrs[3]);
  EXPECT_NEAR(lrs[4], 0.05, 1e-3);
  EXPECT_LT(lrs[23], 0.005);
  double first = (losses[0] + losses[1] + losses[2]) / 3,
         last = (losses[21] + losses[22] + losses[23]) / 3;
  EXPECT_LT(last, first);
  auto result = trainer.evaluate(trainer.sampler().largest(), data.valid);
  EXPECT_EQ(result.examples, 128);
  EXPECT_GT(result.accuracy, 0.5);  // ten classes: chance is 0.1
}

TEST(SupernetTrainer, GradientClippingBoundsTheNorm) {
  auto space = tiny_space();
  auto data = tiny_data();
  TrainConfig c = small_config();
  c.grad_clip = 1e-3;
  SupernetTrainer trainer(Supernet(space, SupernetOptions().seed(1)), data, c);
  ASSERT_TRUE(trainer.step());
  double sq = 0;
  for (const auto& p : trainer.net()->parameters())
    if (p.grad().defined()) sq += p.grad().pow(2).sum().item<double>();
  EXPECT_LE(std::sqrt(sq), 1e-3 * (1 + 1e-4));
  EXPECT_GT(sq, 0);
}

TEST(SupernetTrainer, InplaceDistillationTeachesTheSmallerPaths) {
  // Replays one sandwich step by hand: cross-entropy on the largest path, then the soft
  // cross-entropy against its probabilities on the smallest. The gradients must match.
  auto space = tiny_space();
  auto data = tiny_data();
  TrainConfig c = small_config();
  c.policy = PathPolicy::kSandwich;
  c.sandwich_random = 0;
  c.inplace_distillation = true;
  c.label_smoothing = 0;
  SupernetTrainer trainer(Supernet(space, SupernetOptions().seed(4)), data, c);
  Supernet manual(space, SupernetOptions().seed(4));
  ASSERT_TRUE(trainer.step());

  data::BatchLoader loader(data.train, data.mean, data.std, c.batch_size, true, c.augment,
                           fnv1a64(std::to_string(c.seed) + "/epoch/0"));
  data::Batch b;
  ASSERT_TRUE(loader.next(b));
  Rng seeds(c.seed);
  PathSampler sampler(*space, c);
  manual->train();
  torch::manual_seed(seeds.next());
  auto big = manual->forward(b.images, sampler.largest());
  torch::nn::functional::cross_entropy(big, b.labels).backward();
  auto teacher = torch::softmax(big.detach(), 1);
  torch::manual_seed(seeds.next());
  auto small = manual->forward(b.images, sampler.smallest());
  (-(teacher * torch::log_softmax(small, 1)).sum(1).mean()).backward();

  auto want = manual->named_parameters(true), got = trainer.net()->named_parameters(true);
  int compared = 0;
  for (const auto& p : want) {
    if (!p.value().grad().defined()) continue;
    ASSERT_TRUE(got[p.key()].grad().defined()) << p.key();
    EXPECT_TRUE(torch::allclose(got[p.key()].grad(), p.value().grad(), 1e-4, 1e-6)) << p.key();
    ++compared;
  }
  EXPECT_GT(compared, 10);
}

TEST(SupernetTrainer, AdamWithLabelSmoothingMatchesAHandReplay) {
  // One Adam step on a fixed path with label smoothing 0.2, replayed by hand: the reported loss
  // is the smoothed cross-entropy (not the plain one) and every weight moves as Adam moves it.
  auto space = tiny_space();
  auto data = tiny_data();
  TrainConfig c = small_config();
  c.optimizer = OptimizerKind::kAdam;
  c.lr = 1e-3;
  c.weight_decay = 0;
  c.warmup_epochs = 0;
  c.label_smoothing = 0.2;
  Architecture arch = PathSampler(*space, c).largest();
  SupernetTrainer trainer(Supernet(space, SupernetOptions().seed(6)), data, c);
  trainer.fix_path(arch);
  Supernet manual(space, SupernetOptions().seed(6));
  auto stats = trainer.step();
  ASSERT_TRUE(stats);

  data::BatchLoader loader(data.train, data.mean, data.std, c.batch_size, true, c.augment,
                           fnv1a64(std::to_string(c.seed) + "/epoch/0"));
  data::Batch b;
  ASSERT_TRUE(loader.next(b));
  Rng seeds(c.seed);
  manual->train();
  torch::manual_seed(seeds.next());
  auto logits = manual->forward(b.images, arch);
  const int64_t k = logits.size(1);
  auto logp = torch::log_softmax(logits, 1);
  auto target = torch::full_like(logp, 0.2 / static_cast<double>(k));
  target.scatter_add_(1, b.labels.unsqueeze(1), torch::full({b.labels.size(0), 1}, 0.8));
  auto loss = -(target * logp).sum(1).mean();
  const double plain = torch::nn::functional::cross_entropy(logits, b.labels).item<double>();
  EXPECT_NEAR(stats->loss, loss.item<double>(), 1e-5);
  EXPECT_GT(std::abs(stats->loss - plain), 1e-3);
  torch::optim::Adam adam(manual->parameters(), torch::optim::AdamOptions(stats->lr));
  adam.zero_grad();
  loss.backward();
  adam.step();

  auto want = manual->named_parameters(true), got = trainer.net()->named_parameters(true);
  int moved = 0;
  for (const auto& p : want) {
    EXPECT_TRUE(torch::allclose(got[p.key()], p.value(), 1e-5, 1e-7)) << p.key();
    if (p.value().grad().defined() && p.value().grad().abs().max().item<double>() > 0) ++moved;
  }
  EXPECT_GT(moved, 10);
}

TEST(SupernetTrainer, BnRecalibrationChangesOnlyTheEvaluation) {
  auto space = tiny_space();
  auto data = tiny_data();
  SupernetTrainer trainer(Supernet(space, SupernetOptions().seed(1)), data, small_config());
  for (int i = 0; i < 6; ++i) trainer.step();
  std::vector<at::Tensor> before;
  for (const auto& b : trainer.net()->buffers()) before.push_back(b.clone());
  Architecture arch = trainer.sampler().smallest();
  auto raw = trainer.evaluate(arch, data.valid, false);
  auto recal = trainer.evaluate(arch, data.valid, true);
  EXPECT_NE(raw.loss, recal.loss);  // the path's own statistics differ from the shared ones
  auto after = trainer.net()->buffers();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i]));
  // Evaluating twice gives the same answer.
  EXPECT_EQ(trainer.evaluate(arch, data.valid, true).loss, recal.loss);
}

TEST(SupernetTrainer, CheckpointResumesExactly) {
  auto space = tiny_space();
  auto data = tiny_data();
  TrainConfig c = small_config();
  c.policy = PathPolicy::kSandwich;
  c.sandwich_random = 0;
  const std::string path = testing::temp_path("ckpt_test.pt");
  SupernetTrainer a(Supernet(space, SupernetOptions().seed(9)), data, c);
  for (int i = 0; i < 5; ++i) a.step();
  ASSERT_TRUE(a.save(path).ok());
  std::vector<double> expected;
  for (int i = 0; i < 6; ++i)
    if (auto s = a.step()) expected.push_back(s->loss);

  SupernetTrainer b(Supernet(space, SupernetOptions().seed(123)), data, c);
  Status st = b.load(path);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(b.global_step(), 5);
  std::vector<double> resumed;
  for (int i = 0; i < 6; ++i)
    if (auto s = b.step()) resumed.push_back(s->loss);
  EXPECT_EQ(resumed, expected);

  // Another space's checkpoint, a truncated file and a foreign file are refused clearly.
  auto other = std::make_shared<const SearchSpace>(testing::load("zoo/transformer.yaml"));
  SupernetTrainer t(Supernet(other), data, c);
  EXPECT_EQ(t.load(path).message(),
            path + ": expected a checkpoint of space 'transformer' (fingerprint " +
                other->fingerprint() + "), got one of space 'mobile-tiny' (fingerprint " +
                space->fingerprint() + ")");
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  EXPECT_EQ(b.load(path).message(),
            path +
                ": expected a nasforge supernet checkpoint, got a file that does not load "
                "(truncated or not a checkpoint)");
  { std::ofstream(path) << "hello"; }
  EXPECT_EQ(b.load(path).message(),
            path +
                ": expected a nasforge supernet checkpoint, got a file that does not load "
                "(truncated or not a checkpoint)");
  std::filesystem::remove(path);
}

// One path per step leaves most weights without a gradient; a resumed trainer must still
// continue exactly (weights and optimizer state bit for bit), which it did not while unused
// weights kept a zero gradient that weight decay and momentum then moved.
TEST(SupernetTrainer, UniformPathResumeEqualsStraightRun) {
  auto space = tiny_space();
  auto data = tiny_data();
  TrainConfig c = small_config();
  c.policy = PathPolicy::kUniform;
  c.weight_decay = 1e-3;
  const std::string path = testing::temp_path("uniform_resume.pt");
  SupernetTrainer straight(Supernet(space, SupernetOptions().seed(4)), data, c);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(straight.step());
  SupernetTrainer first(Supernet(space, SupernetOptions().seed(4)), data, c);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(first.step());
  ASSERT_TRUE(first.save(path).ok());
  SupernetTrainer resumed(Supernet(space, SupernetOptions().seed(77)), data, c);
  ASSERT_TRUE(resumed.load(path).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(resumed.step());
  auto want = straight.net()->named_parameters(true);
  auto got = resumed.net()->named_parameters(true);
  ASSERT_EQ(want.size(), got.size());
  int64_t differing = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (!torch::equal(want[i].value(), got[i].value())) ++differing;
  EXPECT_EQ(differing, 0) << "of " << want.size() << " parameter tensors";
  std::filesystem::remove(path);
}

// Non-finite weights (a diverged run) give an evaluation that is an error, not a number, and
// are never checkpointed over the last good file.
TEST(SupernetTrainer, NonFiniteWeightsAreRefusedByEvalAndSave) {
  auto space = tiny_space();
  auto data = tiny_data();
  SupernetTrainer t(Supernet(space, SupernetOptions().seed(2)), data, small_config());
  const std::string path = testing::temp_path("diverged.pt");
  ASSERT_TRUE(t.save(path).ok());
  const auto before = std::filesystem::file_size(path);
  EXPECT_TRUE(check_finite(t.evaluate(t.sampler().smallest(), data.valid, false), "valid").ok());
  {
    torch::NoGradGuard no_grad;
    t.net()->parameters()[0].fill_(NAN);
  }
  auto r = t.evaluate(t.sampler().smallest(), data.valid, false);
  EXPECT_EQ(check_finite(r, "valid").message(),
            "the loss is NaN on valid: the weights or the data hold non-finite values (a diverged "
            "run, or damaged files)");
  const Status st = t.save(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(": not written: weight "), std::string::npos) << st.message();
  EXPECT_EQ(std::filesystem::file_size(path), before);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace nasforge::supernet
