// A run folder written by `nasforge train-supernet`, and the data it names. Shared by the CLI's
// eval/extract and by the search's `supernet:` and `train:` metric sources.
//
//   space.yaml     the space, copied        train.yaml     the training config
//   run.yaml       the data it trained on   checkpoint.pt  weights, optimizer, RNG, position
#pragma once

#include <memory>
#include <string>

#include "nasforge/searchspace/search_space.h"
#include "nasforge/supernet/data.h"
#include "nasforge/supernet/train.h"

namespace nasforge::supernet {

struct RunFolder {
  std::string dir;
  std::shared_ptr<const SearchSpace> space;
  TrainConfig config;
  std::string data;  // the data spec: fashion-mnist, cifar10:DIR or synthetic
  int64_t valid_size = 10000;
  std::string checkpoint() const { return dir + "/checkpoint.pt"; }
};

// Reads a run folder; errors name the missing file or the bad key. The checkpoint file and the
// command that writes it differ for train-ghn's folders (ghn.pt).
StatusOr<RunFolder> load_run(const std::string& dir, const std::string& checkpoint = "checkpoint.pt",
                             const std::string& command = "train-supernet");

// Loads `spec` split with `seed` (synthetic data takes the space's input shape) and checks that
// its images have the space's input shape.
StatusOr<data::Splits> load_data_for(const std::string& spec, const SearchSpace& space,
                                     uint64_t seed, int64_t valid_size);

}  // namespace nasforge::supernet
