// Export: every zoo space's networks go to ONNX and TorchScript, and ONNX Runtime
// (onnxruntime-node) and LibTorch's TorchScript loader reproduce LibTorch's output at batch 1 and
// batch 7.
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "../searchspace/test_util.h"
#include "nasforge/export/onnx.h"
#include "nasforge/export/torchscript.h"
#include "nasforge/searchspace/freeze.h"
#include "nasforge/supernet/supernet.h"

namespace nasforge::exporter {
namespace {

namespace fs = std::filesystem;
using supernet::Supernet;
using supernet::SupernetOptions;

// Norm scales and shifts away from their initial 1/0, so that folding batch norm into
// convolutions is really exercised.
void perturb_norms(torch::nn::Module& m, uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  for (auto& p : m.named_parameters(true))
    if (p.value().dim() == 1) p.value().add_(torch::empty_like(p.value()).normal_(0, 0.2, gen));
}

// Batch-norm statistics of one batch, as BN recalibration gives them: without them a deep
// network's eval-mode activations grow to ~1e5 and float32 rounding alone exceeds 1e-4.
void calibrate(supernet::StaticNetwork& net, const InputSpec& in) {
  torch::NoGradGuard no_grad;
  for (auto& m : net->modules())
    if (auto* bn = m->as<torch::nn::BatchNorm2d>()) bn->options.momentum(1.0);
  net->train();
  net->forward(torch::randn({16, in.channels, in.height, in.width}));
  net->eval();
}

struct Exported {
  std::string model;  // path of model.onnx
  std::string label;
};

std::string run(const std::string& command, int& rc) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) {
    rc = -1;
    return out;
  }
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  rc = pclose(p);
  return out;
}

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::path(testing::temp_path("export_" + name));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Exports `count` random architectures of every zoo space (BN folded, and one per space with
// BN kept), checks them with ONNX's checker, writes test vectors at batch 1 and 7, and checks
// the TorchScript export against LibTorch here; returns the ONNX models for the runtime.
std::vector<Exported> export_zoo(const fs::path& root, int count) {
  std::vector<Exported> out;
  std::vector<std::string> files(std::begin(testing::kZoo), std::end(testing::kZoo));
  // Also: a flattening head with a hidden layer, resblocks, and squeeze-excite as a decision.
  files.push_back("tests/data/relaxed_blocks.yaml");
  // And: pre-activation resblocks (a pooled shortcut) and a head norm over a decided width.
  files.push_back("tests/data/relaxed_preact.yaml");
  for (const auto& file : files) {
    auto space = std::make_shared<const SearchSpace>(testing::load(file));
    Supernet net(space, SupernetOptions().seed(11));
    perturb_norms(*net, 12);
    Rng rng(13);
    const auto& in = space->input();
    for (int i = 0; i < count; ++i) {
      Architecture arch = space->sample(rng);
      // A cell whose output node has only `none` inputs outputs zeros: the ONNX zero tensor
      // must take its batch size from the input.
      const bool zero_cell = space->name() == "nb201" && i == count - 1;
      if (zero_cell)
        arch = *space->parse("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|");
      auto alone = net->extract(arch);
      calibrate(alone, in);
      const bool keep_bn = i == 0;
      const std::string label = space->name() + "_" + std::to_string(i) + (keep_bn ? "_bn" : "");
      const fs::path dir = root / label;
      fs::create_directories(dir);

      OnnxOptions o;
      o.fold_batch_norm = !keep_bn;
      o.metadata = {{"nasforge.arch", space->to_string(arch)}};
      const auto graph = alone->lower({1, in.channels, in.height, in.width});
      if (zero_cell)
        EXPECT_TRUE(std::any_of(graph.ops.begin(), graph.ops.end(),
                                [](const auto& op) { return op.kind == supernet::OpKind::kZero; }));
      std::string bytes;
      EXPECT_NO_THROW(bytes = onnx_model(graph, o)) << label;
      EXPECT_TRUE(check_onnx(bytes).ok()) << label;
      std::ofstream(dir / "model.onnx", std::ios::binary) << bytes;

      torch::NoGradGuard no_grad;
      const Status saved = save_torchscript(graph, (dir / "model.pt").string(), "{}");
      EXPECT_TRUE(saved.ok()) << label << ": " << saved.message();
      if (!saved.ok()) continue;
      auto scripted = torch::jit::load((dir / "model.pt").string());
      int set = 0;
      for (int64_t batch : {1, 7}) {
        auto x = torch::randn({batch, in.channels, in.height, in.width});
        auto y = alone->forward(x);
        EXPECT_TRUE(write_test_vector(dir.string(), set++, x, o.input_name, y, o.output_name).ok());
        auto z = scripted.forward({x}).toTensor();
        EXPECT_LE((y - z).abs().max().item<double>(), 1e-4) << label << " torchscript";
      }
      out.push_back({(dir / "model.onnx").string(), label});
    }
  }
  return out;
}

TEST(Export, EveryZooSpaceRunsInOnnxRuntimeAsInLibTorch) {
  torch::manual_seed(0);  // the test inputs only
  const fs::path root = fresh_dir("zoo");
  const auto models = export_zoo(root, 4);
  ASSERT_EQ(models.size(), 4 * (std::size(testing::kZoo) + 2));  // and the two test spaces
  const std::string verify = testing::source_path("tools/ort/verify.js");
  ASSERT_TRUE(fs::exists(verify)) << verify;
  std::string cmd = "node " + verify + " --tol 1e-4";
  for (const auto& m : models) cmd += " " + m.model;
  int rc = 0;
  const std::string out = run(cmd, rc);
  // A missing runtime fails here with verify.js's message (run make deps); it never skips.
  EXPECT_EQ(rc, 0) << out;
  const std::string summary = std::to_string(2 * models.size()) + "/" +
                              std::to_string(2 * models.size()) + " test sets within";
  EXPECT_NE(out.find(summary), std::string::npos) << out;
}

TEST(Export, ModelCarriesNamesDynamicBatchAndMetadata) {
  auto space = std::make_shared<const SearchSpace>(testing::load("zoo/mobilenet.yaml"));
  Supernet net(space, SupernetOptions().seed(1));
  Rng rng(2);
  auto alone = net->extract(space->sample(rng));
  alone->eval();
  OnnxOptions o;
  o.metadata = {{"nasforge.space", "mobilenet"}};
  const std::string bytes = onnx_model(alone->lower({1, 1, 28, 28}), o);
  // The serialised proto holds the names and the symbolic batch dimension as plain strings.
  for (const char* s : {"input", "logits", "batch", "nasforge.space", "mobilenet"})
    EXPECT_NE(bytes.find(s), std::string::npos) << s;
  EXPECT_FALSE(check_onnx(bytes.substr(0, bytes.size() / 2)).ok());
}

TEST(Export, WhatOnnxCannotExpressIsRefusedByName) {
  supernet::Graph g;
  supernet::GraphOp input;
  input.shape = {1, 4, 2, 2};
  g.ops.push_back(input);
  supernet::GraphOp linear;
  linear.kind = supernet::OpKind::kLinear;
  linear.inputs = {0};
  linear.weight = torch::zeros({3, 16});
  linear.shape = {1, 3};
  g.ops.push_back(linear);
  g.output = 1;
  try {
    onnx_model(g, OnnxOptions());
    ADD_FAILURE() << "expected a refusal";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "onnx export: a linear layer on a spatial tensor");
  }
}

