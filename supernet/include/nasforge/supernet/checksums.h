// Checksums of a trainer's state, kept in checkpoints and checked on load: LibTorch's reader
// does not verify the zip records' CRCs, so damaged tensor bytes would otherwise load silently.
// Every trainer's state digest (the supernet's, the hypernetworks') is built from them.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>

namespace nasforge::supernet::internal {

// CRC-32 of the module's parameters and buffers (names and bytes, in registration order).
int64_t module_crc(const torch::nn::Module& m);

// CRC-32 of an SGD or Adam optimizer's per-parameter state (momentum buffers, moments and step
// counts), in parameter order, so that it does not depend on where the tensors live in memory
// (LibTorch keys the state by address).
int64_t optimizer_crc(const torch::optim::Optimizer& opt);

// Everything a resumed run continues from, as 8 hex digits: weights and buffers, optimizer
// state, the sampler's RNG state and the schedule position. Two runs that agree here continue
// identically.
std::string state_digest(int64_t module_crc, int64_t optimizer_crc,
                         const std::array<uint64_t, 4>& rng, int64_t epoch, int64_t step_in_epoch,
                         int64_t global_step);

}  // namespace nasforge::supernet::internal
