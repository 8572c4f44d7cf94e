// The differentiable search's loop: an architecture step, then a weight step, per batch; a
// diagnostics row per epoch; checkpoints that resume to the same result.
#include "nasforge/differentiable/search.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "internal/impl.h"
#include "nasforge/differentiable/gradients.h"
#include "nasforge/differentiable/hardcore.h"
#include "nasforge/searchspace/files.h"
#include "nasforge/searchspace/hash.h"

namespace nasforge::differentiable {

namespace {

supernet::Supernet make_net(const std::shared_ptr<const SearchSpace>& space, uint64_t seed) {
  return supernet::Supernet(space, supernet::SupernetOptions().seed(seed));
}

std::string fmt(double v) {
  if (std::isnan(v)) return "";
  std::ostringstream o;
  o.precision(6);
  o << v;
  return o.str();
}

}  // namespace

std::string EpochReport::csv_header() {
  return "epoch,steps,train_loss,train_accuracy,valid_loss,valid_accuracy,temperature,entropy,"
         "parameter_free_share,hessian_eigenvalue,expected_cost,max_cost_ratio,violations,alive,"
         "argmax";
}

std::string EpochReport::csv_row() const {
  std::ostringstream o;
  o << epoch << "," << steps << "," << fmt(train_loss) << "," << fmt(train_accuracy) << ","
    << fmt(valid_loss) << "," << fmt(valid_accuracy) << "," << fmt(temperature) << ","
    << fmt(entropy) << "," << fmt(parameter_free) << "," << fmt(hessian) << ","
    << fmt(expected_cost) << "," << fmt(max_cost_ratio) << "," << violations << "," << alive
    << ",\"" << argmax << "\"";
  return o.str();
}

DifferentiableSearch::Impl::Impl(std::shared_ptr<const SearchSpace> s, const data::Splits& d,
                                 SearchOptions o)
    : space(std::move(s)),
      data(d),
      opt(std::move(o)),
      trainer(make_net(space, opt.train.seed), data, opt.train),
      rng(fnv1a64(std::to_string(opt.train.seed) + "/architecture")),
      dist(*space,
           opt.method == Method::kHardCore ? Parameterization::kSimplex : Parameterization::kLogits,
           opt.knobs.number("init_std"), rng) {
  if (opt.method == Method::kHardCore) {
    auto p = feasible_start(*space, *opt.cost->model, *opt.cost->bound, *opt.feasible);
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < p.size(); ++i)
      dist.theta()[i].copy_(torch::tensor(p[i], torch::kFloat64).to(torch::kFloat32));
  } else {
    arch_opt = std::make_unique<torch::optim::Adam>(
        dist.theta(), torch::optim::AdamOptions(opt.knobs.number("arch_lr"))
                          .betas({0.5, 0.999})
                          .weight_decay(opt.knobs.number("arch_wd")));
  }
  if (opt.cost) {
    torch::NoGradGuard no_grad;
    reference_cost = std::max(1e-12, expected_cost().item<double>());
  }
  mu = opt.knobs.number("mu");
}

Architecture DifferentiableSearch::Impl::current() const {
  Architecture a = derive(*space, probs(), dist.alive());
  if (opt.method == Method::kHardCore)
    a = repair_to_bound(*space, a, probs(), *opt.cost->model, *opt.cost->bound, *opt.feasible);
  return a;
}

EpochReport DifferentiableSearch::Impl::end_epoch() {
  EpochReport r;
  r.epoch = trainer.epoch();  // the trainer has moved on: this is the epoch just finished
  r.steps = train_steps;
  r.train_loss = train_steps ? train_loss / static_cast<double>(train_steps) : std::nan("");
  r.train_accuracy = train_steps ? train_accuracy / static_cast<double>(train_steps) : std::nan("");
  r.valid_loss = valid_steps ? valid_loss / static_cast<double>(valid_steps) : std::nan("");
  r.valid_accuracy = std::nan("");
  r.temperature = temperature();
  const auto p = probs();
  r.entropy = mean_entropy(p);
  r.parameter_free = parameter_free_share(*space, p);
  if (opt.cost) {
    torch::NoGradGuard no_grad;
    r.expected_cost = expected_cost().item<double>();
  } else {
    r.expected_cost = std::nan("");
  }
  r.max_cost_ratio = opt.cost && opt.cost->bound ? max_ratio : std::nan("");
  r.violations = violations;
  for (size_t d = 0; d < p.size(); ++d) r.alive += static_cast<int64_t>(dist.alive_count(d));
  r.argmax = space->to_string(current());
  // RobustDARTS's signal on a fixed validation batch, BN statistics left as they were.
  const int iters = static_cast<int>(opt.knobs.number("hessian_iters"));
  r.hessian = std::nan("");
  if (iters > 0) {
    auto& net = trainer.net();
    std::vector<at::Tensor> saved;
    for (auto& b : net->buffers(true)) saved.push_back(b.clone());
    data::BatchLoader fixed(data.valid, data.mean, data.std, opt.train.batch_size, false, {}, 0);
    data::Batch b;
    if (fixed.next(b)) {
      net->train();
      const double tau = temperature();
      const bool simplex = dist.parameterization() == Parameterization::kSimplex;
      auto loss = [&]() {
        supernet::ArchWeights w;
        w.probs = simplex ? dist.theta() : dist.probs(tau);
        return cross_entropy(net->forward(b.images, w), b.labels);
      };
      r.hessian = dominant_eigenvalue(dist.theta(), loss, iters, rng);
    }
    torch::NoGradGuard no_grad;
    auto buffers = net->buffers(true);
    for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);
  }
  train_loss = train_accuracy = valid_loss = valid_accuracy = 0;
  train_steps = valid_steps = 0;
  max_ratio = 0;
  return r;
}

