// The ghn:DIR[:test] source: the accuracy of an architecture with the parameters a trained graph
// hypernetwork (nasforge/hypernets) predicts for it, batch norm recalibrated on training batches.
#include <torch/torch.h>

#include "internal/sources.h"
#include "nasforge/hypernets/run.h"
#include "nasforge/hypernets/trainer.h"

namespace nasforge::evaluation {
namespace {

struct LoadedGhn {
  hypernets::GhnRun run;
  data::Splits data;
  std::unique_ptr<hypernets::GhnTrainer> trainer;
};

class GhnSource : public MetricSource {
 public:
  GhnSource(std::shared_ptr<LoadedGhn> g, bool test, std::string desc)
      : g_(std::move(g)), test_(test), desc_(std::move(desc)) {}
  std::string describe() const override { return desc_; }
  bool cheap() const override { return false; }
  StatusOr<double> evaluate(const Architecture& a) override {
    auto r = g_->trainer->evaluate(a, test_ ? g_->data.test : g_->data.valid, true);
    if (Status st = supernet::check_finite(r, test_ ? "test" : "valid"); !st.ok()) return st;
    return 100.0 * r.accuracy;
  }

 private:
  std::shared_ptr<LoadedGhn> g_;
  bool test_;
  std::string desc_;
};

}  // namespace

StatusOr<std::shared_ptr<MetricSource>> make_ghn_source(const MetricSpec& spec,
                                                        const SourceContext& ctx,
                                                        SourceFactory::Shared& shared,
                                                        const std::string& dir, bool test) {
  const std::string where = "--metric " + spec.metric.name + "=" + spec.source;
  if (spec.metric.typed && spec.metric.typed->kind != MetricKind::kAccuracy)
    return InvalidArgument(where + ": ghn: gives accuracy, not " + spec.metric.name);
  auto& slot = shared.runs["ghn:" + dir];
  if (!slot) {
    auto run = hypernets::load_ghn_run(dir);
    if (!run.ok()) return run.status().WithContext(where);
    if (run->run.space->fingerprint() != ctx.space->fingerprint())
      return FailedPrecondition(where + ": the hypernetwork in " + dir +
                                " was trained on another space (fingerprint " +
                                run->run.space->fingerprint() + ", the search space has " +
                                ctx.space->fingerprint() + ")");
    auto data = supernet::load_data_for(run->run.data, *run->run.space, run->run.config.seed,
                                        run->run.valid_size);
    if (!data.ok()) return data.status().WithContext(where);
    auto loaded = std::make_shared<LoadedGhn>();
    loaded->run = *run;
    loaded->data = std::move(*data);
    loaded->trainer = std::make_unique<hypernets::GhnTrainer>(
        run->run.space, loaded->data, run->run.config, run->options, run->archs_per_step);
    if (Status st = loaded->trainer->load(run->checkpoint()); !st.ok())
      return st.WithContext(where);
    slot = loaded;
  }
  return std::shared_ptr<MetricSource>(
      std::make_shared<GhnSource>(std::static_pointer_cast<LoadedGhn>(slot), test, spec.source));
}

}  // namespace nasforge::evaluation
