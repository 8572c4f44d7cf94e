// The supernet trainer: steps over sampled paths, evaluation with BN recalibration, and
// checkpoints that resume exactly.
#include <torch/torch.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "nasforge/supernet/checksums.h"
#include "nasforge/searchspace/files.h"
#include "nasforge/searchspace/hash.h"
#include "nasforge/supernet/data_parallel.h"
#include "nasforge/supernet/elastic.h"
#include "nasforge/supernet/errors.h"
#include "nasforge/supernet/train.h"

namespace nasforge::supernet {

namespace {

constexpr const char* kFormat = "nasforge-supernet-checkpoint-1";

uint32_t crc32_of(const std::string& bytes) {
  return static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0),
                                     reinterpret_cast<const Bytef*>(bytes.data()),
                                     static_cast<uInt>(bytes.size())));
}

// Soft cross-entropy against a teacher's probabilities (in-place distillation).
at::Tensor soft_cross_entropy(const at::Tensor& logits, const at::Tensor& teacher_probs) {
  return -(teacher_probs * torch::log_softmax(logits, 1)).sum(1).mean();
}

// Every batch-norm layer of the network, elastic or plain, with its momentum setter.
struct NormRef {
  at::Tensor running_mean, running_var;
  std::function<void(double)> set_momentum;
  std::function<double()> momentum;
};

std::vector<NormRef> norms_of(torch::nn::Module& net) {
  std::vector<NormRef> out;
  for (auto& m : net.modules(/*include_self=*/false)) {
    if (auto* e = dynamic_cast<ElasticBatchNorm2dImpl*>(m.get())) {
      out.push_back({e->running_mean, e->running_var, [e](double v) { e->momentum = v; },
                     [e]() { return e->momentum; }});
    } else if (auto* b = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) {
      out.push_back({b->running_mean, b->running_var, [b](double v) { b->options.momentum(v); },
                     [b]() { return b->options.momentum().value_or(0.1); }});
    }
  }
  return out;
}

}  // namespace

uint64_t epoch_seed(uint64_t seed, int64_t epoch) {
  return fnv1a64(std::to_string(seed) + "/epoch/" + std::to_string(epoch));
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& group : opt.param_groups()) {
    if (auto* sgd = dynamic_cast<torch::optim::SGDOptions*>(&group.options())) sgd->lr(lr);
    if (auto* adam = dynamic_cast<torch::optim::AdamOptions*>(&group.options())) adam->lr(lr);
  }
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& c,
                                                        std::vector<at::Tensor> params) {
  if (c.optimizer == OptimizerKind::kAdam)
    return std::make_unique<torch::optim::Adam>(
        std::move(params), torch::optim::AdamOptions(c.lr).weight_decay(c.weight_decay));
  return std::make_unique<torch::optim::SGD>(std::move(params),
                                             torch::optim::SGDOptions(c.lr)
                                                 .momentum(c.momentum)
                                                 .weight_decay(c.weight_decay)
                                                 .nesterov(c.nesterov && c.momentum > 0));
}

double scheduled_lr(const TrainConfig& c, double progress) {
  const double total = static_cast<double>(c.epochs);
  if (progress < c.warmup_epochs) return c.lr * (progress + 1e-3) / c.warmup_epochs;
  const double span = std::max(total - c.warmup_epochs, 1e-9);
  const double t = std::min(1.0, (progress - c.warmup_epochs) / span);
  return c.lr * 0.5 * (1.0 + std::cos(M_PI * t));
}

void recalibrate_bn(Supernet& net, const Architecture& arch, data::BatchLoader& loader,
                    int64_t batches) {
  torch::NoGradGuard no_grad;
  auto norms = norms_of(*net);
  std::vector<double> momenta;
  for (auto& n : norms) {
    momenta.push_back(n.momentum());
    n.running_mean.zero_();
    n.running_var.fill_(1);
  }
  const bool was_training = net->is_training();
  net->train();
  data::Batch b;
  for (int64_t i = 0; i < batches; ++i) {
    if (!loader.next(b) && !loader.next(b)) break;  // wrap into the next epoch once
    // momentum 1/(i+1) makes the running statistics the plain average over the batches.
    for (auto& n : norms) n.set_momentum(1.0 / static_cast<double>(i + 1));
    net->forward(b.images, arch);
  }
  for (size_t i = 0; i < norms.size(); ++i) norms[i].set_momentum(momenta[i]);
  net->train(was_training);
}

