// Datasets and batching: readers for the real formats (on small files written here and on the
// installed Fashion-MNIST), seeded splits, batches and augmentation.
#include "nasforge/supernet/data.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace nasforge::data {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("nasforge_data_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
  static inline int counter_ = 0;
};

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  gzclose(f);
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// n images of 28x28 whose pixels all equal their label, and the labels 0..n-1 mod 10.
void write_idx_pair(const std::string& dir, const std::string& prefix, uint32_t n) {
  std::string images = be32(0x803) + be32(n) + be32(28) + be32(28);
  std::string labels = be32(0x801) + be32(n);
  for (uint32_t i = 0; i < n; ++i) {
    images += std::string(28 * 28, static_cast<char>(i % 10));
    labels += static_cast<char>(i % 10);
  }
  write_gz(dir + "/" + prefix + "-images-idx3-ubyte.gz", images);
  write_gz(dir + "/" + prefix + "-labels-idx1-ubyte.gz", labels);
}

TEST(FashionMnistReader, ReadsIdxFilesAndSplitsWithASeed) {
  TempDir dir;
  write_idx_pair(dir.str(), "train", 12);
  write_idx_pair(dir.str(), "t10k", 5);
  auto s = load_fashion_mnist(dir.str(), {4, 3});
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->train.images.sizes(), (std::vector<int64_t>{8, 1, 28, 28}));
  EXPECT_EQ(s->valid.size(), 4);
  EXPECT_EQ(s->test.size(), 5);
  // Pixels carry their label, so the split kept image and label together.
  for (const Dataset* d : {&s->train, &s->valid, &s->test})
    for (int64_t i = 0; i < d->size(); ++i)
      EXPECT_EQ(d->images[i][0][5][5].item<uint8_t>(), d->labels[i].item<int64_t>());
  // The same seed gives the same split; another seed another one.
  auto again = load_fashion_mnist(dir.str(), {4, 3});
  auto other = load_fashion_mnist(dir.str(), {4, 4});
  EXPECT_TRUE(torch::equal(s->valid.labels, again->valid.labels));
  EXPECT_FALSE(torch::equal(s->valid.labels, other->valid.labels));
}

TEST(FashionMnistReader, ClearErrors) {
  EXPECT_EQ(load_fashion_mnist("/nonexistent/fmnist").status().message(),
            "Fashion-MNIST: expected the dataset in /nonexistent/fmnist, got no such folder; "
            "install the Debian package dataset-fashion-mnist (`make deps` does)");
  TempDir dir;
  write_idx_pair(dir.str(), "t10k", 5);
  std::string images = be32(0x803) + be32(3) + be32(28) + be32(28) + std::string(100, '\0');
  write_gz(dir.str() + "/train-images-idx3-ubyte.gz", images);
  EXPECT_EQ(load_fashion_mnist(dir.str()).status().message(),
            dir.str() +
                "/train-images-idx3-ubyte.gz: expected 2368 bytes after decompression, "
                "got 116 (truncated?)");
  write_gz(dir.str() + "/train-images-idx3-ubyte.gz", be32(0x801) + be32(1) + "x");
  EXPECT_EQ(load_fashion_mnist(dir.str()).status().message(),
            dir.str() +
                "/train-images-idx3-ubyte.gz: expected an IDX file with magic "
                "0x00000803, got another magic number");
  // Not gzip at all, and a gzip stream cut short.
  std::ofstream(dir.str() + "/train-images-idx3-ubyte.gz") << images;
  EXPECT_EQ(load_fashion_mnist(dir.str()).status().message(),
            dir.str() +
                "/train-images-idx3-ubyte.gz: expected a gzip stream (magic 1f 8b), got another "
                "file");
  write_gz(dir.str() + "/train-images-idx3-ubyte.gz", images);
  {
    std::string whole;
    {
      std::ifstream in(dir.str() + "/train-images-idx3-ubyte.gz", std::ios::binary);
      whole.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    std::ofstream(dir.str() + "/train-images-idx3-ubyte.gz", std::ios::binary | std::ios::trunc)
        << whole.substr(0, whole.size() / 2);
  }
  const std::string cut = load_fashion_mnist(dir.str()).status().message();
  EXPECT_NE(cut.find(dir.str() + "/train-images-idx3-ubyte.gz: "), std::string::npos) << cut;
  EXPECT_TRUE(cut.find("truncated") != std::string::npos) << cut;
}

TEST(FashionMnistReader, TheInstalledDataset) {
  auto s = load_fashion_mnist();
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->train.size(), 50000);
  EXPECT_EQ(s->valid.size(), 10000);
  EXPECT_EQ(s->test.size(), 10000);
  EXPECT_EQ(s->train.images.sizes(), (std::vector<int64_t>{50000, 1, 28, 28}));
  // Fashion-MNIST's pixel mean is about 0.286 and its std about 0.353.
  EXPECT_NEAR(s->mean[0], 0.286, 0.005);
  EXPECT_NEAR(s->std[0], 0.353, 0.005);
  EXPECT_EQ(s->train.labels.max().item<int64_t>(), 9);
}

