// A run folder written by `nasforge train-ghn`: train-supernet's layout (space.yaml, train.yaml,
// run.yaml, see supernet/run.h) plus ghn.yaml (the hypernetwork's options and its architectures
// per step) and ghn.pt (the checkpoint). Read by the ghn: metric source and export --ghn.
#pragma once

#include <string>

#include "nasforge/hypernets/ghn.h"
#include "nasforge/supernet/run.h"

namespace nasforge::hypernets {

struct GhnRun {
  supernet::RunFolder run;
  GhnOptions options;
  int64_t archs_per_step = 4;
  std::string checkpoint() const { return run.dir + "/ghn.pt"; }
};

// ghn.yaml's text, and back; errors name the file and the key.
std::string ghn_yaml(const GhnOptions& o, int64_t archs_per_step);
StatusOr<GhnRun> load_ghn_run(const std::string& dir);

}  // namespace nasforge::hypernets
