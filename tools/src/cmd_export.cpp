// export: a found network, with its inherited (BN-recalibrated) weights or the weights a graph
// hypernetwork predicts for it, as ONNX or TorchScript, or as a frozen space file; optionally
// with ONNX test vectors beside it.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <iostream>
#include <regex>

#include "cli.h"
#include "nasforge/evaluation/search.h"
#include "nasforge/export/onnx.h"
#include "nasforge/export/torchscript.h"
#include "nasforge/hypernets/run.h"
#include "nasforge/hypernets/trainer.h"
#include "nasforge/searchspace/files.h"
#include "nasforge/searchspace/freeze.h"
#include "nasforge/searchspace/json.h"
#include "nasforge/supernet/errors.h"
#include "nasforge/supernet/graph_run.h"
#include "nasforge/supernet/run.h"
#include "nasforge/supernet/train.h"

namespace nasforge::cli {

namespace {

namespace fs = std::filesystem;

// What to export: a checkpoint folder and an architecture string.
struct Target {
  std::string checkpoint, ghn, arch, from;  // from: where the architecture came from, for the log
  // The architecture's space when it is not the run's: --space, or a search's. A hypernetwork
  // (GHN-1, GHN-2) predicts weights for it; a supernet refuses it.
  std::shared_ptr<const SearchSpace> space;
};

std::optional<Target> resolve(const Command& cmd, const Args& a) {
  if (a.has("run") == a.has("arch")) {
    fail(cmd.name, "expected --arch STRING or --run DIR [--rank K], not both or neither\n" +
                       command_help(cmd));
    return std::nullopt;
  }
  if (a.has("checkpoint") && a.has("ghn")) {
    fail(cmd.name, "expected --checkpoint DIR or --ghn DIR, not both");
    return std::nullopt;
  }
  if (a.has("space") && !a.has("arch")) {
    fail(cmd.name, "--space names the space of --arch (a search folder has its own)");
    return std::nullopt;
  }
  Target t;
  t.checkpoint = a.get("checkpoint");
  t.ghn = a.get("ghn");
  if (a.has("arch")) {
    t.arch = a.get("arch");
    t.from = "--arch";
    if (a.has("space")) {
      auto space = load_space_or_report(a.get("space"));
      if (!space) return std::nullopt;
      t.space = std::make_shared<const SearchSpace>(std::move(*space));
    }
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
    t.space = stored->space;
    t.from = a.get("run") + " rank " + std::to_string(rank) + " of " +
             std::to_string(stored->pareto.size()) + " (trial " + std::to_string(trial.id) + ")";
    if (t.checkpoint.empty() && t.ghn.empty()) {  // where the search's accuracy came from
      for (const auto& [metric, source] : stored->sources) {
        std::smatch m;
        if (std::regex_match(source, m, std::regex("supernet:(.+?)(:test)?"))) t.checkpoint = m[1];
        if (std::regex_match(source, m, std::regex("ghn:(.+?)(:test)?"))) t.ghn = m[1];
      }
      if (!t.checkpoint.empty()) t.ghn.clear();
    }
  }
  if (t.checkpoint.empty() && t.ghn.empty()) {
    fail(cmd.name,
         "expected --checkpoint DIR (a train-supernet run folder) or --ghn DIR (a "
         "train-ghn run folder)" +
             std::string(a.has("run") ? "; the search used no supernet: or ghn: source" : ""));
    return std::nullopt;
  }
  return t;
}

// The network to write: its space and architecture, its lowered graph with the weights, and a
// forward pass that computes what the graph means (for the test vectors).
struct Network {
  std::shared_ptr<const SearchSpace> space;
  Architecture arch;
  supernet::Graph graph;
  int64_t params = 0;
  std::string weights, bn;  // where the weights come from; how batch norm was set
  std::function<at::Tensor(const at::Tensor&)> forward;
};

std::vector<int64_t> input_shape(const SearchSpace& space) {
  const auto& in = space.input();
  return {1, in.channels, in.height, in.width};
}

// Inherited weights from a train-supernet folder, BN recalibrated unless --no-recalibrate.
std::optional<Network> from_supernet(const Command& cmd, const Args& a, const Target& t,
                                     const supernet::RunFolder& run, Network n) {
  supernet::Supernet net(run.space);
  if (Status st = supernet::load_supernet_weights(net, run.checkpoint()); !st.ok()) {
    fail(cmd.name, st.message());
    return std::nullopt;
  }
  n.bn = "the supernet's shared BN statistics";
  if (!a.has("no-recalibrate") && run.config.bn_recalibration_batches > 0) {
    auto data = supernet::load_data_for(run.data, *n.space, run.config.seed, run.valid_size);
    if (!data.ok()) {
      fail(cmd.name, data.status().message());
      return std::nullopt;
    }
    supernet::recalibrate_bn(net, n.arch, *data, run.config);
    n.bn = "BN recalibrated on " + std::to_string(run.config.bn_recalibration_batches) +
           " training batches";
  }
  net->eval();
  supernet::StaticNetwork alone = net->extract(n.arch);
  alone->eval();
  n.graph = alone->lower(input_shape(*n.space));
  for (const auto& p : alone->parameters()) n.params += p.numel();
  n.weights = t.checkpoint;
  n.forward = [alone](const at::Tensor& x) mutable { return alone->forward(x); };
  return n;
}

// Weights a train-ghn hypernetwork predicts, BN recalibrated on its training batches; for an
// architecture of another space, on --data (the run's dataset, padded to that space's input).
std::optional<Network> from_ghn(const Command& cmd, const Args& a, const hypernets::GhnRun& run,
                                Network n) {
  if (a.has("data") && n.space->fingerprint() == run.run.space->fingerprint()) {
    fail(cmd.name,
         "--data is for --ghn on another space; on its own space the hypernetwork "
         "uses its run's data (" +
             run.run.data + ")");
    return std::nullopt;
  }
  auto loaded = hypernets::open_ghn(run.run.dir, n.space, a.get("data"));
  if (!loaded.ok()) {
    fail(cmd.name, loaded.status().message());
    return std::nullopt;
  }
  n.graph = (*loaded)->trainer->predicted(n.arch, /*recalibrate=*/true, /*batch=*/1);
  for (const auto& op : n.graph.ops)
    for (const at::Tensor* t : {&op.weight, &op.bias})
      if (t->defined() && op.kind != supernet::OpKind::kBatchNorm) n.params += t->numel();
  n.weights = run.run.dir + " (" + hypernets::ghn_kind_name(run.options.kind) +
              ((*loaded)->transfer ? ", trained on space " + run.run.space->name() : "") + ")";
  n.bn = "BN recalibrated on " + std::to_string(run.run.config.bn_recalibration_batches) +
         " training batches";
  const supernet::Graph g = n.graph;
  n.forward = [g](const at::Tensor& x) { return supernet::run_graph(g, x).output; };
  return n;
}

std::optional<Network> network_of(const Command& cmd, const Args& a, const Target& t) {
  StatusOr<supernet::RunFolder> run = supernet::load_run(t.checkpoint);
  std::optional<hypernets::GhnRun> ghn;
  if (!t.ghn.empty()) {
    auto g = hypernets::load_ghn_run(t.ghn);
    if (!g.ok()) {
      fail(cmd.name, g.status().message());
      return std::nullopt;
    }
    ghn = *g;
    run = g->run;
  }
  if (!run.ok()) {
    fail(cmd.name, run.status().message());
    return std::nullopt;
  }
  Network n;
  n.space = t.space ? t.space : run->space;
  if (!ghn && n.space->fingerprint() != run->space->fingerprint()) {
    fail(cmd.name, t.checkpoint + ": the supernet was trained on space '" + run->space->name() +
                       "', not on '" + n.space->name() +
                       "' (only a graph hypernetwork predicts weights for another space)");
    return std::nullopt;
  }
  auto arch = n.space->parse(t.arch);
  if (!arch.ok()) {
    fail(cmd.name, "--arch: invalid architecture: " + arch.status().message());
    return std::nullopt;
  }
  n.arch = *arch;
  std::cout << "arch: " << n.space->to_string(n.arch) << "  (from " << t.from << ")\n";
  if (a.get("format", "onnx") == "yaml") return n;  // the frozen space needs no weights
  try {
    return ghn ? from_ghn(cmd, a, *ghn, std::move(n))
               : from_supernet(cmd, a, t, *run, std::move(n));
  } catch (const std::invalid_argument& e) {  // an op without a plain form
    fail(cmd.name, supernet::error_text(e));
    return std::nullopt;
  }
}

int write_onnx(const Command& cmd, const Args& a, const Network& n,
               const std::vector<std::pair<std::string, std::string>>& meta) {
  const std::string out = a.get("out");
  exporter::OnnxOptions o;
  o.fold_batch_norm = !a.has("keep-bn");
  o.graph_name = n.space->name();
  o.producer_version = NASFORGE_VERSION;
  o.metadata = meta;
  std::string bytes;
  try {
    bytes = exporter::onnx_model(n.graph, o);
  } catch (const std::exception& e) {
    return fail(cmd.name, supernet::error_text(e));
  }
  if (Status st = write_atomically(out, bytes, "ONNX model"); !st.ok())
    return fail(cmd.name, st.message());
  std::cout << "wrote " << out << ": ONNX opset " << exporter::kOnnxOpset << ", " << n.params
            << " parameters from " << n.weights << ", " << n.bn << ", batch norm "
            << (o.fold_batch_norm ? "folded into the convolutions" : "kept") << ", " << bytes.size()
            << " bytes; passes onnx::checker with full shape inference\n";
  if (!a.has("test-vector")) return 0;
  const fs::path dir =
      fs::path(out).parent_path().empty() ? fs::path(".") : fs::path(out).parent_path();
  auto seed = parse_count("seed", a.get("seed", "0"));
  if (!seed) return 1;
  at::Generator gen = at::detail::createCPUGenerator(*seed);
  torch::NoGradGuard no_grad;
  const auto& in = n.space->input();
  int set = 0;
  for (int64_t batch : {int64_t{1}, int64_t{7}}) {
    auto x = at::randn({batch, in.channels, in.height, in.width}, gen);
    if (Status st = exporter::write_test_vector(dir.string(), set++, x, o.input_name, n.forward(x),
                                                o.output_name);
        !st.ok())
      return fail(cmd.name, st.message());
  }
  std::cout << "wrote " << (dir / "test_data_set_0").string() << " (batch 1) and "
            << (dir / "test_data_set_1").string()
            << " (batch 7): seeded inputs with LibTorch's outputs; verify with node "
               "tools/ort/verify.js "
            << out << "\n";
  return 0;
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
  auto n = network_of(cmd, a, *target);
  if (!n) return 1;
  const std::string out = a.get("out");
  if (fs::path(out).has_parent_path()) fs::create_directories(fs::path(out).parent_path());
  if (format == "yaml") {
    if (Status st = write_atomically(out, freeze_space(*n->space, n->arch), "frozen space");
        !st.ok())
      return fail(cmd.name, st.message());
    std::cout << "wrote " << out << ": " << n->space->name()
              << " frozen at that architecture (size 1; check it with nasforge check)\n";
    return 0;
  }
  const std::vector<std::pair<std::string, std::string>> meta = {
      {"nasforge.arch", n->space->to_string(n->arch)},
      {"nasforge.space", n->space->name()},
      {"nasforge.space_hash", n->space->fingerprint()},
      {"nasforge.version", NASFORGE_VERSION},
      {"nasforge.checkpoint", n->weights},
      {"nasforge.batch_norm", n->bn}};
  if (format == "onnx") return write_onnx(cmd, a, *n, meta);
  std::string json = "{";
  for (size_t i = 0; i < meta.size(); ++i)
    json += (i ? ", " : "") + json_quote(meta[i].first) + ": " + json_quote(meta[i].second);
  if (Status st = exporter::save_torchscript(n->graph, out, json + "}"); !st.ok())
    return fail(cmd.name, st.message());
  std::cout << "wrote " << out << ": TorchScript, " << n->params << " parameters from "
            << n->weights << ", " << n->bn << "\n";
  return 0;
}

NF_CMD(kExport, "export", "Export a found network to ONNX, TorchScript or a frozen YAML.",
       "(--checkpoint DIR | --ghn DIR [--space FILE] [--data D]) --arch STRING | --run DIR "
       "[--rank K] [--checkpoint DIR | --ghn DIR [--data D]]) "
       "[--format onnx|torchscript|yaml] --out PATH [--test-vector] [--keep-bn] "
       "[--no-recalibrate] [--seed S] [--threads T]",
       {{"checkpoint", true,
         "a train-supernet run folder (default with --run: its supernet: source)"},
        {"ghn", true,
         "a train-ghn run folder: the weights its hypernetwork predicts (default with --run: "
         "its ghn: source)"},
        {"arch", true, "the architecture's canonical string"},
        {"space", true,
         "the space of --arch when it is not the --ghn run's (GHN-1 and GHN-2 predict weights "
         "for any space)"},
        {"data", true,
         "only with --ghn on another space: the run's dataset, +pad to that space's input "
         "(default: the run's data)"},
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