TEST(Cifar10Reader, ReadsTheBinaryFormat) {
  TempDir dir;
  auto write = [&](const std::string& name, int records, char label) {
    std::ofstream out(dir.str() + "/" + name, std::ios::binary);
    for (int r = 0; r < records; ++r) {
      out.put(label);
      for (int c = 0; c < 3; ++c) out << std::string(1024, static_cast<char>(10 * c + label));
    }
  };
  for (int b = 1; b <= 5; ++b)
    write("data_batch_" + std::to_string(b) + ".bin", 2, static_cast<char>(b));
  write("test_batch.bin", 3, 7);
  auto s = load_cifar10(dir.str(), {2, 1});
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->train.size() + s->valid.size(), 10);
  EXPECT_EQ(s->test.images.sizes(), (std::vector<int64_t>{3, 3, 32, 32}));
  // Channel planes: R, G, B.
  EXPECT_EQ(s->test.images[0][2][31][31].item<uint8_t>(), 27);
  EXPECT_EQ(s->test.labels[2].item<int64_t>(), 7);
  {
    std::ofstream bad(dir.str() + "/test_batch.bin", std::ios::binary);
    bad << "short";
  }
  EXPECT_EQ(load_cifar10(dir.str()).status().message(),
            dir.str() + "/test_batch.bin: expected a multiple of 3073-byte records, got 5 bytes");
  EXPECT_EQ(load_cifar10("/nonexistent").status().message(),
            "CIFAR-10: expected /nonexistent/data_batch_1.bin (the binary version: "
            "data_batch_1..5.bin, test_batch.bin), got none");
}

TEST(Synthetic, DeterministicPerSeed) {
  SyntheticOptions o;
  o.train = 64;
  Splits a = make_synthetic(o), b = make_synthetic(o);
  o.seed = 1;
  Splits c = make_synthetic(o);
  EXPECT_TRUE(torch::equal(a.train.images, b.train.images));
  EXPECT_TRUE(torch::equal(a.train.labels, b.train.labels));
  EXPECT_FALSE(torch::equal(a.train.images, c.train.images));
  EXPECT_EQ(a.train.images.sizes(), (std::vector<int64_t>{64, 1, 28, 28}));
  EXPECT_LE(a.train.labels.max().item<int64_t>(), 9);
  EXPECT_EQ(load_dataset("imagenet", {}).status().message(),
            "--data: expected fashion-mnist, cifar10:DIR, synthetic or synthetic:N, got "
            "'imagenet'");
  auto small = load_dataset("synthetic:64", {});
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->train.size(), 64);
  EXPECT_EQ(small->valid.size(), 16);
  EXPECT_EQ(load_dataset("synthetic:8", {}).status().message(),
            "--data: expected synthetic:N with N in [16, 1000000], got 'synthetic:8'");
}

