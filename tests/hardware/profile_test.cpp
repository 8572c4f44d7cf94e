// The measuring harness's statistics, and latency profiles: building, resuming, round-tripping
// and refusing. A fake device with known latencies keeps these exact and fast; one test times
// real units on the cpu device.
#include <gtest/gtest.h>

#include <torch/torch.h>
#include <xmmintrin.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "../searchspace/test_util.h"
#include "nasforge/hardware/counts.h"
#include "nasforge/hardware/measuring_thread.h"
#include "nasforge/hardware/profile.h"

namespace nasforge::hardware {
namespace {

TEST(Harness, MedianMadAndConfidenceInterval) {
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(mad({1, 2, 3, 4, 100}), 1);  // robust to the outlier
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  auto [lo, hi] = median_ci(v);
  EXPECT_LT(lo, 50.5);
  EXPECT_GT(hi, 50.5);
  EXPECT_GE(lo, 39);  // ranks 50 -+ 9.8
  EXPECT_LE(hi, 62);
}

TEST(Harness, ConvergenceAndNoise) {
  MeasureOptions o;
  std::vector<double> tight(40, 1.0);
  for (size_t i = 0; i < tight.size(); ++i) tight[i] += 0.001 * static_cast<double>(i % 5);
  Measurement m = summarise(tight, o);
  EXPECT_TRUE(m.converged);
  EXPECT_FALSE(m.noisy);
  std::vector<double> wild;
  for (int i = 0; i < 40; ++i) wild.push_back(i % 2 ? 1.0 : 3.0);
  m = summarise(wild, o);
  EXPECT_FALSE(m.converged);
  EXPECT_TRUE(m.noisy);
  EXPECT_FALSE(summarise({1, 1, 1}, o).converged);  // too few repeats
}

TEST(Harness, NoisyRunsAreMeasuredAgain) {
  MeasureOptions o;
  o.warmup = 0;
  o.max_repeats = 20;
  o.time_limit_s = 10;
  o.reruns = 2;
  int calls = 0;
  // Alternates 0 and ~2 ms of work: never converges, so every re-run is used.
  Measurement m = measure(
      [&] {
        if (++calls % 2) {
          auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
          while (std::chrono::steady_clock::now() < until) {
          }
        }
      },
      o);
  EXPECT_EQ(m.attempts, 3);
  EXPECT_TRUE(m.noisy);
  EXPECT_EQ(calls, 60);
}

// Unit latency is a known function of its cost; a network adds 0.01 ms per unit.
class FakeDevice : public Device {
 public:
  explicit FakeDevice(std::string name = "cpu") : Device(DeviceOptions{}), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  StatusOr<Measurement> time_unit(const Unit& u) override {
    ++unit_calls;
    Measurement m;
    m.median_ms = unit_ms(u);
    m.repeats = 9;
    m.converged = true;
    return m;
  }
  StatusOr<Measurement> time_network(const SearchSpace& space, const Architecture& a) override {
    Measurement m;
    for (const Unit& u : units(space, a)) m.median_ms += unit_ms(u) + 0.01;
    return m;
  }
  static double unit_ms(const Unit& u) {
    return 0.05 + 1e-6 * static_cast<double>(unit_cost(u).macs);
  }
  int unit_calls = 0;

 private:
  std::string name_;
};

std::string temp_file(const std::string& name) {
  std::filesystem::path p = testing::temp_path(name);
  std::filesystem::remove(p);
  return p.string();
}

TEST(Profile, BuildsResumesAndRoundTrips) {
  auto space = testing::load("tests/data/design_mobile_tiny.yaml");
  const std::string path = temp_file("profile.json");
  FakeDevice dev;
  auto p = build_profile(space, dev, path);
  ASSERT_TRUE(p.ok()) << p.status().message();
  const auto all = *distinct_units(space);
  EXPECT_EQ(p->entries.size(), all.size());
  EXPECT_EQ(dev.unit_calls, static_cast<int>(all.size()));
  EXPECT_TRUE(p->complete());

  // Drop some entries as if killed midway: a second run measures only those.
  Profile partial = *p;
  auto it = partial.entries.begin();
  for (int i = 0; i < 5; ++i) it = partial.entries.erase(it);
  ASSERT_TRUE(partial.save(path).ok());
  FakeDevice again;
  auto resumed = build_profile(space, again, path);
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  EXPECT_EQ(again.unit_calls, 5);
  EXPECT_EQ(resumed->entries.size(), all.size());

  auto loaded = Profile::load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->to_json(), resumed->to_json());
  for (const Unit& u : all)
    EXPECT_NEAR(*loaded->lookup(u.key()), FakeDevice::unit_ms(u), 1e-6 * FakeDevice::unit_ms(u));

