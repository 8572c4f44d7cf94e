#include "nasforge/hypernets/trainer.h"

#include <torch/torch.h>
#include <zlib.h>

#include <cmath>
#include <sstream>

#include "nasforge/hypernets/arch_graph.h"
#include "nasforge/searchspace/files.h"
#include "nasforge/supernet/checksums.h"
#include "nasforge/supernet/data_parallel.h"
#include "nasforge/supernet/errors.h"
#include "nasforge/supernet/graph_run.h"

namespace nasforge::hypernets {

using supernet::Graph;
using supernet::NormMode;
using supernet::OpKind;
using supernet::run_graph;

namespace {

constexpr const char* kFormat = "nasforge-ghn-1";

int64_t crc_of(const std::string& bytes) {
  return static_cast<int64_t>(crc32(crc32(0L, Z_NULL, 0),
                                    reinterpret_cast<const Bytef*>(bytes.data()),
                                    static_cast<uInt>(bytes.size())));
}

at::Tensor to_bytes(const std::string& s) {
  return torch::tensor(std::vector<uint8_t>(s.begin(), s.end()), torch::kUInt8);
}

std::string from_bytes(const at::Tensor& t) {
  const auto* p = t.data_ptr<uint8_t>();
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(t.numel()));
}

}  // namespace

GhnOptions for_space(GhnOptions o, const SearchSpace& space) {
  if (o.kind == GhnKind::kSmash)
    o.encoding = static_cast<int64_t>(
        space.encode_onehot(Architecture(std::vector<uint32_t>(space.decisions().size(), 0)))
            .size());
  return o;
}

GhnTrainer::GhnTrainer(std::shared_ptr<const SearchSpace> space, const data::Splits& data,
                       supernet::TrainConfig config, GhnOptions options, int64_t archs_per_step)
    : space_(std::move(space)),
      data_(data),
      config_(std::move(config)),
      archs_per_step_(std::max<int64_t>(1, archs_per_step)),
      ghn_(for_space(options, *space_), config_.seed),
      shapes_(space_, supernet::SupernetOptions().seed(config_.seed)),
      rng_(config_.seed) {
  optimizer_ = supernet::make_optimizer(config_, ghn_->parameters());
  start_epoch();
}

GhnTrainer::~GhnTrainer() = default;

void GhnTrainer::set_group(std::shared_ptr<distributed::Group> group) {
  NF_CHECK(global_step_ == 0 && step_in_epoch_ == 0, "set_group comes before training starts");
  NF_CHECK(!group || config_.batch_size >= group->size(),
           "the global batch must hold an image for every rank");
  group_ = std::move(group);
  start_epoch();
}

void GhnTrainer::start_epoch() {
  loader_ = std::make_unique<data::BatchLoader>(
      data_.train, data_.mean, data_.std, config_.batch_size, true, config_.augment,
      supernet::epoch_seed(config_.seed, epoch_), supernet::shard_of(group_));
  step_in_epoch_ = 0;
}

int64_t GhnTrainer::steps_per_epoch() const { return loader_->batches_per_epoch(); }

Graph GhnTrainer::lowered(const Architecture& a, int64_t batch) {
  torch::NoGradGuard no_grad;
  const auto& in = space_->input();
  return shapes_->extract(a)->lower(
      {batch > 0 ? batch : config_.batch_size, in.channels, in.height, in.width});
}

std::optional<supernet::StepStats> GhnTrainer::step() {
  data::Batch batch;
  if (!loader_->next(batch)) {
    ++epoch_;
    start_epoch();
    return std::nullopt;
  }
  supernet::StepStats stats;
  stats.lr = supernet::scheduled_lr(
      config_, epoch_ + static_cast<double>(step_in_epoch_) / steps_per_epoch());
  supernet::set_lr(*optimizer_, stats.lr);
  optimizer_->zero_grad();
  std::vector<Architecture> sampled;
  for (int64_t k = 0; k < archs_per_step_; ++k) {
    const Architecture& a = sampled.emplace_back(space_->sample(rng_));
    const Graph g = lowered(a);
    const ArchGraph ag = make_arch_graph(g, ghn_->options().s_max, space_->encode_onehot(a));
    const Graph net = ghn_->predict(g, ag);
    at::Tensor logits = run_graph(net, batch.images, {NormMode::kBatch}).output;
    if (logits.dim() > 2) logits = logits.flatten(1);
    const at::Tensor loss = torch::nn::functional::cross_entropy(
        logits, batch.labels,
        torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(config_.label_smoothing));
    (loss / static_cast<double>(archs_per_step_)).backward();
    if (k == 0) {
      stats.loss = loss.item<double>();
      stats.accuracy = logits.argmax(1).eq(batch.labels).to(torch::kFloat).mean().item<double>();
    }
  }
  // Data-parallel: as one process on the global batch.
  supernet::reduce_step(group_, supernet::step_key(*space_, sampled, global_step_),
                        ghn_->parameters(), batch, stats);
  if (config_.grad_clip > 0)
    torch::nn::utils::clip_grad_norm_(ghn_->parameters(), config_.grad_clip);
  optimizer_->step();
  stats.paths = archs_per_step_;
  ++step_in_epoch_;
  ++global_step_;
  return stats;
}

