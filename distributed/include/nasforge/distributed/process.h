// Child processes that one process starts and watches: a search driver's evaluation workers.
// A child dies with the process that started it (PR_SET_PDEATHSIG), so a driver killed outright
// leaves no orphans. Torch-free.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nasforge/searchspace/status.h"

namespace nasforge::distributed {

class ChildProcess {
 public:
  // Forks and execs `argv` (argv[0] found on PATH, as execvp does) with `env` added to this
  // process's environment. A program that cannot be run exits 127 after saying why on stderr.
  static StatusOr<ChildProcess> spawn(const std::vector<std::string>& argv,
                                      const std::vector<std::pair<std::string, std::string>>& env);
  ChildProcess(ChildProcess&& o) noexcept : pid_(o.pid_), status_(o.status_) { o.pid_ = -1; }
  ChildProcess& operator=(ChildProcess&& o) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Kills a child that still runs (SIGKILL) and reaps it.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Its wait status once it has ended (reaped here, without blocking); nullopt while it runs.
  std::optional<int> poll();
  // Waits up to `ms` milliseconds for it to end; its wait status, or nullopt.
  std::optional<int> wait_for(int ms);
  void signal(int sig) const;

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// "exited with status 2", "was killed by signal 9 (Killed)"
std::string how_it_ended(int wait_status);
// The shell's exit code for a wait status: the status, or 128 + the signal.
int exit_code_of(int wait_status);

}  // namespace nasforge::distributed
