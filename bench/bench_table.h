// The measured table a bench reads: --table, relative to the repository root.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "bench_flags.h"
#include "nasforge/predictors/table.h"

namespace nasforge::bench {

// The table under --table, keyed in `space`; exits with the reason if it does not load.
inline predictors::ArchTable table(const BenchFlags& f, const SearchSpace& space) {
  auto t = predictors::ArchTable::load(f.root() + "/" + f.str("table"), space);
  if (!t.ok()) {
    std::fprintf(stderr, "%s\n", t.status().message().c_str());
    std::exit(1);
  }
  return std::move(*t);
}

}  // namespace nasforge::bench
