// The report's JSON model, one part per run kind (report.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "nasforge/evaluation/search.h"
#include "nasforge/searchspace/status.h"

namespace nasforge::report {

// A search folder, loaded.
struct SearchRun {
  std::string dir, name;
  evaluation::StoredSearch stored;
  std::optional<std::string> running;  // the live writer's "PID COMMAND", if it is going
  bool baseline = false;
};
StatusOr<SearchRun> load_search_run(const std::string& dir);

// The run's JSON object. `reference` is the hypervolume reference in the objectives' own units,
// shared by every run with the same objectives so that their curves compare.
std::string search_run_json(const SearchRun& run, const std::vector<double>& reference);
// The worst feasible value of each objective over `runs` (which share their objectives).
std::vector<double> shared_reference(const std::vector<const SearchRun*>& runs);

// A training folder's JSON object: train_log.csv's series and, for a differentiable search,
// diagnostics.csv's per-epoch columns.
StatusOr<std::string> training_run_json(const std::string& dir, const std::string& name);

// The folder's name as the report labels it: its last path component.
std::string run_name(const std::string& dir);

}  // namespace nasforge::report
