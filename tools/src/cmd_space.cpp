// Search-space commands: check, size, sample, arch, list.
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "nasforge/differentiable/method.h"
#include "nasforge/hardware/device.h"
#include "nasforge/latency/predictors.h"
#include "nasforge/proxies/proxies.h"
#include "nasforge/searchspace/dsl.h"
#include "nasforge/searchspace/json.h"
#include "nasforge/searchspace/metrics.h"
#include "nasforge/searchspace/ops.h"
#include "nasforge/strategies/strategy.h"

namespace nasforge::cli {
namespace {

bool one_file(const Command& cmd, const Args& a) {
  if (a.positional.size() == 1) return true;
  std::cerr << "nasforge " << cmd.name << ": expected one space FILE, got " << a.positional.size()
            << " arguments\n"
            << command_help(cmd);
  return false;
}

int run_check(const Command& cmd, const Args& a) {
  if (!one_file(cmd, a)) return 1;
  Diagnostics diags;
  auto space = load_space_or_report(a.positional[0], &diags);
  if (!space) {
    if (a.has("json")) {  // for editors and scripts: the same diagnostics, structured
      std::cout << "{\"errors\":[";
      for (size_t i = 0; i < diags.errors().size(); ++i) {
        const Diagnostic& e = diags.errors()[i];
        std::cout << (i ? "," : "") << "{\"file\":" << json_quote(e.loc.file)
                  << ",\"line\":" << e.loc.line << ",\"col\":" << e.loc.col
                  << ",\"path\":" << json_quote(e.path) << ",\"message\":" << json_quote(e.message)
                  << "}";
      }
      std::cout << "]}\n";
    }
    return 1;
  }
  if (a.has("json")) {
    char lg[32];
    std::snprintf(lg, sizeof lg, "%.6f", space->log10_size());
    std::cout << "{\"name\":" << json_quote(space->name())
              << ",\"decisions\":" << space->decisions().size() << ",\"size\":\""
              << space->size().str() << "\",\"log10_size\":" << lg << ",\"fingerprint\":\""
              << space->fingerprint() << "\"}\n";
  } else {
    std::cout << space->summary() << "ok\n";
  }
  return 0;
}

int run_size(const Command& cmd, const Args& a) {
  if (!one_file(cmd, a)) return 1;
  auto space = load_space_or_report(a.positional[0]);
  if (!space) return 1;
  if (a.has("log10")) {
    std::printf("%.6f\n", space->log10_size());
  } else {
    std::cout << space->size().str() << "\n";
  }
  return 0;
}

int print_arch(const SearchSpace& s, const Architecture& arch, const std::string& format) {
  if (format == "string") {
    std::cout << s.to_string(arch) << "\n";
  } else if (format == "json") {
    std::cout << s.to_json(arch) << "\n";
  } else if (format == "yaml") {
    std::cout << s.to_yaml(arch) << "---\n";
  } else if (format == "hash") {
    std::cout << s.canonical_hash_hex(arch) << "  " << s.to_string(arch) << "\n";
  } else {
    std::cerr << "--format: expected string, json, yaml or hash, got '" << format << "'\n";
    return 1;
  }
  return 0;
}

int run_sample(const Command& cmd, const Args& a) {
  if (!one_file(cmd, a)) return 1;
  auto n = parse_count("n", a.get("n", "10"));
  auto seed = parse_count("seed", a.get("seed", "0"));
  if (!n || !seed) return 1;
  std::string mode = a.get("mode", "uniform");
  if (mode != "uniform" && mode != "per-decision") {
    std::cerr << "--mode: expected uniform or per-decision, got '" << mode << "'\n";
    return 1;
  }
  std::string format = a.get("format", "string");
  auto space = load_space_or_report(a.positional[0]);
  if (!space) return 1;
  Rng rng(*seed);
  for (uint64_t i = 0; i < *n; ++i) {
    Architecture arch = space->sample(
        rng, mode == "uniform" ? SampleMode::kUniformArchitecture : SampleMode::kUniformDecision);
    if (int rc = print_arch(*space, arch, format)) return rc;
  }
  return 0;
}

// An architecture in any accepted form: a JSON or YAML mapping, or a string.
StatusOr<Architecture> parse_any(const SearchSpace& space, const std::string& text) {
  const bool mapping = !text.empty() && (text[0] == '{' || text.find(": ") != std::string::npos);
  return mapping ? space.from_json(text) : space.parse(text);
}

// `arch FILE -`: one architecture per line of standard input, one converted line out per line
// in, in order; the first bad line stops it with its line number.
int convert_lines(const SearchSpace& space, const std::string& file, const std::string& format) {
  std::string line;
  for (int64_t n = 1; std::getline(std::cin, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto arch = line.find_first_not_of(" \t") == std::string::npos
                    ? StatusOr<Architecture>(InvalidArgument("expected an architecture, got an "
                                                             "empty line"))
                    : parse_any(space, line);
    if (!arch.ok()) {
      std::cerr << "nasforge arch: " << file << ": standard input line " << n
                << ": invalid architecture: " << arch.status().message() << "\n";
      return 1;
    }
    if (int rc = print_arch(space, *arch, format)) return rc;
  }
  return 0;
}

int run_arch(const Command& cmd, const Args& a) {
  if (a.positional.size() != 2) {
    std::cerr << "nasforge arch: expected FILE and ARCH (or - for one per line of standard "
                 "input), got "
              << a.positional.size() << " arguments\n"
              << command_help(cmd);
    return 1;
  }
  auto space = load_space_or_report(a.positional[0]);
  if (!space) return 1;
  const std::string& text = a.positional[1];
  if (text == "-") {
    if (a.has("neighbours"))
      return fail(cmd.name, "--neighbours takes one architecture, not standard input");
    return convert_lines(*space, a.positional[0], a.get("format", "string"));
  }
  auto arch = parse_any(*space, text);
  if (!arch.ok()) {
    std::cerr << "nasforge arch: " << a.positional[0]
              << ": invalid architecture: " << arch.status().message() << "\n";
    return 1;
  }
  if (a.has("neighbours")) {
    for (const auto& n : space->neighbours(*arch)) std::cout << space->to_string(n) << "\n";
    return 0;
  }
  if (a.has("format")) return print_arch(*space, *arch, a.get("format"));
  std::cout << "string:    " << space->to_string(*arch) << "\n"
            << "hash:      " << space->canonical_hash_hex(*arch) << "\n"
            << "canonical: " << space->canonical_form(*arch) << "\n"
            << "json:      " << space->to_json(*arch) << "\n";
  return 0;
}

int run_list(const Command&, const Args& a) {
  std::string what = a.positional.empty() ? "all" : a.positional[0];
  bool all = what == "all";
  bool known = false;
  if (all || what == "commands") {
    known = true;
    std::cout << "commands:\n";
    for (const auto& c : Registry::instance().all()) std::cout << "  " << c.name << "\n";
  }
  if (all || what == "ops") {
    known = true;
    std::cout << "cell ops:\n";
    for (const auto& op : cell_ops()) std::cout << "  " << op.name << "\n";
  }
  if (all || what == "devices") {
    known = true;
    std::cout << "devices nasforge runs and times (profile, latency --measure):\n";
    for (const auto& d : hardware::device_names()) std::cout << "  " << d << "\n";
    std::cout << "latency_ms@DEVICE takes any device name a source supplies (a CSV column, a "
                 "predictor file, a device above); the published tables in data/nasbench201 "
                 "have:\n";
    for (const auto& d : example_devices()) std::cout << "  " << d << "\n";
  }
  if (all || what == "predictors") {
    known = true;
    std::cout << "predictors:\n";
    for (const auto& p : latency::predictor_names()) std::cout << "  " << p << "\n";
  }
  if (all || what == "metrics") {
    known = true;
    std::cout << "metrics:\n  accuracy\n  latency_ms@DEVICE\n  params\n  macs\n";
  }
  if (all || what == "strategies") {
    known = true;
    std::cout << "strategies (nasforge search --strategy NAME [--option KNOB=VALUE]):\n";
    for (const auto& s : strategies::strategy_infos()) {
      std::cout << "  " << s.name << (s.multi_objective ? "" : "  [one objective]") << "\n    "
                << s.summary << "\n    paper: " << s.paper << "\n";
      for (const auto& k : s.knobs)
        std::cout << "    knob " << k.name << " (default " << k.default_value << "): " << k.help
                  << "\n";
    }
    std::cout << "differentiable strategies (nasforge search --strategy NAME --data D --epochs E "
                 "--out DIR; docs/search.md):\n";
    for (const auto& m : differentiable::method_infos()) {
      std::cout << "  " << m.name << "\n    " << m.summary << "\n    paper: " << m.paper << "\n";
      for (const auto& k : m.knobs)
        std::cout << "    knob " << k.name << " (default " << k.default_value << "): " << k.help
                  << "\n";
    }
    std::cout << "  knobs of every differentiable strategy:\n";
    for (const auto& k : differentiable::common_knobs())
      std::cout << "    knob " << k.name << " (default " << k.default_value << "): " << k.help
                << "\n";
  }
  if (all || what == "sources") {
    known = true;
    std::cout << "metric sources (--metric NAME=SOURCE):\n"
                 "  table:CSV:COLUMN\n  count\n  predictor:FILE\n  measure:DEVICE\n"
                 "  supernet:DIR[:test]\n  ghn:DIR[:test]\n  train:EPOCHS[:test]\n  "
                 "proxy:NAME[:BATCHESxSIZE]\n";
    std::cout << "zero-cost proxies (proxy:NAME):\n";
    for (const auto& p : proxies::proxy_infos())
      std::cout << "  " << p.name << (p.needs_data ? " (reads --data)" : " (data-free)") << ": "
                << p.citation << "\n";
  }
  if (!known) {
    std::cerr << "nasforge list: expected commands, ops, devices, metrics, strategies, "
                 "predictors or sources, got '"
              << what << "'\n";
    return 1;
  }
  return 0;
}

NF_CMD(kCheck, "check", "Check a search-space file and print its decisions and exact size.",
       "FILE [--json]",
       {{"json", false,
         "print {name, decisions, size, log10_size, fingerprint} as JSON; on errors, "
         "{errors: [{file, line, col, path, message}]}"}},
       run_check, 1)
NF_CMD(kSize, "size", "Print the exact number of architectures in a space.", "FILE [--log10]",
       {{"log10", false, "print log10 of the size instead"}}, run_size, 1)
NF_CMD(kSample, "sample", "Print N random architectures of a space, one per line.",
       "FILE [--n N] [--seed S] [--mode uniform|per-decision] [--format string|json|yaml|hash]",
       {{"n", true, "how many (default 10)"},
        {"seed", true, "random seed (default 0); the same seed prints the same list"},
        {"mode", true,
         "uniform: every architecture equally likely (default); per-decision: each decision "
         "uniform"},
        {"format", true, "string (default), json, yaml or hash"}},
       run_sample, 1)
NF_CMD(kArch, "arch",
       "Parse an architecture (string or JSON) and show its forms and hash; with - as ARCH, "
       "convert one per line of standard input.",
       "FILE ARCH|- [--format string|json|yaml|hash] [--neighbours]",
       {{"format", true, "print only this form"},
        {"neighbours", false, "print every architecture one decision away"}},
       run_arch, 2)
NF_CMD(kList, "list", "List what is registered: commands, ops, devices, metrics, strategies, ...",
       "[commands|ops|devices|metrics|strategies|predictors|sources]", {}, run_list, 1)

}  // namespace
}  // namespace nasforge::cli
