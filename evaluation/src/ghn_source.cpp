// The ghn:DIR[:test] source: the accuracy of an architecture with the parameters a trained graph
// hypernetwork (nasforge/hypernets) predicts for it, batch norm recalibrated on training batches.
#include <torch/torch.h>

#include "internal/sources.h"
#include "nasforge/hypernets/run.h"
#include "nasforge/hypernets/trainer.h"

namespace nasforge::evaluation {
namespace {

class GhnSource : public MetricSource {
 public:
  GhnSource(std::shared_ptr<hypernets::LoadedGhn> g, bool test, std::string desc)
      : g_(std::move(g)), test_(test), desc_(std::move(desc)) {}
  std::string describe() const override { return desc_; }
  bool cheap() const override { return false; }
  StatusOr<double> evaluate(const Architecture& a) override {
    auto r = g_->trainer->evaluate(a, test_ ? g_->data.test : g_->data.valid, true);
    if (Status st = supernet::check_finite(r, test_ ? "test" : "valid"); !st.ok()) return st;
    return 100.0 * r.accuracy;
  }
  StatusOr<std::optional<int64_t>> sample_size() override {
    return std::optional<int64_t>((test_ ? g_->data.test : g_->data.valid).size());
  }

 private:
  std::shared_ptr<hypernets::LoadedGhn> g_;
  bool test_;
  std::string desc_;
};

}  // namespace

// On the space it trained on, the hypernetwork evaluates on its run's data. On another space
// (GHN-1 and GHN-2 only: prediction for unseen architectures) it takes --data, which must be the
// same dataset padded to that space's input (fashion-mnist+pad), or else the run's data.
StatusOr<std::shared_ptr<MetricSource>> make_ghn_source(const MetricSpec& spec,
                                                        const SourceContext& ctx,
                                                        SourceFactory::Shared& shared,
                                                        const std::string& dir, bool test) {
  const std::string where = "--metric " + spec.metric.name + "=" + spec.source;
  if (spec.metric.typed && spec.metric.typed->kind != MetricKind::kAccuracy)
    return InvalidArgument(where + ": ghn: gives accuracy, not " + spec.metric.name);
  auto& slot = shared.runs["ghn:" + dir];
  if (!slot) {
    auto g = hypernets::open_ghn(dir, ctx.space, ctx.data);
    if (!g.ok()) return g.status().WithContext(where);
    slot = std::shared_ptr<hypernets::LoadedGhn>(std::move(*g));
  }
  return std::shared_ptr<MetricSource>(std::make_shared<GhnSource>(
      std::static_pointer_cast<hypernets::LoadedGhn>(slot), test, spec.source));
}

}  // namespace nasforge::evaluation
