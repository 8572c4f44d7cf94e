// The epoch loop train-supernet, train and train-ghn share: a progress bar per epoch with loss,
// accuracy, throughput and learning rate; a checkpoint at every epoch's end, at --max-steps and
// every --checkpoint-minutes within an epoch (so a killed process loses at most that much of a
// long epoch); a diverged run stops without overwriting the last good checkpoint. Each step's
// loss, accuracy and learning rate go to the checkpoint folder's train_log.csv (train_log.h),
// which `nasforge report` draws.
#pragma once

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <string>

#include "cli.h"
#include "nasforge/supernet/train.h"
#include "nasforge/supernet/train_log.h"
#include "progress.h"
#include "train_flags.h"

namespace nasforge::cli {

struct LoopOptions {
  int64_t epochs = 1;
  int64_t max_steps = 0;            // 0: no limit
  double checkpoint_seconds = 600;  // within an epoch; 0: only at epoch ends and the limit
  std::string unit = "paths";       // what StepStats::paths counts, for the status line
  std::filesystem::path checkpoint;
  // At an epoch's end (0-based), before its checkpoint; what it measures may go to the training
  // log. It must leave the trainer's state as it found it.
  std::function<void(int64_t epoch, supernet::TrainLog& log)> after_epoch;
  // False on every rank of a distributed run but rank 0: no progress, no checkpoints, no
  // after_epoch. The decisions (epoch ends, --max-steps, divergence) are the same on every
  // rank, since the step statistics are global.
  bool lead = true;
};

// --max-steps N and --checkpoint-minutes M (default 10; 0: only at epoch ends and the limit)
// as loop options; nullopt after printing what is wrong. In cmd_supernet.cpp.
std::optional<LoopOptions> loop_options_of(const Args& a);

// `Trainer` has step() -> optional<StepStats> (nullopt at an epoch's end), epoch(),
// global_step(), steps_per_epoch() and save(path) -> Status. Returns the exit code.
template <class Trainer>
int run_epochs(const std::string& cmd, Trainer& trainer, const LoopOptions& o) {
  using Clock = std::chrono::steady_clock;
  const int64_t kill_at = kill_after_step(), kill_saved_at = kill_after_checkpoint();
  auto save = [&]() -> int {
    if (!o.lead) return 0;
    if (Status st = trainer.save(o.checkpoint.string()); !st.ok()) return fail(cmd, st.message());
    if (trainer.global_step() == kill_saved_at) ::raise(SIGKILL);
    return 0;
  };
  supernet::TrainLog log;  // stays closed on the ranks that do not lead
  if (o.lead) {
    auto opened =
        supernet::TrainLog::open(o.checkpoint.parent_path().string(), trainer.global_step());
    if (!opened.ok()) return fail(cmd, opened.status().message());
    log = std::move(*opened);
  }
  while (trainer.epoch() < o.epochs) {
    if (o.max_steps > 0 && trainer.global_step() >= o.max_steps) break;
    const int64_t epoch = trainer.epoch();
    std::optional<ProgressBar> bar;
    if (o.lead)
      bar.emplace("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o.epochs),
                  trainer.steps_per_epoch());
    const auto start = Clock::now();
    auto saved_at = start;
    int64_t images = 0, steps = 0;
    double loss = 0, acc = 0;
    std::string status;
    while (auto s = trainer.step()) {
      images += s->images;
      ++steps;
      loss += s->loss;
      acc += s->accuracy;
      const auto now = Clock::now();
      const double secs = std::chrono::duration<double>(now - start).count();
      char buf[160];
      std::snprintf(buf, sizeof buf, "loss %.3f acc %.3f %.0f img/s", loss / steps, acc / steps,
                    images / std::max(secs, 1e-9));
      status = buf;
      if (s->paths > 1) status += " (x" + std::to_string(s->paths) + " " + o.unit + ")";
      std::snprintf(buf, sizeof buf, " lr %.5f", s->lr);
      status += buf;
      if (!std::isfinite(s->loss)) {  // diverged: keep the last good checkpoint, write nothing
        if (!o.lead) return 1;
        std::cerr << "\n";
        return fail(cmd, "the training loss is " +
                             std::string(std::isnan(s->loss) ? "NaN" : "inf") + " at step " +
                             std::to_string(trainer.global_step()) +
                             ": the run diverged (lower optimizer.lr, or set grad_clip); " +
                             (std::filesystem::exists(o.checkpoint)
                                  ? o.checkpoint.string() + " is left as it was"
                                  : std::string("no checkpoint was written")));
      }
      if (bar) bar->update(steps, status);
      log.add(trainer.global_step(), epoch, supernet::Series::kLoss, s->loss);
      log.add(trainer.global_step(), epoch, supernet::Series::kAccuracy, s->accuracy);
      log.add(trainer.global_step(), epoch, supernet::Series::kLearningRate, s->lr);
      if (trainer.global_step() == kill_at) ::raise(SIGKILL);
      if (o.max_steps > 0 && trainer.global_step() >= o.max_steps) break;
      if (o.checkpoint_seconds > 0 &&
          std::chrono::duration<double>(now - saved_at).count() >= o.checkpoint_seconds) {
        if (int rc = save()) return rc;
        saved_at = Clock::now();
      }
    }
    const bool epoch_done = trainer.epoch() != epoch;
    if (steps > 0)
      log.add(trainer.global_step(), epoch, supernet::Series::kThroughput,
              images / std::max(std::chrono::duration<double>(Clock::now() - start).count(), 1e-9));
    if (bar && epoch_done)
      bar->finish(status);
    else if (bar)
      std::cerr << "\nstopped at --max-steps " << o.max_steps << "\n";
    // The epoch's measurement comes before its checkpoint, so that a checkpoint at an epoch's
    // end always has the epoch's rows in the log. A run killed between the two resumes from the
    // checkpoint before, drops the rows written past it, and measures the epoch again.
    if (epoch_done && o.after_epoch && o.lead) o.after_epoch(epoch, log);
    if (int rc = save()) return rc;
  }
  return 0;
}

}  // namespace nasforge::cli
