// The distributed library: the launcher environment contract, sharded batches, and groups of
// real processes over c10d (loopback, 2 workers each): collectives, data-parallel training
// against one process, ranks that disagree, a dead worker, and a rendezvous nobody joins.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "../searchspace/test_util.h"
#include "nasforge/distributed/group.h"
#include "nasforge/distributed/launch.h"
#include "nasforge/distributed/process.h"
#include "nasforge/distributed/task_board.h"
#include "nasforge/distributed/world.h"
#include "nasforge/supernet/data.h"

namespace nasforge::distributed {
namespace {

namespace fs = std::filesystem;

Environment env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(World, NoLauncherIsAWorldOfOne) {
  auto w = detect_world(env_of({}));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->size, 1);
  EXPECT_EQ(w->rank, 0);
  EXPECT_FALSE(w->distributed());
  EXPECT_EQ(w->launcher, Launcher::kNone);
}

TEST(World, TorchrunContract) {
  auto w = detect_world(env_of({{"RANK", "3"},
                                {"WORLD_SIZE", "4"},
                                {"LOCAL_RANK", "1"},
                                {"LOCAL_WORLD_SIZE", "2"},
                                {"MASTER_ADDR", "10.0.0.5"},
                                {"MASTER_PORT", "29401"}}));
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->launcher, Launcher::kTorchrun);
  EXPECT_EQ(w->rank, 3);
  EXPECT_EQ(w->size, 4);
  EXPECT_EQ(w->local_rank, 1);
  EXPECT_EQ(w->local_size, 2);
  EXPECT_EQ(w->master_addr, "10.0.0.5");
  EXPECT_EQ(w->master_port, 29401);
  EXPECT_NE(w->describe().find("rank 3 of 4"), std::string::npos);
  EXPECT_FALSE(w->agent_store);
  auto agent = detect_world(env_of({{"RANK", "0"},
                                    {"WORLD_SIZE", "2"},
                                    {"MASTER_ADDR", "127.0.0.1"},
                                    {"MASTER_PORT", "29401"},
                                    {"TORCHELASTIC_USE_AGENT_STORE", "True"}}));
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  EXPECT_TRUE(agent->agent_store);
}

TEST(World, SlurmUsesTheLaunchNodeAndTasksPerNode) {
  auto w = detect_world(env_of({{"SLURM_PROCID", "5"},
                                {"SLURM_NTASKS", "8"},
                                {"SLURM_LOCALID", "1"},
                                {"SLURM_NTASKS_PER_NODE", "4(x2)"},
                                {"SLURM_LAUNCH_NODE_IPADDR", "192.168.1.7"}}));
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->launcher, Launcher::kSlurm);
  EXPECT_EQ(w->rank, 5);
  EXPECT_EQ(w->size, 8);
  EXPECT_EQ(w->local_rank, 1);
  EXPECT_EQ(w->local_size, 4);
  EXPECT_EQ(w->master_addr, "192.168.1.7");
  EXPECT_EQ(w->master_port, 29500);
}

TEST(World, OpenMpiAndPmi) {
  auto o = detect_world(env_of({{"OMPI_COMM_WORLD_RANK", "1"},
                                {"OMPI_COMM_WORLD_SIZE", "2"},
                                {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                                {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}}));
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->launcher, Launcher::kOpenMpi);
  EXPECT_EQ(o->rank, 1);
  EXPECT_EQ(o->master_addr, "127.0.0.1");  // one host: loopback
  auto p = detect_world(env_of({{"PMI_RANK", "0"}, {"PMI_SIZE", "1"}}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->launcher, Launcher::kPmi);
  EXPECT_FALSE(p->distributed());
}

TEST(World, ErrorsNameTheVariable) {
  auto bad_rank = detect_world(env_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}}));
  ASSERT_FALSE(bad_rank.ok());
  EXPECT_NE(bad_rank.status().message().find("RANK: expected an integer in [0, 1], got '2'"),
            std::string::npos)
      << bad_rank.status().message();
  auto bad_size = detect_world(env_of({{"RANK", "0"}, {"WORLD_SIZE", "two"}}));
  ASSERT_FALSE(bad_size.ok());
  EXPECT_NE(bad_size.status().message().find("WORLD_SIZE"), std::string::npos);
  // Across hosts, the rendezvous host must be named.
  auto no_master = detect_world(env_of({{"OMPI_COMM_WORLD_RANK", "0"},
                                        {"OMPI_COMM_WORLD_SIZE", "4"},
                                        {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}}));
  ASSERT_FALSE(no_master.ok());
  EXPECT_NE(no_master.status().message().find("MASTER_ADDR"), std::string::npos);
  auto bad_port = detect_world(
      env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}));
  ASSERT_FALSE(bad_port.ok());
  EXPECT_NE(bad_port.status().message().find("MASTER_PORT"), std::string::npos);
}

