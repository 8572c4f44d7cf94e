// What the discrete and the differentiable searches share on the command line: the settings
// from flags, running the driver, and printing its answer. In cmd_search.cpp.
#pragma once

#include <optional>
#include <string>

#include "cli.h"
#include "nasforge/evaluation/search.h"

namespace nasforge::cli {

std::string fmt(double v);
// The search configuration that the flags of `a` describe; nullopt after printing what is wrong.
std::optional<evaluation::SearchConfig> search_config(const Command& cmd, const Args& a);
// Creates the search, checks its constraints (exit 2 when one cannot be met), runs it with a
// progress bar and prints the answer (as JSON with `json`). With an --out folder, it then
// writes OUT/report.html of that folder and of `report_also` (a differentiable search's
// training folder). Returns the exit code.
int execute_search(const Command& cmd, const evaluation::SearchConfig& c,
                   const std::string& space_file, bool json,
                   const std::vector<std::string>& report_also = {});
// One line per constraint of the pre-search check, to stderr.
void print_bound_checks(const evaluation::FeasibilityReport& feas);
void print_search_result(const evaluation::SearchConfig& cfg, const evaluation::SearchResult& r);

// The DARTS family (cmd_differentiable.cpp).
bool is_differentiable(const std::string& strategy);
int run_differentiable_search(const Command& cmd, const Args& a);

}  // namespace nasforge::cli