void recalibrate_bn(Supernet& net, const Architecture& arch, const data::Splits& data,
                    const TrainConfig& config) {
  if (config.bn_recalibration_batches <= 0) return;
  data::BatchLoader calib(data.train, data.mean, data.std, config.batch_size, true, {},
                          fnv1a64("recalibrate/" + std::to_string(config.seed)));
  recalibrate_bn(net, arch, calib, config.bn_recalibration_batches);
}

SupernetTrainer::SupernetTrainer(Supernet net, const data::Splits& data, TrainConfig config)
    : net_(std::move(net)),
      data_(data),
      config_(std::move(config)),
      sampler_(net_->space(), config_),
      rng_(config_.seed) {
  sampler_.set_alternative_params(net_->alternative_params());
  optimizer_ = make_optimizer(config_, net_->parameters());
  start_epoch();
}

void SupernetTrainer::set_group(std::shared_ptr<distributed::Group> group) {
  NF_CHECK(global_step_ == 0 && step_in_epoch_ == 0, "set_group comes before training starts");
  NF_CHECK(!group || config_.batch_size >= group->size(),
           "the global batch must hold an image for every rank");
  group_ = std::move(group);
  start_epoch();
}

void SupernetTrainer::start_epoch() {
  loader_ = std::make_unique<data::BatchLoader>(data_.train, data_.mean, data_.std,
                                                config_.batch_size, true, config_.augment,
                                                epoch_seed(config_.seed, epoch_), shard_of(group_));
  step_in_epoch_ = 0;
}

int64_t SupernetTrainer::steps_per_epoch() const { return loader_->batches_per_epoch(); }

double SupernetTrainer::lr_at(double progress) const { return scheduled_lr(config_, progress); }

double SupernetTrainer::current_lr() const {
  return lr_at(epoch_ + static_cast<double>(step_in_epoch_) / steps_per_epoch());
}

std::optional<StepStats> SupernetTrainer::step() {
  data::Batch batch;
  if (!loader_->next(batch)) {
    ++epoch_;
    start_epoch();
    return std::nullopt;
  }
  StepStats stats;
  stats.lr = lr_at(epoch_ + static_cast<double>(step_in_epoch_) / steps_per_epoch());
  set_lr(*optimizer_, stats.lr);
  net_->train();
  // No gradient at all, rather than a zero one, for weights off this step's paths: the
  // optimizer then leaves them alone (no weight decay, no momentum), exactly as a resumed
  // trainer, whose weights start without gradients, does.
  net_->zero_grad(/*set_to_none=*/true);
  if (forward_) {
    torch::manual_seed(rng_.next());
    at::Tensor logits = forward_(batch.images);
    at::Tensor loss = torch::nn::functional::cross_entropy(
        logits, batch.labels,
        torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(config_.label_smoothing));
    stats.loss = loss.item<double>();
    stats.accuracy = logits.argmax(1).eq(batch.labels).to(torch::kFloat64).mean().item<double>();
    loss.backward();
    return finish_step(stats, batch, 1, step_key(net_->space(), {}, global_step_));
  }
  const auto paths =
      fixed_path_ ? std::vector<Architecture>{*fixed_path_} : sampler_.paths(rng_, epoch_);
  at::Tensor teacher;
  for (size_t i = 0; i < paths.size(); ++i) {
    torch::manual_seed(rng_.next());  // dropout draws from torch's generator: seed it per path
    at::Tensor logits = net_->forward(batch.images, paths[i]);
    at::Tensor loss;
    if (teacher.defined()) {
      loss = soft_cross_entropy(logits, teacher);
    } else {
      loss = torch::nn::functional::cross_entropy(
          logits, batch.labels,
          torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(
              config_.label_smoothing));
    }
    if (i == 0) {
      stats.loss = loss.item<double>();
      stats.accuracy = logits.argmax(1).eq(batch.labels).to(torch::kFloat64).mean().item<double>();
      if (config_.inplace_distillation) teacher = torch::softmax(logits.detach(), 1);
    }
    loss.backward();
  }
  return finish_step(stats, batch, static_cast<int64_t>(paths.size()),
                     step_key(net_->space(), paths, global_step_));
}

StepStats SupernetTrainer::finish_step(StepStats stats, const data::Batch& batch, int64_t paths,
                                       uint64_t key) {
  reduce_step(group_, key, net_->parameters(), batch, stats);
  if (config_.grad_clip > 0)
    torch::nn::utils::clip_grad_norm_(net_->parameters(), config_.grad_clip);
  optimizer_->step();
  stats.paths = paths;
  ++step_in_epoch_;
  ++global_step_;
  return stats;
}