TEST(World, DisagreeingRanksAreNamed) {
  EXPECT_EQ(disagreeing_ranks({5, 5, 5}), "");
  EXPECT_EQ(disagreeing_ranks({5, 6, 5, 7}), "1, 3");
}

// K shards of every batch, side by side, are the unsharded batch: the same images, labels and
// augmentation, in the same order.
TEST(Shard, ShardsTogetherAreTheWholeBatch) {
  data::SyntheticOptions so;
  so.train = 100;
  auto d = data::make_synthetic(so);
  data::AugmentOptions aug;
  aug.pad_crop = 2;
  aug.hflip = true;
  auto loader = [&](data::Shard s) {
    return data::BatchLoader(d.train, d.mean, d.std, 32, true, aug, 7, s);
  };
  for (int k : {2, 3}) {
    auto whole = loader({});
    std::vector<data::BatchLoader> parts;
    for (int r = 0; r < k; ++r) parts.push_back(loader({r, k}));
    EXPECT_EQ(whole.batches_per_epoch(), 4);
    // 100 = 3 x 32 + 4: the last batch has 4 images, enough for 2 or 3 shards.
    EXPECT_EQ(parts[0].batches_per_epoch(), 4);
    for (int b = 0; b < 4; ++b) {
      data::Batch w;
      ASSERT_TRUE(whole.next(w));
      std::vector<at::Tensor> images, labels;
      for (auto& p : parts) {
        data::Batch s;
        ASSERT_TRUE(p.next(s));
        EXPECT_EQ(s.global_size, w.labels.size(0));
        images.push_back(s.images);
        labels.push_back(s.labels);
      }
      EXPECT_TRUE(torch::equal(torch::cat(images), w.images)) << "batch " << b << ", k " << k;
      EXPECT_TRUE(torch::equal(torch::cat(labels), w.labels));
    }
    data::Batch end;
    EXPECT_FALSE(parts[0].next(end));
  }
  // A last batch with fewer images than shards is dropped: 100 = 3 x 33 + 1.
  data::BatchLoader lone(d.train, d.mean, d.std, 33, true, aug, 7, {1, 2});
  EXPECT_EQ(lone.batches_per_epoch(), 3);
  data::Batch b;
  int n = 0;
  while (lone.next(b)) ++n;
  EXPECT_EQ(n, 3);
}

// ---- groups of processes ---------------------------------------------------------------

// The worker program is built next to this test binary.
std::string worker_binary() {
  return (fs::read_symlink("/proc/self/exe").parent_path() / "distributed_worker").string();
}

struct Outcome {
  int rc = 0;
  std::map<int, std::pair<int, std::string>> ranks;  // rank -> (exit code, message)
  std::string log;
  double seconds = 0;
};

// Runs the worker K times on this host through launch_workers, in a private folder.
Outcome run_workers(int k, const std::vector<std::string>& args,
                    std::map<std::string, std::string> env = {}, LaunchOptions o = {}) {
  static int n = 0;
  const fs::path out = fs::path(testing::private_temp_dir()) / ("run" + std::to_string(++n));
  fs::create_directories(out);
  env["WORKER_OUT"] = out.string();
  for (auto& [key, v] : env) setenv(key.c_str(), v.c_str(), 1);
  o.workers = k;
  std::vector<std::string> command{worker_binary()};
  command.insert(command.end(), args.begin(), args.end());
  std::ostringstream log;
  const auto start = std::chrono::steady_clock::now();
  Outcome r;
  r.rc = launch_workers(o, command, log);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& [key, v] : env) unsetenv(key.c_str());
  r.log = log.str();
  for (int rank = 0; rank < o.nnodes * k; ++rank) {
    std::ifstream in(out / ("rank" + std::to_string(rank) + ".txt"));
    int code;
    if (!(in >> code)) continue;
    std::string message;
    std::getline(in, message);
    r.ranks[rank] = {code, message};
  }
  return r;
}