StatusOr<std::unique_ptr<DifferentiableSearch>> DifferentiableSearch::create(
    std::shared_ptr<const SearchSpace> space, const data::Splits& data, SearchOptions options) {
  const std::string name = info_of(options.method).name;
  const bool needs_cost = options.method == Method::kHardCore ||
                          options.method == Method::kProxyless || options.method == Method::kGold;
  if (needs_cost && !options.cost)
    return FailedPrecondition(
        "strategy " + name +
        " needs a differentiable cost: a latency metric whose source is a lut predictor "
        "(--metric latency_ms@DEV=predictor:LUT.json), or params / macs with source count");
  if (options.method == Method::kHardCore && (!options.cost->bound || !options.feasible))
    return FailedPrecondition("strategy hardcore needs a bound on its cost: --constraint '" +
                              options.cost->metric + "<=VALUE'");
  if (data.valid.size() == 0)
    return FailedPrecondition(
        "a differentiable search needs a validation split; the data has "
        "none");
  auto impl = std::make_unique<Impl>(std::move(space), data, std::move(options));
  return std::unique_ptr<DifferentiableSearch>(new DifferentiableSearch(std::move(impl)));
}

DifferentiableSearch::DifferentiableSearch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DifferentiableSearch::~DifferentiableSearch() = default;

Status DifferentiableSearch::run(const std::string& dir,
                                 const std::function<void(const StepInfo&)>& on_step,
                                 const std::function<void(const EpochReport&)>& on_epoch) {
  Impl& s = *impl_;
  const std::string ckpt = dir + "/checkpoint.pt";
  if (std::filesystem::exists(ckpt)) NF_RETURN_IF_ERROR(s.load(ckpt));
  NF_RETURN_IF_ERROR(s.agree_on_state());
  // Only rank 0 writes the folder; the others step with it.
  auto save = [&]() { return s.lead() ? s.save(ckpt) : Status::Ok(); };
  const auto every = static_cast<int64_t>(s.opt.knobs.number("checkpoint_every"));
  const int64_t warmup = static_cast<int64_t>(s.opt.knobs.number("arch_warmup"));
  auto write_history = [&]() {
    std::string csv = EpochReport::csv_header() + "\n";
    for (const auto& r : s.history) csv += r.csv_row() + "\n";
    return s.lead() ? write_atomically(dir + "/diagnostics.csv", csv, "diagnostics") : Status::Ok();
  };
  while (s.trainer.epoch() < s.opt.train.epochs) {
    if (s.opt.max_steps && s.trainer.global_step() >= *s.opt.max_steps) break;
    const bool epoch_over = s.trainer.step_in_epoch() >= s.trainer.steps_per_epoch();
    if (!epoch_over && s.opt.method != Method::kGold && s.trainer.epoch() >= warmup) s.arch_step();
    const double tau = s.temperature();
    const bool one_level = s.opt.method == Method::kGold && s.trainer.epoch() >= warmup;
    s.trainer.set_forward([&s, tau, one_level](const at::Tensor& x) {
      return s.trainer.net()->forward(x, s.weights(tau, one_level));
    });
    auto stats = s.trainer.step();
    if (!stats) {  // the epoch ended
      s.history.push_back(s.end_epoch());
      NF_RETURN_IF_ERROR(save());
      NF_RETURN_IF_ERROR(write_history());
      if (on_epoch) on_epoch(s.history.back());
      continue;
    }
    if (one_level) s.gold_after_step();
    s.train_loss += stats->loss;
    s.train_accuracy += stats->accuracy;
    ++s.train_steps;
    if (on_step) {
      StepInfo info;
      info.epoch = s.trainer.epoch();
      info.step = s.trainer.step_in_epoch();
      info.steps_per_epoch = s.trainer.steps_per_epoch();
      info.global_step = s.trainer.global_step();
      info.train_loss = stats->loss;
      info.train_accuracy = stats->accuracy;
      info.lr = stats->lr;
      info.valid_loss = s.valid_steps ? s.valid_loss / static_cast<double>(s.valid_steps) : 0;
      info.temperature = tau;
      if (s.opt.cost) {
        torch::NoGradGuard no_grad;
        info.expected_cost = s.expected_cost().item<double>();
      }
      on_step(info);
    }
    if (s.trainer.global_step() % every == 0) NF_RETURN_IF_ERROR(save());
  }
  return save();
}

std::vector<Architecture> DifferentiableSearch::derived() const {
  std::vector<Architecture> all = impl_->series, out;
  all.push_back(impl_->current());
  for (const auto& a : all)  // the series may come back to an architecture: keep its first
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  return out;
}

const std::vector<EpochReport>& DifferentiableSearch::history() const { return impl_->history; }

std::vector<std::vector<double>> DifferentiableSearch::probabilities() const {
  return impl_->probs();
}

std::string DifferentiableSearch::state_digest() const { return impl_->digest(); }
std::string DifferentiableSearch::config_text() const { return impl_->config_text(); }

}  // namespace nasforge::differentiable
