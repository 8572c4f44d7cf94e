// The sources that run networks: measure:DEVICE, supernet:DIR and train:EPOCHS.
#include <torch/torch.h>

#include "internal/sources.h"
#include "nasforge/hardware/device.h"
#include "nasforge/supernet/run.h"

namespace nasforge::evaluation {
namespace {

class MeasureSource : public MetricSource {
 public:
  MeasureSource(std::unique_ptr<hardware::Device> d, const SearchSpace& s, std::string desc)
      : device_(std::move(d)), space_(s), desc_(std::move(desc)) {}
  std::string describe() const override { return desc_; }
  bool cheap() const override { return false; }
  StatusOr<double> evaluate(const Architecture& a) override {
    auto m = device_->measure_network(space_, a);
    if (!m.ok()) return m.status();
    return m->median_ms;
  }

 private:
  std::unique_ptr<hardware::Device> device_;
  const SearchSpace& space_;
  std::string desc_;
};

// A loaded train-supernet run: its data and its trained supernet, shared by every supernet:
// source that names the folder.
struct LoadedRun {
  supernet::RunFolder run;
  data::Splits data;
  std::unique_ptr<supernet::SupernetTrainer> trainer;
};

class SupernetSource : public MetricSource {
 public:
  SupernetSource(std::shared_ptr<LoadedRun> r, bool test, std::string desc)
      : r_(std::move(r)), test_(test), desc_(std::move(desc)) {}
  std::string describe() const override { return desc_; }
  bool cheap() const override { return false; }
  StatusOr<double> evaluate(const Architecture& a) override {
    auto res = r_->trainer->evaluate(a, test_ ? r_->data.test : r_->data.valid,
                                     r_->run.config.bn_recalibration_batches > 0);
    return 100.0 * res.accuracy;
  }
  StatusOr<std::optional<int64_t>> sample_size() override {
    return std::optional<int64_t>((test_ ? r_->data.test : r_->data.valid).size());
  }

 private:
  std::shared_ptr<LoadedRun> r_;
  bool test_;
  std::string desc_;
};

class TrainSource : public MetricSource {
 public:
  TrainSource(const SourceContext& ctx, SourceFactory::Shared& shared, int64_t epochs, bool test,
              std::string desc)
      : ctx_(ctx), shared_(shared), epochs_(epochs), test_(test), desc_(std::move(desc)) {}
  std::string describe() const override { return desc_; }
  bool cheap() const override { return false; }
  StatusOr<double> evaluate(const Architecture& a) override {
    const auto key = std::make_pair(ctx_.space->canonical_hash(a), epochs_);
    auto it = shared_.trained.find(key);
    if (it == shared_.trained.end()) {
      if (Status st = load_data(); !st.ok()) return st;
      supernet::TrainConfig c;
      c.epochs = epochs_;
      c.seed = ctx_.seed;
      // train:0 is the network as initialised: its batch norms have seen no data, so their
      // statistics are measured on training batches (as a hypernetwork's predictions are).
      const bool at_init = epochs_ == 0;
      if (!at_init) c.bn_recalibration_batches = 0;
      supernet::SupernetTrainer trainer(
          supernet::Supernet(ctx_.space, supernet::SupernetOptions().seed(ctx_.seed)), *data_, c);
      trainer.fix_path(a);
      while (trainer.epoch() < c.epochs && trainer.step()) {
      }
      const double valid = 100.0 * trainer.evaluate(a, data_->valid, at_init).accuracy;
      const double test = 100.0 * trainer.evaluate(a, data_->test, at_init).accuracy;
      it = shared_.trained.emplace(key, std::make_pair(valid, test)).first;
    }
    return test_ ? it->second.second : it->second.first;
  }
  StatusOr<std::optional<int64_t>> sample_size() override {
    if (Status st = load_data(); !st.ok()) return st;
    return std::optional<int64_t>((test_ ? data_->test : data_->valid).size());
  }

 private:
  Status load_data() {
    if (data_) return Status::Ok();
    auto d = supernet::load_data_for(ctx_.data, *ctx_.space, ctx_.seed, 10000);
    if (!d.ok()) return d.status();
    data_ = std::make_unique<data::Splits>(std::move(*d));
    return Status::Ok();
  }

  const SourceContext& ctx_;
  SourceFactory::Shared& shared_;
  int64_t epochs_;
  bool test_;
  std::string desc_;
  std::unique_ptr<data::Splits> data_;
};

}  // namespace

StatusOr<std::shared_ptr<MetricSource>> make_measure_source(const MetricSpec& spec,
                                                            const SourceContext& ctx,
                                                            const std::string& device) {
  hardware::DeviceOptions o;
  // One intra-op thread, whatever the search's own --threads: latency_ms@DEVICE means what
  // `profile` and `latency --measure` measure by default, so that a measured value, a profile's
  // table and a predictor fitted on it agree on what they are.
  o.threads = 1;
  o.seed = ctx.seed;
  auto d = hardware::make_device(device, o);
  if (!d.ok()) return d.status().WithContext("--metric " + spec.metric.name + "=" + spec.source);
  return std::shared_ptr<MetricSource>(
      std::make_shared<MeasureSource>(std::move(*d), *ctx.space, spec.source));
}

StatusOr<std::shared_ptr<MetricSource>> make_supernet_source(const MetricSpec& spec,
                                                             const SourceContext& ctx,
                                                             SourceFactory::Shared& shared,
                                                             const std::string& dir, bool test) {
  const std::string where = "--metric " + spec.metric.name + "=" + spec.source;
  if (!spec.metric.typed || spec.metric.typed->kind != MetricKind::kAccuracy) {
    if (spec.metric.typed)
      return InvalidArgument(where + ": supernet: gives accuracy, not " + spec.metric.name);
  }
  auto& slot = shared.runs[dir];
  if (!slot) {
    auto run = supernet::load_run(dir);
    if (!run.ok()) return run.status().WithContext(where);
    if (run->space->fingerprint() != ctx.space->fingerprint())
      return FailedPrecondition(
          where + ": the supernet in " + dir + " was trained on another space (fingerprint " +
          run->space->fingerprint() + ", the search space has " + ctx.space->fingerprint() + ")");
    auto data = supernet::load_data_for(run->data, *run->space, run->config.seed, run->valid_size);
    if (!data.ok()) return data.status().WithContext(where);
    auto loaded = std::make_shared<LoadedRun>();
    loaded->run = *run;
    loaded->data = std::move(*data);
    loaded->trainer = std::make_unique<supernet::SupernetTrainer>(supernet::Supernet(run->space),
                                                                  loaded->data, run->config);
    if (Status st = loaded->trainer->load(run->checkpoint()); !st.ok())
      return st.WithContext(where);
    slot = loaded;
  }
  return std::shared_ptr<MetricSource>(std::make_shared<SupernetSource>(
      std::static_pointer_cast<LoadedRun>(slot), test, spec.source));
}

StatusOr<std::shared_ptr<MetricSource>> make_train_source(const MetricSpec& spec,
                                                          const SourceContext& ctx,
                                                          SourceFactory::Shared& shared,
                                                          int64_t epochs, bool test) {
  return std::shared_ptr<MetricSource>(
      std::make_shared<TrainSource>(ctx, shared, epochs, test, spec.source));
}

}  // namespace nasforge::evaluation
