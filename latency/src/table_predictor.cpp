// `table`: latency learned from a CSV of architectures measured elsewhere (a phone, a board),
// from as few as 10 rows. Candidate models, each a ridge regression:
//   - multiplicative, in log latency: log MACs and log params, as deployed and as implemented
//     (the published tables' devices ran NAS-Bench-201's reference implementation, which keeps
//     dead ops), plus the log latency on source devices;
//   - additive, in milliseconds: how many units of each kind (block type, cell op) the
//     architecture runs and their MACs - a lookup table learned from the rows - counted as
//     deployed or as implemented, plus the latency on source devices.
// Source devices (transfer) are learned from their whole tables as predictors of the
// architecture (source_model.h), so a new architecture needs nothing but itself; in the
// measured mode their measured values are used where the source table has the row.
// The three candidates with the smallest leave-one-out errors (relative, in log space) are
// averaged, weighted by how close each comes to the best (one alone is a noisy pick at 10
// rows); a GP on the architecture encoding then models what they leave, in log latency.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "internal/arch_features.h"
#include "internal/predictors.h"
#include "internal/source_model.h"
#include "nasforge/predictors/models.h"
#include "nasforge/searchspace/json.h"

namespace nasforge::latency {

using namespace nasforge::predictors;  // the models and tables this library builds on

const char* transfer_mode_name(TransferMode m) {
  return m == TransferMode::kMeasured ? "measured" : "learned";
}

namespace {

struct FeatureSet {
  bool additive = false;  // ms target with unit-class counts; else log target with log costs
  Counting counting = Counting::kAsDeployed;  // of the additive counts
  std::vector<std::string> transfer;
  std::string describe() const {
    std::string s = additive ? std::string("op counts as ") + counting_name(counting) + " (ms)"
                             : "log MACs/params (log ms)";
    for (const auto& t : transfer) s += " + " + t;
    return s;
  }
};

class TablePredictor : public Predictor {
 public:
  explicit TablePredictor(const PredictorContext& ctx)
      : space_(*ctx.space), side_(ctx.side), mode_(ctx.transfer_mode), features_(*ctx.space) {}

  std::string name() const override { return "table"; }

  // Candidate transfer columns: those named, or with "auto" every column but the target; each
  // is learned from the source table as a predictor of the architecture.
  Status set_candidates(const PredictorContext& ctx) {
    std::vector<std::string> names;
    for (const auto& name : ctx.transfer) {
      if (side_ == nullptr)
        return FailedPrecondition("transfer columns need the table they come from");
      if (name == "auto") {
        for (const auto& c : side_->columns)
          if (c != ctx.target_column && c != "index") names.push_back(c);
        continue;
      }
      auto col = side_->column(name);
      if (!col.ok()) return col.status();
      if (name == ctx.target_column)
        return InvalidArgument("the transfer column cannot be the target column '" + name + "'");
      names.push_back(name);
    }
    for (const auto& n : names) {
      auto m = SourceModel::fit(features_, *side_, n);
      if (!m.ok()) return m.status();
      sources_.push_back(std::move(*m));
    }
    return Status::Ok();
  }

