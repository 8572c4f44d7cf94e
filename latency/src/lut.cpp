// Latency from a device's lookup table: `lut` sums the measured units of an architecture;
// `lut+residual` adds a ridge correction fitted on architectures measured end to end, for what
// a sum of isolated units misses (per-op framework overhead, fusion, cache effects).
#include <tbb/concurrent_unordered_map.h>

#include <cmath>
#include <sstream>
#include <unordered_map>

#include "internal/predictors.h"
#include "nasforge/hardware/counts.h"
#include "nasforge/predictors/models.h"
#include "nasforge/searchspace/json.h"

namespace nasforge::latency {

using namespace nasforge::predictors;  // the models and tables this library builds on

namespace {

class LutPredictor : public Predictor {
 public:
  LutPredictor(const SearchSpace& space, std::string device,
               std::unordered_map<std::string, std::pair<double, double>> table)
      : space_(space), device_(std::move(device)), table_(std::move(table)) {}

  // Keys every unit of the space by its id, and checks that the table covers them.
  Status index() {
    auto all = distinct_units(space_);
    if (!all.ok()) return all.status();
    size_t missing = 0;
    std::string example;
    for (const Unit& u : *all) {
      auto it = table_.find(u.key());
      if (it == table_.end()) {
        if (missing++ == 0) example = u.key();
        continue;
      }
      if (!by_id_.emplace(u.id(), it->second).second)
        return Status(StatusCode::kInternal, "two units share an id: " + u.key());
    }
    index_cells();
    if (missing)
      return FailedPrecondition("the latency table lacks " + std::to_string(missing) + " of " +
                                std::to_string(all->size()) + " units of space '" + space_.name() +
                                "' (e.g. '" + example +
                                "'); finish it with `nasforge profile` (it resumes)");
    return Status::Ok();
  }

  std::string name() const override { return "lut"; }
  Status fit(const std::vector<Architecture>&, const std::vector<double>&) override {
    return Status::Ok();  // the table is the model
  }
  Prediction predict(const Architecture& a) const override {
    if (cell_templates_.empty()) return sum(units(space_, a));
    // Cells are priced whole, per template and genotype, from a cache filled on first sight:
    // a NAS-Bench-201 network is ~100 units, 90 of them in 15 cells sharing one genotype.
    Prediction p = sum(units(space_, a, /*with_cells=*/false));
    if (std::isnan(p.mean)) return p;
    double var = p.std * p.std;
    for (size_t k = 0; k < cell_templates_.size(); ++k) {
      const uint64_t key = cell_key(k, a);
      auto it = cell_cache_.find(key);
      if (it == cell_cache_.end()) {
        fill_cells(a);
        it = cell_cache_.find(key);
        if (it == cell_cache_.end()) return sum(units(space_, a));
      }
      p.mean += it->second.first;
      var += it->second.second;
    }
    p.std = std::sqrt(var);
    return p;
  }

  std::string to_json() const override { return json_object("lut"); }
  std::string json_object(const std::string& name, const std::string& extra = "") const {
    std::ostringstream o;
    o << "{\"predictor\": " << json_quote(name)
      << ", \"space_fingerprint\": " << json_quote(space_.fingerprint())
      << ", \"device\": " << json_quote(device_) << extra << ",\n \"units\": [";
    bool first = true;
    for (const auto& [key, v] : table_) {
      o << (first ? "\n  " : ",\n  ") << "{\"key\": " << json_quote(key)
        << ", \"ms\": " << json_numbers({v.first}) << ", \"mad_ms\": " << json_numbers({v.second})
        << "}";
      first = false;
    }
    o << "]}\n";
    return o.str();
  }

  // A unit's table time in ms, NaN when the table lacks it.
  double unit_ms(const Unit& u) const { return price(u).first; }

 protected:
  // A unit's table time and variance (MAD scaled to a standard deviation), or {NaN, NaN}
  // for a unit the table lacks.
  std::pair<double, double> price(const Unit& u) const {
    auto it = by_id_.find(u.id());
    if (it == by_id_.end()) return {std::nan(""), std::nan("")};
    return {it->second.first, std::pow(1.4826 * it->second.second, 2)};
  }
  Prediction sum(const std::vector<Unit>& us) const {
    Prediction p;
    double var = 0;
    for (const Unit& u : us) {
      const auto [ms, v] = price(u);
      if (std::isnan(ms)) return {ms, ms};
      p.mean += ms;
      var += v;
    }
    p.std = std::sqrt(var);
    return p;
  }