TEST(Group, CollectivesSumOverTwoAndThreeProcesses) {
  for (int k : {2, 3}) {
    auto r = run_workers(k, {"sums"});
    EXPECT_EQ(r.rc, 0) << r.log;
    ASSERT_EQ(r.ranks.size(), static_cast<size_t>(k));
    for (auto& [rank, result] : r.ranks) EXPECT_EQ(result.first, 0) << rank << result.second;
  }
}

// Under torchrun, its agent serves the TCPStore at MASTER_PORT (TORCHELASTIC_USE_AGENT_STORE):
// rank 0 must join it as a client, not try to serve the same port.
TEST(Group, RanksJoinTorchrunsAgentStore) {
  c10d::TCPStoreOptions so;
  so.port = 0;
  so.isServer = true;
  so.waitWorkers = false;
  auto agent = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", so);
  LaunchOptions o;
  o.master_port = agent->getPort();
  auto r = run_workers(2, {"sums"}, {{"TORCHELASTIC_USE_AGENT_STORE", "True"}}, o);
  EXPECT_EQ(r.rc, 0) << r.log;
  ASSERT_EQ(r.ranks.size(), 2u);
  for (auto& [rank, result] : r.ranks) EXPECT_EQ(result.first, 0) << rank << result.second;
}

std::vector<at::Tensor> load_weights(const std::string& path) {
  std::vector<at::Tensor> w;
  torch::load(w, path);
  return w;
}

// Two ranks with half the batch each take the step that one process takes on the whole batch:
// the same weights after 6 steps of SGD with momentum, weight decay and augmentation, up to
// the order of float additions.
TEST(DataParallel, TwoRanksStepAsOneProcessOnTheWholeBatch) {
  const fs::path dir = testing::private_temp_dir();
  const std::string one = (dir / "k1.pt").string(), two = (dir / "k2.pt").string();
  auto r1 = run_workers(1, {"train", one, "6"});
  ASSERT_EQ(r1.rc, 0) << r1.log << r1.ranks[0].second;
  auto r2 = run_workers(2, {"train", two, "6"});
  ASSERT_EQ(r2.rc, 0) << r2.log << r2.ranks[0].second << r2.ranks[1].second;
  auto a = load_weights(one), b = load_weights(two);
  ASSERT_EQ(a.size(), b.size());
  double worst = 0, moved = 0;
  // The same initial weights, to compare how far training moved them.
  auto r0 = run_workers(1, {"train", (dir / "k0.pt").string(), "0"});
  ASSERT_EQ(r0.rc, 0);
  auto init = load_weights((dir / "k0.pt").string());
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, (a[i] - b[i]).abs().max().item<double>());
    moved = std::max(moved, (a[i] - init[i]).abs().max().item<double>());
  }
  EXPECT_GT(moved, 1e-3);  // training did move the weights
  EXPECT_LT(worst, 1e-5) << "largest difference between K = 1 and K = 2";
}

// A checkpoint written by two ranks resumes on one, and one rank's on two: 3 steps on K ranks,
// then 3 on the other K, end where 6 steps on one process end.
TEST(DataParallel, ARunResumesOnAnotherNumberOfRanks) {
  const fs::path dir = testing::private_temp_dir();
  auto straight = run_workers(1, {"train", (dir / "straight.pt").string(), "6"});
  ASSERT_EQ(straight.rc, 0) << straight.log;
  const auto want = load_weights((dir / "straight.pt").string());
  for (auto [first, second] : {std::pair{2, 1}, std::pair{1, 2}}) {
    const std::string tag = std::to_string(first) + "to" + std::to_string(second);
    const std::string ckpt = (dir / (tag + ".ckpt")).string();
    auto a = run_workers(first, {"train", "", "3"}, {{"WORKER_SAVE", ckpt}});
    ASSERT_EQ(a.rc, 0) << a.log << a.ranks[0].second;
    const std::string out = (dir / (tag + ".pt")).string();
    auto b = run_workers(second, {"train", out, "3"}, {{"WORKER_LOAD", ckpt}});
    ASSERT_EQ(b.rc, 0) << b.log << b.ranks[0].second;
    const auto got = load_weights(out);
    ASSERT_EQ(got.size(), want.size());
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i)
      worst = std::max(worst, (got[i] - want[i]).abs().max().item<double>());
    EXPECT_LT(worst, 1e-5) << tag;
  }
}

