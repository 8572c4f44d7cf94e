// export: a found network, with its inherited (BN-recalibrated) weights, as ONNX or TorchScript,
// or as a frozen space file; optionally with ONNX test vectors beside it.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <filesystem>
#include <iostream>
#include <regex>

#include "cli.h"
#include "nasforge/evaluation/search.h"
#include "nasforge/export/onnx.h"
#include "nasforge/export/torchscript.h"
#include "nasforge/searchspace/files.h"
#include "nasforge/searchspace/freeze.h"
#include "nasforge/searchspace/json.h"
#include "nasforge/supernet/errors.h"
#include "nasforge/supernet/run.h"
#include "nasforge/supernet/train.h"

namespace nasforge::cli {

namespace {

namespace fs = std::filesystem;

// What to export: a checkpoint folder and an architecture string.
struct Target {
  std::string checkpoint, arch, from;  // from: where the architecture came from, for the log
};

std::optional<Target> resolve(const Command& cmd, const Args& a) {
  if (a.has("run") == a.has("arch")) {
    fail(cmd.name, "expected --arch STRING or --run DIR [--rank K], not both or neither\n" +
                       command_help(cmd));
    return std::nullopt;
  }
  Target t;
  t.checkpoint = a.get("checkpoint");
  if (a.has("arch")) {
    t.arch = a.get("arch");
    t.from = "--arch";
  } else {
    auto stored = evaluation::load_search(a.get("run"));
    if (!stored.ok()) {
      fail(cmd.name, stored.status().message());
      return std::nullopt;
    }
    uint64_t rank = 1;
    if (a.has("rank")) {
      auto r = parse_count("rank", a.get("rank"));
      if (!r) return std::nullopt;
      rank = *r;
    }
    if (stored->pareto.empty()) {
      fail(cmd.name, a.get("run") + " holds no feasible architecture (" +
                         std::to_string(stored->trials.size()) +
                         " trials, none meeting every constraint), so there is nothing to export");
      return std::nullopt;
    }
    if (rank < 1 || rank > stored->pareto.size()) {
      fail(cmd.name, "--rank: expected a rank in [1, " + std::to_string(stored->pareto.size()) +
                         "] (the Pareto front of " + a.get("run") + ", best " +
                         stored->objectives[0].metric.name + " first), got " + a.get("rank"));
      return std::nullopt;
    }
    const auto& trial = stored->trials[stored->pareto[rank - 1]];
    t.arch = trial.arch;
    t.from = a.get("run") + " rank " + std::to_string(rank) + " of " +
             std::to_string(stored->pareto.size()) + " (trial " + std::to_string(trial.id) + ")";
    if (t.checkpoint.empty()) {  // the supernet the search's accuracy came from
      for (const auto& [metric, source] : stored->sources) {
        std::smatch m;
        if (std::regex_match(source, m, std::regex("supernet:(.+?)(:test)?"))) t.checkpoint = m[1];
      }
    }
  }
  if (t.checkpoint.empty()) {
    fail(cmd.name, "expected --checkpoint DIR (a train-supernet run folder)" +
                       std::string(a.has("run") ? "; the search used no supernet: source" : ""));
    return std::nullopt;
  }
  return t;
}

int run_export(const Command& cmd, const Args& a) {
  const std::string format = a.get("format", "onnx");
  if (format != "onnx" && format != "torchscript" && format != "yaml")
    return fail(cmd.name, "--format: expected onnx, torchscript or yaml, got '" + format + "'");
  if (!a.has("out")) return fail(cmd.name, "expected --out PATH\n" + command_help(cmd));
  if (a.has("test-vector") && format != "onnx")
    return fail(cmd.name, "--test-vector: the ONNX test layout goes with --format onnx");
  if (!set_threads(a)) return 1;
  auto target = resolve(cmd, a);
  if (!target) return 1;
  auto run = supernet::load_run(target->checkpoint);
  if (!run.ok()) return fail(cmd.name, run.status().message());
  const SearchSpace& space = *run->space;
  auto arch = space.parse(target->arch);
  if (!arch.ok()) return fail(cmd.name, "--arch: invalid architecture: " + arch.status().message());
  std::cout << "arch: " << space.to_string(*arch) << "  (from " << target->from << ")\n";
  const std::string out = a.get("out");
  if (fs::path(out).has_parent_path()) fs::create_directories(fs::path(out).parent_path());

  if (format == "yaml") {
    if (Status st = write_atomically(out, freeze_space(space, *arch), "frozen space"); !st.ok())
      return fail(cmd.name, st.message());
    std::cout << "wrote " << out << ": " << space.name()
              << " frozen at that architecture (size 1; check it with nasforge check)\n";
    return 0;
  }

  supernet::Supernet net(run->space);
  if (Status st = supernet::load_supernet_weights(net, run->checkpoint()); !st.ok())
    return fail(cmd.name, st.message());
  std::string bn = "the supernet's shared BN statistics";
  if (!a.has("no-recalibrate") && run->config.bn_recalibration_batches > 0) {
    auto data = supernet::load_data_for(run->data, space, run->config.seed, run->valid_size);
    if (!data.ok()) return fail(cmd.name, data.status().message());
    supernet::recalibrate_bn(net, *arch, *data, run->config);
    bn = "BN recalibrated on " + std::to_string(run->config.bn_recalibration_batches) +
         " training batches";
  }
  net->eval();
  supernet::StaticNetwork alone = net->extract(*arch);
  alone->eval();
  const auto& in = space.input();
  const std::vector<int64_t> shape = {1, in.channels, in.height, in.width};
  supernet::Graph graph;
  try {
    graph = alone->lower(shape);
  } catch (const std::invalid_argument& e) {
    return fail(cmd.name, supernet::error_text(e));
  }
  const std::vector<std::pair<std::string, std::string>> meta = {
      {"nasforge.arch", space.to_string(*arch)},    {"nasforge.space", space.name()},
      {"nasforge.space_hash", space.fingerprint()}, {"nasforge.version", NASFORGE_VERSION},
      {"nasforge.checkpoint", target->checkpoint},  {"nasforge.batch_norm", bn}};
  int64_t params = 0;
  for (const auto& p : alone->parameters()) params += p.numel();

  if (format == "torchscript") {
    std::string json = "{";
    for (size_t i = 0; i < meta.size(); ++i)
      json += (i ? ", " : "") + json_quote(meta[i].first) + ": " + json_quote(meta[i].second);
    if (Status st = exporter::save_torchscript(graph, out, json + "}"); !st.ok())
      return fail(cmd.name, st.message());
    std::cout << "wrote " << out << ": TorchScript, " << params << " parameters, " << bn << "\n";
    return 0;
  }

  exporter::OnnxOptions o;
  o.fold_batch_norm = !a.has("keep-bn");
  o.graph_name = space.name();
  o.producer_version = NASFORGE_VERSION;
  o.metadata = meta;
  std::string bytes;
  try {
    bytes = exporter::onnx_model(graph, o);
  } catch (const std::exception& e) {
    return fail(cmd.name, supernet::error_text(e));
  }
  if (Status st = write_atomically(out, bytes, "ONNX model"); !st.ok())
    return fail(cmd.name, st.message());
  std::cout << "wrote " << out << ": ONNX opset " << exporter::kOnnxOpset << ", " << params
            << " parameters, " << bn << ", batch norm "
            << (o.fold_batch_norm ? "folded into the convolutions" : "kept") << ", " << bytes.size()
            << " bytes; passes onnx::checker with full shape inference\n";
  if (a.has("test-vector")) {
    const fs::path dir =
        fs::path(out).parent_path().empty() ? fs::path(".") : fs::path(out).parent_path();
    auto seed = parse_count("seed", a.get("seed", "0"));
    if (!seed) return 1;
    at::Generator gen = at::detail::createCPUGenerator(*seed);
    torch::NoGradGuard no_grad;
    int set = 0;
    for (int64_t batch : {int64_t{1}, int64_t{7}}) {
      auto x = at::randn({batch, in.channels, in.height, in.width}, gen);
      if (Status st = exporter::write_test_vector(dir.string(), set++, x, o.input_name,
                                                  alone->forward(x), o.output_name);
          !st.ok())
        return fail(cmd.name, st.message());
    }
    std::cout << "wrote " << (dir / "test_data_set_0").string() << " (batch 1) and "
              << (dir / "test_data_set_1").string()
              << " (batch 7): seeded inputs with LibTorch's outputs; verify with node "
                 "tools/ort/verify.js "
              << out << "\n";
  }
  return 0;
}

NF_CMD(kExport, "export", "Export a found network to ONNX, TorchScript or a frozen YAML.",
       "(--checkpoint DIR --arch STRING | --run DIR [--rank K] [--checkpoint DIR]) "
       "[--format onnx|torchscript|yaml] --out PATH [--test-vector] [--keep-bn] "
       "[--no-recalibrate] [--seed S] [--threads T]",
       {{"checkpoint", true,
         "a train-supernet run folder (default with --run: its supernet: source)"},
        {"arch", true, "the architecture's canonical string"},
        {"run", true, "a search folder (nasforge search --out)"},
        {"rank", true, "which member of its Pareto front, best first objective first (default 1)"},
        {"format", true, "onnx (default), torchscript or yaml (the frozen space)"},
        {"out", true, "the file to write"},
        {"test-vector", false, "write test_data_set_0 (batch 1) and _1 (batch 7) beside the model"},
        {"keep-bn", false, "keep batch norm as ONNX ops instead of folding it into convolutions"},
        {"no-recalibrate", false, "keep the supernet's shared BN statistics"},
        {"seed", true, "seed of the test-vector inputs (default 0)"},
        {"threads", true, "LibTorch threads"}},
       run_export)

}  // namespace
}  // namespace nasforge::cli
