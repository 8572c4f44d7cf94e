// The workers of a distributed run as one group, over PyTorch's c10d: a TCPStore rendezvous at
// rank 0 and a Gloo process group (CPU tensors). A world of one needs no c10d and gets a group
// whose collectives return their input.
//
// Collectives throw PeerError when another rank fails or stops answering within the timeout, so
// a dead worker ends its peers with an error naming the operation instead of a hang.
#pragma once

#include <ATen/Tensor.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "nasforge/distributed/world.h"

namespace nasforge::distributed {

// A collective that could not complete: a peer exited, was killed, or timed out.
class PeerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Backend { kGloo, kNccl };

struct ConnectOptions {
  // How long the rendezvous and every collective wait for the other ranks.
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};
  Backend backend = Backend::kGloo;
};

class Group {
 public:
  virtual ~Group() = default;
  int rank() const { return world_.rank; }
  int size() const { return world_.size; }
  const World& world() const { return world_; }

  // Sums each tensor over the ranks, in place. Every rank passes tensors of the same shapes.
  virtual void allreduce_sum(std::vector<at::Tensor>& tensors) = 0;
  // Every rank's `value`, by rank.
  virtual std::vector<int64_t> allgather(int64_t value) = 0;
  // Rank `root`'s tensors, copied into every rank's (same shapes).
  virtual void broadcast(std::vector<at::Tensor>& tensors, int root) = 0;
  virtual void barrier() = 0;

 protected:
  explicit Group(World w) : world_(std::move(w)) {}

 private:
  World world_;
};

// The group of `world`: a solo group for a world of one, else the c10d rendezvous (rank 0
// serves the TCPStore at master_addr:master_port) and a process group. Errors say which rank
// waited for whom and for how long; NCCL is refused when this LibTorch was built without it.
StatusOr<std::shared_ptr<Group>> connect(const World& world, const ConnectOptions& options = {});

// A world of one.
std::shared_ptr<Group> solo_group();

// Ranks whose `value` differs from rank 0's, as "1, 3"; empty when all agree.
std::string disagreeing_ranks(const std::vector<int64_t>& values);

}  // namespace nasforge::distributed
