// nasforge report: run folders (searches, supernet/GHN trainings, differentiable searches) as
// one self-contained HTML page (report/).
#include <filesystem>
#include <iostream>

#include "cli.h"
#include "nasforge/report/report.h"
#include "run_report.h"

namespace nasforge::cli {

bool write_run_report(const std::vector<std::string>& dirs, const std::string& out) {
  if (Status st = report::write_report(dirs, out); !st.ok()) {
    std::cerr << "warning: the report was not written (" << st.message()
              << "); `nasforge report` can write it later\n";
    return false;
  }
  std::cerr << "report: " << out << "\n";
  return true;
}

namespace {

int run_report(const Command& cmd, const Args& a) {
  if (a.positional.empty())
    return fail(cmd.name, "expected one or more run folders\n" + command_help(cmd));
  report::ReportOptions options;
  options.title = a.get("title");
  if (auto it = a.values.find("baseline"); it != a.values.end()) options.baselines = it->second;
  if (a.has("json")) {
    auto model = report::report_model(a.positional, options);
    if (!model.ok()) return fail(cmd.name, model.status().message());
    std::cout << *model << "\n";
    return 0;
  }
  std::string out = a.get("out");
  if (out.empty() && a.positional.size() == 1)
    out = (std::filesystem::path(a.positional[0]) / "report.html").string();
  if (out.empty())
    return fail(cmd.name, "expected --out FILE for a report of several runs\n" + command_help(cmd));
  if (Status st = report::write_report(a.positional, out, options); !st.ok())
    return fail(cmd.name, st.message());
  std::cout << out << "\n";
  return 0;
}

NF_CMD(kReport, "report",
       "Write one self-contained HTML page (no network) of search and training run folders: "
       "Pareto front, best so far, hypervolume, trials, architectures, training curves.",
       "RUN [RUN...] [--out FILE] [--title T] [--baseline RUN ...] [--json]",
       {{"out", true, "the HTML file (default: RUN/report.html for one run)"},
        {"title", true, "the page's title (default: the runs' folder names)"},
        {"baseline", true,
         "draw this run (its folder name or path) dashed, as a baseline; a random search is one "
         "without it (repeatable)",
         true},
        {"json", false, "print the page's data model as JSON instead"}},
       run_report, 64)

}  // namespace
}  // namespace nasforge::cli
