// The training flags and run-folder helpers that train-supernet, train, train-ghn and the
// differentiable searches share. In cmd_supernet.cpp.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cli.h"
#include "nasforge/supernet/run.h"
#include "nasforge/supernet/train.h"

namespace nasforge::cli {

// The training config from --config FILE (or `config_flag`), with --epochs and --seed applied;
// nullopt after printing what is wrong.
std::optional<supernet::TrainConfig> config_from_flags(const Args& a,
                                                       const std::string& config_flag = "config");
// --max-steps N (0, the default, means no limit).
std::optional<int64_t> max_steps_of(const Args& a);

// The space of --space as a shared pointer; null after printing its diagnostics.
std::shared_ptr<const SearchSpace> shared_space(const std::string& path);
std::string read_file(const std::filesystem::path& p);
std::string percent(double x);  // 0.8123 -> "81.23%"
// For tests: NASFORGE_TEST_KILL_AFTER_STEP=N kills the process right after global step N.
int64_t kill_after_step();
// For tests: NASFORGE_TEST_KILL_AFTER_CHECKPOINT=N kills it right after the checkpoint of global
// step N is written, before anything else happens.
int64_t kill_after_checkpoint();
// A resumed run must be the same run: the same data and training config (seed included); a
// larger --epochs extends it (recorded in train.yaml). Non-zero after printing what differs.
int check_resume_identity(const Command& cmd, const Args& a, const std::filesystem::path& dir,
                          const supernet::RunFolder& stored, const supernet::TrainConfig& config);

}  // namespace nasforge::cli
