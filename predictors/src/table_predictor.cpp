// `table`: latency learned from a CSV of architectures measured elsewhere (a phone, a board),
// from as few as 10 rows. In log space it fits a ridge on a MACs/params prior plus, where the
// CSV has them, the architecture's latency on other devices (the transfer HELP shows makes 10
// samples enough), choosing the feature set by leave-one-out error; a GP on the architecture
// encoding then models what the linear part leaves.
#include <cmath>
#include <sstream>

#include "internal/models.h"
#include "internal/predictors.h"
#include "nasforge/hardware/counts.h"
#include "nasforge/searchspace/json.h"

namespace nasforge::predictors {

namespace {

class TablePredictor : public Predictor {
 public:
  explicit TablePredictor(const PredictorContext& ctx) : space_(*ctx.space), side_(ctx.side) {}

  std::string name() const override { return "table"; }

  // Candidate transfer columns: those named, or with "auto" every column but the target.
  Status set_candidates(const PredictorContext& ctx) {
    for (const auto& name : ctx.transfer) {
      if (side_ == nullptr)
        return FailedPrecondition("transfer columns need the table they come from");
      if (name == "auto") {
        for (const auto& c : side_->columns)
          if (c != ctx.target_column && c != "index") candidates_.push_back(c);
        continue;
      }
      auto col = side_->column(name);
      if (!col.ok()) return col.status();
      if (name == ctx.target_column)
        return InvalidArgument("the transfer column cannot be the target column '" + name + "'");
      candidates_.push_back(name);
    }
    return Status::Ok();
  }

  Status fit(const std::vector<Architecture>& archs, const std::vector<double>& y) override {
    if (archs.size() < 3)
      return FailedPrecondition("table: needs at least 3 measured architectures, got " +
                                std::to_string(archs.size()));
    std::vector<double> ly;
    for (double v : y) {
      if (!(v > 0)) return InvalidArgument("table: latencies must be positive");
      ly.push_back(std::log(v));
    }
    // The prior alone, then each transfer column, then all of them: keep the best by LOO.
    std::vector<std::vector<std::string>> sets = {{}};
    for (const auto& c : candidates_) sets.push_back({c});
    if (candidates_.size() > 1) sets.push_back(candidates_);
    prior_ = fit_set({}, archs, ly);
    ridge_ = prior_;
    transfer_.clear();
    for (size_t s = 1; s < sets.size(); ++s) {
      Ridge r = fit_set(sets[s], archs, ly);
      if (r.loo_rmse < ridge_.loo_rmse) {
        ridge_ = r;
        transfer_ = sets[s];
      }
    }
    // What the linear model leaves, by a GP on the architecture encoding.
    Matrix enc;
    std::vector<double> resid;
    for (size_t i = 0; i < archs.size(); ++i) {
      enc.push_back(encoding(archs[i]));
      resid.push_back(ly[i] - ridge_.predict(features(archs[i], transfer_)));
    }
    gp_ = GaussianProcess::fit(enc, resid);
    return Status::Ok();
  }

  Prediction predict(const Architecture& a) const override {
    const bool have_side = transfer_.empty() || row(a) >= 0;
    const Ridge& r = have_side ? ridge_ : prior_;
    const double lin = r.predict(features(a, have_side ? transfer_ : std::vector<std::string>{}));
    auto [m, s] = gp_.predict(encoding(a));
    const double mean = std::exp(lin + m);
    return {mean, mean * (have_side ? s : std::max(s, prior_.loo_rmse))};
  }

  std::string to_json() const override {
    std::ostringstream o;
    o << "{\"predictor\": \"table\", \"space_fingerprint\": " << json_quote(space_.fingerprint())
      << ", \"transfer\": [";
    for (size_t i = 0; i < transfer_.size(); ++i) o << (i ? ", " : "") << json_quote(transfer_[i]);
    o << "],\n \"ridge\": " << ridge_.to_json() << ",\n \"prior\": " << prior_.to_json()
      << ",\n \"gp\": " << gp_.to_json() << "}\n";
    return o.str();
  }

  Status load(const AstNode& root, Diagnostics& d) {
    AstReader r(root, "", d);
    if (const AstNode* t = r.get("transfer"); t && t->is_sequence())
      for (const auto& item : t->items) transfer_.push_back(item.scalar);
    if (const AstNode* n = r.get("ridge")) ridge_ = Ridge::from_json(*n, "ridge.", d);
    if (const AstNode* n = r.get("prior")) prior_ = Ridge::from_json(*n, "prior.", d);
    if (const AstNode* n = r.get("gp")) gp_ = GaussianProcess::from_json(*n, "gp.", d);
    if (!d.ok()) return InvalidArgument(d.str());
    if (!transfer_.empty()) {
      if (side_ == nullptr)
        return FailedPrecondition("this table predictor transfers from column(s) '" + transfer_[0] +
                                  "'...: pass the CSV that holds them (--side CSV)");
      for (const auto& c : transfer_) NF_RETURN_IF_ERROR(side_->column(c).status());
    }
    return Status::Ok();
  }

 private:
  long row(const Architecture& a) const {
    if (side_ == nullptr) return -1;
    auto it = side_->row_of.find(space_.to_string(a));
    return it == side_->row_of.end() ? -1 : static_cast<long>(it->second);
  }
  std::vector<double> features(const Architecture& a, const std::vector<std::string>& cols) const {
    const auto c = hardware::count(space_, a);
    std::vector<double> f = {std::log(std::max<double>(1, static_cast<double>(c.macs))),
                             std::log(std::max<double>(1, static_cast<double>(c.params)))};
    const long r = cols.empty() ? -1 : row(a);
    for (const auto& name : cols) {
      const double v = r >= 0 ? side_->values[*side_->column(name)][static_cast<size_t>(r)] : 1;
      f.push_back(std::log(std::max(v, 1e-6)));
    }
    return f;
  }
  std::vector<double> encoding(const Architecture& a) const {
    auto e = space_.encode_onehot(a);
    return {e.begin(), e.end()};
  }
  Ridge fit_set(const std::vector<std::string>& cols, const std::vector<Architecture>& archs,
                const std::vector<double>& ly) const {
    Matrix x;
    for (const auto& a : archs) {
      if (!cols.empty() && row(a) < 0) return Ridge{{}, {}, {}, 0, 0, INFINITY};
      x.push_back(features(a, cols));
    }
    return Ridge::fit(x, ly);
  }

  const SearchSpace& space_;
  const ArchTable* side_;
  std::vector<std::string> candidates_, transfer_;
  Ridge ridge_, prior_;
  GaussianProcess gp_;
};

}  // namespace

StatusOr<std::unique_ptr<Predictor>> make_table(const PredictorContext& ctx) {
  auto p = std::make_unique<TablePredictor>(ctx);
  NF_RETURN_IF_ERROR(p->set_candidates(ctx));
  return std::unique_ptr<Predictor>(std::move(p));
}

StatusOr<std::unique_ptr<Predictor>> load_table(const AstNode& root, const PredictorContext& ctx,
                                                Diagnostics& d) {
  auto p = std::make_unique<TablePredictor>(ctx);
  NF_RETURN_IF_ERROR(p->load(root, d));
  return std::unique_ptr<Predictor>(std::move(p));
}

}  // namespace nasforge::predictors
