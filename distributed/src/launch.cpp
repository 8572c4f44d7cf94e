#include "nasforge/distributed/launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "nasforge/distributed/process.h"

namespace nasforge::distributed {

namespace {

std::atomic<int> g_forward_signal{0};

extern "C" void remember_signal(int sig) { g_forward_signal.store(sig); }

// Installs the forwarding handlers for SIGINT and SIGTERM and puts the old ones back on exit.
class SignalScope {
 public:
  SignalScope() {
    struct sigaction sa {};
    sa.sa_handler = remember_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: waitpid returns EINTR so that the loop forwards it
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
    g_forward_signal.store(0);
  }
  ~SignalScope() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

[[noreturn]] void exec_worker(const LaunchOptions& o, int local, int port,
                              const std::vector<std::string>& command, pid_t launcher) {
  const int world = o.nnodes * o.workers;
  const int rank = o.node_rank * o.workers + local;
  // A launcher killed outright (SIGKILL) leaves no orphans: the kernel kills its workers.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != launcher) _exit(1);  // it died before prctl took effect
  auto set = [](const char* k, const std::string& v) { setenv(k, v.c_str(), 1); };
  set("RANK", std::to_string(rank));
  set("WORLD_SIZE", std::to_string(world));
  set("LOCAL_RANK", std::to_string(local));
  set("LOCAL_WORLD_SIZE", std::to_string(o.workers));
  set("GROUP_RANK", std::to_string(o.node_rank));
  set("MASTER_ADDR", o.master_addr);
  set("MASTER_PORT", std::to_string(port));
  std::vector<char*> argv;
  for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  const std::string msg = "nasforge launch: rank " + std::to_string(rank) + ": cannot run '" +
                          command[0] + "': " + std::strerror(errno) + "\n";
  (void)!write(2, msg.data(), msg.size());
  _exit(127);
}

}  // namespace

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

namespace {

// The workers of this host, watched until all have ended: the first failure (or a signal sent
// to the launcher) stops the rest, SIGTERM first, SIGKILL after the grace period.
class Workers {
 public:
  Workers(const LaunchOptions& o, std::ostream& log) : o_(o), log_(log), pids_(o.workers, -1) {}

  // Forks and execs every worker; false (the started ones killed) when a fork fails.
  bool start(const std::vector<std::string>& command, int port) {
    const pid_t self = getpid();
    for (int i = 0; i < o_.workers; ++i) {
      const pid_t pid = fork();
      if (pid < 0) {
        log_ << "nasforge launch: cannot start worker " << i << ": " << std::strerror(errno)
             << "\n";
        signal_all(SIGKILL);
        for (pid_t p : pids_)
          if (p > 0) waitpid(p, nullptr, 0);
        return false;
      }
      if (pid == 0) exec_worker(o_, i, port, command, self);
      pids_[i] = pid;
    }
    running_ = o_.workers;
    return true;
  }

  // Waits for every worker; the launcher's exit code.
  int wait() {
    while (running_ > 0) {
      if (int sig = g_forward_signal.exchange(0); sig != 0) {
        log_ << "nasforge launch: passing signal " << sig << " on to the workers\n";
        signal_all(sig);
        stop(128 + sig, 0);
      }
      if (stopping_ && !killed_ && std::chrono::steady_clock::now() >= deadline_) {
        log_ << "nasforge launch: " << running_ << " worker(s) still running after "
             << o_.grace.count() / 1000.0 << " s; killing them\n";
        signal_all(SIGKILL);
        killed_ = true;
      }
      if (!reap()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return rc_;
  }

 private:
  // Reaps the next worker to end, in the order they end, so that the first failure is the one
  // named (a peer that then fails on its own must not take its place). Blocks until one ends or
  // a signal arrives; once stopping, only looks. False when none was reaped. waitpid(-1) would
  // also reap a caller's other children: the nasforge CLI and the tests that call this have
  // none but the workers.
  bool reap() {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, stopping_ ? WNOHANG : 0);
    if (pid < 0 && errno == ECHILD) running_ = 0;  // nothing left to wait for
    if (pid <= 0) return false;
    const auto it = std::find(pids_.begin(), pids_.end(), pid);
    if (it == pids_.end()) return true;  // not a worker
    const auto i = static_cast<int>(it - pids_.begin());
    const int rank = o_.node_rank * o_.workers + i;
    *it = -1;
    --running_;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (o_.rank0_leads && rank == 0 && ok) {
      stop(0, 0);  // the driver is done: the others end on their own, or are killed after grace
      return true;
    }
    if (ok || stopping_) return true;
    log_ << "nasforge launch: rank " << rank << " (pid " << pid << ") " << how_it_ended(status);
    if (o_.rank0_leads && rank != 0) {
      log_ << "; rank 0 carries on, and decides when the run ends\n";
      return true;
    }
    if (running_ > 0) log_ << "; stopping the other " << running_ << " worker(s) on this host";
    log_ << "\n";
    stop(exit_code_of(status), SIGTERM);
    return true;
  }

  // The first failure decides the exit code and starts the grace period.
  void stop(int rc, int sig) {
    if (stopping_) return;
    stopping_ = true;
    rc_ = rc;
    deadline_ = std::chrono::steady_clock::now() + o_.grace;
    if (sig) signal_all(sig);
  }

  void signal_all(int sig) {
    for (pid_t p : pids_)
      if (p > 0) kill(p, sig);
  }

  const LaunchOptions& o_;
  std::ostream& log_;
  std::vector<pid_t> pids_;
  int running_ = 0, rc_ = 0;
  bool stopping_ = false, killed_ = false;
  std::chrono::steady_clock::time_point deadline_;
};

}  // namespace

int launch_workers(const LaunchOptions& o, const std::vector<std::string>& command,
                   std::ostream& log) {
  if (command.empty()) {
    log << "nasforge launch: no command to run\n";
    return 2;
  }
  const int port = o.master_port > 0 ? o.master_port : free_port();
  if (port <= 0) {
    log << "nasforge launch: found no free port for the rendezvous; pass --master ADDR:PORT\n";
    return 1;
  }
  SignalScope signals;
  Workers workers(o, log);
  if (!workers.start(command, port)) return 1;
  return workers.wait();
}

}  // namespace nasforge::distributed
