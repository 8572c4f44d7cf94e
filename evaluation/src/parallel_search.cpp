// The parallel search loop (run_parallel in internal/search_run.h). This process keeps the
// strategy and the store; workers evaluate. A free worker gets the next trial at once, asked
// for while others are still out, and each result is told to the strategy as it arrives. A
// worker that dies has its trial evaluated again by another, once; a trial that two workers died
// on is recorded as failed. Nothing is recorded twice: a trial is committed when its reply is
// read, and a dead worker's reply is never read.
#include <signal.h>
#include <sys/wait.h>

#include <deque>
#include <iostream>
#include <map>
#include <thread>

#include "internal/search_run.h"
#include "internal/trial_eval.h"
#include "internal/trial_wire.h"
#include "nasforge/distributed/process.h"
#include "nasforge/distributed/task_board.h"

namespace nasforge::evaluation {

namespace {

using Clock = std::chrono::steady_clock;

std::string seconds(std::chrono::milliseconds ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f s", ms.count() / 1000.0);
  return buf;
}

struct Worker {
  int id = 0;
  std::optional<distributed::ChildProcess> proc;  // started here; none under a launcher
  Clock::time_point started;
  bool joined = false, gone = false;
  std::optional<uint64_t> ticket;
  std::string name() const {
    return "worker " + std::to_string(id) +
           (proc ? " (pid " + std::to_string(proc->pid()) + ")" : std::string());
  }
};

struct Ticket {
  Architecture arch;
  std::string hash;
  int attempt = 1;
  std::vector<Architecture> followers;  // the same architecture, proposed again while out
  std::string deaths;                   // how the workers that had it ended
};

class Driver {
 public:
  Driver(SearchRun& run, distributed::TaskBoard& board)
      : run_(run), c_(run.config()), w_(c_.workers), board_(board) {}
  ~Driver() { shutdown(); }

  StatusOr<SearchResult> loop();

 private:
  Status spawn();
  Status watch_workers(bool* changed);
  // A worker's end, its joining, and (when `beats`) its heartbeat.
  Status watch_one(Worker& w, bool beats, bool* changed);
  void lost(Worker& w, const std::string& how);
  Status collect(bool* changed);
  Status settle(uint64_t id, TrialRecord r);
  Status propose(bool* changed);
  void dispatch(bool* changed);
  void shutdown();
  void log(const std::string& line) const {
    if (w_.log) w_.log(line);
  }
  size_t idle() const;
  uint64_t outstanding() const { return run_.result().evaluated + tickets_.size(); }