// A frozen space checks, has one architecture, and its network is the original's: the same ops
// with the same shapes, op for op.
TEST(Export, FrozenSpacesHoldExactlyTheirArchitecture) {
  for (const char* file : testing::kZoo) {
    auto space = std::make_shared<const SearchSpace>(testing::load(file));
    Supernet net(space, SupernetOptions().seed(3));
    Rng rng(4);
    for (int i = 0; i < 5; ++i) {
      Architecture arch = space->sample(rng);
      const std::string yaml = freeze_space(*space, arch);
      Diagnostics d;
      auto frozen = load_space_text(yaml, "frozen.yaml", d);
      ASSERT_TRUE(frozen.has_value()) << file << "\n" << d.str() << "\n" << yaml;
      EXPECT_EQ(frozen->size().str(), "1") << yaml;
      auto fspace = std::make_shared<const SearchSpace>(std::move(*frozen));
      Supernet fnet(fspace, SupernetOptions().seed(3));
      const Architecture only(std::vector<uint32_t>(fspace->decisions().size(), 0));
      const auto& in = space->input();
      const std::vector<int64_t> shape = {2, in.channels, in.height, in.width};
      auto a = net->extract(arch)->lower(shape), b = fnet->extract(only)->lower(shape);
      ASSERT_EQ(a.ops.size(), b.ops.size()) << file << " " << space->to_string(arch);
      for (size_t k = 0; k < a.ops.size(); ++k) {
        EXPECT_EQ(a.ops[k].kind, b.ops[k].kind) << file << " op " << k;
        EXPECT_EQ(a.ops[k].shape, b.ops[k].shape) << file << " op " << k;
        EXPECT_EQ(a.ops[k].inputs, b.ops[k].inputs) << file << " op " << k;
      }
    }
  }
}

}  // namespace
}  // namespace nasforge::exporter
