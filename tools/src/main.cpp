// nasforge: the command-line entry point. Every error is caught here and becomes a message and
// a non-zero exit code.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>

#include "cli.h"
#include "distributed_flags.h"
#include "nasforge/hardware/allocator.h"
#include "nasforge/searchspace/diagnostics.h"
#include "nasforge/supernet/errors.h"

using nasforge::cli::Registry;
using nasforge::hardware::AllocatorPolicy;
using nasforge::hardware::apply_allocator_policy;

namespace {

void print_help() {
  std::cout << "nasforge " << NASFORGE_VERSION
            << " - neural architecture search with weight-sharing supernets\n\n"
               "usage: nasforge [--allocator keep|glibc] COMMAND [ARGS] [--help]\n\n"
               "  --allocator keep   keep freed memory in the heap (default; steadier timings,\n"
               "                     faster evaluation); glibc: glibc's own malloc settings\n\n"
               "commands:\n";
  for (const auto& c : Registry::instance().all()) {
    std::string left = "  " + c.name;
    if (left.size() < 18) left += std::string(18 - left.size(), ' ');
    std::cout << left << " " << c.summary << "\n";
  }
  std::cout << "\nRun 'nasforge COMMAND --help' for a command's options.\n";
}

// Whether everything printed on standard output reached it: a full disk or a closed pipe
// behind `> FILE` must not pass for success. Says why on stderr when it did not.
bool output_written(const std::string& command) {
  errno = 0;
  std::cout.flush();
  const bool c_ok = std::fflush(stdout) == 0 && !std::ferror(stdout);
  const int err = errno;
  if (std::cout && c_ok) return true;
  std::cerr << "nasforge " << command << ": error: cannot write the output ("
            << (err ? std::strerror(err) : "write error") << ")\n";
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  nasforge::cli::invocation() = args;
  // The allocator policy (nasforge/hardware/allocator.h): freed memory stays in the heap unless
  // `--allocator glibc` comes before the command. It cut one inherited-accuracy evaluation of a
  // mobilenet path on 1,000 images from 11.8 s to 3.6 s (docs/benchmarks.md, "Allocator").
  auto policy = AllocatorPolicy::kKeepFreedMemory;
  if (!args.empty() && args[0] == "--allocator") {
    if (args.size() < 2 || (args[1] != "glibc" && args[1] != "keep")) {
      std::cerr << "nasforge: --allocator: expected glibc or keep, got '"
                << (args.size() < 2 ? "" : args[1]) << "'\n";
      return 1;
    }
    if (args[1] == "glibc") policy = AllocatorPolicy::kGlibcDefaults;
    args.erase(args.begin(), args.begin() + 2);
  }
  apply_allocator_policy(policy);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help();
    return args.empty() ? 1 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "nasforge " << NASFORGE_VERSION << "\n";
    return 0;
  }
  const auto* cmd = Registry::instance().find(args[0]);
  if (!cmd) {
    std::vector<std::string> names;
    for (const auto& c : Registry::instance().all()) names.push_back(c.name);
    std::cerr << "nasforge: unknown command '" << args[0] << "'";
    std::string near = nasforge::closest_match(args[0], names);
    if (!near.empty()) std::cerr << " (did you mean '" << near << "'?)";
    std::cerr << "; run 'nasforge --help' for the list\n";
    return 1;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const auto& a : rest) {
    if (a == "--") break;  // what follows is another command's (nasforge launch -- ...)
    if (a == "--help" || a == "-h") {
      std::cout << nasforge::cli::command_help(*cmd);
      return 0;
    }
  }
  auto parsed = nasforge::cli::parse_args(*cmd, rest);
  if (!parsed) return 1;
  // Not under Slurm: an sbatch script's own shell carries SLURM_PROCID and SLURM_NTASKS of the
  // whole allocation, and the commands it runs outside srun are single processes.
  if (const auto world = nasforge::cli::current_world();
      world.distributed() && !cmd->distributed &&
      world.launcher != nasforge::distributed::Launcher::kSlurm) {
    std::cerr << "nasforge " << cmd->name << ": error: the environment starts this process as "
              << world.describe() << ", but " << cmd->name << " "
              << nasforge::cli::not_distributed(world.size) << "\n";
    return 1;
  }
  int rc = 1;
  try {
    rc = cmd->run(*cmd, *parsed);
  } catch (const std::exception& e) {
    std::cerr << "nasforge " << cmd->name << ": error: " << nasforge::supernet::error_text(e)
              << "\n";
    return 1;
  }
  return rc == 0 && !output_written(cmd->name) ? 1 : rc;
}
