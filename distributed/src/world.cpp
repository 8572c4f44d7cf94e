#include "nasforge/distributed/world.h"

#include <cerrno>
#include <cstdlib>

namespace nasforge::distributed {

namespace {

// A whole number in [lo, hi] from `text`, the value of variable `name`, or an error naming it.
StatusOr<int> parse_int(const std::string& name, const std::string& text, int lo, int hi) {
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || x < lo || x > hi)
    return InvalidArgument("environment variable " + name + ": expected an integer in [" +
                           std::to_string(lo) + ", " + std::to_string(hi) + "], got '" + text +
                           "'");
  return static_cast<int>(x);
}

StatusOr<int> integer(const Environment& env, const std::string& name, int lo, int hi) {
  const auto v = env(name);
  if (!v) return NotFound("environment variable " + name + " is not set");
  return parse_int(name, *v, lo, hi);
}

// The variables a launcher family sets.
struct Names {
  Launcher launcher;
  const char *rank, *size, *local_rank, *local_size;
};

constexpr Names kFamilies[] = {
    {Launcher::kTorchrun, "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"},
    {Launcher::kSlurm, "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"},
    {Launcher::kOpenMpi, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
     "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"},
    {Launcher::kPmi, "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"},
};

constexpr int kMaxWorkers = 1 << 20;

}  // namespace

const char* launcher_name(Launcher l) {
  switch (l) {
    case Launcher::kNone:
      return "no launcher";
    case Launcher::kTorchrun:
      return "torchrun or nasforge launch";
    case Launcher::kSlurm:
      return "Slurm";
    case Launcher::kOpenMpi:
      return "Open MPI";
    case Launcher::kPmi:
      return "MPICH/PMI";
  }
  return "?";
}

std::string World::describe() const {
  return "rank " + std::to_string(rank) + " of " + std::to_string(size) + " (" +
         launcher_name(launcher) + ", local " + std::to_string(local_rank) + " of " +
         std::to_string(local_size) + "), rendezvous " + master_addr + ":" +
         std::to_string(master_port);
}

Environment process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

StatusOr<World> detect_world(const Environment& env) {
  World w;
  const Names* family = nullptr;
  for (const Names& f : kFamilies)
    if (env(f.rank) && env(f.size)) {
      family = &f;
      break;
    }
  if (!family) return w;
  w.launcher = family->launcher;
  auto size = integer(env, family->size, 1, kMaxWorkers);
  if (!size.ok()) return size.status();
  w.size = *size;
  auto rank = integer(env, family->rank, 0, w.size - 1);
  if (!rank.ok())
    return InvalidArgument(rank.status().message() + " (" + family->size + " is " +
                           std::to_string(w.size) + ")");
  w.rank = *rank;
  // Local rank and size: optional; without them a worker is taken to be alone on its host.
  w.local_size = 1;
  if (env(family->local_size)) {
    // Slurm writes SLURM_NTASKS_PER_NODE as "2" or "2(x3)"; the count before any '(' is it.
    const std::string v = *env(family->local_size);
    auto ls = parse_int(family->local_size, v.substr(0, v.find('(')), 1, w.size);
    if (!ls.ok()) return ls.status();
    w.local_size = *ls;
  }
  if (env(family->local_rank)) {
    auto lr = integer(env, family->local_rank, 0, kMaxWorkers);
    if (!lr.ok()) return lr.status();
    w.local_rank = *lr;
    if (w.local_rank >= w.local_size) w.local_size = w.local_rank + 1;
  } else {
    w.local_rank = w.local_size == w.size ? w.rank : 0;
  }
  // The rendezvous: MASTER_ADDR and MASTER_PORT in every family (torchrun sets them; under
  // Slurm and MPI the job script exports them). Slurm also names the launching node.
  if (auto addr = env("MASTER_ADDR"); addr && !addr->empty()) {
    w.master_addr = *addr;
  } else if (auto node = env("SLURM_LAUNCH_NODE_IPADDR");
             family->launcher == Launcher::kSlurm && node && !node->empty()) {
    w.master_addr = *node;
  } else if (w.size > 1 && w.local_size < w.size) {
    return InvalidArgument(std::string("environment variable MASTER_ADDR: expected the host of "
                                       "rank 0 for a job across hosts (") +
                           family->size + " is " + std::to_string(w.size) + ", " +
                           std::to_string(w.local_size) + " on this host), got none");
  }
  if (env("MASTER_PORT")) {
    auto port = integer(env, "MASTER_PORT", 1, 65535);
    if (!port.ok()) return port.status();
    w.master_port = *port;
  } else if (family->launcher == Launcher::kTorchrun && w.size > 1) {
    return InvalidArgument(
        "environment variable MASTER_PORT: expected the rendezvous port that "
        "torchrun sets with RANK, got none");
  }
  if (family->launcher == Launcher::kTorchrun) {
    const auto agent = env("TORCHELASTIC_USE_AGENT_STORE");
    w.agent_store = agent && (*agent == "True" || *agent == "true" || *agent == "1");
  }
  return w;
}

}  // namespace nasforge::distributed
