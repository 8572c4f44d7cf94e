// A training run's curves, kept beside its checkpoint as DIR/train_log.csv so that a report can
// draw them while the run goes on and after it ends. Long format, one value per line:
//
//   step,epoch,series,value
//   12,0,loss,0.5314
//
// Rows are appended and flushed as they are made; a resumed run first drops the rows past the
// step its checkpoint holds, so a killed run's lost steps are not drawn twice. A torn last line
// (a process killed mid-write) is ignored by the reader; any other malformed line is an error
// naming the file and line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "nasforge/searchspace/status.h"

namespace nasforge::supernet {

enum class Series {
  kLoss,           // training loss of the step (the first path's, for a supernet)
  kAccuracy,       // training accuracy of the step
  kLearningRate,   // the weights' learning rate at the step
  kThroughput,     // images per second over the epoch so far
  kValidLoss,      // a differentiable search's architecture-step (validation) loss
  kValidAccuracy,  // an epoch end's validation accuracy (the largest path, for a supernet)
  kValidSmallest,  // an epoch end's validation accuracy of the smallest path
  kTemperature,    // a differentiable search's Gumbel temperature
  kExpectedCost,   // a differentiable search's expected cost
};
const char* series_name(Series s);
std::optional<Series> parse_series(const std::string& name);

struct LogRow {
  int64_t step = 0, epoch = 0;
  Series series = Series::kLoss;
  double value = 0;
};

class TrainLog {
 public:
  // Opens DIR/train_log.csv for appending, first dropping rows with step > `resumed_step`
  // (the step the checkpoint holds; 0 for a new run, which starts the file afresh).
  static StatusOr<TrainLog> open(const std::string& dir, int64_t resumed_step);
  TrainLog() = default;
  TrainLog(TrainLog&& o) noexcept : f_(o.f_), path_(std::move(o.path_)) { o.f_ = nullptr; }
  TrainLog& operator=(TrainLog&& o) noexcept;
  TrainLog(const TrainLog&) = delete;
  TrainLog& operator=(const TrainLog&) = delete;
  ~TrainLog();

  // Appends one row and flushes it. Non-finite values are written as nan and read back as NaN.
  // A write that fails (a full disk) is said once on stderr; training goes on without its log.
  void add(int64_t step, int64_t epoch, Series s, double value);
  bool is_open() const { return f_ != nullptr; }
  static constexpr const char* kFile = "train_log.csv";

 private:
  std::FILE* f_ = nullptr;
  std::string path_;
};

// The rows of DIR/train_log.csv (NotFound when the run wrote none).
StatusOr<std::vector<LogRow>> read_train_log(const std::string& dir);

}  // namespace nasforge::supernet
