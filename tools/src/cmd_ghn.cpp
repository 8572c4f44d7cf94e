// nasforge train-ghn: trains a graph hypernetwork on a space, with train-supernet's run folder,
// resume and refusals.
#include <torch/torch.h>

#include <filesystem>
#include <iostream>

#include "cli.h"
#include "distributed_flags.h"
#include "nasforge/hypernets/run.h"
#include "nasforge/hypernets/trainer.h"
#include "nasforge/searchspace/files.h"
#include "nasforge/searchspace/folder_lock.h"
#include "run_report.h"
#include "train_flags.h"
#include "train_loop.h"

namespace nasforge::cli {
namespace {

namespace fs = std::filesystem;
using hypernets::GhnOptions;
using hypernets::GhnTrainer;

// GHN-2's recipe where no --config is given: Adam at 1e-3, weight decay 1e-5, no label
// smoothing, gradients clipped at norm 5.
void ghn_defaults(supernet::TrainConfig& c) {
  c.optimizer = supernet::OptimizerKind::kAdam;
  c.lr = 1e-3;
  c.weight_decay = 1e-5;
  c.label_smoothing = 0;
  c.grad_clip = 5;
  c.batch_size = 64;
  c.bn_recalibration_batches = 10;
}

std::optional<GhnOptions> options_from(const Args& a, int64_t* archs) {
  GhnOptions o;
  const std::string kind = a.get("hypernet", "ghn2");
  auto k = hypernets::parse_ghn_kind(kind);
  if (!k) {
    std::cerr << "--hypernet: expected ghn2, ghn1 or smash, got '" << kind << "'\n";
    return std::nullopt;
  }
  o.kind = *k;
  if (o.kind != hypernets::GhnKind::kGhn2) o.s_max = 0;
  *archs = 4;
  if (a.has("archs-per-step")) {
    auto n = parse_count("archs-per-step", a.get("archs-per-step"));
    if (!n || *n < 1 || *n > 64) {
      if (n) std::cerr << "--archs-per-step: expected an integer in [1, 64]\n";
      return std::nullopt;
    }
    *archs = static_cast<int64_t>(*n);
  }
  return o;
}

int run_train_ghn(const Command& cmd, const Args& a) {
  for (const char* need : {"space", "data", "out"})
    if (!a.has(need))
      return fail(cmd.name, std::string("expected --") + need + "\n" + command_help(cmd));
  if (!set_threads(a)) return 1;
  auto space = shared_space(a.get("space"));
  if (!space) return 1;
  int64_t archs = 4;
  auto options = options_from(a, &archs);
  if (!options) return 1;
  options = hypernets::for_space(*options, *space);
  auto group = join_group();
  if (!group.ok()) return fail(cmd.name, group.status().message());
  const bool lead = (*group)->rank() == 0;  // rank 0 owns the run folder
  const fs::path dir = a.get("out");
  std::optional<FolderLock> lock;
  if (lead) {
    auto locked = FolderLock::acquire(dir.string(), "nasforge train-ghn");
    if (!locked.ok()) return fail(cmd.name, locked.status().message());
    lock.emplace(std::move(*locked));
  }
  const fs::path checkpoint = dir / "ghn.pt";
  const bool resume = fs::exists(checkpoint);
  Args effective = a;
  if (resume && !a.has("config")) effective.options["config"] = (dir / "train.yaml").string();
  auto config = config_from_flags(effective);
  if (!config) return 1;
  if (!resume && !a.has("config")) {
    const auto epochs = config->epochs;
    const auto seed = config->seed;
    ghn_defaults(*config);
    config->epochs = epochs;
    config->seed = seed;
  }
  auto loop = loop_options_of(a);
  if (!loop) return 1;
  const int64_t valid_size = 10000;
  if (resume) {
    auto stored = hypernets::load_ghn_run(dir.string());
    if (!stored.ok()) return fail(cmd.name, stored.status().message());
    // Rank 0 checks the run is the same one (and records a longer schedule); the others start
    // from what it checked, which agree_on_start confirms.
    if (lead)
      if (int rc = check_resume_identity(cmd, a, dir, stored->run, *config)) return rc;
    if (read_file(dir / "space.yaml") != read_file(a.get("space")))
      return fail(cmd.name,
                  dir.string() + " holds a run of another space file; choose another --out");
    if (stored->options.str() != options->str() || stored->archs_per_step != archs)
      return fail(cmd.name, dir.string() + " trained a hypernetwork with other options (" +
                                hypernets::ghn_kind_name(stored->options.kind) + ", " +
                                std::to_string(stored->archs_per_step) +
                                " architectures per step); this is a different run: use another "
                                "--out");
  }
  auto data = supernet::load_data_for(a.get("data"), *space, config->seed, valid_size);
  if (!data.ok()) return fail(cmd.name, data.status().message());
  if (!resume && lead) {
    Status st = copy_atomically(a.get("space"), (dir / "space.yaml").string(), "space copy");
    if (st.ok()) st = write_atomically((dir / "train.yaml").string(), config->str(), "train.yaml");
    if (st.ok())
      st = write_atomically(
          (dir / "run.yaml").string(),
          "data: " + a.get("data") + "\nvalid_size: " + std::to_string(valid_size) + "\n",
          "run.yaml");
    if (st.ok())
      st = write_atomically((dir / "ghn.yaml").string(), hypernets::ghn_yaml(*options, archs),
                            "ghn.yaml");
    if (!st.ok()) return fail(cmd.name, st.message());
  }
  GhnTrainer trainer(space, *data, *config, *options, archs);
  if ((*group)->size() > 1) trainer.set_group(*group);
  if (resume) {
    if (Status st = trainer.load(checkpoint.string()); !st.ok())
      return fail(cmd.name, st.message());
    if (lead)
      std::cerr << "resuming " << checkpoint.string() << " at epoch " << trainer.epoch() + 1
                << ", step " << trainer.global_step() << "\n";
  }
  if (Status st = agree_on_start(**group, trainer.state_digest()); !st.ok())
    return fail(cmd.name, st.message());
  if (lead)
    std::cerr << "training a " << hypernets::ghn_kind_name(options->kind) << " hypernetwork for "
              << space->name() << " on " << data->name << ": " << archs
              << " sampled architectures per step, " << trainer.steps_per_epoch()
              << " steps per epoch, " << torch::get_num_threads() << " threads"
              << ranks_note(**group) << "\n";
  loop->epochs = config->epochs;
  loop->unit = "archs";
  loop->checkpoint = checkpoint;
  loop->lead = lead;
  if (int rc = run_epochs(cmd.name, trainer, *loop)) return rc;
  if (!lead) return 0;
  Rng rng(config->seed + 1);
  const Architecture probe = space->sample(rng);
  const auto r = trainer.evaluate(probe, data->valid);
  std::cout << "checkpoint: " << checkpoint.string() << " (epoch " << trainer.epoch() << ", step "
            << trainer.global_step() << "); a sampled architecture with predicted weights: valid "
            << "accuracy " << percent(r.accuracy) << "\n";
  lock.reset();  // the run is over: the report shows it finished
  write_run_report({dir.string()}, (dir / "report.html").string());
  return 0;
}

NF_CMD(kTrainGhn, "train-ghn",
       "Train a graph hypernetwork (GHN-2, GHN-1 or SMASH) that predicts the weights of any "
       "architecture "
       "of a space; resumes when --out holds a checkpoint.",
       "--space FILE --data D --out DIR [--hypernet ghn2|ghn1|smash] [--archs-per-step N] "
       "[--config TRAIN.yaml] [--epochs E] [--max-steps N] [--checkpoint-minutes M] [--seed S] "
       "[--threads T]",
       {{"space", true, "the search space"},
        {"data", true, "fashion-mnist, cifar10:DIR or synthetic"},
        {"out", true, "the run folder (created; a checkpoint there is resumed)"},
        {"hypernet", true, "ghn2 (default), ghn1 or smash"},
        {"archs-per-step", true, "architectures sampled per step (default 4)"},
        {"config", true,
         "training config YAML (docs/supernet.md); default Adam 1e-3, weight decay 1e-5, batch 64"},
        {"epochs", true, "epochs of the schedule (overrides the config)"},
        {"max-steps", true, "stop after this many steps in all (checkpointed)"},
        {"checkpoint-minutes", true,
         "also checkpoint this often within an epoch (default 10; 0: only at epoch ends)"},
        {"seed", true, "overrides the config's seed"},
        {"threads", true, "LibTorch threads (default: all cores)"}},
       run_train_ghn, /*max_positional=*/0, /*distributed=*/true)

}  // namespace
}  // namespace nasforge::cli
