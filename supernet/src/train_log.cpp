// DIR/train_log.csv: the curves of a training run (see train_log.h).
#include "nasforge/supernet/train_log.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nasforge/searchspace/files.h"

namespace nasforge::supernet {
namespace {

constexpr const char* kHeader = "step,epoch,series,value";

struct SeriesName {
  Series series;
  const char* name;
};
constexpr SeriesName kNames[] = {
    {Series::kLoss, "loss"},
    {Series::kAccuracy, "accuracy"},
    {Series::kLearningRate, "lr"},
    {Series::kThroughput, "images_per_second"},
    {Series::kValidLoss, "valid_loss"},
    {Series::kValidAccuracy, "valid_accuracy"},
    {Series::kValidSmallest, "valid_accuracy_smallest"},
    {Series::kTemperature, "temperature"},
    {Series::kExpectedCost, "expected_cost"},
};

std::string row_text(const LogRow& r) {
  char value[32];
  if (std::isfinite(r.value))
    std::snprintf(value, sizeof value, "%.9g", r.value);
  else
    std::snprintf(value, sizeof value, "nan");
  return std::to_string(r.step) + "," + std::to_string(r.epoch) + "," + series_name(r.series) +
         "," + value;
}

// One line; nullopt when it is not a row.
std::optional<LogRow> parse_row(const std::string& line) {
  std::istringstream in(line);
  std::string step, epoch, series, value;
  if (!std::getline(in, step, ',') || !std::getline(in, epoch, ',') ||
      !std::getline(in, series, ',') || !std::getline(in, value) || value.empty())
    return std::nullopt;
  LogRow r;
  auto s = parse_series(series);
  if (!s) return std::nullopt;
  r.series = *s;
  try {
    size_t used = 0;
    r.step = std::stoll(step, &used);
    if (used != step.size()) return std::nullopt;
    r.epoch = std::stoll(epoch, &used);
    if (used != epoch.size()) return std::nullopt;
    r.value = value == "nan" ? std::nan("") : std::stod(value, &used);
    if (value != "nan" && used != value.size()) return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return r;
}

StatusOr<std::vector<LogRow>> read_rows(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound(path + ": no training log");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  // A line without its newline is the torn end of a killed writer: left out.
  in.clear();
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::streamoff>(in.tellg());
  bool torn = false;
  if (size > 0) {
    in.seekg(size - 1);
    torn = in.get() != '\n';
  }
  if (lines.empty() || lines[0] != kHeader)
    return InvalidArgument(path + ":1: expected the header '" + kHeader + "', got '" +
                           (lines.empty() ? "" : lines[0]) + "'");
  std::vector<LogRow> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (torn && i + 1 == lines.size()) break;
    auto r = parse_row(lines[i]);
    if (!r)
      return InvalidArgument(path + ":" + std::to_string(i + 1) +
                             ": expected STEP,EPOCH,SERIES,VALUE with a known series, got '" +
                             lines[i] + "'");
    rows.push_back(*r);
  }
  return rows;
}

}  // namespace

const char* series_name(Series s) {
  for (const auto& n : kNames)
    if (n.series == s) return n.name;
  return "?";
}

std::optional<Series> parse_series(const std::string& name) {
  for (const auto& n : kNames)
    if (name == n.name) return n.series;
  return std::nullopt;
}

StatusOr<TrainLog> TrainLog::open(const std::string& dir, int64_t resumed_step) {
  const std::string path = (std::filesystem::path(dir) / kFile).string();
  std::string kept = std::string(kHeader) + "\n";
  if (resumed_step > 0 && std::filesystem::exists(path)) {
    auto rows = read_rows(path);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows)
      if (r.step <= resumed_step) kept += row_text(r) + "\n";
  }
  NF_RETURN_IF_ERROR(write_atomically(path, kept, "training log"));
  TrainLog log;
  log.f_ = std::fopen(path.c_str(), "a");
  if (!log.f_) return FailedPrecondition(path + ": cannot open the training log for appending");
  log.path_ = path;
  return log;
}

TrainLog& TrainLog::operator=(TrainLog&& o) noexcept {
  if (this != &o) {
    if (f_) std::fclose(f_);
    f_ = o.f_;
    path_ = std::move(o.path_);
    o.f_ = nullptr;
  }
  return *this;
}

TrainLog::~TrainLog() {
  if (f_) std::fclose(f_);
}

void TrainLog::add(int64_t step, int64_t epoch, Series s, double value) {
  if (!f_) return;
  const std::string line = row_text({step, epoch, s, value}) + "\n";
  if (std::fwrite(line.data(), 1, line.size(), f_) != line.size() || std::fflush(f_) != 0) {
    std::fprintf(stderr, "\nwarning: cannot append to %s (%s); training goes on without it\n",
                 path_.c_str(), std::strerror(errno));
    std::fclose(f_);
    f_ = nullptr;
  }
}

StatusOr<std::vector<LogRow>> read_train_log(const std::string& dir) {
  return read_rows((std::filesystem::path(dir) / TrainLog::kFile).string());
}

}  // namespace nasforge::supernet
