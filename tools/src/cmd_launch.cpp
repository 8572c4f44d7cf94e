// nasforge launch: the local workers of a distributed run (nasforge/distributed/launch.h), and
// how every distributed-aware command joins its group.
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cli.h"
#include "distributed_flags.h"
#include "nasforge/distributed/launch.h"
#include "nasforge/searchspace/hash.h"

namespace nasforge::cli {

StatusOr<std::chrono::milliseconds> dist_timeout() {
  const char* v = std::getenv("NASFORGE_DIST_TIMEOUT");
  if (!v || !*v) return std::chrono::milliseconds(std::chrono::seconds(300));
  const auto s = parse_number(v);
  if (!s || !(*s > 0) || *s > 86400)
    return InvalidArgument(
        std::string("environment variable NASFORGE_DIST_TIMEOUT: expected seconds in (0, "
                    "86400], got '") +
        v + "'");
  return std::chrono::milliseconds(static_cast<int64_t>(*s * 1000));
}

distributed::World current_world() {
  auto w = distributed::detect_world(distributed::process_environment());
  return w.ok() ? *w : distributed::World{};
}

StatusOr<std::shared_ptr<distributed::Group>> join_group() {
  auto world = distributed::detect_world(distributed::process_environment());
  if (!world.ok()) return world.status();
  if (!world->distributed()) return distributed::solo_group();
  auto timeout = dist_timeout();
  if (!timeout.ok()) return timeout.status();
  distributed::ConnectOptions o;
  o.timeout = *timeout;
  return distributed::connect(*world, o);
}

std::string ranks_note(const distributed::Group& group) {
  if (group.size() == 1) return "";
  return ", on " + std::to_string(group.size()) + " ranks (" +
         distributed::launcher_name(group.world().launcher) + ")";
}

std::string not_distributed(int ranks) {
  std::string aware;
  for (const auto& c : Registry::instance().all())
    if (c.distributed) aware += (aware.empty() ? "" : ", ") + c.name;
  return "does not run distributed (yet): as " + std::to_string(ranks) +
         " ranks it would run that many times over; the distributed commands are " + aware +
         " (docs/distributed.md)";
}

Status agree_on_start(distributed::Group& group, const std::string& digest) {
  if (group.size() == 1) return Status::Ok();
  const auto all = group.allgather(static_cast<int64_t>(fnv1a64(digest)));
  if (std::string bad = distributed::disagreeing_ranks(all); !bad.empty())
    return FailedPrecondition(
        "rank(s) " + bad +
        " start from another state than rank 0 (another checkpoint, config or seed); with "
        "several hosts, --out must be on a filesystem that every rank sees");
  return Status::Ok();
}

namespace {

// --master ADDR:PORT
bool parse_master(const std::string& text, distributed::LaunchOptions& o) {
  const auto colon = text.rfind(':');
  const auto port =
      colon == std::string::npos ? std::nullopt : parse_number(text.substr(colon + 1));
  if (colon == 0 || !port || *port < 1 || *port > 65535 || *port != static_cast<int>(*port)) {
    std::cerr << "nasforge launch: --master: expected ADDR:PORT with a port in [1, 65535], got '"
              << text << "'\n";
    return false;
  }
  o.master_addr = text.substr(0, colon);
  o.master_port = static_cast<int>(*port);
  return true;
}

// An integer flag in [lo, hi].
bool int_flag(const Args& a, const std::string& name, int lo, int hi, int& out) {
  if (!a.has(name)) return true;
  const auto v = parse_number(a.get(name));
  if (!v || *v < lo || *v > hi || *v != static_cast<int>(*v)) {
    std::cerr << "nasforge launch: " << (name.size() == 1 ? "-" : "--") << name
              << ": expected an integer in [" << lo << ", " << hi << "], got '" << a.get(name)
              << "'\n";
    return false;
  }
  out = static_cast<int>(*v);
  return true;
}

int run_launch(const Command& cmd, const Args& a) {
  std::vector<std::string> command = a.positional;
  if (command.empty())
    return fail(cmd.name,
                "expected the command after --, e.g. nasforge launch -n 2 -- "
                "train-supernet --space S --data D --out DIR\n" +
                    command_help(cmd));
  distributed::LaunchOptions o;
  if (!int_flag(a, "n", 1, 1024, o.workers) || !int_flag(a, "nnodes", 1, 65536, o.nnodes) ||
      !int_flag(a, "node-rank", 0, 65535, o.node_rank))
    return 1;
  if (o.node_rank >= o.nnodes)
    return fail(cmd.name, "--node-rank " + std::to_string(o.node_rank) +
                              ": expected a host index below --nnodes " + std::to_string(o.nnodes));
  if (a.has("master") && !parse_master(a.get("master"), o)) return 1;
  if (o.nnodes > 1 && !a.has("master"))
    return fail(cmd.name, "--nnodes " + std::to_string(o.nnodes) +
                              ": expected --master ADDR:PORT, the host of node 0 and a port");
  if (a.has("timeout")) {
    const auto t = parse_number(a.get("timeout"));
    if (!t || !(*t > 0) || *t > 86400)
      return fail(cmd.name,
                  "--timeout: expected seconds in (0, 86400], got '" + a.get("timeout") + "'");
    setenv("NASFORGE_DIST_TIMEOUT", a.get("timeout").c_str(), 1);
  }
  // A nasforge command runs this very binary; anything else is a program on PATH. Only the
  // commands that join a group may run under launch: any other would run K times over.
  if (const Command* run = Registry::instance().find(command[0])) {
    if (!run->distributed)
      return fail(cmd.name, "'" + command[0] + "' " + not_distributed(o.workers));
    o.rank0_leads = run->driver_led;
    // The workers keep this process's allocator policy (nasforge --allocator glibc launch ...).
    const auto& self = invocation();
    if (self.size() >= 2 && self[0] == "--allocator")
      command.insert(command.begin(), {self[0], self[1]});
    command.insert(command.begin(), self_path());
  }
  return distributed::launch_workers(o, command, std::cerr);
}

}  // namespace

NF_CMD(kLaunch, "launch", "Start the workers of a distributed run on this host (as torchrun does).",
       "-n K [--nnodes N --node-rank R --master ADDR:PORT] [--timeout S] -- COMMAND ARGS...",
       {{"n", true, "workers on this host"},
        {"nnodes", true, "hosts in the run (default 1); each runs nasforge launch"},
        {"node-rank", true, "this host's index in [0, nnodes) (default 0)"},
        {"master", true, "ADDR:PORT of rank 0's rendezvous (default: this host, a free port)"},
        {"timeout", true,
         "seconds the rendezvous and each collective wait for the other ranks (default 300)"}},
       run_launch, /*max_positional=*/1000)

}  // namespace nasforge::cli