  // Cell templates whose genotypes are few enough to cache all of them (NAS-Bench-201's
  // 15,625; not DARTS's 10^9 per cell, where a cache would only grow), with their layers and
  // decisions and each decision's bits in the cache key (8 bits of template index, then the
  // genotype).
  void index_cells() {
    cell_templates_.clear();
    std::vector<CellTemplateKey> found(space_.cells().size());
    for (size_t c = 0; c < found.size(); ++c) found[c].cell = static_cast<int>(c);
    for (size_t d = 0; d < space_.decisions().size(); ++d) {
      const Section& s = space_.sections()[space_.decisions()[d].section];
      if (s.kind == Section::Kind::kCell) found[s.cell].decisions.push_back(static_cast<int>(d));
    }
    const auto& layers = space_.layers();
    for (size_t i = 0; i < layers.size(); ++i)
      if (const auto* cell = std::get_if<nasforge::CellLayer>(&layers[i].spec))
        found[cell->cell].layers.push_back(static_cast<int>(i));
    for (auto& t : found) {
      if (t.layers.empty()) continue;
      int bits = 0;
      double genotypes = 1;
      for (int d : t.decisions) {
        const size_t n = space_.decisions()[d].domain.size();
        int b = 1;
        while ((size_t{1} << b) < n) ++b;
        t.bits.push_back(b);
        bits += b;
        genotypes *= static_cast<double>(n);
      }
      if (bits > 56 || t.cell > 255 || genotypes > static_cast<double>(kMaxCachedCells)) return;
      cell_templates_.push_back(std::move(t));
    }
  }
  uint64_t cell_key(size_t k, const Architecture& a) const {
    const CellTemplateKey& t = cell_templates_[k];
    uint64_t key = static_cast<uint64_t>(t.cell);
    int shift = 8;
    for (size_t j = 0; j < t.decisions.size(); ++j) {
      key |= static_cast<uint64_t>(a[t.decisions[j]]) << shift;
      shift += t.bits[j];
    }
    return key;
  }
  // Prices the cells of `a` unit by unit and caches each template's total.
  void fill_cells(const Architecture& a) const {
    std::vector<std::pair<double, double>> per_layer(space_.layers().size(), {0.0, 0.0});
    for (const Unit& u : units(space_, a)) {
      if (u.kind != UnitKind::kCellOp && u.kind != UnitKind::kCellPre) continue;
      const auto [ms, v] = price(u);
      if (std::isnan(ms)) return;
      per_layer[u.layer].first += ms;
      per_layer[u.layer].second += v;
    }
    for (size_t k = 0; k < cell_templates_.size(); ++k) {
      std::pair<double, double> total{0.0, 0.0};
      for (int layer : cell_templates_[k].layers) {
        total.first += per_layer[layer].first;
        total.second += per_layer[layer].second;
      }
      cell_cache_.insert({cell_key(k, a), total});
    }
  }

  struct CellTemplateKey {
    int cell = 0;
    std::vector<int> layers, decisions, bits;
  };
  static constexpr size_t kMaxCachedCells = 1 << 20;
  std::vector<CellTemplateKey> cell_templates_;
  // template and genotype -> (ms, variance) over its layers; filled concurrently by
  // predict_batch's threads, at most kMaxCachedCells entries per template.
  // Keys differ mostly in their high bits; TBB buckets by the low bits of the hash, so mix.
  struct MixHash {
    size_t operator()(uint64_t k) const {
      k ^= k >> 31;
      k *= 0x7fb5d329728ea185ull;
      k ^= k >> 27;
      k *= 0x81dadef4bc2dd44dull;
      return static_cast<size_t>(k ^ (k >> 33));
    }
  };
  mutable tbb::concurrent_unordered_map<uint64_t, std::pair<double, double>, MixHash> cell_cache_;

  const SearchSpace& space_;
  std::string device_;
  std::unordered_map<std::string, std::pair<double, double>> table_;  // key -> (ms, mad)
  std::unordered_map<uint64_t, std::pair<double, double>> by_id_;
};

class LutResidualPredictor : public LutPredictor {
 public:
  using LutPredictor::LutPredictor;
  std::string name() const override { return "lut+residual"; }

