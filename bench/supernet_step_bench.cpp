// Figure 1 of the supernet (issue B): one training step of a sampled path through the
// supernet, over one step of the same architecture's extracted static network. Same batch,
// same threads, steps interleaved, medians of many steps. Also prints forward+backward alone,
// which leaves out the optimizer's update of the supernet's larger parameter set.
//
// Then the relaxed (DARTS-family) forward+backward, softmax weights over every decision with
// gradients into the architecture logits, against the largest single path's.
//
// usage: supernet_step_bench [REPO_ROOT] [--space zoo/mobilenet.yaml] [--batch 128]
//   (with another --space, the figures' names end in _SPACENAME: supernet.step_ratio_fbnet)
//                            [--steps 30] [--threads 2] [--paths 3] [--dump DIR]
//                            [--only-steps 0|1]
//
// --only-steps 1 stops after the training-step figure (no inference or relaxed part), for
// bench/python_comparison.sh, which alternates this program with the Python peer.
//
// --dump DIR writes what bench/python/mobilenet_supernet.py needs to check itself against this
// network and to time on the same data: the supernet's initial state (state.txt names each
// tensor, state.bin holds them), the real batch (batch.bin: images then labels), the first
// path's architecture (arch.txt) and its eval-mode logits on that batch (logits.bin), and the
// supernet's parameter count (params.txt).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "bench_flags.h"
#include "nasforge/supernet/data.h"
#include "nasforge/supernet/supernet.h"
#include "nasforge/supernet/train.h"

using namespace nasforge;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

