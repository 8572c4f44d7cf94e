// The training flags that train-supernet, train and the differentiable searches share. In
// cmd_supernet.cpp.
#pragma once

#include <optional>

#include "cli.h"
#include "nasforge/supernet/train.h"

namespace nasforge::cli {

// The training config from --config FILE (or `config_flag`), with --epochs and --seed applied;
// nullopt after printing what is wrong.
std::optional<supernet::TrainConfig> config_from_flags(const Args& a,
                                                       const std::string& config_flag = "config");
// --max-steps N (0, the default, means no limit).
std::optional<int64_t> max_steps_of(const Args& a);

}  // namespace nasforge::cli