  Status fit(const std::vector<Architecture>& archs, const std::vector<double>& y) override {
    if (archs.size() < 3)
      return FailedPrecondition("table: needs at least 3 measured architectures, got " +
                                std::to_string(archs.size()));
    for (double v : y)
      if (!(v > 0)) return InvalidArgument("table: latencies must be positive");
    std::vector<std::string> names;
    for (const auto& s : sources_) names.push_back(s.column);
    std::vector<FeatureSet> sets;
    std::vector<Counting> countings = {Counting::kAsDeployed};
    if (features_.countings_differ()) countings.push_back(Counting::kAsImplemented);
    for (int additive = 0; additive < 2; ++additive)
      for (Counting c : countings) {
        if (!additive && c != Counting::kAsDeployed) continue;  // log costs hold both
        sets.push_back({additive == 1, c, {}});
        for (const auto& n : names) sets.push_back({additive == 1, c, {n}});
        if (names.size() > 1) sets.push_back({additive == 1, c, names});
      }
    std::vector<Seen> seen;
    for (const auto& a : archs) seen.push_back(look(a));
    std::vector<std::pair<double, Member>> scored;
    for (const auto& set : sets) {
      Ridge r = fit_set(set, seen, y);
      if (r.loo.empty()) continue;
      // Compare candidates on one scale: the RMS of log(prediction / measured), leave-one-out.
      double sq = 0;
      for (size_t i = 0; i < y.size(); ++i) {
        const double pred = set.additive ? r.loo[i] : std::exp(r.loo[i]);
        const double e = std::log(std::max(pred, 1e-3 * y[i]) / y[i]);
        sq += e * e;
      }
      scored.push_back({std::sqrt(sq / static_cast<double>(y.size())), Member{set, std::move(r)}});
    }
    std::sort(scored.begin(), scored.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    members_.clear();
    // Weights fall with the error relative to the best: near-ties share, a clear winner rules.
    const double best = std::max(scored.empty() ? 1.0 : scored[0].first, 1e-9);
    for (size_t k = 0; k < scored.size() && k < kMembers; ++k) {
      const double r = scored[k].first / best;
      scored[k].second.weight = std::exp(-0.5 * (r * r - 1) * 4);
      if (scored[k].second.weight < 1e-6) break;  // too far behind to matter
      members_.push_back(std::move(scored[k].second));
    }
    // What the average leaves, by a GP on the architecture encoding (log space).
    Matrix enc;
    std::vector<double> resid;
    for (size_t i = 0; i < archs.size(); ++i) {
      enc.push_back(features_.onehot(archs[i]));
      resid.push_back(std::log(y[i]) - log_mean(seen[i]));
    }
    gp_ = GaussianProcess::fit(enc, resid);
    return Status::Ok();
  }

  Prediction predict(const Architecture& a) const override {
    const Seen seen = look(a);
    auto [g, s] = gp_.predict(features_.onehot(a));
    const double m = std::exp(log_mean(seen) + g);
    return {m, m * s};
  }

  std::string to_json() const override {
    std::ostringstream o;
    o << "{\"predictor\": \"table\", \"space_fingerprint\": " << json_quote(space_.fingerprint())
      << ", \"transfer_mode\": " << json_quote(transfer_mode_name(mode_)) << ",\n \"sources\": [";
    for (size_t k = 0; k < sources_.size(); ++k)
      o << (k ? ",\n  " : "\n  ") << sources_[k].to_json();
    o << "],\n \"members\": [";
    for (size_t k = 0; k < members_.size(); ++k) {
      const auto& m = members_[k];
      o << (k ? ",\n  " : "\n  ") << "{\"additive\": " << (m.set.additive ? "true" : "false")
        << ", \"counting\": " << json_quote(counting_name(m.set.counting))
        << ", \"weight\": " << json_numbers({m.weight}) << ", \"transfer\": [";
      for (size_t i = 0; i < m.set.transfer.size(); ++i)
        o << (i ? ", " : "") << json_quote(m.set.transfer[i]);
      o << "], \"ridge\": " << m.ridge.to_json() << "}";
    }
    o << "],\n \"gp\": " << gp_.to_json() << "}\n";
    return o.str();
  }

  Status load(const AstNode& root, Diagnostics& d) {
    AstReader r(root, "", d);
    if (const AstNode* m = r.get("transfer_mode"))
      mode_ = m->scalar == "measured" ? TransferMode::kMeasured : TransferMode::kLearned;
    if (const AstNode* s = r.get("sources"); s && s->is_sequence())
      for (size_t k = 0; k < s->items.size(); ++k)
        sources_.push_back(
            SourceModel::from_json(s->items[k], "sources[" + std::to_string(k) + "].", d));
    const AstNode* members = r.get("members");
    if (members != nullptr && !members->is_sequence())
      d.error(members->loc, "members",
              "expected a list of fitted models, got " + members->describe());
    for (size_t k = 0; members && members->is_sequence() && k < members->items.size(); ++k)
      load_member(members->items[k], "members[" + std::to_string(k) + "].", d);
    if (const AstNode* n = r.get("gp")) gp_ = GaussianProcess::from_json(*n, "gp.", d);
    if (d.ok() && members_.empty()) d.error(root.loc, "members", "expected at least one model");
    if (!d.ok()) return InvalidArgument(d.str());
    if (mode_ == TransferMode::kMeasured && !sources_.empty()) {
      if (side_ == nullptr)
        return FailedPrecondition("this table predictor transfers measured values of column '" +
                                  sources_[0].column +
                                  "' of a CSV: pass the CSV that holds it (--side CSV)");
      for (const auto& s : sources_) NF_RETURN_IF_ERROR(side_->column(s.column).status());
    }
    return Status::Ok();
  }

 private:
  struct Member {
    FeatureSet set;
    Ridge ridge;
    double weight = 1;
  };
  static constexpr size_t kMembers = 3;
  using Seen = ArchFeatures::Seen;

  void load_member(const AstNode& item, const std::string& at, Diagnostics& d) {
    AstReader mr(item, at, d);
    Member m;
    if (const AstNode* a = mr.get("additive")) m.set.additive = a->scalar == "true";
    if (const AstNode* c = mr.get("counting"))
      m.set.counting = parse_counting(c->scalar).value_or(Counting::kAsDeployed);
    if (const AstNode* t = mr.get("transfer"); t && t->is_sequence())
      for (const auto& c : t->items) m.set.transfer.push_back(c.scalar);
    if (const AstNode* n = mr.get("ridge")) m.ridge = Ridge::from_json(*n, at + "ridge.", d);
    const auto w = mr.numbers("weight");
    m.weight = w.empty() ? 0 : w[0];
    if (d.ok() && !(m.weight > 0)) d.error(item.loc, at + "weight", "expected a positive weight");
    for (const auto& c : m.set.transfer)
      if (d.ok() && source_index(c) < 0)
        d.error(item.loc, at + "transfer", "names '" + c + "', which no source model learned");
    if (d.ok() && m.ridge.w.size() != features_size(m.set))
      d.error(item.loc, at + "ridge",
              "expected " + std::to_string(features_size(m.set)) + " weights for this space, got " +
                  std::to_string(m.ridge.w.size()));
    members_.push_back(std::move(m));
  }

  // An architecture's units, and its source-table row where measured values may be used.
  Seen look(const Architecture& a) const {
    Seen seen = features_.look(a);
    if (mode_ == TransferMode::kMeasured && side_ != nullptr) {
      auto it = side_->row_of.find(space_.to_string(a));
      if (it != side_->row_of.end()) seen.row = static_cast<long>(it->second);
    }
    return seen;
  }
  long source_index(const std::string& column) const {
    for (size_t k = 0; k < sources_.size(); ++k)
      if (sources_[k].column == column) return static_cast<long>(k);
    return -1;
  }
  // A source device's latency for the architecture: measured where the mode allows and the
  // row exists, otherwise its learned model's prediction. Never missing.
  double source_ms(const std::string& column, const Seen& seen) const {
    const auto& model = sources_[static_cast<size_t>(source_index(column))];
    if (seen.row >= 0) {
      const double v = side_->values[*side_->column(column)][static_cast<size_t>(seen.row)];
      if (v > 0) return v;
    }
    return model.predict(features_, seen.arch, seen);
  }

  // The members' average prediction, in log latency.
  double log_mean(const Seen& seen) const {
    double sum = 0, weights = 0;
    for (const auto& m : members_) {
      const double t = m.ridge.predict(features(seen, m.set));
      sum += m.weight * (m.set.additive ? std::log(std::max(t, 1e-6)) : t);
      weights += m.weight;
    }
    return sum / weights;
  }
  static double target(double ms, const FeatureSet& set) {
    return set.additive ? ms : std::log(ms);
  }
  size_t features_size(const FeatureSet& set) const {
    return (set.additive ? 2 * features_.classes() : 4) + set.transfer.size();
  }
  std::vector<double> features(const Seen& seen, const FeatureSet& set) const {
    std::vector<double> f =
        set.additive ? features_.class_counts(seen, set.counting) : features_.log_costs(seen);
    for (const auto& name : set.transfer) {
      const double v = source_ms(name, seen);
      f.push_back(set.additive ? v : std::log(std::max(v, 1e-6)));
    }
    return f;
  }
  Ridge fit_set(const FeatureSet& set, const std::vector<Seen>& seen,
                const std::vector<double>& y) const {
    Matrix x;
    std::vector<double> t;
    for (size_t i = 0; i < seen.size(); ++i) {
      x.push_back(features(seen[i], set));
      t.push_back(target(y[i], set));
    }
    return Ridge::fit(x, t);
  }

  const SearchSpace& space_;
  const ArchTable* side_;
  TransferMode mode_;
  ArchFeatures features_;
  std::vector<SourceModel> sources_;
  std::vector<Member> members_;
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

}  // namespace nasforge::latency
