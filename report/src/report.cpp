// The report page: the model of every run folder, embedded as JSON beside the page's own CSS
// and script (assets/, compiled in), in one file that needs no network.
#include "nasforge/report/report.h"

#include <filesystem>
#include <map>

#include "assets.h"
#include "model.h"
#include "nasforge/searchspace/files.h"
#include "nasforge/searchspace/json.h"

namespace nasforge::report {
namespace {

namespace fs = std::filesystem;

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// JSON inside <script>: every '<' (only ever inside strings) as \u003c, so that no "</script>"
// or "<!--" in an architecture string or path can end the element early.
std::string script_safe(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (char c : json) out += c == '<' ? std::string("\\u003c") : std::string(1, c);
  return out;
}

// The names the page shows, made distinct ("search", "search (2)") when folders share one.
std::vector<std::string> distinct_names(const std::vector<std::string>& dirs) {
  std::vector<std::string> names;
  std::map<std::string, int> seen;
  for (const auto& d : dirs) {
    std::string n = run_name(d);
    if (const int k = ++seen[n]; k > 1) n += " (" + std::to_string(k) + ")";
    names.push_back(n);
  }
  return names;
}

std::string title_of(const std::vector<std::string>& names, const ReportOptions& options) {
  if (!options.title.empty()) return options.title;
  std::string title;
  for (size_t i = 0; i < names.size(); ++i) title += (i ? ", " : "nasforge report: ") + names[i];
  return title;
}

std::string objectives_key(const SearchRun& r) {
  std::string k;
  for (const auto& o : r.stored.objectives)
    k += o.metric.name + (o.direction == Direction::kMaximize ? ":max " : ":min ");
  return k;
}

}  // namespace

const char* run_kind_name(RunKind k) { return k == RunKind::kSearch ? "search" : "training"; }

StatusOr<RunKind> run_kind_of(const std::string& dir) {
  const fs::path p(dir);
  if (!fs::is_directory(p))
    return NotFound(dir +
                    ": expected a run folder (nasforge search --out, train-supernet --out, "
                    "train-ghn --out), got " +
                    (fs::exists(p) ? "a file" : "nothing"));
  if (fs::exists(p / "trials.sqlite")) return RunKind::kSearch;
  if (fs::exists(p / "train_log.csv") || fs::exists(p / "diagnostics.csv"))
    return RunKind::kTraining;
  return NotFound(dir +
                  ": expected a search folder (trials.sqlite) or a training folder "
                  "(train_log.csv or diagnostics.csv), found neither");
}

StatusOr<std::string> report_model(const std::vector<std::string>& dirs,
                                   const ReportOptions& options) {
  if (dirs.empty()) return InvalidArgument("expected at least one run folder");
  const auto names = distinct_names(dirs);
  std::vector<RunKind> kinds;
  std::vector<std::optional<SearchRun>> searches(dirs.size());
  for (size_t i = 0; i < dirs.size(); ++i) {
    auto kind = run_kind_of(dirs[i]);
    if (!kind.ok()) return kind.status();
    kinds.push_back(*kind);
    if (*kind != RunKind::kSearch) continue;
    auto run = load_search_run(dirs[i]);
    if (!run.ok()) return run.status();
    run->name = names[i];
    for (const auto& b : options.baselines)
      if (b == names[i] || b == dirs[i]) run->baseline = true;
    searches[i] = std::move(*run);
  }
  // One hypervolume reference per set of objectives, over every run that shares it.
  std::map<std::string, std::vector<const SearchRun*>> groups;
  for (const auto& r : searches)
    if (r) groups[objectives_key(*r)].push_back(&*r);
  std::map<std::string, std::vector<double>> references;
  for (const auto& [key, runs] : groups) references[key] = shared_reference(runs);

  std::string s = "{\"title\": " + json_quote(title_of(names, options)) + ", \"runs\": [";
  for (size_t i = 0; i < dirs.size(); ++i) {
    s += i ? ", " : "";
    if (searches[i]) {
      s += search_run_json(*searches[i], references[objectives_key(*searches[i])]);
    } else {
      auto t = training_run_json(dirs[i], names[i]);
      if (!t.ok()) return t.status();
      s += *t;
    }
  }
  return s + "]}";
}

StatusOr<std::string> render_report(const std::vector<std::string>& dirs,
                                    const ReportOptions& options) {
  auto model = report_model(dirs, options);
  if (!model.ok()) return model.status();
  const std::string title = title_of(distinct_names(dirs), options);
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  page += "<title>" + html_escape(title) + "</title>\n<style>\n";
  page += kReportCss;
  page +=
      "</style>\n</head>\n<body>\n<main id=\"nf-report\"><noscript>This report draws its "
      "charts with JavaScript; the data is in the nf-model element of this file."
      "</noscript></main>\n<script type=\"application/json\" id=\"nf-model\">\n";
  page += script_safe(*model);
  page += "\n</script>\n<script>\n";
  page += kReportJs;
  page += "</script>\n</body>\n</html>\n";
  return page;
}

Status write_report(const std::vector<std::string>& dirs, const std::string& out,
                    const ReportOptions& options) {
  auto page = render_report(dirs, options);
  if (!page.ok()) return page.status();
  return write_atomically(out, *page, "report");
}

}  // namespace nasforge::report
