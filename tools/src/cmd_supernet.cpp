// Supernet commands: train-supernet, eval, extract, and train (one architecture from scratch).
//
// A run folder holds everything needed to continue or use a run:
//   space.yaml     the space, copied        train.yaml  the training config
//   run.yaml       the data it trained on   checkpoint.pt  weights, optimizer, RNG, position
#include <torch/torch.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli.h"
#include "distributed_flags.h"
#include "nasforge/hardware/measuring_thread.h"
#include "nasforge/searchspace/dsl.h"
#include "nasforge/searchspace/files.h"
#include "nasforge/searchspace/folder_lock.h"
#include "nasforge/supernet/run.h"
#include "nasforge/supernet/train.h"
#include "progress.h"
#include "run_report.h"
#include "train_flags.h"
#include "train_loop.h"

namespace nasforge::cli {

// --threads N, or every core. False after printing an error.
bool set_threads(const Args& a) {
  // Under a launcher, the workers of a host share its cores.
  const uint64_t local = static_cast<uint64_t>(std::max(1, current_world().local_size));
  uint64_t n = std::max<uint64_t>(1, hardware::allowed_cores().size() / local);
  if (a.has("threads")) {
    auto t = parse_count("threads", a.get("threads"));
    if (!t || *t == 0 || *t > 1024) {
      if (t) std::cerr << "--threads: expected an integer in [1, 1024], got " << *t << "\n";
      return false;
    }
    n = *t;
  }
  torch::set_num_threads(static_cast<int>(n));
  return true;
}

using supernet::TrainConfig;

std::optional<TrainConfig> config_from_flags(const Args& a, const std::string& config_flag) {
  TrainConfig c;
  if (a.has(config_flag)) {
    Diagnostics d;
    auto loaded = supernet::load_train_config(a.get(config_flag), d);
    if (!loaded) {
      std::cerr << d.str();
      return std::nullopt;
    }
    c = *loaded;
  }
  if (a.has("epochs")) {
    auto e = parse_count("epochs", a.get("epochs"));
    if (!e || *e == 0) {
      if (e) std::cerr << "--epochs: expected at least 1, got 0\n";
      return std::nullopt;
    }
    c.epochs = static_cast<int64_t>(*e);
  }
  if (a.has("seed")) {
    auto s = parse_count("seed", a.get("seed"));
    if (!s) return std::nullopt;
    c.seed = *s;
  }
  return c;
}

std::optional<int64_t> max_steps_of(const Args& a) {
  if (!a.has("max-steps")) return 0;
  auto m = parse_count("max-steps", a.get("max-steps"));
  if (!m) return std::nullopt;
  return static_cast<int64_t>(*m);
}

std::optional<LoopOptions> loop_options_of(const Args& a) {
  auto max_steps = max_steps_of(a);
  if (!max_steps) return std::nullopt;
  LoopOptions o;
  o.max_steps = *max_steps;
  if (a.has("checkpoint-minutes")) {
    const auto m = parse_number(a.get("checkpoint-minutes"));
    if (!m || !(*m >= 0) || !std::isfinite(*m)) {
      std::cerr << "--checkpoint-minutes: expected minutes >= 0 (0: only at epoch ends), got '"
                << a.get("checkpoint-minutes") << "'\n";
      return std::nullopt;
    }
    o.checkpoint_seconds = *m * 60.0;
  }
  return o;
}

std::shared_ptr<const SearchSpace> shared_space(const std::string& path) {
  auto s = load_space_or_report(path);
  return s ? std::make_shared<const SearchSpace>(std::move(*s)) : nullptr;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string percent(double x) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100 * x);
  return buf;
}

// For tests: NASFORGE_TEST_KILL_AFTER_STEP=N kills the process (SIGKILL, as kill -9 would)
// right after global step N, before anything is saved.
int64_t kill_after_step() {
  // NASFORGE_TEST_KILL_RANK=R: only rank R of a distributed run.
  const char* v = std::getenv("NASFORGE_TEST_KILL_AFTER_STEP");
  const char* r = std::getenv("NASFORGE_TEST_KILL_RANK");
  if (r && *r && std::atoi(r) != current_world().rank) return -1;
  return v && *v ? std::atoll(v) : -1;
}

int64_t kill_after_checkpoint() {
  const char* v = std::getenv("NASFORGE_TEST_KILL_AFTER_CHECKPOINT");
  return v && *v ? std::atoll(v) : -1;
}