Graph GhnTrainer::predicted(const Architecture& a, bool recalibrate, int64_t batch) {
  torch::NoGradGuard no_grad;
  const Graph g = lowered(a, batch);
  Graph net = ghn_->predict(g, make_arch_graph(g, ghn_->options().s_max, space_->encode_onehot(a)));
  if (!recalibrate || config_.bn_recalibration_batches <= 0) return net;
  // Cumulative averages of every batch norm's input statistics over training batches, the
  // network running on batch statistics meanwhile (PyTorch's recalibration with momentum None).
  data::BatchLoader loader(data_.train, data_.mean, data_.std, config_.batch_size, true, {},
                           config_.seed ^ 0x5bd1e995);
  std::vector<at::Tensor> mean(net.ops.size()), var(net.ops.size());
  int64_t seen = 0;
  data::Batch b;
  for (; seen < config_.bn_recalibration_batches && loader.next(b); ++seen) {
    auto run = run_graph(net, b.images, {NormMode::kBatch, /*keep=*/true});
    for (size_t i = 0; i < net.ops.size(); ++i) {
      if (net.ops[i].kind != OpKind::kBatchNorm) continue;
      const at::Tensor x = run.values[net.ops[i].inputs[0]];
      const at::Tensor m = x.mean({0, 2, 3}), v = x.var({0, 2, 3}, /*unbiased=*/true);
      mean[i] = mean[i].defined() ? mean[i] + m : m;
      var[i] = var[i].defined() ? var[i] + v : v;
    }
  }
  for (size_t i = 0; i < net.ops.size() && seen > 0; ++i)
    if (mean[i].defined()) {
      net.ops[i].mean = mean[i] / static_cast<double>(seen);
      net.ops[i].var = var[i] / static_cast<double>(seen);
    }
  return net;
}

supernet::EvalResult GhnTrainer::evaluate(const Architecture& a, const data::Dataset& split,
                                          bool recalibrate) {
  const Graph net = predicted(a, recalibrate);
  torch::NoGradGuard no_grad;
  data::BatchLoader loader(split, data_.mean, data_.std, 256, false, {}, 0);
  supernet::EvalResult r;
  double correct = 0, loss = 0;
  data::Batch b;
  while (loader.next(b)) {
    at::Tensor logits = run_graph(net, b.images, {NormMode::kRunning}).output;
    if (logits.dim() > 2) logits = logits.flatten(1);
    loss += torch::cross_entropy_loss(logits, b.labels).item<double>() * b.labels.size(0);
    correct += logits.argmax(1).eq(b.labels).sum().item<double>();
    r.examples += b.labels.size(0);
  }
  if (r.examples > 0) {
    r.accuracy = correct / static_cast<double>(r.examples);
    r.loss = loss / static_cast<double>(r.examples);
  }
  return r;
}

Status GhnTrainer::save(const std::string& path) const {
  for (const auto& p : ghn_->named_parameters())
    if (!torch::isfinite(p.value()).all().item<bool>())
      return FailedPrecondition(path + ": not written: hypernetwork parameter " + p.key() +
                                " holds non-finite values (the run diverged)");
  try {
    torch::serialize::OutputArchive model, optimizer, archive;
    ghn_->save(model);
    optimizer_->save(optimizer);
    std::ostringstream mb, ob;
    model.save_to(mb);
    optimizer.save_to(ob);
    archive.write("format", c10::IValue(std::string(kFormat)));
    archive.write("space_fingerprint", c10::IValue(space_->fingerprint()));
    archive.write("options", c10::IValue(ghn_->options().str()));
    archive.write("config", c10::IValue(config_.str()));
    archive.write("archs_per_step", c10::IValue(archs_per_step_));
    archive.write("model", to_bytes(mb.str()));
    archive.write("model_crc32", c10::IValue(crc_of(mb.str())));
    archive.write("optimizer", to_bytes(ob.str()));
    archive.write("optimizer_crc32", c10::IValue(crc_of(ob.str())));
    archive.write("epoch", c10::IValue(epoch_));
    archive.write("step_in_epoch", c10::IValue(step_in_epoch_));
    archive.write("global_step", c10::IValue(global_step_));
    const auto s = rng_.state();
    archive.write("rng", torch::tensor(std::vector<int64_t>(s.begin(), s.end()), torch::kInt64));
    std::ostringstream bytes;
    archive.save_to(bytes);
    return write_atomically(path, bytes.str(), "hypernetwork checkpoint");
  } catch (const std::exception& e) {
    return FailedPrecondition(path + ": could not serialise the checkpoint (" +
                              supernet::error_text(e) + ")");
  }
}

