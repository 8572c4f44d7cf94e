// The c10d process group behind distributed::Group: TCPStore rendezvous, Gloo collectives.
#include "nasforge/distributed/group.h"

#include <torch/torch.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>

namespace nasforge::distributed {

namespace {

class SoloGroup : public Group {
 public:
  SoloGroup() : Group(World{}) {}
  void allreduce_sum(std::vector<at::Tensor>&) override {}
  std::vector<int64_t> allgather(int64_t value) override { return {value}; }
  void broadcast(std::vector<at::Tensor>&, int) override {}
  void barrier() override {}
};

class GlooGroup : public Group {
 public:
  GlooGroup(World w, c10::intrusive_ptr<c10d::Store> store,
            c10::intrusive_ptr<c10d::ProcessGroup> pg, std::chrono::milliseconds timeout)
      : Group(std::move(w)), store_(std::move(store)), pg_(std::move(pg)), timeout_(timeout) {}

  void allreduce_sum(std::vector<at::Tensor>& tensors) override {
    if (tensors.empty()) return;
    // One collective per tensor, all in flight before the first wait: Gloo pipelines them.
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& t : tensors) {
      std::vector<at::Tensor> one{t};
      works.push_back(run("allreduce", [&] { return pg_->allreduce(one); }));
    }
    for (auto& w : works) wait("allreduce", w);
  }

  std::vector<int64_t> allgather(int64_t value) override {
    std::vector<at::Tensor> in{torch::full({1}, value, torch::kInt64)};
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < size(); ++r) out[0].push_back(torch::empty({1}, torch::kInt64));
    wait("allgather", run("allgather", [&] { return pg_->allgather(out, in); }));
    std::vector<int64_t> values;
    for (auto& t : out[0]) values.push_back(t.item<int64_t>());
    return values;
  }

  void broadcast(std::vector<at::Tensor>& tensors, int root) override {
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& t : tensors) {
      std::vector<at::Tensor> one{t};
      c10d::BroadcastOptions o;
      o.rootRank = root;
      works.push_back(run("broadcast", [&] { return pg_->broadcast(one, o); }));
    }
    for (auto& w : works) wait("broadcast", w);
  }

  void barrier() override {
    wait("barrier", run("barrier", [&] { return pg_->barrier(); }));
  }

 private:
  template <class F>
  c10::intrusive_ptr<c10d::Work> run(const char* op, F&& start) {
    try {
      return start();
    } catch (const std::exception& e) {
      throw PeerError(failure(op, e.what()));
    }
  }
  void wait(const char* op, const c10::intrusive_ptr<c10d::Work>& w) {
    try {
      w->wait(timeout_);
    } catch (const std::exception& e) {
      throw PeerError(failure(op, e.what()));
    }
  }
  std::string failure(const char* op, const std::string& why) const {
    std::string first = why.substr(0, why.find('\n'));
    return "rank " + std::to_string(rank()) + " of " + std::to_string(size()) + ": " + op +
           " failed: another rank stopped or did not answer within " +
           std::to_string(timeout_.count() / 1000) + " s (" + first + ")";
  }

  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroup> pg_;
  std::chrono::milliseconds timeout_;
};

// The Gloo device: the interface named by GLOO_SOCKET_IFNAME (as PyTorch reads it), loopback
// for a rendezvous on this host, else the address this host's name resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device(const World& w) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (w.master_addr == "127.0.0.1" || w.master_addr == "localhost" || w.local_size == w.size)
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace

std::shared_ptr<Group> solo_group() { return std::make_shared<SoloGroup>(); }

std::string disagreeing_ranks(const std::vector<int64_t>& values) {
  std::string out;
  for (size_t r = 1; r < values.size(); ++r)
    if (values[r] != values[0]) out += (out.empty() ? "" : ", ") + std::to_string(r);
  return out;
}

StatusOr<std::shared_ptr<Group>> connect(const World& world, const ConnectOptions& options) {
  if (!world.distributed()) return solo_group();
  const std::string where = world.master_addr + ":" + std::to_string(world.master_port);
  const auto secs = std::to_string(options.timeout.count() / 1000);
  if (options.backend == Backend::kNccl)
    return Unimplemented(
        "the NCCL backend: this build of nasforge trains on the CPU and has no NCCL process "
        "group; Gloo serves CPU tensors (docs/distributed.md)");
  c10::intrusive_ptr<c10d::Store> store;
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(world.master_port);
    o.isServer = world.rank == 0 && !world.agent_store;  // torchrun's agent may serve it already
    o.numWorkers = world.size;
    o.waitWorkers = !world.agent_store;
    o.timeout = options.timeout;
    store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, o);
    if (world.agent_store) {  // a store shared with the agent and with earlier restarts
      const char* attempt = std::getenv("TORCHELASTIC_RESTART_COUNT");
      store = c10::make_intrusive<c10d::PrefixStore>(
          std::string("nasforge/attempt_") + (attempt ? attempt : "0"), store);
    }
  } catch (const std::exception& e) {
    const std::string why(e.what());
    return FailedPrecondition(
        "rendezvous at " + where + ": rank " + std::to_string(world.rank) + " of " +
        std::to_string(world.size) +
        (world.rank == 0 ? " waited " + secs + " s for the other ranks to connect"
                         : " could not reach rank 0's store within " + secs + " s") +
        " (" + why.substr(0, why.find('\n')) +
        "); check that every worker was started with the same MASTER_ADDR, MASTER_PORT and "
        "WORLD_SIZE");
  }
  try {
    auto o = c10d::ProcessGroupGloo::Options::create(options.timeout);
    o->devices.push_back(gloo_device(world));
    auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, world.rank, world.size, o);
    return std::shared_ptr<Group>(std::make_shared<GlooGroup>(world, store, pg, options.timeout));
  } catch (const std::exception& e) {
    const std::string why(e.what());
    return FailedPrecondition("rendezvous at " + where + ": rank " + std::to_string(world.rank) +
                              " of " + std::to_string(world.size) + " waited " + secs +
                              " s for the other ranks to join the Gloo group (" +
                              why.substr(0, why.find('\n')) +
                              "); check that every worker was started with the same "
                              "MASTER_ADDR, MASTER_PORT and WORLD_SIZE");
  }
}

}  // namespace nasforge::distributed
