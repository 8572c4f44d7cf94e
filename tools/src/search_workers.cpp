// search --workers K (search_workers.h).
#include "search_workers.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "distributed_flags.h"
#include "nasforge/hardware/measuring_thread.h"

namespace nasforge::cli {

namespace {

// The world a search runs in. An sbatch script's own shell carries its allocation's
// SLURM_PROCID and SLURM_NTASKS; only a task that srun started (SLURM_STEP_ID set) is one rank of
// several. Elsewhere the launcher's world as it is.
distributed::World search_world() {
  distributed::World w = current_world();
  if (w.launcher == distributed::Launcher::kSlurm && !std::getenv("SLURM_STEP_ID") &&
      !std::getenv("SLURM_STEPID"))
    return distributed::World{};
  return w;
}

// The driver's own arguments without the flags that only the driver reads (--workers, its
// timeout, --json) and with each worker's share of the cores as --threads.
std::vector<std::string> worker_command(int threads) {
  std::vector<std::string> out{self_path()};
  const auto& args = invocation();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    bool dropped = false;
    for (const char* flag : {"--workers", "--worker-timeout", "--threads"}) {
      const std::string f(flag);
      if (a == f) {
        ++i;  // and its value
        dropped = true;
      } else if (a.rfind(f + "=", 0) == 0) {
        dropped = true;
      }
    }
    if (!dropped && a != "--json") out.push_back(a);
  }
  out.push_back("--threads");
  out.push_back(std::to_string(threads));
  return out;
}

}  // namespace

bool configure_workers(const Command& cmd, const Args& a, evaluation::SearchConfig& c) {
  auto& w = c.workers;
  const distributed::World world = search_world();
  if (a.has("worker-timeout")) {
    auto s = parse_number(a.get("worker-timeout"));
    if (!s || !(*s > 0) || *s > 86400) {
      std::cerr << "nasforge " << cmd.name << ": --worker-timeout: expected seconds in (0, 86400], "
                << "got '" << a.get("worker-timeout") << "'\n";
      return false;
    }
    w.silence = std::chrono::milliseconds(static_cast<int64_t>(*s * 1000));
  }
  w.log = [](const std::string& line) { std::cerr << "\n" << line << "\n"; };
  auto join = dist_timeout();
  if (!join.ok()) {
    fail(cmd.name, join.status().message());
    return false;
  }
  w.join = *join;
  if (world.distributed()) {  // rank 0 drives the others, which its launcher started
    if (a.has("workers")) {
      fail(cmd.name, "--workers: the launcher started " + std::to_string(world.size) +
                         " ranks; rank 0 drives the other " + std::to_string(world.size - 1) +
                         " (give one or the other, not both)");
      return false;
    }
    w.external = world.size - 1;
    w.host = world.master_addr;
    w.port = world.master_port;
    w.existing_store = world.agent_store;
    return true;
  }
  if (!a.has("workers")) return true;
  auto k = parse_count("workers", a.get("workers"));
  if (!k || *k == 0 || *k > 256) {
    if (k) std::cerr << "--workers: expected an integer in [1, 256], got " << *k << "\n";
    return false;
  }
  w.count = static_cast<int>(*k);
  uint64_t threads = std::max<uint64_t>(1, hardware::allowed_cores().size() / *k);
  if (a.has("threads")) {
    auto t = parse_count("threads", a.get("threads"));
    if (!t || *t == 0 || *t > 1024) {
      std::cerr << "--threads: expected an integer in [1, 1024]\n";
      return false;
    }
    threads = *t;
  }
  w.command = worker_command(static_cast<int>(threads));
  for (const auto& m : c.metrics)
    if (m.source.rfind("measure:", 0) == 0 && w.count > 1)
      std::cerr << "warning: " << m.metric.name << "=" << m.source << " with " << w.count
                << " workers on one host: latencies measured while other workers run are "
                   "disturbed by them; prefer a predictor: source (fit-latency)\n";
  return true;
}

std::optional<int> serve_if_worker(const Command& cmd, const Args& a,
                                   const evaluation::SearchConfig& c) {
  std::string endpoint;
  if (const char* e = std::getenv(evaluation::kSearchWorkerEnv); e && *e) {
    endpoint = e;
  } else {
    const distributed::World world = search_world();
    if (!world.distributed() || world.rank == 0) return std::nullopt;
    endpoint = std::to_string(world.rank) + "@" + world.master_addr + ":" +
               std::to_string(world.master_port);
  }
  if (!set_threads(a)) return 1;
  if (Status st = evaluation::serve_trials(c, endpoint); !st.ok())
    return fail(cmd.name, st.message());
  return 0;
}

}  // namespace nasforge::cli