// Ranks that sample different paths (another seed on rank 1) all stop with an error naming the
// rank, instead of waiting forever in collectives of different sizes.
TEST(DataParallel, RanksThatDisagreeFailInsteadOfDeadlocking) {
  LaunchOptions o;
  o.grace = std::chrono::seconds(30);
  auto r = run_workers(2, {"disagree"}, {{"WORKER_IGNORE_TERM", "1"}}, o);
  EXPECT_EQ(r.rc, 3) << r.log;
  ASSERT_EQ(r.ranks.size(), 2u) << r.log;
  for (auto& [rank, result] : r.ranks) {
    EXPECT_EQ(result.first, 3) << "rank " << rank << ": " << result.second;
    EXPECT_NE(result.second.find("rank(s) 1 differ from rank 0"), std::string::npos)
        << result.second;
  }
  EXPECT_LT(r.seconds, 20);  // well before the 20 s timeout
}

// A worker that dies mid-training: its peer finds out by itself (SIGTERM ignored) within the
// timeout, with an error; the launcher names the dead rank.
TEST(DataParallel, ADeadWorkerEndsItsPeersWithinTheTimeout) {
  LaunchOptions o;
  o.grace = std::chrono::seconds(60);
  auto r = run_workers(2, {"die"}, {{"WORKER_IGNORE_TERM", "1"}, {"WORKER_TIMEOUT", "10"}}, o);
  EXPECT_EQ(r.rc, 1) << r.log;
  EXPECT_NE(r.log.find("rank 1 (pid"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("exited with status 1"), std::string::npos) << r.log;
  ASSERT_EQ(r.ranks.count(0), 1u) << r.log;
  EXPECT_EQ(r.ranks[0].first, 3) << r.ranks[0].second;
  EXPECT_NE(r.ranks[0].second.find("rank 0 of 2"), std::string::npos) << r.ranks[0].second;
  EXPECT_LT(r.seconds, 30);
}

// Rank 0 of a world of two that nobody else joins: the rendezvous gives up after its timeout
// and says what it waited for.
TEST(Group, ARendezvousNobodyJoinsTimesOut) {
  LaunchOptions o;
  o.nnodes = 2;  // this host runs node 0's one worker; node 1 never comes
  o.node_rank = 0;
  o.master_port = free_port();
  auto r = run_workers(1, {"sums"}, {{"WORKER_TIMEOUT", "2"}}, o);
  EXPECT_EQ(r.rc, 4) << r.log;
  ASSERT_EQ(r.ranks.count(0), 1u);
  EXPECT_NE(r.ranks[0].second.find("waited 2 s for the other ranks"), std::string::npos)
      << r.ranks[0].second;
  EXPECT_LT(r.seconds, 15);
}

TEST(Launch, ACommandThatCannotRunIsReported) {
  std::ostringstream log;
  LaunchOptions o;
  o.workers = 2;
  EXPECT_EQ(launch_workers(o, {"/nonexistent/nasforge-worker"}, log), 127);
  EXPECT_NE(log.str().find("exited with status 127"), std::string::npos) << log.str();
}

// The task board of the parallel search, with its workers as threads of this process: tasks
// and replies in order, dismissal, a refused configuration, and a heartbeat that stops.
TEST(TaskBoard, TasksRepliesAndDismissal) {
  BoardOptions o;
  o.timeout = std::chrono::seconds(10);
  o.beat = std::chrono::milliseconds(20);
  auto board = TaskBoard::serve(o, "seed: 0\n");
  ASSERT_TRUE(board.ok()) << board.status().message();
  o.port = (*board)->port();
  ASSERT_GT(o.port, 0);
  std::vector<std::string> seen;
  std::thread worker([&] {
    auto client = TaskClient::join(o, 7, "seed: 0\n");
    ASSERT_TRUE(client.ok()) << client.status().message();
    for (;;) {
      auto t = (*client)->next();
      ASSERT_TRUE(t.ok()) << t.status().message();
      if (!*t) return;
      seen.push_back((*t)->payload + "#" + std::to_string((*t)->ticket) + "/" +
                     std::to_string((*t)->attempt));
      ASSERT_TRUE((*client)->reply(**t, "done " + (*t)->payload).ok());
    }
  });
  std::string why;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*board)->joined(7, &why) == TaskBoard::Join::kNotYet &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_EQ((*board)->joined(7, &why), TaskBoard::Join::kJoined) << why;
  for (uint64_t ticket : {3, 9}) {
    (*board)->assign(7, Task{ticket, ticket == 9 ? 2 : 1, "a" + std::to_string(ticket)});
    std::optional<std::string> r;
    while (!(r = (*board)->reply(7))) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(*r, "done a" + std::to_string(ticket));
  }
  EXPECT_LT((*board)->silence(7).count(), 1000);
  (*board)->dismiss(7);
  worker.join();
  EXPECT_EQ(seen, (std::vector<std::string>{"a3#3/1", "a9#9/2"}));
  EXPECT_TRUE((*board)->left(7));
}