Status GhnTrainer::load(const std::string& path, LoadScope scope) {
  auto damaged = [&](const std::string& why) {
    return InvalidArgument(path + ": expected a nasforge hypernetwork checkpoint, got " + why +
                           " (the file is damaged or of another kind; retrain or restore it)");
  };
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    c10::IValue v;
    if (!archive.try_read("format", v) || !v.isString() || v.toStringRef() != kFormat)
      return damaged("no '" + std::string(kFormat) + "' format tag");
    archive.read("space_fingerprint", v);
    if (Status st = check_space(path, v.toStringRef(), scope); !st.ok()) return st;
    archive.read("options", v);
    if (v.toStringRef() != ghn_->options().str())
      return FailedPrecondition(path + ": the hypernetwork has other options:\n" + v.toStringRef() +
                                "not\n" + ghn_->options().str());
    at::Tensor mt;
    archive.read("model", mt);
    const std::string mb = from_bytes(mt);
    archive.read("model_crc32", v);
    if (v.toInt() != crc_of(mb)) return damaged("weights that do not match their checksum");
    std::string ob;  // checked before anything is loaded, so a refused file changes nothing
    if (scope == LoadScope::kResume) {
      at::Tensor ot;
      archive.read("optimizer", ot);
      ob = from_bytes(ot);
      archive.read("optimizer_crc32", v);
      if (v.toInt() != crc_of(ob))
        return damaged("an optimizer state that does not match its checksum");
    }
    torch::serialize::InputArchive model;
    model.load_from(mb.data(), mb.size());
    ghn_->load(model);
    if (scope == LoadScope::kResume) load_position(archive, ob);
  } catch (const std::exception& e) {
    return damaged(std::string("a file LibTorch cannot read (") + supernet::error_text(e) + ")");
  }
  return Status::Ok();
}

Status GhnTrainer::check_space(const std::string& path, const std::string& fingerprint,
                               LoadScope scope) const {
  if (fingerprint == space_->fingerprint()) return Status::Ok();
  const std::string other = path + ": the hypernetwork was trained on another space (fingerprint " +
                            fingerprint + ", this space has " + space_->fingerprint() + ")";
  if (scope == LoadScope::kResume) return FailedPrecondition(other);
  if (ghn_->options().kind == GhnKind::kSmash)
    return FailedPrecondition(other +
                              "; SMASH reads its space's architecture encoding, so it predicts "
                              "only for that space (GHN-1 and GHN-2 predict for any space)");
  return Status::Ok();
}

void GhnTrainer::load_position(torch::serialize::InputArchive& archive,
                               const std::string& optimizer_bytes) {
  c10::IValue v;
  at::Tensor rng;
  torch::serialize::InputArchive optimizer;
  optimizer.load_from(optimizer_bytes.data(), optimizer_bytes.size());
  optimizer_->load(optimizer);
  archive.read("epoch", v);
  epoch_ = v.toInt();
  archive.read("global_step", v);
  global_step_ = v.toInt();
  archive.read("step_in_epoch", v);
  const int64_t done = v.toInt();
  archive.read("rng", rng);
  std::array<uint64_t, 4> s{};
  for (int i = 0; i < 4; ++i) s[i] = static_cast<uint64_t>(rng[i].item<int64_t>());
  rng_.set_state(s);
  start_epoch();
  data::Batch skip;
  for (int64_t i = 0; i < done; ++i) loader_->next(skip);
  step_in_epoch_ = done;
}

std::string GhnTrainer::state_digest() const {
  return supernet::internal::state_digest(supernet::internal::module_crc(*ghn_),
                                          supernet::internal::optimizer_crc(*optimizer_),
                                          rng_.state(), epoch_, step_in_epoch_, global_step_);
}

}  // namespace nasforge::hypernets
