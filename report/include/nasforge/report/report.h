// `nasforge report`: one self-contained HTML file (inline SVG, CSS and script; no network) that
// shows run folders - searches (Pareto front, best so far, hypervolume, the trial table,
// architecture diagrams, predictor quality) and training runs (train-supernet, train-ghn, the
// differentiable searches: loss, accuracy, learning rate, and a differentiable search's
// per-epoch diagnostics). A run that is still going is shown as far as it has got.
//
// The numbers are computed here, in C++, into one JSON model embedded in the page; the page's
// script only draws that model, sorts and filters. docs/report.md describes the page.
#pragma once

#include <string>
#include <vector>

#include "nasforge/searchspace/status.h"

namespace nasforge::report {

// What a run folder holds, told from its files.
enum class RunKind {
  kSearch,    // trials.sqlite and space.yaml (nasforge search --out)
  kTraining,  // train_log.csv and/or diagnostics.csv (train-supernet, train-ghn, darts & co.)
};
const char* run_kind_name(RunKind k);
// The kind of `dir`, or an error naming the folder and the files a run folder has.
StatusOr<RunKind> run_kind_of(const std::string& dir);

struct ReportOptions {
  std::string title;  // empty: from the run folders' names
  // Runs whose names are given here are drawn as baselines (dashed); a run whose strategy is
  // `random` is one without being named.
  std::vector<std::string> baselines;
};

// The report's JSON model of `dirs` (what the page draws), for tests and `--json`.
StatusOr<std::string> report_model(const std::vector<std::string>& dirs,
                                   const ReportOptions& options = {});
// The whole HTML page.
StatusOr<std::string> render_report(const std::vector<std::string>& dirs,
                                    const ReportOptions& options = {});
// Renders and writes `out` atomically (a reader never sees half a page).
Status write_report(const std::vector<std::string>& dirs, const std::string& out,
                    const ReportOptions& options = {});

}  // namespace nasforge::report