EvalResult SupernetTrainer::evaluate(const Architecture& arch, const data::Dataset& split,
                                     bool recalibrate) {
  // Keep the supernet's own statistics; recalibration only serves this evaluation.
  std::vector<at::Tensor> saved;
  for (auto& b : net_->buffers(true)) saved.push_back(b.clone());
  if (recalibrate) recalibrate_bn(net_, arch, data_, config_);
  const bool was_training = net_->is_training();
  net_->eval();
  torch::NoGradGuard no_grad;
  data::BatchLoader loader(split, data_.mean, data_.std, 512, false, {}, 0);
  EvalResult r;
  double correct = 0, loss = 0;
  data::Batch b;
  while (loader.next(b)) {
    auto logits = net_->forward(b.images, arch);
    loss += torch::nn::functional::cross_entropy(
                logits, b.labels,
                torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                .item<double>();
    correct += logits.argmax(1).eq(b.labels).sum().item<double>();
    r.examples += b.labels.size(0);
  }
  if (r.examples > 0) {
    r.accuracy = correct / r.examples;
    r.loss = loss / r.examples;
  }
  auto buffers = net_->buffers(true);
  for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);
  net_->train(was_training);
  return r;
}

Status SupernetTrainer::save(const std::string& path, const std::string& extra) const {
  // A diverged run's weights are never written over its last good checkpoint.
  for (const auto& p : net_->named_parameters(true))
    if (!torch::isfinite(p.value()).all().item<bool>())
      return FailedPrecondition(path + ": not written: weight " + p.key() +
                                " holds non-finite values (the run diverged; the previous "
                                "checkpoint, if any, is left as it was)");
  try {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive model, optimizer;
    net_->save(model);
    optimizer_->save(optimizer);
    archive.write("model", model);
    archive.write("model_crc32", c10::IValue(internal::module_crc(*net_)));
    archive.write("optimizer", optimizer);
    archive.write("optimizer_crc32", c10::IValue(internal::optimizer_crc(*optimizer_)));
    auto rng = rng_.state();
    archive.write("format", c10::IValue(std::string(kFormat)));
    archive.write("space_name", c10::IValue(net_->space().name()));
    archive.write("space_fingerprint", c10::IValue(net_->space().fingerprint()));
    archive.write("config", c10::IValue(config_.str()));
    archive.write("epoch", c10::IValue(epoch_));
    archive.write("step_in_epoch", c10::IValue(step_in_epoch_));
    archive.write("global_step", c10::IValue(global_step_));
    archive.write("rng",
                  torch::tensor(std::vector<int64_t>(rng.begin(), rng.end()), torch::kInt64));
    if (!extra.empty()) {
      archive.write("extra",
                    torch::tensor(std::vector<uint8_t>(extra.begin(), extra.end()), torch::kUInt8));
      archive.write("extra_crc32", c10::IValue(static_cast<int64_t>(crc32_of(extra))));
    }
    // Serialised in memory, then written by the one atomic writer: LibTorch's file writer
    // throws from its destructor on a full disk, which would abort the process.
    std::ostringstream bytes;
    archive.save_to(bytes);
    return write_atomically(path, bytes.str(), "checkpoint");
  } catch (const c10::Error& e) {
    return FailedPrecondition(path + ": could not serialise the checkpoint (" +
                              e.what_without_backtrace() + ")");
  } catch (const std::exception& e) {
    return FailedPrecondition(path + ": could not serialise the checkpoint (" + error_text(e) +
                              ")");
  }
}

