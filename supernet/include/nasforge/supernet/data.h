// Datasets for supernet training: Fashion-MNIST (Debian's dataset-fashion-mnist), the CIFAR-10
// binary format, and synthetic data for fast tests. Images stay uint8 in memory; a
// BatchLoader normalises, augments and batches them with its own seeded generator, so the same
// seed gives the same batches (torch's global generator is never used).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nasforge/searchspace/rng.h"
#include "nasforge/searchspace/status.h"

namespace nasforge::data {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct Dataset {
  at::Tensor images;  // uint8, N x C x H x W
  at::Tensor labels;  // int64, N
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

struct Splits {
  std::string name;
  Dataset train, valid, test;
  int64_t classes = 10;
  std::vector<float> mean, std;  // per channel, in [0, 1] units, measured on `train`
};

struct SplitOptions {
  int64_t valid_size = 10000;  // held out of the training set, chosen with `seed`
  uint64_t seed = 0;
};

// Reads the four gzipped IDX files. A missing folder names the Debian package to install; a
// truncated or foreign file names the file and what was expected.
StatusOr<Splits> load_fashion_mnist(const std::string& dir = kFashionMnistDir,
                                    const SplitOptions& options = {});

// Reads data_batch_1..5.bin and test_batch.bin (3073-byte records: label, then 32x32x3 planes).
StatusOr<Splits> load_cifar10(const std::string& dir, const SplitOptions& options = {});

struct SyntheticOptions {
  int64_t channels = 1, height = 28, width = 28, classes = 10;
  int64_t train = 512, valid = 128, test = 128;
  uint64_t seed = 0;
};
// Class-conditional patterns plus noise: learnable in a few steps, deterministic per seed.
Splits make_synthetic(const SyntheticOptions& options);

// "fashion-mnist", "cifar10:DIR", "synthetic" (shaped by `synthetic`) or "synthetic:N" (N
// training images, N / 4 validation and test: for quick runs).
StatusOr<Splits> load_dataset(const std::string& spec, const SplitOptions& options,
                              const SyntheticOptions& synthetic = {});

// Fits images to a network's input: zero-pads them, centred, to height x width and repeats a
// single channel `channels` times (Fashion-MNIST's 1x28x28 into a CIFAR space's 3x32x32). The
// channel statistics are measured again on the fitted training set. Refuses images larger than
// the target, and channel counts other than 1 or `channels`.
Status fit_images(Splits& s, int64_t channels, int64_t height, int64_t width);

struct AugmentOptions {
  int pad_crop = 0;    // pad by this many pixels, then crop back at a random offset
  bool hflip = false;  // flip horizontally with probability 1/2
};

struct Batch {
  at::Tensor images;        // float32, normalised
  at::Tensor labels;        // int64
  int64_t global_size = 0;  // images in the whole batch, of which a shard holds a slice
};

// One worker's part of each batch in data-parallel training: of every batch of n images, rank r
// of `size` takes images [n r / size, n (r + 1) / size). The order and the augmentation draws
// are those of the whole batch, so `size` shards together are exactly the unsharded batch. An
// epoch's last batch, when it has fewer than `size` images, is dropped.
struct Shard {
  int rank = 0, size = 1;
};

// Iterates a dataset in batches, epoch after epoch. The order and the augmentation come from
// the loader's own generator, so the same seed gives the same batches.
class BatchLoader {
 public:
  BatchLoader(const Dataset& data, std::vector<float> mean, std::vector<float> std,
              int64_t batch_size, bool shuffle, AugmentOptions augment, uint64_t seed,
              Shard shard = {});

  int64_t batches_per_epoch() const;
  // The next batch of the current epoch (the last may be smaller); false at the end of the
  // epoch, after which the next call starts a new one.
  bool next(Batch& out);
  int64_t epoch() const { return epoch_; }

 private:
  void start_epoch();

  Dataset data_;
  at::Tensor mean_, std_;  // C x 1 x 1
  int64_t batch_size_;
  bool shuffle_;
  AugmentOptions augment_;
  Shard shard_;
  Rng rng_;
  std::vector<int64_t> order_;
  int64_t position_ = 0;
  int64_t epoch_ = -1;
};

}  // namespace nasforge::data
