// nasforge launch: starts the workers of this host, each with the environment torchrun gives
// its workers (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR,
// MASTER_PORT), and watches them: when one fails, the others are stopped (SIGTERM, then
// SIGKILL after a grace period) and the failure is reported by rank. Torch-free.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

namespace nasforge::distributed {

struct LaunchOptions {
  int workers = 1;  // on this host
  int nnodes = 1, node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;  // 0: a free port of this host (one host only)
  // After a worker fails, how long the others have to stop before SIGKILL.
  std::chrono::milliseconds grace{std::chrono::seconds(10)};
  // Rank 0 drives the others (a parallel search): a failed worker of another rank is reported
  // and the rest go on, since the driver hands its work to another; rank 0's exit code is the
  // run's, and when it ends the others have the grace period to end on their own.
  bool rank0_leads = false;
};

// Runs `command` (argv[0] found on PATH, as execvp does) once per local worker and waits for
// all. Returns 0 when every worker exits 0; else the first failure's exit code (128 + signal
// for a killed worker), after printing to `log` which rank failed and how. SIGINT and SIGTERM
// sent to the launcher are passed on to the workers.
int launch_workers(const LaunchOptions& options, const std::vector<std::string>& command,
                   std::ostream& log);

// A TCP port of this host that nothing listens on now (asked of the kernel), or 0.
int free_port();

}  // namespace nasforge::distributed