  SearchRun& run_;
  const SearchConfig& c_;
  const WorkerOptions& w_;
  distributed::TaskBoard& board_;
  std::deque<Worker> workers_;  // a deque: starting a worker leaves references to the others valid
  int next_id_ = 1, restarts_ = 0;
  std::map<uint64_t, Ticket> tickets_;                 // out or queued, by ticket
  std::unordered_map<std::string, uint64_t> by_hash_;  // the same, by architecture
  std::deque<uint64_t> queue_;                         // waiting for a free worker
  uint64_t next_ticket_ = 1, run_of_repeats_ = 0;
  bool stopping_ = false, starved_ = false;
  Clock::time_point last_beat_check_;
  std::string last_loss_;
};

Status Driver::spawn() {
  Worker w;
  w.id = next_id_++;
  w.started = Clock::now();
  const std::string endpoint =
      std::to_string(w.id) + "@" + w_.host + ":" + std::to_string(board_.port());
  auto p = distributed::ChildProcess::spawn(w_.command, {{kSearchWorkerEnv, endpoint}});
  if (!p.ok()) return p.status().WithContext("starting worker " + std::to_string(w.id));
  w.proc = std::move(*p);
  workers_.push_back(std::move(w));
  return Status::Ok();
}

size_t Driver::idle() const {
  size_t n = 0;
  for (const auto& w : workers_) n += w.joined && !w.gone && !w.ticket;
  return n;
}

// A worker that died, was killed, or went silent: its trial goes to another worker, once; a
// worker started here is replaced, up to as many times as there are workers.
void Driver::lost(Worker& w, const std::string& how) {
  w.gone = true;
  last_loss_ = how;
  SearchResult& res = run_.result();
  ++res.workers_lost;
  std::string line = how;
  if (w.ticket) {
    const uint64_t id = *w.ticket;
    w.ticket.reset();
    Ticket& t = tickets_.at(id);
    t.deaths += (t.deaths.empty() ? "" : "; ") + how;
    if (t.attempt == 1) {
      t.attempt = 2;
      queue_.push_front(id);
      ++res.requeued;
      line += "; its trial " + std::to_string(id) + " (" + c_.space->to_string(t.arch) +
              ") goes to another worker";
    } else {
      TrialRecord r;
      r.arch = c_.space->to_string(t.arch);
      r.hash = t.hash;
      r.status = "failed";
      r.error = "two workers died evaluating it: " + t.deaths;
      line += "; its trial " + std::to_string(id) + " was already a retry: recorded as failed";
      if (Status st = settle(id, r); !st.ok()) line += " (" + st.message() + ")";
    }
  }
  if (w.proc && restarts_ < w_.count) {
    ++restarts_;
    if (Status st = spawn(); st.ok())
      line += "; started worker " + std::to_string(workers_.back().id) + " in its place";
    else
      line += "; could not start another (" + st.message() + ")";
  }
  log("nasforge search: " + line);
}

Status Driver::watch_one(Worker& w, bool beats, bool* changed) {
  if (w.proc) {
    if (auto st = w.proc->poll()) {
      *changed = true;
      const std::string how = w.name() + " " + distributed::how_it_ended(*st);
      if (!w.joined && !WIFSIGNALED(*st)) {  // a worker that cannot start would fail again
        w.gone = true;
        last_loss_ = how + " before it joined (its error is above)";
        log("nasforge search: " + last_loss_);
        return Status::Ok();
      }
      lost(w, how + (w.joined ? "" : " before it joined"));
      return Status::Ok();
    }
  }
  if (!w.joined) {
    std::string why;
    switch (board_.joined(w.id, &why)) {
      case distributed::TaskBoard::Join::kJoined:
        w.joined = true;
        *changed = true;
        return Status::Ok();
      case distributed::TaskBoard::Join::kRefused:
        return FailedPrecondition(why);
      case distributed::TaskBoard::Join::kNotYet:
        break;
    }
    if (Clock::now() - w.started > w_.join) {
      if (w.proc) w.proc->signal(SIGKILL);
      w.gone = true;
      last_loss_ = w.name() + " did not join within " + seconds(w_.join);
      log("nasforge search: " + last_loss_);
      *changed = true;
    }
    return Status::Ok();
  }
  if (!beats) return Status::Ok();
  if (const auto quiet = board_.silence(w.id); quiet > w_.silence) {
    if (w.proc) {
      w.proc->signal(SIGKILL);
      w.proc->wait_for(2000);
    }
    *changed = true;
    lost(w, w.name() + " sent no heartbeat for " + seconds(quiet));
  }
  return Status::Ok();
}

Status Driver::watch_workers(bool* changed) {
  const bool beats = Clock::now() - last_beat_check_ > std::chrono::milliseconds(250);
  if (beats) last_beat_check_ = Clock::now();
  // lost() may start a worker, which grows workers_: index, and skip the new ones this round.
  for (size_t i = 0, n = workers_.size(); i < n; ++i)
    if (!workers_[i].gone) NF_RETURN_IF_ERROR(watch_one(workers_[i], beats, changed));
  for (const auto& w : workers_)
    if (!w.gone) return Status::Ok();
  return FailedPrecondition("no worker is left to evaluate the trials: the last, " + last_loss_);
}

Status Driver::settle(uint64_t id, TrialRecord r) {
  Ticket t = std::move(tickets_.at(id));
  tickets_.erase(id);
  by_hash_.erase(t.hash);
  auto trial = run_.record(std::move(r), t.arch, false);
  if (!trial.ok()) return trial.status();
  std::vector<strategies::Trial> told{*trial};
  for (const auto& f : t.followers) {
    told.push_back(*trial);
    told.back().arch = f;
  }
  run_.strategy().tell(told);
  starved_ = false;
  return Status::Ok();
}

Status Driver::collect(bool* changed) {
  for (auto& w : workers_) {
    if (w.gone || !w.ticket) continue;
    auto reply = board_.reply(w.id);
    if (!reply) continue;
    *changed = true;
    const uint64_t id = *w.ticket;
    w.ticket.reset();
    auto r = decode_trial(*reply);
    if (!r.ok()) return r.status().WithContext(w.name());
    if (r->hash != tickets_.at(id).hash)
      return FailedPrecondition(w.name() + " answered trial " + std::to_string(id) +
                                " with another architecture (" + r->arch + ")");
    NF_RETURN_IF_ERROR(settle(id, std::move(*r)));
  }
  return Status::Ok();
}

// Asks the strategy for as many architectures as there are free workers without a queued trial.
Status Driver::propose(bool* changed) {
  if (stopping_ || starved_) return Status::Ok();
  const size_t free = idle();
  if (free <= queue_.size() || outstanding() >= run_.budget()) return Status::Ok();
  SearchResult& res = run_.result();
  if (std::string why = run_.exhausted(run_of_repeats_); !why.empty()) {
    res.stopped = why;
    stopping_ = true;
    return Status::Ok();
  }
  auto archs =
      run_.strategy().ask(std::min<uint64_t>(free - queue_.size(), run_.budget() - outstanding()));
  *changed = true;
  if (archs.empty()) {
    if (tickets_.empty()) {
      res.stopped = "the strategy has nothing more to propose";
      stopping_ = true;
    }
    starved_ = true;  // until a result arrives
    return Status::Ok();
  }
  std::vector<strategies::Trial> told;
  for (const Architecture& a : archs) {
    ++res.proposals;
    const std::string h = c_.space->canonical_hash_hex(a);
    if (auto seen = run_.recorded(h, a)) {  // a repeat: free, same result
      ++res.repeats;
      ++run_of_repeats_;
      told.push_back(*seen);
      continue;
    }
    if (auto it = by_hash_.find(h); it != by_hash_.end()) {  // already out: told when it is back
      ++res.repeats;
      ++run_of_repeats_;
      tickets_.at(it->second).followers.push_back(a);
      continue;
    }
    run_of_repeats_ = 0;
    if (outstanding() >= run_.budget()) break;
    if (const TrialRecord* earlier = run_.stored(h)) {  // evaluated by an earlier run
      auto t = run_.record(*earlier, a, true);
      if (!t.ok()) return t.status();
      told.push_back(*t);
      continue;
    }
    const uint64_t id = next_ticket_++;
    tickets_.emplace(id, Ticket{a, h});
    by_hash_.emplace(h, id);
    queue_.push_back(id);
  }
  if (!told.empty()) run_.strategy().tell(told);
  return Status::Ok();
}

void Driver::dispatch(bool* changed) {
  for (auto& w : workers_) {
    if (queue_.empty()) return;
    if (!w.joined || w.gone || w.ticket) continue;
    const uint64_t id = queue_.front();
    queue_.pop_front();
    const Ticket& t = tickets_.at(id);
    board_.assign(w.id, distributed::Task{id, t.attempt, c_.space->to_string(t.arch)});
    w.ticket = id;
    *changed = true;
  }
}

void Driver::shutdown() {
  // A launcher's worker that has not joined yet (a search shorter than its start-up) would
  // find no board and wait for one: wait for it to join, within the join timeout, and
  // dismiss it too.
  for (auto& w : workers_) {
    if (w.gone || w.joined || w.proc) continue;
    try {
      while (board_.joined(w.id, nullptr) == distributed::TaskBoard::Join::kNotYet &&
             Clock::now() - w.started < w_.join)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      w.joined = board_.joined(w.id, nullptr) == distributed::TaskBoard::Join::kJoined;
    } catch (const std::exception&) {
    }
  }
  for (auto& w : workers_) {
    if (w.gone) continue;
    try {
      if (w.joined) board_.dismiss(w.id);
    } catch (const std::exception&) {
    }
    if (w.proc && !w.joined) w.proc->signal(SIGKILL);
  }
  // Dismissed workers finish their current task, if any, and exit; the rest are killed when
  // their ChildProcess goes. A launcher's workers must read their dismissal before this
  // process, and the board with it, goes away.
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  for (auto& w : workers_) {
    if (w.gone || w.ticket || !w.joined) continue;
    if (w.proc) {
      w.proc->wait_for(5000);
      continue;
    }
    try {
      while (!board_.left(w.id) && Clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } catch (const std::exception&) {
    }
  }
  workers_.clear();
}

StatusOr<SearchResult> Driver::loop() {
  if (w_.count > 0 && w_.command.empty())
    return InvalidArgument("a parallel search needs the command that starts a worker");
  for (int i = 0; i < w_.count; ++i) NF_RETURN_IF_ERROR(spawn());
  for (int r = 1; r <= w_.external; ++r) {
    Worker w;
    w.id = r;
    w.started = Clock::now();
    workers_.push_back(std::move(w));
  }
  next_id_ = std::max(next_id_, w_.external + 1);
  SearchResult& res = run_.result();
  while (!(tickets_.empty() && (stopping_ || res.evaluated >= run_.budget()))) {
    bool changed = false;
    NF_RETURN_IF_ERROR(watch_workers(&changed));
    NF_RETURN_IF_ERROR(collect(&changed));
    NF_RETURN_IF_ERROR(propose(&changed));
    dispatch(&changed);
    if (!changed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  shutdown();
  return run_.finish();
}

}  // namespace

StatusOr<SearchResult> run_parallel(SearchRun& run) {
  const SearchConfig& c = run.config();
  distributed::BoardOptions o;
  o.host = c.workers.host;
  o.port = c.workers.port;
  o.existing_store = c.workers.existing_store;
  o.timeout = c.workers.join;
  auto board = distributed::TaskBoard::serve(o, worker_agreement(c));
  if (!board.ok()) return board.status();
  try {
    Driver driver(run, **board);
    return driver.loop();
  } catch (const std::exception& e) {
    const std::string why(e.what());
    return FailedPrecondition("the parallel search's task board failed: " +
                              why.substr(0, why.find('\n')));
  }
}

}  // namespace nasforge::evaluation