  std::vector<double> features(const Architecture& a) const {
    const auto us = units(space_, a);
    double lut = 0;
    for (const Unit& u : us) {
      auto it = by_id_.find(u.id());
      lut += it == by_id_.end() ? std::nan("") : it->second.first;
    }
    const auto cost = hardware::count(space_, a);
    return {lut, static_cast<double>(us.size()), static_cast<double>(cost.macs) * 1e-6,
            static_cast<double>(cost.params) * 1e-6};
  }

  Status fit(const std::vector<Architecture>& archs, const std::vector<double>& y) override {
    if (archs.size() < 5)
      return FailedPrecondition(
          "lut+residual needs at least 5 architectures measured end to end, got " +
          std::to_string(archs.size()) + " (profile with --calibrate N)");
    Matrix x;
    for (const auto& a : archs) x.push_back(features(a));
    ridge_ = Ridge::fit(x, y);
    fitted_ = !ridge_.w.empty();
    if (!fitted_) return FailedPrecondition("lut+residual: the correction could not be fitted");
    return Status::Ok();
  }
  Prediction predict(const Architecture& a) const override {
    if (!fitted_) return LutPredictor::predict(a);
    return {ridge_.predict(features(a)), ridge_.loo_rmse};
  }
  std::string to_json() const override {
    return json_object("lut+residual", ", \"residual\": " + ridge_.to_json());
  }
  void set_ridge(Ridge r) {
    ridge_ = std::move(r);
    fitted_ = true;
  }

 private:
  Ridge ridge_;
  bool fitted_ = false;
};

}  // namespace

StatusOr<std::unique_ptr<Predictor>> make_lut(const std::string& name,
                                              const PredictorContext& ctx) {
  if (ctx.profile == nullptr)
    return FailedPrecondition("predictor '" + name +
                              "' needs a device profile (--profile PROFILE.json from "
                              "`nasforge profile`)");
  NF_RETURN_IF_ERROR(ctx.profile->compatible_with(*ctx.space));
  std::unordered_map<std::string, std::pair<double, double>> table;
  for (const auto& [key, m] : ctx.profile->entries) table[key] = {m.median_ms, m.mad_ms};
  std::unique_ptr<LutPredictor> p;
  if (name == "lut") {
    p = std::make_unique<LutPredictor>(*ctx.space, ctx.profile->device, std::move(table));
  } else {
    p = std::make_unique<LutResidualPredictor>(*ctx.space, ctx.profile->device, std::move(table));
  }
  NF_RETURN_IF_ERROR(p->index());
  return std::unique_ptr<Predictor>(std::move(p));
}

StatusOr<std::function<double(const Unit&)>> additive_unit_cost(const Predictor& p) {
  const auto* lut = dynamic_cast<const LutPredictor*>(&p);
  if (lut == nullptr || p.name() != "lut")
    return FailedPrecondition("predictor '" + p.name() +
                              "' does not add over units; an exact expected latency needs a "
                              "`lut` predictor (from `nasforge latency --save` of a profile)");
  return std::function<double(const Unit&)>([lut](const Unit& u) { return lut->unit_ms(u); });
}

StatusOr<std::unique_ptr<Predictor>> load_lut(const AstNode& root, const std::string& name,
                                              const PredictorContext& ctx, Diagnostics& d) {
  AstReader r(root, "", d);
  const std::string device = r.str("device");
  std::unordered_map<std::string, std::pair<double, double>> table;
  if (const AstNode* units = r.get("units"); units && units->is_sequence()) {
    for (size_t i = 0; i < units->items.size(); ++i) {
      AstReader u(units->items[i], "units[" + std::to_string(i) + "].", d);
      auto ms = u.numbers("ms"), mad = u.numbers("mad_ms");
      table[u.str("key")] = {ms.empty() ? 0 : ms[0], mad.empty() ? 0 : mad[0]};
    }
  }
  std::unique_ptr<LutPredictor> p;
  if (name == "lut") {
    p = std::make_unique<LutPredictor>(*ctx.space, device, std::move(table));
  } else {
    auto q = std::make_unique<LutResidualPredictor>(*ctx.space, device, std::move(table));
    if (const AstNode* res = r.get("residual"))
      q->set_ridge(Ridge::from_json(*res, "residual.", d));
    p = std::move(q);
  }
  if (!d.ok()) return InvalidArgument(d.str());
  NF_RETURN_IF_ERROR(p->index());
  return std::unique_ptr<Predictor>(std::move(p));
}

}  // namespace nasforge::latency