TEST(TaskBoard, AWorkerWithAnotherConfigurationIsRefusedOnBothSides) {
  BoardOptions o;
  o.timeout = std::chrono::seconds(10);
  auto board = TaskBoard::serve(o, "strategy: rea\nseed: 0\n");
  ASSERT_TRUE(board.ok());
  o.port = (*board)->port();
  auto client = TaskClient::join(o, 1, "strategy: rea\nseed: 1\n");
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("driver 'seed: 0', worker 'seed: 1'"), std::string::npos)
      << client.status().message();
  std::string why;
  EXPECT_EQ((*board)->joined(1, &why), TaskBoard::Join::kRefused);
  EXPECT_NE(why.find("another configuration"), std::string::npos) << why;
}

TEST(TaskBoard, ADriverJoinsAStoreThatIsServedAlready) {
  c10d::TCPStoreOptions so;
  so.port = 0;
  so.isServer = true;
  so.waitWorkers = false;
  auto agent = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", so);  // torchrun's agent
  BoardOptions o;
  o.timeout = std::chrono::seconds(10);
  o.port = agent->getPort();
  o.existing_store = true;
  auto board = TaskBoard::serve(o, "a");
  ASSERT_TRUE(board.ok()) << board.status().message();
  EXPECT_EQ((*board)->port(), o.port);
  auto client = TaskClient::join(o, 1, "a");
  ASSERT_TRUE(client.ok()) << client.status().message();
  // A store's set does not wait for the server: another connection sees it a moment later.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*board)->joined(1, nullptr) == TaskBoard::Join::kNotYet &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ((*board)->joined(1, nullptr), TaskBoard::Join::kJoined);
  EXPECT_FALSE(agent->check({"agreement"}));  // the board's keys keep to their prefix
  EXPECT_TRUE(agent->check({"nasforge.search/agreement"}));
}

TEST(TaskBoard, AHeartbeatThatStopsIsSeen) {
  BoardOptions o;
  o.timeout = std::chrono::seconds(10);
  o.beat = std::chrono::milliseconds(10);
  auto board = TaskBoard::serve(o, "x");
  ASSERT_TRUE(board.ok());
  o.port = (*board)->port();
  {
    auto client = TaskClient::join(o, 2, "x");
    ASSERT_TRUE(client.ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    (*board)->silence(2);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_LT((*board)->silence(2).count(), 80);  // still beating
  }                                               // the client, and its heartbeat, are gone
  (*board)->silence(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_GE((*board)->silence(2).count(), 250);
}

TEST(ChildProcess, ExitAndSignalAreReported) {
  auto ok = ChildProcess::spawn({"sh", "-c", "exit 3"}, {});
  ASSERT_TRUE(ok.ok());
  auto st = ok->wait_for(10000);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(how_it_ended(*st), "exited with status 3");
  auto env = ChildProcess::spawn({"sh", "-c", "test \"$NF_X\" = yes"}, {{"NF_X", "yes"}});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(exit_code_of(*env->wait_for(10000)), 0);
  auto sleeper = ChildProcess::spawn({"sleep", "30"}, {});
  ASSERT_TRUE(sleeper.ok());
  EXPECT_FALSE(sleeper->poll().has_value());
  sleeper->signal(9);
  auto killed = sleeper->wait_for(10000);
  ASSERT_TRUE(killed.has_value());
  EXPECT_EQ(exit_code_of(*killed), 137);
  EXPECT_NE(how_it_ended(*killed).find("killed by signal 9"), std::string::npos);
}

}  // namespace
}  // namespace nasforge::distributed
