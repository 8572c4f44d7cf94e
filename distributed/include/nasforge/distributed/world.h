// Who this process is among the workers of a distributed run, read from the environment that a
// launcher sets: nasforge launch and torchrun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT), Slurm (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, ...), Open MPI
// (OMPI_COMM_WORLD_*) and MPICH / Intel MPI (PMI_RANK, PMI_SIZE). Torch-free.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "nasforge/searchspace/status.h"

namespace nasforge::distributed {

enum class Launcher { kNone, kTorchrun, kSlurm, kOpenMpi, kPmi };

const char* launcher_name(Launcher l);

struct World {
  int rank = 0, size = 1;              // among all workers
  int local_rank = 0, local_size = 1;  // among the workers of this host
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  Launcher launcher = Launcher::kNone;  // kNone: a plain process, a world of one
  // torchrun's agent already serves the TCPStore at master_addr:master_port
  // (TORCHELASTIC_USE_AGENT_STORE=True): every rank, rank 0 too, joins it as a client.
  bool agent_store = false;
  bool distributed() const { return size > 1; }
  // "rank 1 of 4 (torchrun, local 1 of 2), rendezvous 10.0.0.1:29500"
  std::string describe() const;
};

// Looks up an environment variable; nullopt when it is not set.
using Environment = std::function<std::optional<std::string>(const std::string&)>;
// The process's own environment.
Environment process_environment();

// The world the environment describes. The first launcher whose variables are set wins, in the
// order above; none set is a world of one. Errors name the variable and what was expected
// (a rank outside [0, size), a port that is not one, a multi-host Slurm or MPI job without
// MASTER_ADDR).
StatusOr<World> detect_world(const Environment& env);

}  // namespace nasforge::distributed
