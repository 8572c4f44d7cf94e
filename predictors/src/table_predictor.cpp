// `table`: latency learned from a CSV of architectures measured elsewhere (a phone, a board),
// from as few as 10 rows. Candidate models, each a ridge regression:
//   - multiplicative, in log latency: log MACs and log params, plus the log latency on other
//     devices where the CSV has them (the transfer HELP shows makes 10 samples enough);
//   - additive, in milliseconds: how many units of each kind (block type, cell op) the
//     architecture runs and their MACs - a lookup table learned from the rows - plus the
//     latency on other devices.
// The three candidates with the smallest leave-one-out errors (relative, in log space) are
// averaged, weighted by how close each comes to the best (one alone is a noisy pick at 10
// rows); a GP on the architecture encoding
// then models what they leave, in log latency.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "internal/models.h"
#include "internal/predictors.h"
#include "nasforge/hardware/counts.h"
#include "nasforge/searchspace/json.h"

namespace nasforge::predictors {

namespace {

struct FeatureSet {
  bool additive = false;  // ms target with op counts; else log target with log prior
  std::vector<std::string> transfer;
  std::string describe() const {
    std::string s = additive ? "op counts (ms)" : "log MACs/params (log ms)";
    for (const auto& t : transfer) s += " + " + t;
    return s;
  }
};

class TablePredictor : public Predictor {
 public:
  explicit TablePredictor(const PredictorContext& ctx) : space_(*ctx.space), side_(ctx.side) {
    // Unit classes: block kinds and cell ops, each counted and MAC-summed.
    std::set<std::string> classes;
    if (auto all = distinct_units(space_); all.ok())
      for (const Unit& u : *all) classes.insert(unit_class(u));
    classes_.assign(classes.begin(), classes.end());
  }

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
    for (double v : y)
      if (!(v > 0)) return InvalidArgument("table: latencies must be positive");
    std::vector<FeatureSet> sets;
    for (bool additive : {false, true}) {
      sets.push_back({additive, {}});
      for (const auto& c : candidates_) sets.push_back({additive, {c}});
      if (candidates_.size() > 1) sets.push_back({additive, candidates_});
    }
    std::vector<Seen> seen;
    for (const auto& a : archs) seen.push_back(look(a, !candidates_.empty()));
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
      const double err = std::sqrt(sq / static_cast<double>(y.size()));
      if (!set.additive && set.transfer.empty()) prior_ = r;
      scored.push_back({err, Member{set, std::move(r)}});
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
      enc.push_back(encoding(archs[i]));
      resid.push_back(std::log(y[i]) - log_mean(seen[i]));
    }
    gp_ = GaussianProcess::fit(enc, resid);
    return Status::Ok();
  }

  Prediction predict(const Architecture& a) const override {
    bool needs_side = false;
    for (const auto& m : members_) needs_side |= !m.set.transfer.empty();
    const Seen seen = look(a, needs_side);
    if (needs_side && seen.row < 0) {  // no side data for it: the prior alone
      const double m = std::exp(prior_.predict(features(seen, FeatureSet{})));
      return {m, m * prior_.loo_rmse};
    }
    auto [g, s] = gp_.predict(encoding(a));
    const double m = std::exp(log_mean(seen) + g);
    return {m, m * s};
  }

  std::string describe() const {
    std::string d;
    for (const auto& m : members_) d += (d.empty() ? "" : "; ") + m.set.describe();
    return d;
  }

  std::string to_json() const override {
    std::ostringstream o;
    o << "{\"predictor\": \"table\", \"space_fingerprint\": " << json_quote(space_.fingerprint())
      << ",\n \"members\": [";
    for (size_t k = 0; k < members_.size(); ++k) {
      const auto& m = members_[k];
      o << (k ? ",\n  " : "\n  ") << "{\"additive\": " << (m.set.additive ? "true" : "false")
        << ", \"weight\": " << json_numbers({m.weight}) << ", \"transfer\": [";
      for (size_t i = 0; i < m.set.transfer.size(); ++i)
        o << (i ? ", " : "") << json_quote(m.set.transfer[i]);
      o << "], \"ridge\": " << m.ridge.to_json() << "}";
    }
    o << "],\n \"prior\": " << prior_.to_json() << ",\n \"gp\": " << gp_.to_json() << "}\n";
    return o.str();
  }