// The first line on which two configs (TrainConfig::str()) differ, other than the schedule's
// length: "key: stored, now: given". Empty when they agree.
std::string config_difference(const supernet::TrainConfig& stored,
                              const supernet::TrainConfig& given) {
  std::istringstream a(stored.str()), b(given.str());
  for (std::string la, lb; std::getline(a, la) && std::getline(b, lb);) {
    if (la == lb || la.rfind("epochs: ", 0) == 0) continue;
    const size_t colon = la.find(':');
    return la.substr(0, colon) + " was '" + la.substr(colon + 2) + "', now '" +
           lb.substr(lb.find(':') + 2) + "'";
  }
  return "";
}

// A resumed run must be the same run: the same data and training config (seed included). A
// larger --epochs extends it and is recorded in train.yaml; anything else is refused, naming
// what differs. `config` is the stored config with this command's flags applied.
int check_resume_identity(const Command& cmd, const Args& a, const std::filesystem::path& dir,
                          const supernet::RunFolder& stored, const supernet::TrainConfig& config) {
  const std::string other = "; this is a different run: use another --out";
  if (stored.data != a.get("data"))
    return fail(cmd.name, dir.string() + " was trained on --data " + stored.data + ", not " +
                              a.get("data") + other);
  if (std::string diff = config_difference(stored.config, config); !diff.empty())
    return fail(cmd.name, dir.string() + ": the training config differs from the run's (" + diff +
                              ")" + other);
  if (config.epochs < stored.config.epochs)
    return fail(cmd.name, "--epochs " + std::to_string(config.epochs) + ": " + dir.string() +
                              " is set for " + std::to_string(stored.config.epochs) +
                              " epochs; --epochs may extend a run, not shorten it" + other);
  if (config.epochs > stored.config.epochs) {
    if (Status st = write_atomically((dir / "train.yaml").string(), config.str(), "train.yaml");
        !st.ok())
      return fail(cmd.name, st.message());
    std::cerr << "extending " << dir.string() << " from " << stored.config.epochs << " to "
              << config.epochs << " epochs (recorded in train.yaml)\n";
  }
  return 0;
}

