// The CLI's argument parsing and command registry. Commands register themselves by name, so
// `nasforge --help` and `nasforge list commands` need no central switch.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nasforge/searchspace/dsl.h"

namespace nasforge::cli {

// Parsed `POSITIONAL... --key value --flag`. Only the flags a command declares are accepted.
class Args {
 public:
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;              // the last value of each flag
  std::map<std::string, std::vector<std::string>> values;  // every value, for repeated flags

  bool has(const std::string& key) const { return options.count(key) > 0; }
  std::string get(const std::string& key, const std::string& fallback = "") const;
  std::vector<std::string> all(const std::string& key) const;
};

struct Flag {
  std::string name;  // without the leading dashes
  bool takes_value;
  std::string help;
  bool repeatable = false;  // may be given more than once (--metric A --metric B)
};

struct Command {
  std::string name;
  std::string summary;
  std::string usage;  // after "nasforge NAME "
  std::vector<Flag> flags;
  std::function<int(const Command&, const Args&)> run;
  size_t max_positional = 0;  // bare arguments it takes (check FILE: 1); more are an error
  // Joins the group its launcher describes (docs/distributed.md). Any other command is refused
  // when the environment starts it as one rank of several: it would run that many times over.
  bool distributed = false;
  // Of those, rank 0 drives the others (search): under launch, a failed worker is rank 0's to
  // handle, and does not stop the run.
  bool driver_led = false;
};

class Registry {
 public:
  static Registry& instance();
  void add(Command c);
  const Command* find(const std::string& name) const;
  const std::vector<Command>& all() const { return commands_; }

 private:
  std::vector<Command> commands_;
};

struct Registration {
  explicit Registration(Command c) { Registry::instance().add(std::move(c)); }
};

// Registers a command at start-up: NF_CMD(kName, "name", "summary", "usage", {flags}, run).
#define NF_CMD(var, ...) const Registration var{Command{__VA_ARGS__}};

// Parses argv for `cmd`; prints a message and returns nullopt on a bad flag.
std::optional<Args> parse_args(const Command& cmd, const std::vector<std::string>& argv);
std::string command_help(const Command& cmd);
// Parses a non-negative integer option; prints "--NAME: expected ..." on failure.
std::optional<uint64_t> parse_count(const std::string& name, const std::string& text);

// --threads N (or every core) for LibTorch; false after printing an error. In cmd_supernet.cpp.
bool set_threads(const Args& a);

// The arguments this process was started with, after the program's name (set by main): what a
// command that starts copies of itself (search --workers) passes on.
std::vector<std::string>& invocation();

// This executable's path, as the kernel knows it: what `launch -- train ...` and the workers of
// `search --workers` run.
std::string self_path();

// Prints "nasforge CMD: error: MESSAGE" and returns 1.
int fail(const std::string& cmd, const std::string& message);

// A comma-separated flag's items, empty ones dropped (--signals a,b --transfer x,y).
std::vector<std::string> split_commas(const std::string& s);

// A folder made with mkdtemp under $TMPDIR (mode 0700), removed with everything in it when the
// object goes.
class PrivateTempDir {
 public:
  static StatusOr<PrivateTempDir> make(const std::string& prefix);
  PrivateTempDir(PrivateTempDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  PrivateTempDir(const PrivateTempDir&) = delete;
  PrivateTempDir& operator=(const PrivateTempDir&) = delete;
  PrivateTempDir& operator=(PrivateTempDir&&) = delete;
  ~PrivateTempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit PrivateTempDir(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

// Loads a space, or prints its diagnostics and their count to stderr (keeping them in *out).
std::optional<SearchSpace> load_space_or_report(const std::string& path,
                                                Diagnostics* out = nullptr);

}  // namespace nasforge::cli