  ASSERT_TRUE(calibrate_profile(space, again, *loaded, 6, 1, path).ok());
  EXPECT_EQ(Profile::load(path)->calibration.size(), 6u);
}

TEST(Profile, RefusesAnotherSpaceDeviceOrADamagedFile) {
  auto space = testing::load("tests/data/design_mobile_tiny.yaml");
  auto other = testing::load("zoo/nb201.yaml");
  const std::string path = temp_file("refuse.json");
  FakeDevice dev;
  ASSERT_TRUE(build_profile(space, dev, path).ok());
  auto wrong_space = build_profile(other, dev, path);
  ASSERT_FALSE(wrong_space.ok());
  EXPECT_NE(wrong_space.status().message().find("made for space 'mobile-tiny'"), std::string::npos)
      << wrong_space.status().message();
  FakeDevice cuda("cuda");
  auto wrong_device = build_profile(space, cuda, path);
  ASSERT_FALSE(wrong_device.ok());
  EXPECT_NE(wrong_device.status().message().find("measured on device 'cpu', not 'cuda'"),
            std::string::npos);

  // Truncate the file: loading names the file and what was expected.
  std::string text;
  {
    std::ifstream f(path);
    text.assign(std::istreambuf_iterator<char>(f), {});
  }
  {
    std::ofstream f(path, std::ios::trunc);
    f << text.substr(0, text.size() / 2);
  }
  auto damaged = Profile::load(path);
  ASSERT_FALSE(damaged.ok());
  EXPECT_NE(damaged.status().message().find(path), std::string::npos);
  auto refused = build_profile(space, dev, path);  // never overwritten
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("move it away"), std::string::npos);
}

TEST(CpuDevice, TimesUnitsAndNetworks) {
  auto space = testing::load("tests/data/design_mobile_tiny.yaml");
  DeviceOptions o;
  o.measure.time_limit_s = 0.2;
  auto dev = make_device("cpu", o);
  ASSERT_TRUE(dev.ok());
  const auto all = *distinct_units(space);
  auto small = (*dev)->measure_unit(all.front());
  ASSERT_TRUE(small.ok()) << small.status().message();
  EXPECT_GT(small->median_ms, 0);
  EXPECT_GE(small->repeats, 3);
  Rng rng(1);
  auto net = (*dev)->measure_network(space, space.sample(rng));
  ASSERT_TRUE(net.ok());
  EXPECT_GT(net->median_ms, small->median_ms);
  EXPECT_FALSE(make_device("gpu9", o).ok());
  auto cuda = make_device("cuda", o);
  if (!torch::cuda::is_available()) {
    ASSERT_FALSE(cuda.ok());
    EXPECT_NE(cuda.status().message().find("no CUDA GPU"), std::string::npos);
  }
}

// Measuring leaves the caller as it found it: its affinity, LibTorch's thread count and the FP
// mode (flush-to-zero / denormals-are-zero bits of MXCSR) are those from before, while the
// measuring thread itself ran pinned to the first allowed core.
TEST(CpuDevice, LeavesTheCallerAsItFoundIt) {
  auto space = testing::load("tests/data/design_mobile_tiny.yaml");
  const auto allowed = allowed_cores();
  ASSERT_FALSE(allowed.empty());
  const int threads_before = at::get_num_threads();
  torch::set_num_threads(threads_before == 3 ? 2 : 3);  // a value the device (1 thread) is not
  const int threads_set = at::get_num_threads();
  const unsigned fp_before = _mm_getcsr() & 0x8040u;
  for (const char* name : {"cpu", "onednn"}) {
    DeviceOptions o;
    o.measure.time_limit_s = 0.05;
    auto dev = make_device(name, o);
    ASSERT_TRUE(dev.ok()) << dev.status().message();
    EXPECT_EQ((*dev)->options().pinned,
              std::to_string(allowed[0]) + "-" + std::to_string(allowed[0]));
    Rng rng(2);
    ASSERT_TRUE((*dev)->measure_network(space, space.sample(rng)).ok()) << name;
    ASSERT_TRUE((*dev)->measure_unit(distinct_units(space)->front()).ok()) << name;
    EXPECT_EQ(allowed_cores(), allowed) << name << " changed the caller's affinity";
    EXPECT_EQ(at::get_num_threads(), threads_set) << name << " changed the thread count";
    EXPECT_EQ(_mm_getcsr() & 0x8040u, fp_before) << name << " changed the caller's FP mode";
  }
  // More cores than the process may use: refused, naming the allowed ones.
  DeviceOptions wide;
  wide.threads = static_cast<int>(allowed.size()) + 1;
  auto refused = make_device("cpu", wide);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("this process may run on"), std::string::npos);
  torch::set_num_threads(threads_before);
}

// Runs only where LibTorch has CUDA and a GPU (Debian's LibTorch is CPU-only): the cuda device
// times what the cpu device times.
TEST(CudaDevice, TimesUnitsAndNetworks_CUDA) {
  if (!torch::cuda::is_available()) {
    std::cout << "SKIPPED: no CUDA GPU visible to LibTorch\n";
    GTEST_SKIP() << "no CUDA GPU visible to LibTorch";
  }
  auto space = testing::load("tests/data/design_mobile_tiny.yaml");
  DeviceOptions o;
  o.measure.time_limit_s = 0.2;
  auto dev = make_device("cuda", o);
  ASSERT_TRUE(dev.ok()) << dev.status().message();
  auto unit = (*dev)->measure_unit(distinct_units(space)->front());
  ASSERT_TRUE(unit.ok()) << unit.status().message();
  EXPECT_GT(unit->median_ms, 0);
  Rng rng(1);
  auto net = (*dev)->measure_network(space, space.sample(rng));
  ASSERT_TRUE(net.ok()) << net.status().message();
  EXPECT_GT(net->median_ms, 0);
}

}  // namespace
}  // namespace nasforge::hardware
