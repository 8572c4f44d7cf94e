// Latency from a device's lookup table: `lut` sums the measured units of an architecture;
// `lut+residual` adds a ridge correction fitted on architectures measured end to end, for what
// a sum of isolated units misses (per-op framework overhead, fusion, cache effects).
#include <cmath>
#include <sstream>
#include <unordered_map>

#include "internal/models.h"
#include "internal/predictors.h"
#include "nasforge/hardware/counts.h"
#include "nasforge/searchspace/json.h"

namespace nasforge::predictors {

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
    Prediction p;
    double var = 0;
    for (const Unit& u : units(space_, a)) {
      auto it = by_id_.find(u.id());
      if (it == by_id_.end()) return {std::nan(""), std::nan("")};
      p.mean += it->second.first;
      var += std::pow(1.4826 * it->second.second, 2);
    }
    p.std = std::sqrt(var);
    return p;
  }
  size_t units_of(const Architecture& a) const { return units(space_, a).size(); }

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

 protected:
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

}  // namespace nasforge::predictors