template <typename F>
double time_ms(F&& f) {
  auto t = Clock::now();
  f();
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Appends `t`'s bytes (contiguous, CPU) to `bin` and one line "name dtype dim..." to `index`.
void write_tensor(std::ofstream& index, std::ofstream& bin, const std::string& name,
                  const at::Tensor& t) {
  const at::Tensor c = t.detach().contiguous().cpu();
  index << name << ' ' << (c.scalar_type() == at::kFloat ? "float32" : "int64");
  for (int64_t d : c.sizes()) index << ' ' << d;
  index << '\n';
  bin.write(static_cast<const char*>(c.data_ptr()), static_cast<std::streamsize>(c.nbytes()));
}

// See --dump in the usage above. Exits with a message if the folder cannot be written.
void dump(const std::string& dir, supernet::Supernet& net, const SearchSpace& space,
          const Architecture& arch, const data::Batch& b) {
  std::filesystem::create_directories(dir);
  {  // Two training-mode forwards first, so that the running statistics are not the initial 0/1.
    torch::NoGradGuard no_grad;
    for (int i = 0; i < 2; ++i) (void)net->forward(b.images, arch);
  }
  std::ofstream index(dir + "/state.txt"), bin(dir + "/state.bin", std::ios::binary);
  int64_t params = 0;
  for (const auto& p : net->named_parameters()) {
    write_tensor(index, bin, p.key(), p.value());
    params += p.value().numel();
  }
  for (const auto& p : net->named_buffers()) write_tensor(index, bin, p.key(), p.value());
  std::ofstream batch_index(dir + "/batch.txt"), batch(dir + "/batch.bin", std::ios::binary);
  write_tensor(batch_index, batch, "images", b.images.to(at::kFloat));
  write_tensor(batch_index, batch, "labels", b.labels.to(at::kLong));
  net->eval();
  at::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    logits = net->forward(b.images, arch);
  }
  net->train();
  std::ofstream logits_index(dir + "/logits.txt"),
      logits_bin(dir + "/logits.bin", std::ios::binary);
  write_tensor(logits_index, logits_bin, "logits", logits);
  std::ofstream(dir + "/arch.txt") << space.to_string(arch) << '\n';
  std::ofstream(dir + "/params.txt") << params << '\n';
  if (!index || !bin || !batch || !logits_bin) {
    std::fprintf(stderr, "--dump %s: could not write the files\n", dir.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bench::BenchFlags flags(argc, argv,
                                {{"space", "zoo/mobilenet.yaml"},
                                 {"batch", "128"},
                                 {"steps", "30"},
                                 {"threads", "2"},
                                 {"paths", "3"},
                                 {"dump", ""},
                                 {"only-steps", "0"}});
  const int64_t batch = flags.num("batch"), steps = flags.num("steps"),
                threads = flags.num("threads"), npaths = flags.num("paths");
  torch::set_num_threads(static_cast<int>(threads));
  auto space = flags.space();
  // Figures of another space than the default carry its name: supernet.step_ratio_fbnet.
  const std::string tag = flags.str("space") == "zoo/mobilenet.yaml" ? "" : "_" + space->name();
  // A real Fashion-MNIST batch where the space takes 28x28 grey images, synthetic otherwise.
  data::Batch b;
  {
    auto fm = space->input().channels == 1 && space->input().height == 28
                  ? data::load_fashion_mnist()
                  : StatusOr<data::Splits>(InvalidArgument("shape"));
    data::SyntheticOptions so;
    so.channels = space->input().channels;
    so.height = space->input().height;
    so.width = space->input().width;
    so.train = batch;
    data::Splits splits = fm.ok() ? *fm : data::make_synthetic(so);
    data::BatchLoader loader(splits.train, splits.mean, splits.std, batch, true, {}, 1);
    loader.next(b);
    std::printf("space %s, data %s, batch %lld, %lld threads, %lld steps per side\n",
                space->name().c_str(), splits.name.c_str(), static_cast<long long>(batch),
                static_cast<long long>(threads), static_cast<long long>(steps));
  }
  supernet::Supernet net(space, supernet::SupernetOptions().seed(1));
  net->train();
  torch::optim::SGD net_opt(net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  Rng rng(7);
  std::printf("%-64s %10s %10s %7s %10s %10s %7s\n", "path", "super ms", "static ms", "ratio",
              "super f+b", "static f+b", "ratio");
  std::vector<double> ratios, fb_ratios;
  for (int64_t p = 0; p < npaths; ++p) {
    Architecture arch = space->sample(rng);
    if (p == 0 && !flags.str("dump").empty()) dump(flags.str("dump"), net, *space, arch, b);
    supernet::StaticNetwork alone = net->extract(arch);
    alone->train();
    torch::optim::SGD alone_opt(alone->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    std::vector<double> sup, sta, sup_fb, sta_fb;
    auto step = [&](auto&& forward, torch::optim::Optimizer& opt, std::vector<double>& all,
                    std::vector<double>& fb) {
      double t_fb = 0;
      all.push_back(time_ms([&] {
        opt.zero_grad();
        t_fb =
            time_ms([&] { torch::nn::functional::cross_entropy(forward(), b.labels).backward(); });
        opt.step();
      }));
      fb.push_back(t_fb);
    };
    for (int64_t s = 0; s < steps + 3; ++s) {  // the first 3 of each side are warm-up
      std::vector<double> a, bb, c, dd;
      step([&] { return net->forward(b.images, arch); }, net_opt, a, c);
      step([&] { return alone->forward(b.images); }, alone_opt, bb, dd);
      if (s < 3) continue;
      sup.push_back(a[0]);
      sta.push_back(bb[0]);
      sup_fb.push_back(c[0]);
      sta_fb.push_back(dd[0]);
    }
    const double r = median(sup) / median(sta), rfb = median(sup_fb) / median(sta_fb);
    ratios.push_back(r);
    fb_ratios.push_back(rfb);
    std::printf("%-64s %10.1f %10.1f %7.3f %10.1f %10.1f %7.3f\n", space->to_string(arch).c_str(),
                median(sup), median(sta), r, median(sup_fb), median(sta_fb), rfb);
    // The same, as named fields for scripts (bench/python_comparison.sh).
    std::printf("PATH arch=%s super_step_ms=%.3f static_step_ms=%.3f\n",
                space->to_string(arch).c_str(), median(sup), median(sta));
  }
  std::printf(
      "supernet step / static step (median over paths): %.3f  (forward+backward only: %.3f)\n",
      median(ratios), median(fb_ratios));
  std::printf("FIGURE supernet.step_ratio%s: %.3f, target <= 1.10: %s\n", tag.c_str(),
              median(ratios), median(ratios) <= 1.10 ? "met" : "missed");
  if (flags.num("only-steps") != 0) return 0;

  // Inference at batch 1 (eval mode, no grad): a single path through the supernet against the
  // extracted static network, interleaved, on the first image of the batch.
  {
    net->eval();
    c10::InferenceMode guard;
    const at::Tensor one = b.images.slice(0, 0, 1);
    std::vector<double> inf_ratios;
    Rng irng(11);
    for (int64_t p = 0; p < npaths; ++p) {
      const Architecture arch = space->sample(irng);
      supernet::StaticNetwork alone = net->extract(arch);
      alone->eval();
      std::vector<double> sup, sta;
      for (int64_t s = 0; s < 10 * steps + 10; ++s) {  // the first 10 of each are warm-up
        const double a = time_ms([&] { (void)net->forward(one, arch); });
        const double c = time_ms([&] { (void)alone->forward(one); });
        if (s < 10) continue;
        sup.push_back(a);
        sta.push_back(c);
      }
      inf_ratios.push_back(median(sup) / median(sta));
      std::printf("inference batch 1: supernet path %.3f ms, static %.3f ms, ratio %.3f  %s\n",
                  median(sup), median(sta), inf_ratios.back(), space->to_string(arch).c_str());
    }
    std::printf("FIGURE supernet.inference_b1_ratio%s: %.3f, target <= 1.15: %s\n", tag.c_str(),
                median(inf_ratios), median(inf_ratios) <= 1.15 ? "met" : "missed");
    net->train();
  }

  const supernet::TrainConfig defaults;
  supernet::PathSampler sampler(*space, defaults);
  sampler.set_alternative_params(net->alternative_params());  // a choice's largest alternative
  const Architecture largest = sampler.largest();
  std::vector<at::Tensor> logits;
  for (const auto& d : space->decisions())
    logits.push_back(torch::zeros({static_cast<int64_t>(d.domain.size())}).requires_grad_(true));
  std::vector<double> relaxed, single;
  for (int64_t s = 0; s < steps + 3; ++s) {
    net->zero_grad();
    const double r = time_ms([&] {
      auto y = net->forward(b.images, supernet::ArchWeights::softmax(logits));
      torch::nn::functional::cross_entropy(y, b.labels).backward();
    });
    const double l = time_ms([&] {
      torch::nn::functional::cross_entropy(net->forward(b.images, largest), b.labels).backward();
    });
    if (s < 3) continue;
    relaxed.push_back(r);
    single.push_back(l);
  }
  std::printf(
      "relaxed forward+backward %.1f ms, largest single path %.1f ms: relaxed / largest %.2f\n",
      median(relaxed), median(single), median(relaxed) / median(single));
  std::printf("largest path: %s\n", space->to_string(largest).c_str());
  std::printf("FIGURE supernet.relaxed_ratio%s: %.2f (measured; no target)\n", tag.c_str(),
              median(relaxed) / median(single));
  return 0;
}
