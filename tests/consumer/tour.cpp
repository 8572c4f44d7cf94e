// The rest of docs/library.md's tour, built against the installed package by consumer_test.sh:
// a supernet's forward pass, a search whose metric is the caller's own C++ function under a
// hard constraint, and its store read back. The regions between "[tour: ...]" and "[/tour]" are
// quoted verbatim in docs/library.md; consumer_test.sh checks that they still are.
// `consumer_tour SPACE.yaml OUT_DIR` prints one line per part.
#include <torch/torch.h>

#include <iostream>

#include "nasforge/evaluation/search.h"
#include "nasforge/evaluation/trial_store.h"
#include "nasforge/searchspace/dsl.h"
#include "nasforge/supernet/supernet.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: consumer_tour SPACE.yaml OUT_DIR\n";
    return 2;
  }
  nasforge::Diagnostics diags;
  auto loaded = nasforge::load_space(argv[1], diags);
  if (!loaded) {
    std::cerr << diags.str();
    return 1;
  }
  auto space = std::make_shared<const nasforge::SearchSpace>(std::move(*loaded));

  // [tour: supernet]
  nasforge::supernet::Supernet net(space, nasforge::supernet::SupernetOptions().seed(1));
  nasforge::Rng rng(3);
  const nasforge::Architecture arch = space->sample(rng);
  const auto& in = space->input();
  at::Tensor images = torch::randn({2, in.channels, in.height, in.width});
  at::Tensor logits = net->forward(images, arch);  // one path through the shared weights
  // [/tour]
  std::cout << "supernet: logits " << logits.size(0) << "x" << logits.size(1) << "\n";

  // [tour: search]
  namespace ev = nasforge::evaluation;
  auto sources = std::make_shared<ev::SourceFactory>(ev::SourceContext{space});
  sources->add_callback(
      "convs", [&](const nasforge::Architecture& a) -> nasforge::StatusOr<double> {
        double n = 0;  // your metric: here, the 3x3 convolutions that reach the cell's output
        for (const auto& e : space->live_edges(a, 0)) n += e.op == "nor_conv_3x3";
        return n;
      });
  ev::SearchConfig c;
  c.space = space;
  c.strategy = "rea";
  c.metrics = {*ev::MetricSpec::parse("convs=callback:convs"),
               *ev::MetricSpec::parse("params=count")};
  c.objectives = {*ev::ObjectiveSpec::parse("convs:max")};
  c.constraints = {*ev::ConstraintSpec::parse("params<=1M")};  // hard: never violated
  c.budget = 100;
  c.seed = 1;
  c.out_dir = argv[2];  // trials.sqlite: each trial committed; the same call resumes
  auto search = ev::Search::create(c, sources);
  if (!search.ok()) {
    std::cerr << search.status().message() << "\n";
    return 1;
  }
  auto result = (*search)->run();
  // [/tour]
  if (!result.ok() || !result->best) {
    std::cerr << (result.ok() ? "no feasible trial" : result.status().message()) << "\n";
    return 1;
  }
  const auto& best = result->trials[*result->best];
  std::cout << "search: best convs " << best.metrics.at("convs") << " params "
            << best.metrics.at("params") << " " << best.arch << "\n";

  // [tour: store]
  auto stored = ev::TrialStore::read_snapshot(std::string(argv[2]) + "/trials.sqlite");
  if (!stored.ok()) {
    std::cerr << stored.status().message() << "\n";
    return 1;
  }
  double most = 0;
  for (const ev::TrialRecord& t : stored->trials)
    if (t.status == "ok") most = std::max(most, t.metrics.at("convs"));
  std::cout << "store: " << stored->trials.size() << " trials of " << stored->config["strategy"]
            << ", best convs " << most << "\n";
  // [/tour]
  return 0;
}