  Status load(const AstNode& root, Diagnostics& d) {
    AstReader r(root, "", d);
    const AstNode* members = r.get("members");
    if (members != nullptr && !members->is_sequence())
      d.error(members->loc, "members",
              "expected a list of fitted models, got " + members->describe());
    for (size_t k = 0; members && members->is_sequence() && k < members->items.size(); ++k) {
      const AstNode& item = members->items[k];
      const std::string at = "members[" + std::to_string(k) + "].";
      AstReader mr(item, at, d);
      Member m;
      if (const AstNode* a = mr.get("additive")) m.set.additive = a->scalar == "true";
      if (const AstNode* t = mr.get("transfer"); t && t->is_sequence())
        for (const auto& c : t->items) m.set.transfer.push_back(c.scalar);
      if (const AstNode* n = mr.get("ridge")) m.ridge = Ridge::from_json(*n, at + "ridge.", d);
      const auto w = mr.numbers("weight");
      m.weight = w.empty() ? 0 : w[0];
      if (d.ok() && !(m.weight > 0)) d.error(item.loc, at + "weight", "expected a positive weight");
      if (d.ok() && m.ridge.w.size() != features_size(m.set))
        d.error(item.loc, at + "ridge",
                "expected " + std::to_string(features_size(m.set)) +
                    " weights for this space, got " + std::to_string(m.ridge.w.size()));
      members_.push_back(std::move(m));
    }
    if (const AstNode* n = r.get("prior")) prior_ = Ridge::from_json(*n, "prior.", d);
    if (const AstNode* n = r.get("gp")) gp_ = GaussianProcess::from_json(*n, "gp.", d);
    if (d.ok() && members_.empty()) d.error(root.loc, "members", "expected at least one model");
    if (!d.ok()) return InvalidArgument(d.str());
    for (const auto& m : members_) {
      if (m.set.transfer.empty()) continue;
      if (side_ == nullptr)
        return FailedPrecondition("this table predictor transfers from column '" +
                                  m.set.transfer[0] +
                                  "' of a CSV: pass the CSV that holds it (--side CSV)");
      for (const auto& c : m.set.transfer) NF_RETURN_IF_ERROR(side_->column(c).status());
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

  // What every feature set reads from an architecture, looked up once: its units and, when
  // transfer columns may be read, its row in the side table (-1: not there, or not looked up).
  struct Seen {
    std::vector<Unit> units;
    long row = -1;
  };
  Seen look(const Architecture& a, bool need_row) const {
    Seen seen{units(space_, a), -1};
    if (need_row && side_ != nullptr) {
      auto it = side_->row_of.find(space_.to_string(a));
      if (it != side_->row_of.end()) seen.row = static_cast<long>(it->second);
    }
    return seen;
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
  static std::string unit_class(const Unit& u) {
    return u.op.empty() ? unit_kind_name(u.kind) : std::string(unit_kind_name(u.kind)) + ":" + u.op;
  }
  static double target(double ms, const FeatureSet& set) {
    return set.additive ? ms : std::log(ms);
  }
  size_t features_size(const FeatureSet& set) const {
    return (set.additive ? 2 * classes_.size() : 2) + set.transfer.size();
  }
  std::vector<double> features(const Seen& seen, const FeatureSet& set) const {
    std::vector<double> f;
    if (set.additive) {
      f.assign(2 * classes_.size(), 0.0);
      for (const Unit& u : seen.units) {
        const auto it = std::lower_bound(classes_.begin(), classes_.end(), unit_class(u));
        const size_t k = static_cast<size_t>(it - classes_.begin());
        if (k >= classes_.size()) continue;
        f[2 * k] += 1;
        f[2 * k + 1] += 1e-6 * static_cast<double>(hardware::unit_cost(u).macs);
      }
    } else {
      hardware::Cost c;
      for (const Unit& u : seen.units) c += hardware::unit_cost(u);
      f = {std::log(std::max<double>(1, static_cast<double>(c.macs))),
           std::log(std::max<double>(1, static_cast<double>(c.params)))};
    }
    const long r = seen.row;
    for (const auto& name : set.transfer) {
      const double v = r >= 0 ? side_->values[*side_->column(name)][static_cast<size_t>(r)] : 1;
      f.push_back(set.additive ? v : std::log(std::max(v, 1e-6)));
    }
    return f;
  }
  std::vector<double> encoding(const Architecture& a) const {
    auto e = space_.encode_onehot(a);
    return {e.begin(), e.end()};
  }
  Ridge fit_set(const FeatureSet& set, const std::vector<Seen>& seen,
                const std::vector<double>& y) const {
    Matrix x;
    std::vector<double> t;
    for (size_t i = 0; i < seen.size(); ++i) {
      if (!set.transfer.empty() && seen[i].row < 0) return Ridge{};
      x.push_back(features(seen[i], set));
      t.push_back(target(y[i], set));
    }
    return Ridge::fit(x, t);
  }

  const SearchSpace& space_;
  const ArchTable* side_;
  std::vector<std::string> classes_;  // sorted
  std::vector<std::string> candidates_;
  std::vector<Member> members_;
  Ridge prior_;
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