namespace {

// After the weights are loaded: they must match the checksum saved with them, when there is one.
Status check_state_crc(const std::string& path, torch::serialize::InputArchive& archive,
                       const torch::nn::Module& m) {
  c10::IValue saved;
  if (!archive.try_read("model_crc32", saved)) return Status::Ok();  // written before checksums
  if (!saved.isInt() || saved.toInt() != internal::module_crc(m))
    return InvalidArgument(path +
                           ": expected the weights to match the checksum saved with them, got "
                           "different bytes (the file is damaged; retrain or restore it)");
  return Status::Ok();
}

// Opens a checkpoint and checks its format and space; the archive is then ready to read.
Status open_checkpoint(const std::string& path, const SearchSpace& space,
                       torch::serialize::InputArchive& archive) {
  try {
    archive.load_from(path);
  } catch (const std::exception&) {
    return InvalidArgument(path +
                           ": expected a nasforge supernet checkpoint, got a file that "
                           "does not load (truncated or not a checkpoint)");
  }
  try {
    c10::IValue format, fingerprint, name;
    if (!archive.try_read("format", format) || !format.isString() ||
        format.toStringRef() != kFormat)
      return InvalidArgument(path + ": expected a nasforge supernet checkpoint (" + kFormat +
                             "), got another file");
    archive.read("space_fingerprint", fingerprint);
    archive.read("space_name", name);
    if (fingerprint.toStringRef() != space.fingerprint())
      return FailedPrecondition(path + ": expected a checkpoint of space '" + space.name() +
                                "' (fingerprint " + space.fingerprint() + "), got one of space '" +
                                name.toStringRef() + "' (fingerprint " + fingerprint.toStringRef() +
                                ")");
  } catch (const std::exception& e) {
    return InvalidArgument(path +
                           ": expected a complete nasforge supernet checkpoint, got a "
                           "damaged one (" +
                           error_text(e).substr(0, 200) + ")");
  }
  return Status::Ok();
}

Status damaged(const std::string& path, const std::exception& e) {
  return InvalidArgument(path +
                         ": expected a complete nasforge supernet checkpoint, got a "
                         "damaged one (" +
                         error_text(e).substr(0, 200) + ")");
}

}  // namespace

Status load_supernet_weights(Supernet& net, const std::string& path) {
  torch::serialize::InputArchive archive;
  NF_RETURN_IF_ERROR(open_checkpoint(path, net->space(), archive));
  try {
    torch::serialize::InputArchive model;
    archive.read("model", model);
    net->load(model);
  } catch (const std::exception& e) {
    return damaged(path, e);
  }
  return check_state_crc(path, archive, *net);
}

Status SupernetTrainer::load(const std::string& path) {
  torch::serialize::InputArchive archive;
  NF_RETURN_IF_ERROR(open_checkpoint(path, net_->space(), archive));
  try {
    c10::IValue epoch, step, global;
    torch::serialize::InputArchive model, optimizer;
    archive.read("model", model);
    archive.read("optimizer", optimizer);
    net_->load(model);
    NF_RETURN_IF_ERROR(check_state_crc(path, archive, *net_));
    optimizer_->load(optimizer);
    if (c10::IValue saved;
        archive.try_read("optimizer_crc32", saved) &&
        (!saved.isInt() || saved.toInt() != internal::optimizer_crc(*optimizer_)))
      return InvalidArgument(path +
                             ": expected the optimizer state to match the checksum saved with it, "
                             "got different bytes (the file is damaged; retrain or restore it)");
    archive.read("epoch", epoch);
    archive.read("step_in_epoch", step);
    archive.read("global_step", global);
    at::Tensor rng;
    archive.read("rng", rng);
    std::array<uint64_t, 4> state;
    for (int i = 0; i < 4; ++i) state[i] = static_cast<uint64_t>(rng[i].item<int64_t>());
    rng_.set_state(state);
    extra_.clear();
    if (at::Tensor bytes; archive.try_read("extra", bytes)) {
      extra_.assign(static_cast<const char*>(bytes.data_ptr()), bytes.numel());
      c10::IValue crc;
      if (!archive.try_read("extra_crc32", crc) || !crc.isInt() ||
          crc.toInt() != static_cast<int64_t>(crc32_of(extra_)))
        return InvalidArgument(path +
                               ": expected the search state to match the checksum saved with it, "
                               "got different bytes (the file is damaged; rerun or restore it)");
    }
    epoch_ = epoch.toInt();
    global_step_ = global.toInt();
    // Replay the epoch's loader up to where the checkpoint left it.
    start_epoch();
    const int64_t done = step.toInt();
    data::Batch skip;
    for (int64_t i = 0; i < done; ++i) loader_->next(skip);
    step_in_epoch_ = done;
  } catch (const std::exception& e) {
    return damaged(path, e);
  }
  return Status::Ok();
}

Status check_finite(const EvalResult& r, const std::string& split) {
  if (std::isfinite(r.loss) && std::isfinite(r.accuracy)) return Status::Ok();
  return FailedPrecondition(std::string("the loss is ") +
                            (std::isnan(r.loss)   ? "NaN"
                             : std::isinf(r.loss) ? "inf"
                                                  : "finite") +
                            " on " + split +
                            ": the weights or the data hold non-finite values (a diverged run, or "
                            "damaged files)");
}

std::string SupernetTrainer::state_digest() const {
  return internal::state_digest(internal::module_crc(*net_), internal::optimizer_crc(*optimizer_),
                                rng_.state(), epoch_, step_in_epoch_, global_step_);
}

}  // namespace nasforge::supernet
