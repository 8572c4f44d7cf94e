#include "cli.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "nasforge/searchspace/diagnostics.h"

namespace nasforge::cli {

std::string Args::get(const std::string& key, const std::string& fallback) const {
  auto it = options.find(key);
  return it == options.end() ? fallback : it->second;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = std::min(s.find(',', start), s.size());
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::vector<std::string> Args::all(const std::string& key) const {
  auto it = values.find(key);
  return it == values.end() ? std::vector<std::string>{} : it->second;
}

Registry& Registry::instance() {
  static Registry r;  // registration table only; holds no run state
  return r;
}

void Registry::add(Command c) { commands_.push_back(std::move(c)); }

const Command* Registry::find(const std::string& name) const {
  for (const auto& c : commands_)
    if (c.name == name) return &c;
  return nullptr;
}

std::string self_path() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "nasforge";
}

std::vector<std::string>& invocation() {
  static std::vector<std::string> args;
  return args;
}

std::optional<Args> parse_args(const Command& cmd, const std::vector<std::string>& argv) {
  Args args;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {  // the rest is a command of its own (nasforge launch -- COMMAND ARGS...)
      if (argv.size() - i - 1 + args.positional.size() > cmd.max_positional) {
        std::cerr << "nasforge " << cmd.name << ": unexpected arguments after '--'\n"
                  << command_help(cmd);
        return std::nullopt;
      }
      args.positional.insert(args.positional.end(), argv.begin() + i + 1, argv.end());
      break;
    }
    // -X: the one-letter flag X (nasforge launch -n 2).
    const bool short_flag = a.size() == 2 && a[0] == '-' && a[1] != '-';
    if (!short_flag && (a.size() < 3 || a.rfind("--", 0) != 0)) {
      if (args.positional.size() == cmd.max_positional) {
        std::cerr << "nasforge " << cmd.name << ": unexpected argument '" << a << "'"
                  << (cmd.max_positional == 0 ? " (options start with --)" : "") << "\n"
                  << command_help(cmd);
        return std::nullopt;
      }
      args.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(short_flag ? 1 : 2), value;
    bool inline_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    const Flag* flag = nullptr;
    std::vector<std::string> names;
    for (const auto& f : cmd.flags) {
      names.push_back(f.name);
      if (f.name == name) flag = &f;
    }
    if (!flag) {
      std::cerr << "nasforge " << cmd.name << ": unknown option '--" << name << "'";
      std::string near = closest_match(name, names);
      if (!near.empty()) std::cerr << " (did you mean '--" << near << "'?)";
      std::cerr << "\n" << command_help(cmd);
      return std::nullopt;
    }
    if (flag->takes_value && !inline_value) {
      if (i + 1 >= argv.size()) {
        std::cerr << "nasforge " << cmd.name << ": option '--" << name << "' expects a value\n";
        return std::nullopt;
      }
      value = argv[++i];
    } else if (!flag->takes_value && inline_value) {
      std::cerr << "nasforge " << cmd.name << ": option '--" << name << "' takes no value\n";
      return std::nullopt;
    }
    if (!flag->repeatable && args.values.count(name)) {
      std::cerr << "nasforge " << cmd.name << ": option '--" << name
                << "' is given twice; give it once\n";
      return std::nullopt;
    }
    args.options[name] = value;
    args.values[name].push_back(value);
  }
  return args;
}

std::string command_help(const Command& cmd) {
  std::string s = "usage: nasforge " + cmd.name + " " + cmd.usage + "\n\n" + cmd.summary + "\n";
  if (!cmd.flags.empty()) {
    s += "\noptions:\n";
    for (const auto& f : cmd.flags) {
      std::string left =
          (f.name.size() == 1 ? "  -" : "  --") + f.name + (f.takes_value ? " VALUE" : "");
      if (left.size() < 24) left += std::string(24 - left.size(), ' ');
      s += left + " " + f.help + "\n";
    }
  }
  return s;
}

std::optional<uint64_t> parse_count(const std::string& name, const std::string& text) {
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    std::cerr << "--" << name << ": expected a non-negative integer, got '" << text << "'\n";
    return std::nullopt;
  }
  return std::stoull(text);
}

std::optional<SearchSpace> load_space_or_report(const std::string& path, Diagnostics* out) {
  Diagnostics local;
  Diagnostics& diags = out ? *out : local;
  auto space = load_space(path, diags);
  if (!space) {
    std::cerr << diags.str() << diags.size() << (diags.size() == 1 ? " error" : " errors") << " in "
              << path << "\n";
  }
  return space;
}

int fail(const std::string& cmd, const std::string& message) {
  std::cerr << "nasforge " << cmd << ": error: " << message << "\n";
  return 1;
}

StatusOr<PrivateTempDir> PrivateTempDir::make(const std::string& prefix) {
  std::error_code ec;
  auto base = std::filesystem::temp_directory_path(ec);
  if (ec) return FailedPrecondition("no temporary folder: " + ec.message());
  std::string tmpl = (base / (prefix + "_XXXXXX")).string();
  if (!mkdtemp(tmpl.data()))
    return FailedPrecondition("cannot make a private folder in " + base.string() + ": " +
                              std::strerror(errno));
  return PrivateTempDir(tmpl);
}

PrivateTempDir::~PrivateTempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

}  // namespace nasforge::cli