namespace {

namespace fs = std::filesystem;
using supernet::Supernet;
using supernet::SupernetOptions;
using supernet::SupernetTrainer;
using supernet::TrainConfig;

using Run = supernet::RunFolder;
using supernet::load_run;

StatusOr<data::Splits> load_data(const std::string& spec, const SearchSpace& space, uint64_t seed,
                                 int64_t valid_size) {
  return supernet::load_data_for(spec, space, seed, valid_size);
}

// The epoch loop (train_loop.h); after each epoch of a supernet, the largest and smallest
// paths on the validation split.
int train_loop(const std::string& cmd, SupernetTrainer& trainer, const data::Splits& data,
               const fs::path& checkpoint, const Args& a, bool report_paths, bool lead) {
  auto o = loop_options_of(a);
  if (!o) return 1;
  o->lead = lead;
  o->epochs = trainer.config().epochs;
  o->checkpoint = checkpoint;
  if (report_paths)
    o->after_epoch = [&](int64_t epoch, supernet::TrainLog& log) {
      auto big = trainer.evaluate(trainer.sampler().largest(), data.valid);
      auto small = trainer.evaluate(trainer.sampler().smallest(), data.valid);
      log.add(trainer.global_step(), epoch, supernet::Series::kValidAccuracy, big.accuracy);
      log.add(trainer.global_step(), epoch, supernet::Series::kValidSmallest, small.accuracy);
      std::cerr << "epoch " << epoch + 1 << ": valid accuracy largest " << percent(big.accuracy)
                << ", smallest " << percent(small.accuracy) << "\n";
    };
  return run_epochs(cmd, trainer, *o);
}

int run_train_supernet(const Command& cmd, const Args& a) {
  for (const char* need : {"space", "data", "out"})
    if (!a.has(need))
      return fail(cmd.name, std::string("expected --") + need + "\n" + command_help(cmd));
  if (!set_threads(a)) return 1;
  auto space = shared_space(a.get("space"));
  if (!space) return 1;
  auto group = join_group();
  if (!group.ok()) return fail(cmd.name, group.status().message());
  // Rank 0 of a distributed run owns the run folder; the others only read it.
  const bool lead = (*group)->rank() == 0;
  const fs::path dir = a.get("out");
  // One writer per run folder, from before anything in it is read until the process ends.
  std::optional<FolderLock> lock;
  if (lead) {
    auto locked = FolderLock::acquire(dir.string(), "nasforge train-supernet");
    if (!locked.ok()) return fail(cmd.name, locked.status().message());
    lock.emplace(std::move(*locked));
  }
  const fs::path checkpoint = dir / "checkpoint.pt";
  const bool resume = fs::exists(checkpoint);
  // A resumed run keeps its stored config, so it continues exactly; --epochs may extend it.
  Args effective = a;
  if (resume && !a.has("config")) effective.options["config"] = (dir / "train.yaml").string();
  auto config = config_from_flags(effective);
  if (!config) return 1;
  if (!loop_options_of(a)) return 1;  // checked before any work
  int64_t valid_size = 10000;
  if (a.has("valid-size")) {
    auto v = parse_count("valid-size", a.get("valid-size"));
    if (!v) return 1;
    if (*v < 100 || *v > 30000)
      return fail(cmd.name, "--valid-size: expected an image count in [100, 30000], got " +
                                a.get("valid-size"));
    valid_size = static_cast<int64_t>(*v);
  }
  if (resume) {  // the same run: data, config, seed and split
    auto stored = load_run(dir.string());
    if (!stored.ok()) return fail(cmd.name, stored.status().message());
    if (a.has("valid-size") && stored->valid_size != valid_size)
      return fail(cmd.name, "--valid-size: " + dir.string() + " was trained with " +
                                std::to_string(stored->valid_size) + " validation images, not " +
                                std::to_string(valid_size));
    valid_size = stored->valid_size;
    // Rank 0 checks the run is the same one (and records a longer schedule); the others start
    // from what it checked, which agree_on_start confirms.
    if (lead)
      if (int rc = check_resume_identity(cmd, a, dir, *stored, *config)) return rc;
    if (read_file(dir / "space.yaml") != read_file(a.get("space")))
      return fail(cmd.name,
                  dir.string() + " holds a run of another space file; choose another --out");
  }
  auto data = load_data(a.get("data"), *space, config->seed, valid_size);
  if (!data.ok()) return fail(cmd.name, data.status().message());
  if (!resume && lead) {
    Status st = copy_atomically(a.get("space"), (dir / "space.yaml").string(), "space copy");
    if (st.ok()) st = write_atomically((dir / "train.yaml").string(), config->str(), "train.yaml");
    if (st.ok())
      st = write_atomically(
          (dir / "run.yaml").string(),
          "data: " + a.get("data") + "\nvalid_size: " + std::to_string(valid_size) + "\n",
          "run.yaml");
    if (!st.ok()) return fail(cmd.name, st.message());
  }
  SupernetTrainer trainer(Supernet(space, SupernetOptions().seed(config->seed)), *data, *config);
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
    std::cerr << "training the supernet of " << space->name() << " (" << space->size().str()
              << " architectures) on " << data->name << ": " << data->train.size() << " train, "
              << data->valid.size() << " valid images, " << trainer.steps_per_epoch()
              << " steps per epoch, " << torch::get_num_threads() << " threads"
              << ranks_note(**group) << "\n";
  if (int rc = train_loop(cmd.name, trainer, *data, checkpoint, a, true, lead)) return rc;
  if (!lead) return 0;
  std::cout << "checkpoint: " << checkpoint.string() << " (epoch " << trainer.epoch() << ", step "
            << trainer.global_step() << ", state " << trainer.state_digest() << ")\n";
  lock.reset();  // the run is over: the report shows it finished
  write_run_report({dir.string()}, (dir / "report.html").string());
  return 0;
}

// Loads a run and the architecture named on the command line.
struct LoadedRun {
  Run run;
  Architecture arch;
  data::Splits data;
};

std::optional<LoadedRun> open_run(const Command& cmd, const Args& a, bool need_data) {
  if (!a.has("checkpoint") || !a.has("arch")) {
    fail(cmd.name, "expected --checkpoint DIR and --arch STRING\n" + command_help(cmd));
    return std::nullopt;
  }
  auto run = load_run(a.get("checkpoint"));
  if (!run.ok()) {
    fail(cmd.name, run.status().message());
    return std::nullopt;
  }
  auto arch = run->space->parse(a.get("arch"));
  if (!arch.ok()) {
    fail(cmd.name, "--arch: invalid architecture: " + arch.status().message());
    return std::nullopt;
  }
  LoadedRun out{*run, *arch, {}};
  if (need_data) {
    auto d = load_data(run->data, *run->space, run->config.seed, run->valid_size);
    if (!d.ok()) {
      fail(cmd.name, d.status().message());
      return std::nullopt;
    }
    out.data = *d;
  }
  return out;
}

int run_eval(const Command& cmd, const Args& a) {
  if (!set_threads(a)) return 1;
  auto r = open_run(cmd, a, true);
  if (!r) return 1;
  const std::string split = a.get("split", "valid");
  if (split != "valid" && split != "test")
    return fail(cmd.name, "--split: expected valid or test, got '" + split + "'");
  SupernetTrainer trainer(Supernet(r->run.space), r->data, r->run.config);
  const fs::path ckpt = fs::path(a.get("checkpoint")) / "checkpoint.pt";
  if (Status st = trainer.load(ckpt.string()); !st.ok()) return fail(cmd.name, st.message());
  const bool recal = !a.has("no-recalibrate");
  auto res = trainer.evaluate(r->arch, split == "test" ? r->data.test : r->data.valid, recal);
  if (Status st = supernet::check_finite(res, split); !st.ok()) return fail(cmd.name, st.message());
  std::cout << "accuracy " << percent(res.accuracy) << "  loss " << res.loss << "  (" << split
            << ", " << res.examples << " images, "
            << (recal ? "BN recalibrated on " +
                            std::to_string(r->run.config.bn_recalibration_batches) + " batches"
                      : std::string("shared BN statistics"))
            << ")\n";
  return 0;
}

int run_extract(const Command& cmd, const Args& a) {
  if (!a.has("out")) return fail(cmd.name, "expected --out FILE\n" + command_help(cmd));
  auto r = open_run(cmd, a, false);
  if (!r) return 1;
  Supernet net(r->run.space);
  const fs::path ckpt = fs::path(a.get("checkpoint")) / "checkpoint.pt";
  if (Status st = supernet::load_supernet_weights(net, ckpt.string()); !st.ok())
    return fail(cmd.name, st.message());
  net->eval();
  supernet::StaticNetwork alone = net->extract(r->arch);
  int64_t params = 0;
  for (const auto& p : alone->parameters()) params += p.numel();
  std::ostringstream bytes;
  try {
    torch::save(alone, bytes);
  } catch (const c10::Error& e) {
    return fail(cmd.name, a.get("out") + ": cannot serialise the network (" +
                              e.what_without_backtrace() + ")");
  }
  if (Status st = write_atomically(a.get("out"), bytes.str(), "extracted network"); !st.ok())
    return fail(cmd.name, st.message());
  std::cout << "wrote " << a.get("out") << ": " << r->run.space->to_string(r->arch) << ", "
            << params << " parameters (LibTorch-serialised; inputs "
            << r->run.space->input().channels << "x" << r->run.space->input().height << "x"
            << r->run.space->input().width << ")\n";
  return 0;
}

int run_train(const Command& cmd, const Args& a) {
  for (const char* need : {"space", "arch", "data"})
    if (!a.has(need))
      return fail(cmd.name, std::string("expected --") + need + "\n" + command_help(cmd));
  if (!set_threads(a) || !loop_options_of(a)) return 1;
  auto space = shared_space(a.get("space"));
  if (!space) return 1;
  auto arch = space->parse(a.get("arch"));
  if (!arch.ok()) return fail(cmd.name, "--arch: invalid architecture: " + arch.status().message());
  auto config = config_from_flags(a);
  if (!config) return 1;
  config->policy = supernet::PathPolicy::kUniform;
  config->inplace_distillation = false;
  config->shrinking.clear();
  auto group = join_group();
  if (!group.ok()) return fail(cmd.name, group.status().message());
  const bool lead = (*group)->rank() == 0;
  auto data = load_data(a.get("data"), *space, config->seed, 10000);
  if (!data.ok()) return fail(cmd.name, data.status().message());
  SupernetTrainer trainer(Supernet(space, SupernetOptions().seed(config->seed)), *data, *config);
  trainer.fix_path(*arch);
  if ((*group)->size() > 1) trainer.set_group(*group);
  if (Status st = agree_on_start(**group, trainer.state_digest()); !st.ok())
    return fail(cmd.name, st.message());
  const fs::path dir = a.get("out", "");
  // Without --out the checkpoint lives in a folder private to this process (mkdtemp, mode
  // 0700), so two runs never collide and nobody can plant a file at its name.
  std::optional<PrivateTempDir> scratch;
  if (dir.empty()) {
    auto made = PrivateTempDir::make("nasforge_train");
    if (!made.ok()) return fail(cmd.name, made.status().message());
    scratch.emplace(std::move(*made));
  }
  const fs::path checkpoint =
      dir.empty() ? scratch->path() / "checkpoint.pt" : dir / "checkpoint.pt";
  if (!dir.empty() && lead) fs::create_directories(dir);
  if (lead)
    std::cerr << "training " << space->to_string(*arch) << " from scratch on " << data->name
              << ranks_note(**group) << "\n";
  if (int rc = train_loop(cmd.name, trainer, *data, checkpoint, a, false, lead)) return rc;
  if (!lead) return 0;
  auto valid = trainer.evaluate(*arch, data->valid, false);
  auto test = trainer.evaluate(*arch, data->test, false);
  std::cout << "valid accuracy " << percent(valid.accuracy) << "  test accuracy "
            << percent(test.accuracy) << "\n";
  return 0;
}

NF_CMD(kTrainSupernet, "train-supernet",
       "Train the weight-sharing supernet of a space; resumes when --out holds a checkpoint.",
       "--space FILE --data fashion-mnist|cifar10:DIR|synthetic --out DIR [--config TRAIN.yaml] "
       "[--epochs E] [--max-steps N] [--checkpoint-minutes M] [--valid-size N] [--seed S] "
       "[--threads T]",
       {{"space", true, "the search space"},
        {"data", true, "fashion-mnist, cifar10:DIR (binary batches) or synthetic"},
        {"out", true, "the run folder (created; a checkpoint there is resumed)"},
        {"config", true, "training config YAML (docs/supernet.md); defaults otherwise"},
        {"epochs", true, "epochs of the schedule (overrides the config)"},
        {"max-steps", true, "stop after this many steps in all (checkpointed)"},
        {"checkpoint-minutes", true,
         "also checkpoint this often within an epoch (default 10; 0: only at epoch ends)"},
        {"valid-size", true,
         "training images held out for validation (default 10000; eval and search use them)"},
        {"seed", true, "overrides the config's seed"},
        {"threads", true, "LibTorch threads (default: all cores)"}},
       run_train_supernet, /*max_positional=*/0, /*distributed=*/true)
NF_CMD(kEval, "eval", "Evaluate an architecture with inherited supernet weights.",
       "--checkpoint DIR --arch STRING [--split valid|test] [--no-recalibrate] [--threads T]",
       {{"checkpoint", true, "a train-supernet run folder"},
        {"arch", true, "the architecture's canonical string"},
        {"split", true, "valid (default) or test"},
        {"no-recalibrate", false, "use the supernet's shared BN statistics"},
        {"threads", true, "LibTorch threads"}},
       run_eval)
NF_CMD(kExtract, "extract", "Extract a standalone sub-network with inherited weights.",
       "--checkpoint DIR --arch STRING --out FILE",
       {{"checkpoint", true, "a train-supernet run folder"},
        {"arch", true, "the architecture's canonical string"},
        {"out", true, "where to write the LibTorch-serialised module"}},
       run_extract)
NF_CMD(kTrain, "train", "Train one architecture from scratch: the stand-alone baseline.",
       "--space FILE --arch STRING --data SPEC [--config TRAIN.yaml] [--epochs E] [--max-steps N] "
       "[--checkpoint-minutes M] [--out DIR]",
       {{"space", true, "the search space"},
        {"arch", true, "the architecture's canonical string"},
        {"data", true, "fashion-mnist, cifar10:DIR or synthetic"},
        {"config", true, "training config YAML (its path policy is ignored)"},
        {"epochs", true, "epochs (overrides the config)"},
        {"max-steps", true, "stop after this many steps in all"},
        {"checkpoint-minutes", true,
         "also checkpoint this often within an epoch (default 10; 0: only at epoch ends)"},
        {"seed", true, "overrides the config's seed"},
        {"out", true, "keep the checkpoint in this folder"},
        {"threads", true, "LibTorch threads"}},
       run_train, /*max_positional=*/0, /*distributed=*/true)

}  // namespace
}  // namespace nasforge::cli