// Fashion-MNIST's 1x28x28 into a CIFAR space's 3x32x32: centred zero padding, the channel
// repeated, statistics measured again; larger images and other channel counts are refused.
TEST(FitImages, PadsCentredAndRepeatsTheChannel) {
  SyntheticOptions o;
  o.train = 16;
  o.valid = 4;
  o.test = 4;
  Splits s = make_synthetic(o);
  const at::Tensor before = s.train.images.clone();
  ASSERT_TRUE(fit_images(s, 3, 32, 32).ok());
  EXPECT_EQ(s.train.images.sizes(), (std::vector<int64_t>{16, 3, 32, 32}));
  EXPECT_EQ(s.valid.images.sizes(), (std::vector<int64_t>{4, 3, 32, 32}));
  for (int64_t c = 0; c < 3; ++c)
    EXPECT_TRUE(torch::equal(s.train.images.select(1, c).slice(1, 2, 30).slice(2, 2, 30),
                             before.select(1, 0)));
  EXPECT_EQ(s.train.images.slice(2, 0, 2).max().item<int64_t>(), 0);  // the border is zero
  EXPECT_EQ(s.mean.size(), 3u);
  EXPECT_LT(s.mean[0], before.to(torch::kFloat).mean().item<float>() / 255.0f);  // zeros added
  EXPECT_EQ(fit_images(s, 3, 16, 16).message(),
            s.name + ": cannot fit 3x32x32 images to 3x16x16 (expected images no larger, with 1 "
                     "or 3 channels)");
}

TEST(BatchLoader, EachExampleOncePerEpochInASeededOrder) {
  Dataset d{torch::zeros({10, 1, 4, 4}, torch::kUInt8), torch::arange(10, torch::kInt64)};
  BatchLoader loader(d, {0.0f}, {1.0f}, 4, true, {}, 7);
  EXPECT_EQ(loader.batches_per_epoch(), 3);
  auto epoch = [&]() {
    std::vector<int64_t> seen;
    std::vector<int64_t> sizes;
    Batch b;
    while (loader.next(b)) {
      sizes.push_back(b.labels.size(0));
      for (int64_t i = 0; i < b.labels.size(0); ++i) seen.push_back(b.labels[i].item<int64_t>());
    }
    EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2}));
    return seen;
  };
  auto first = epoch(), second = epoch();
  EXPECT_EQ(std::set<int64_t>(first.begin(), first.end()).size(), 10u);
  EXPECT_EQ(std::set<int64_t>(second.begin(), second.end()).size(), 10u);
  EXPECT_NE(first, second);
  EXPECT_EQ(loader.epoch(), 1);
  BatchLoader same(d, {0.0f}, {1.0f}, 4, true, {}, 7);
  std::vector<int64_t> replay;
  Batch b;
  while (same.next(b))
    for (int64_t i = 0; i < b.labels.size(0); ++i) replay.push_back(b.labels[i].item<int64_t>());
  EXPECT_EQ(replay, first);
}

TEST(BatchLoader, NormalisesAndAugments) {
  SyntheticOptions o;
  o.train = 256;
  Splits s = make_synthetic(o);
  BatchLoader plain(s.train, s.mean, s.std, 256, false, {}, 1);
  Batch b;
  ASSERT_TRUE(plain.next(b));
  EXPECT_EQ(b.images.scalar_type(), torch::kFloat32);
  EXPECT_NEAR(b.images.mean().item<float>(), 0.0f, 1e-3);
  EXPECT_NEAR(b.images.std().item<float>(), 1.0f, 1e-2);
  // Crop and flip keep the shape, change the pixels, and repeat with the seed.
  BatchLoader aug1(s.train, s.mean, s.std, 32, false, {2, true}, 5);
  BatchLoader aug2(s.train, s.mean, s.std, 32, false, {2, true}, 5);
  BatchLoader none(s.train, s.mean, s.std, 32, false, {}, 5);
  Batch x, y, z;
  ASSERT_TRUE(aug1.next(x) && aug2.next(y) && none.next(z));
  EXPECT_EQ(x.images.sizes(), z.images.sizes());
  EXPECT_TRUE(torch::equal(x.images, y.images));
  EXPECT_FALSE(torch::equal(x.images, z.images));
}

}  // namespace
}  // namespace nasforge::data
