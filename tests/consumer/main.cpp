// Loads a search space with the installed nasforge::searchspace, samples an architecture and
// prints the space's size and the sample: `consumer SPACE.yaml SEED`.
#include <cstdlib>
#include <iostream>

#include "nasforge/searchspace/dsl.h"
#include "nasforge/searchspace/rng.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: consumer SPACE.yaml SEED\n";
    return 2;
  }
  nasforge::Diagnostics diags;
  auto space = nasforge::load_space(argv[1], diags);
  if (!space) {
    std::cerr << diags.str();
    return 1;
  }
  nasforge::Rng rng(std::strtoull(argv[2], nullptr, 10));
  const nasforge::Architecture a = space->sample(rng);
  std::cout << space->name() << " " << space->size().str() << " " << space->to_string(a) << "\n";
  return 0;
}
