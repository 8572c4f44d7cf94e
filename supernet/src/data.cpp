#include "nasforge/supernet/data.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "nasforge/searchspace/files.h"

namespace nasforge::data {

namespace {

// The dataset files are gzip streams: refuse anything else (read_text_file would pass a plain
// file through), then decompress through the shared reader.
StatusOr<std::string> read_gzip(const std::string& path) {
  char magic[2] = {0, 0};
  std::ifstream(path, std::ios::binary).read(magic, 2);
  if (std::filesystem::exists(path) && !(static_cast<unsigned char>(magic[0]) == 0x1f &&
                                         static_cast<unsigned char>(magic[1]) == 0x8b))
    return InvalidArgument(path + ": expected a gzip stream (magic 1f 8b), got another file");
  return read_text_file(path);
}

uint32_t big_endian(const std::string& s, size_t off) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(s[off + i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

// IDX files: a magic number (0x00000803 images, 0x00000801 labels), the sizes, then bytes.
StatusOr<at::Tensor> read_idx(const std::string& path, int dims) {
  auto raw = read_gzip(path);
  if (!raw.ok()) return raw.status();
  const std::string& s = *raw;
  const size_t header = 4 + 4 * static_cast<size_t>(dims);
  const uint32_t magic = 0x800 + static_cast<uint32_t>(dims);
  if (s.size() < header || big_endian(s, 0) != magic)
    return InvalidArgument(path + ": expected an IDX file with magic 0x00000" +
                           std::to_string(dims == 3 ? 803 : 801) + ", got " +
                           (s.size() < 4 ? "a file of " + std::to_string(s.size()) + " bytes"
                                         : "another magic number"));
  std::vector<int64_t> shape;
  size_t count = 1;
  for (int d = 0; d < dims; ++d) {
    shape.push_back(big_endian(s, 4 + 4 * d));
    count *= static_cast<size_t>(shape.back());
  }
  if (s.size() != header + count)
    return InvalidArgument(path + ": expected " + std::to_string(header + count) +
                           " bytes after decompression, got " + std::to_string(s.size()) +
                           " (truncated?)");
  auto t = torch::empty(shape, torch::kUInt8);
  std::memcpy(t.data_ptr<uint8_t>(), s.data() + header, count);
  return t;
}

std::vector<float> channel_stat(const at::Tensor& images, bool want_std) {
  auto x = images.to(torch::kFloat32).div_(255.0);
  auto per_channel = want_std ? x.transpose(0, 1).reshape({x.size(1), -1}).std(1)
                              : x.transpose(0, 1).reshape({x.size(1), -1}).mean(1);
  return std::vector<float>(per_channel.data_ptr<float>(),
                            per_channel.data_ptr<float>() + per_channel.numel());
}

// Holds out `valid_size` training examples, chosen by a seeded permutation.
Status split(Splits& s, const Dataset& full_train, const SplitOptions& o) {
  const int64_t n = full_train.size();
  if (o.valid_size < 0 || o.valid_size >= n)
    return InvalidArgument("expected a validation size in [0, " + std::to_string(n - 1) +
                           "], got " + std::to_string(o.valid_size));
  std::vector<int64_t> perm(n);
  for (int64_t i = 0; i < n; ++i) perm[i] = i;
  Rng rng(o.seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[rng.uniform(i + 1)]);
  auto idx = torch::tensor(perm, torch::kInt64);
  auto valid_idx = idx.slice(0, 0, o.valid_size), train_idx = idx.slice(0, o.valid_size);
  s.valid = {full_train.images.index_select(0, valid_idx),
             full_train.labels.index_select(0, valid_idx)};
  s.train = {full_train.images.index_select(0, train_idx),
             full_train.labels.index_select(0, train_idx)};
  s.mean = channel_stat(s.train.images, false);
  s.std = channel_stat(s.train.images, true);
  return Status::Ok();
}

}  // namespace

StatusOr<Splits> load_fashion_mnist(const std::string& dir, const SplitOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return NotFound("Fashion-MNIST: expected the dataset in " + dir +
                    ", got no such folder; install the Debian package dataset-fashion-mnist "
                    "(`make deps` does)");
  auto load = [&](const char* images, const char* labels) -> StatusOr<Dataset> {
    auto x = read_idx(dir + "/" + images, 3);
    if (!x.ok()) return x.status();
    auto y = read_idx(dir + "/" + labels, 1);
    if (!y.ok()) return y.status();
    if (x->size(0) != y->size(0))
      return InvalidArgument(dir + "/" + labels + ": expected " + std::to_string(x->size(0)) +
                             " labels, got " + std::to_string(y->size(0)));
    return Dataset{x->unsqueeze(1).contiguous(), y->to(torch::kInt64)};
  };
  auto train = load("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz");
  if (!train.ok()) return train.status();
  auto test = load("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");
  if (!test.ok()) return test.status();
  Splits s;
  s.name = "fashion-mnist";
  s.test = *test;
  NF_RETURN_IF_ERROR(split(s, *train, options));
  return s;
}

StatusOr<Splits> load_cifar10(const std::string& dir, const SplitOptions& options) {
  constexpr size_t kRecord = 1 + 3 * 32 * 32;
  auto read_batch = [&](const std::string& name, std::vector<uint8_t>& images,
                        std::vector<int64_t>& labels) -> Status {
    const std::string path = dir + "/" + name;
    std::ifstream in(path, std::ios::binary);
    if (!in)
      return NotFound("CIFAR-10: expected " + path +
                      " (the binary version: data_batch_1..5.bin, test_batch.bin), got none");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.empty() || bytes.size() % kRecord != 0)
      return InvalidArgument(path + ": expected a multiple of 3073-byte records, got " +
                             std::to_string(bytes.size()) + " bytes");
    for (size_t r = 0; r < bytes.size() / kRecord; ++r) {
      const auto* rec = reinterpret_cast<const uint8_t*>(bytes.data()) + r * kRecord;
      if (rec[0] > 9)
        return InvalidArgument(path + ": record " + std::to_string(r) +
                               ": expected a label in [0, 9], got " + std::to_string(rec[0]));
      labels.push_back(rec[0]);
      images.insert(images.end(), rec + 1, rec + kRecord);
    }
    return Status::Ok();
  };
  auto to_dataset = [](std::vector<uint8_t>& images, std::vector<int64_t>& labels) {
    const int64_t n = static_cast<int64_t>(labels.size());
    auto x = torch::from_blob(images.data(), {n, 3, 32, 32}, torch::kUInt8).clone();
    return Dataset{x, torch::tensor(labels, torch::kInt64)};
  };
  std::vector<uint8_t> train_x, test_x;
  std::vector<int64_t> train_y, test_y;
  for (int b = 1; b <= 5; ++b)
    NF_RETURN_IF_ERROR(read_batch("data_batch_" + std::to_string(b) + ".bin", train_x, train_y));
  NF_RETURN_IF_ERROR(read_batch("test_batch.bin", test_x, test_y));
  Splits s;
  s.name = "cifar10";
  s.test = to_dataset(test_x, test_y);
  NF_RETURN_IF_ERROR(split(s, to_dataset(train_x, train_y), options));
  return s;
}

Splits make_synthetic(const SyntheticOptions& o) {
  Rng rng(o.seed);
  auto normal = [&]() {  // Box-Muller from our generator
    double u = std::max(rng.uniform01(), 1e-12), v = rng.uniform01();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
  };
  const int64_t pixels = o.channels * o.height * o.width;
  std::vector<std::vector<float>> templates(o.classes, std::vector<float>(pixels));
  for (auto& t : templates)
    for (auto& p : t) p = static_cast<float>(normal());
  auto make = [&](int64_t n) {
    std::vector<uint8_t> x(static_cast<size_t>(n * pixels));
    std::vector<int64_t> y(n);
    for (int64_t i = 0; i < n; ++i) {
      y[i] = static_cast<int64_t>(rng.uniform(o.classes));
      for (int64_t p = 0; p < pixels; ++p) {
        double v = 128 + 45 * templates[y[i]][p] + 30 * normal();
        x[i * pixels + p] = static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
      }
    }
    auto images =
        torch::from_blob(x.data(), {n, o.channels, o.height, o.width}, torch::kUInt8).clone();
    return Dataset{images, torch::tensor(y, torch::kInt64)};
  };
  Splits s;
  s.name = "synthetic";
  s.classes = o.classes;
  s.train = make(o.train);
  s.valid = make(o.valid);
  s.test = make(o.test);
  s.mean = channel_stat(s.train.images, false);
  s.std = channel_stat(s.train.images, true);
  return s;
}

Status fit_images(Splits& s, int64_t channels, int64_t height, int64_t width) {
  const at::Tensor& x = s.train.images;
  const int64_t c = x.size(1), h = x.size(2), w = x.size(3);
  if (h > height || w > width || (c != 1 && c != channels))
    return InvalidArgument(s.name + ": cannot fit " + std::to_string(c) + "x" + std::to_string(h) +
                           "x" + std::to_string(w) + " images to " + std::to_string(channels) +
                           "x" + std::to_string(height) + "x" + std::to_string(width) +
                           " (expected images no larger, with 1 or " + std::to_string(channels) +
                           " channels)");
  const int64_t top = (height - h) / 2, left = (width - w) / 2;
  auto fit = [&](Dataset& d) {
    if (!d.images.defined() || d.size() == 0) return;
    at::Tensor y =
        torch::constant_pad_nd(d.images, {left, width - w - left, top, height - h - top}, 0);
    if (c != channels) y = y.expand({y.size(0), channels, height, width});
    d.images = y.contiguous();
  };
  fit(s.train);
  fit(s.valid);
  fit(s.test);
  s.mean = channel_stat(s.train.images, false);
  s.std = channel_stat(s.train.images, true);
  return Status::Ok();
}

StatusOr<Splits> load_dataset(const std::string& spec, const SplitOptions& options,
                              const SyntheticOptions& synthetic) {
  if (spec == "fashion-mnist") return load_fashion_mnist(kFashionMnistDir, options);
  if (spec.rfind("cifar10:", 0) == 0) return load_cifar10(spec.substr(8), options);
  if (spec == "synthetic" || spec.rfind("synthetic:", 0) == 0) {
    SyntheticOptions o = synthetic;
    o.seed = options.seed;
    if (spec != "synthetic") {  // synthetic:N - N training images, N / 4 validation and test
      const std::string n = spec.substr(10);
      char* end = nullptr;
      const long long v = std::strtoll(n.c_str(), &end, 10);
      if (n.empty() || *end != '\0' || v < 16 || v > 1000000)
        return InvalidArgument("--data: expected synthetic:N with N in [16, 1000000], got '" +
                               spec + "'");
      o.train = v;
      o.valid = o.test = v / 4;
    }
    return make_synthetic(o);
  }
  return InvalidArgument(
      "--data: expected fashion-mnist, cifar10:DIR, synthetic or synthetic:N, got '" + spec + "'");
}

BatchLoader::BatchLoader(const Dataset& data, std::vector<float> mean, std::vector<float> std,
                         int64_t batch_size, bool shuffle, AugmentOptions augment, uint64_t seed,
                         Shard shard)
    : data_(data),
      batch_size_(batch_size),
      shuffle_(shuffle),
      augment_(augment),
      shard_(shard),
      rng_(seed) {
  NF_CHECK(batch_size > 0, "batch size must be positive");
  NF_CHECK(shard.size >= 1 && shard.rank >= 0 && shard.rank < shard.size,
           "a shard's rank must lie in [0, size)");
  NF_CHECK(static_cast<int64_t>(mean.size()) == data.images.size(1) && mean.size() == std.size(),
           "one mean and std per channel");
  const int64_t c = data.images.size(1);
  mean_ = torch::tensor(mean).view({c, 1, 1});
  std_ = torch::tensor(std).view({c, 1, 1});
}

int64_t BatchLoader::batches_per_epoch() const {
  const int64_t full = data_.size() / batch_size_, rest = data_.size() % batch_size_;
  return full + (rest > 0 && rest >= shard_.size ? 1 : 0);
}

void BatchLoader::start_epoch() {
  ++epoch_;
  position_ = 0;
  order_.resize(data_.size());
  for (int64_t i = 0; i < data_.size(); ++i) order_[i] = i;
  if (shuffle_)
    for (int64_t i = data_.size() - 1; i > 0; --i)
      std::swap(order_[i], order_[rng_.uniform(i + 1)]);
}

bool BatchLoader::next(Batch& out) {
  if (epoch_ < 0 || position_ > data_.size()) start_epoch();
  if (position_ == data_.size()) {
    position_ = data_.size() + 1;  // the end is reported once; the next call starts an epoch
    return false;
  }
  const int64_t end = std::min(position_ + batch_size_, data_.size());
  const int64_t n = end - position_;
  if (n < shard_.size) {  // too few images for every shard to hold one: dropped
    position_ = data_.size() + 1;
    return false;
  }
  // This shard's slice [lo, hi) of the batch; the augmentation draws for every image of the
  // batch, in order, so that the shards together are the whole batch.
  const int64_t lo = n * shard_.rank / shard_.size, hi = n * (shard_.rank + 1) / shard_.size;
  std::vector<int64_t> idx(order_.begin() + position_ + lo, order_.begin() + position_ + hi);
  position_ = end;
  auto index = torch::tensor(idx, torch::kInt64);
  auto x = data_.images.index_select(0, index).to(torch::kFloat32).div_(255.0);
  if (augment_.pad_crop > 0 || augment_.hflip) {
    const int64_t pad = augment_.pad_crop, h = x.size(2), w = x.size(3);
    auto padded = pad > 0 ? torch::constant_pad_nd(x, {pad, pad, pad, pad}, 0.0) : x;
    std::vector<at::Tensor> rows;
    rows.reserve(idx.size());
    for (int64_t i = 0; i < n; ++i) {
      int64_t dy = pad > 0 ? static_cast<int64_t>(rng_.uniform(2 * pad + 1)) : 0;
      int64_t dx = pad > 0 ? static_cast<int64_t>(rng_.uniform(2 * pad + 1)) : 0;
      const bool flip = augment_.hflip && rng_.uniform(2);
      if (i < lo || i >= hi) continue;
      auto img = padded[i - lo].slice(1, dy, dy + h).slice(2, dx, dx + w);
      if (flip) img = img.flip({2});
      rows.push_back(img);
    }
    x = torch::stack(rows);
  }
  out.global_size = n;
  out.images = (x - mean_) / std_;
  out.labels = data_.labels.index_select(0, index);
  return true;
}

}  // namespace nasforge::data
