// One worker of the multi-process tests (distributed_test.cpp starts K of them with
// launch_workers). It reads its rank from the environment, as every nasforge command does, and
// plays one scenario:
//   train OUT STEPS [SPACE]  trains STEPS data-parallel steps, rank 0 saves the weights to OUT
//                            (WORKER_LOAD / WORKER_SAVE: resume from / checkpoint to a file)
//   disagree                 rank 1 samples its paths with another seed: every rank must fail
//   die                      rank 1 exits after 2 steps: the others must fail, not hang
//   sums                     allreduce, allgather and broadcast against their sums
// Exit codes: 0 done, 3 a PeerError, 4 a failed rendezvous, 2 bad use, 1 anything else. With
// WORKER_OUT=DIR each rank also writes "CODE MESSAGE" to DIR/rank<R>.txt. WORKER_TIMEOUT sets
// the group's timeout in seconds (default 20); WORKER_IGNORE_TERM=1 ignores SIGTERM, so that a
// rank must find out about a dead peer by itself rather than be stopped by the launcher.
#include <torch/torch.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <iostream>

#include "nasforge/distributed/group.h"
#include "nasforge/searchspace/dsl.h"
#include "nasforge/supernet/run.h"
#include "nasforge/supernet/train.h"

using namespace nasforge;

namespace {

supernet::TrainConfig config() {
  supernet::TrainConfig c;
  c.batch_size = 32;
  c.epochs = 2;
  c.lr = 0.05;
  c.momentum = 0.9;
  c.weight_decay = 1e-4;
  c.augment.pad_crop = 2;  // the shards must draw the whole batch's augmentation
  c.augment.hflip = true;
  c.bn_recalibration_batches = 0;
  return c;
}

int train(distributed::Group& group, const std::string& out, int steps, const std::string& path,
          uint64_t seed) {
  const char* root = std::getenv("NASFORGE_SOURCE_DIR");
  Diagnostics d;
  auto loaded = load_space(std::string(root && *root ? root : ".") + "/" + path, d);
  if (!loaded) throw std::runtime_error(d.str());
  auto space = std::make_shared<const SearchSpace>(std::move(*loaded));
  auto data = supernet::load_data_for("synthetic", *space, 0, 0);
  if (!data.ok()) throw std::runtime_error(data.status().message());
  auto c = config();
  c.seed = seed;
  supernet::SupernetTrainer trainer(supernet::Supernet(space, supernet::SupernetOptions().seed(0)),
                                    *data, c);
  if (group.size() > 1)
    trainer.set_group(std::shared_ptr<distributed::Group>(&group, [](distributed::Group*) {}));
  // WORKER_LOAD=FILE resumes a checkpoint first; WORKER_SAVE=FILE checkpoints at the end (rank 0).
  if (const char* load = std::getenv("WORKER_LOAD"))
    if (Status st = trainer.load(load); !st.ok()) throw std::runtime_error(st.message());
  for (int i = 0; i < steps; ++i) {
    if (std::getenv("WORKER_DIE") && group.rank() == 1 && i == 2) _exit(1);
    if (!trainer.step()) --i;  // an epoch's end is not a step
  }
  if (const char* save = std::getenv("WORKER_SAVE"); save && group.rank() == 0)
    if (Status st = trainer.save(save); !st.ok()) throw std::runtime_error(st.message());
  if (group.rank() == 0 && !out.empty()) {
    std::vector<at::Tensor> weights;
    for (auto& p : trainer.net()->parameters()) weights.push_back(p.detach().clone());
    torch::save(weights, out);
  }
  return 0;
}

int sums(distributed::Group& g) {
  const int k = g.size(), r = g.rank();
  std::vector<at::Tensor> t{torch::full({3}, r + 1.0), torch::full({2, 2}, 2.0 * r)};
  g.allreduce_sum(t);
  bool ok = t[0].eq(k * (k + 1) / 2.0).all().item<bool>() &&
            t[1].eq(k * (k - 1) * 1.0).all().item<bool>();
  const auto all = g.allgather(10 * r + 7);
  for (int i = 0; i < k; ++i) ok = ok && all[i] == 10 * i + 7;
  std::vector<at::Tensor> b{torch::full({4}, static_cast<double>(r))};
  g.broadcast(b, k - 1);
  ok = ok && b[0].eq(k - 1.0).all().item<bool>();
  g.barrier();
  if (!ok) std::cerr << "rank " << r << ": a collective gave a wrong sum\n";
  return ok ? 0 : 1;
}

}  // namespace

int play(int argc, char** argv, std::string& message) {
  const std::string scenario = argv[1];
  try {
    auto world = distributed::detect_world(distributed::process_environment());
    if (!world.ok()) {
      message = world.status().message();
      return 2;
    }
    distributed::ConnectOptions o;
    const char* t = std::getenv("WORKER_TIMEOUT");
    o.timeout = std::chrono::seconds(t ? std::atoi(t) : 20);
    auto group = distributed::connect(*world, o);
    if (!group.ok()) {
      message = group.status().message();
      return 4;
    }
    distributed::Group& g = **group;
    const std::string vit = "tests/data/vit_tiny.yaml";
    if (scenario == "sums") return sums(g);
    if (scenario == "train" && argc >= 4)
      return train(g, argv[2], std::atoi(argv[3]), argc >= 5 ? argv[4] : vit, 0);
    if (scenario == "disagree") return train(g, "", 4, vit, g.rank() == 1 ? 1 : 0);
    if (scenario == "die") {
      setenv("WORKER_DIE", "1", 1);
      return train(g, "", 6, vit, 0);
    }
    return 2;
  } catch (const distributed::PeerError& e) {
    message = e.what();
    return 3;
  } catch (const std::exception& e) {
    message = e.what();
    return 1;
  }
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  torch::set_num_threads(1);
  if (std::getenv("WORKER_IGNORE_TERM")) std::signal(SIGTERM, SIG_IGN);
  std::string message;
  const int rc = play(argc, argv, message);
  if (!message.empty()) std::cerr << message << "\n";
  if (const char* dir = std::getenv("WORKER_OUT")) {
    const char* rank = std::getenv("RANK");
    std::ofstream(std::string(dir) + "/rank" + (rank ? rank : "0") + ".txt")
        << rc << " " << message << "\n";
  }
  return rc;
}
