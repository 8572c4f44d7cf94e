// A run folder written by `nasforge train-ghn`: train-supernet's layout (space.yaml, train.yaml,
// run.yaml, see supernet/run.h) plus ghn.yaml (the hypernetwork's options and its architectures
// per step) and ghn.pt (the checkpoint). Read by the ghn: metric source and export --ghn.
#pragma once

#include <memory>
#include <string>

#include "nasforge/hypernets/ghn.h"
#include "nasforge/hypernets/trainer.h"
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

// A run's hypernetwork loaded to predict weights for `space` and evaluate them on `data`.
struct LoadedGhn {
  GhnRun run;
  std::shared_ptr<const SearchSpace> space;
  data::Splits data;
  std::unique_ptr<GhnTrainer> trainer;  // reads `data`, so LoadedGhn does not move
  bool transfer = false;                // `space` is not the one the hypernetwork trained on
};

// Loads the run in `dir` for `space`: its own space, or (GHN-1 and GHN-2) any other, whose
// architectures it has never seen. On its own space the data is the run's. On another space it
// is `other_data` (empty: the run's), which must name the dataset the run trained on, with +pad
// where `space` needs larger inputs. Either way the validation split is the run's (same seed
// and size), so it holds images the hypernetwork never trained on.
StatusOr<std::unique_ptr<LoadedGhn>> open_ghn(const std::string& dir,
                                              std::shared_ptr<const SearchSpace> space,
                                              const std::string& other_data = "");

}  // namespace nasforge::hypernets
