// Runs a nasforge strategy with the caller's own metric, a C++ function: regularised evolution
// on NAS-Bench-201 maximising the number of 3x3 convolutions. Links nasforge::strategies, so the
// installed package must carry its whole closure (predictors, LibTorch, TBB).
// `consumer_strategy SPACE.yaml SEED` prints the best score and its architecture.
#include <cstdlib>
#include <iostream>

#include "nasforge/searchspace/dsl.h"
#include "nasforge/strategies/strategy.h"

namespace {

// The caller's metric: any function of the architecture.
double my_metric(const nasforge::SearchSpace& space, const nasforge::Architecture& a) {
  const std::string s = space.to_string(a);
  double n = 0;
  for (size_t at = s.find("nor_conv_3x3"); at != std::string::npos;
       at = s.find("nor_conv_3x3", at + 1))
    ++n;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: consumer_strategy SPACE.yaml SEED\n";
    return 2;
  }
  nasforge::Diagnostics diags;
  auto space = nasforge::load_space(argv[1], diags);
  if (!space) {
    std::cerr << diags.str();
    return 1;
  }
  nasforge::strategies::Problem problem;
  problem.space = &*space;
  problem.seed = std::strtoull(argv[2], nullptr, 10);
  auto strategy = nasforge::strategies::make_strategy("rea", problem);
  if (!strategy.ok()) {
    std::cerr << strategy.status().message() << "\n";
    return 1;
  }
  double best = -1;
  std::string best_arch;
  for (int i = 0; i < 100; ++i) {
    std::vector<nasforge::strategies::Trial> told;
    for (const auto& a : (*strategy)->ask(1)) {
      nasforge::strategies::Trial t;
      t.arch = a;
      t.score = {my_metric(*space, a)};
      if (t.score[0] > best) best = t.score[0], best_arch = space->to_string(a);
      told.push_back(t);
    }
    (*strategy)->tell(told);
  }
  std::cout << best << " " << best_arch << "\n";
  return 0;
}
