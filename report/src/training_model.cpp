// A training folder's part of the report model: train_log.csv's series (train-supernet,
// train-ghn, train, the differentiable searches) and diagnostics.csv's per-epoch columns (the
// differentiable searches).
#include <filesystem>
#include <fstream>
#include <map>

#include "model.h"
#include "nasforge/predictors/table.h"
#include "nasforge/searchspace/folder_lock.h"
#include "nasforge/searchspace/json.h"
#include "nasforge/supernet/train_log.h"

namespace nasforge::report {
namespace {

namespace fs = std::filesystem;

// Points a series keeps: longer ones are averaged over consecutive bins.
constexpr size_t kMaxPoints = 1000;

struct Point {
  int64_t step;
  double value;
};

std::vector<Point> binned(const std::vector<Point>& in) {
  if (in.size() <= kMaxPoints) return in;
  const size_t per = (in.size() + kMaxPoints - 1) / kMaxPoints;
  std::vector<Point> out;
  for (size_t i = 0; i < in.size(); i += per) {
    double sum = 0;
    size_t n = 0;
    int64_t step = in[i].step;
    for (size_t j = i; j < in.size() && j < i + per; ++j, ++n) {
      sum += in[j].value;
      step = in[j].step;
    }
    out.push_back({step, sum / static_cast<double>(n)});
  }
  return out;
}

// diagnostics.csv as {"columns": [...], "rows": [[...], ...]}: numbers where a field is one,
// strings otherwise (the argmax architecture).
StatusOr<std::string> diagnostics_json(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return InvalidArgument(path + ":1: expected a header, got nothing");
  const auto columns = predictors::split_csv(line);
  std::string s = "{\"columns\": [";
  for (size_t i = 0; i < columns.size(); ++i) s += (i ? ", " : "") + json_quote(columns[i]);
  s += "], \"rows\": [";
  int lineno = 1;
  bool first = true;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    const auto fields = predictors::split_csv(line);
    if (fields.size() != columns.size())
      return InvalidArgument(path + ":" + std::to_string(lineno) + ": expected " +
                             std::to_string(columns.size()) + " fields, got " +
                             std::to_string(fields.size()));
    s += std::string(first ? "" : ", ") + "[";
    first = false;
    for (size_t i = 0; i < fields.size(); ++i) {
      char* end = nullptr;
      const double v = std::strtod(fields[i].c_str(), &end);
      const bool number = !fields[i].empty() && end && *end == '\0';
      s += (i ? ", " : "") + (number ? json_number(v) : json_quote(fields[i]));
    }
    s += "]";
  }
  return s + "]}";
}

}  // namespace

StatusOr<std::string> training_run_json(const std::string& dir, const std::string& name) {
  const auto holder = FolderLock::holder(dir);
  std::string s = "{\"kind\": \"training\", \"name\": " + json_quote(name) +
                  ", \"dir\": " + json_quote(dir) + ", \"running\": " + (holder ? "true" : "false");
  int64_t last_step = 0, last_epoch = 0;
  std::map<supernet::Series, std::vector<Point>> series;
  if (fs::exists(fs::path(dir) / supernet::TrainLog::kFile)) {
    auto rows = supernet::read_train_log(dir);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) {
      series[r.series].push_back({r.step, r.value});
      last_step = std::max(last_step, r.step);
      last_epoch = std::max(last_epoch, r.epoch);
    }
  }
  s += ", \"series\": {";
  bool first = true;
  for (const auto& [which, points] : series) {
    s += std::string(first ? "" : ", ") + json_quote(supernet::series_name(which)) + ": [";
    first = false;
    const auto kept = binned(points);
    for (size_t i = 0; i < kept.size(); ++i)
      s += (i ? ", " : "") + std::string("[") + std::to_string(kept[i].step) + ", " +
           json_number(kept[i].value) + "]";
    s += "]";
  }
  s += "}";
  const fs::path diag = fs::path(dir) / "diagnostics.csv";
  if (fs::exists(diag)) {
    auto d = diagnostics_json(diag.string());
    if (!d.ok()) return d.status();
    s += ", \"epochs\": " + *d;
  }
  const std::string where = "step " + std::to_string(last_step) + ", epoch " +
                            std::to_string(last_epoch + (series.empty() ? 0 : 1));
  s += ", \"state\": " +
       json_quote(holder ? "running (" + *holder + "): " + where + " so far" : "at " + where);
  return s + "}";
}

}  // namespace nasforge::report
