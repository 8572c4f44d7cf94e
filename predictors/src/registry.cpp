// Parallel batch prediction, saving, reading a saved predictor back, and the accuracy
// predictors by name.
#include <tbb/parallel_for.h>

#include <filesystem>
#include <fstream>

#include "internal/accuracy.h"
#include "nasforge/predictors/accuracy.h"
#include "nasforge/searchspace/ast_reader.h"
#include "nasforge/searchspace/files.h"

namespace nasforge::predictors {

std::vector<Prediction> Predictor::predict_batch(const std::vector<Architecture>& archs) const {
  std::vector<Prediction> out(archs.size());
  tbb::parallel_for(tbb::blocked_range<size_t>(0, archs.size(), 256),
                    [&](const tbb::blocked_range<size_t>& r) {
                      for (size_t i = r.begin(); i != r.end(); ++i) out[i] = predict(archs[i]);
                    });
  return out;
}

Status Predictor::save(const std::string& path) const {
  return write_atomically(path, to_json(), "predictor");
}

StatusOr<SavedPredictor> read_saved_predictor(const std::string& path, const SearchSpace& space) {
  Diagnostics d;
  auto root = load_yaml_file(path, d);
  if (!root) return InvalidArgument(d.str());
  if (!root->is_mapping()) {
    d.error(root->loc, "",
            "expected a saved nasforge predictor (a JSON object), got " + root->describe());
    return InvalidArgument(d.str());
  }
  AstReader r(*root, "", d);
  std::string name = r.str("predictor");
  const std::string fingerprint = r.str("space_fingerprint");
  if (!d.ok()) return InvalidArgument(d.str());
  if (fingerprint != space.fingerprint())
    return FailedPrecondition(path + ": the predictor was fitted for another space (fingerprint " +
                              fingerprint + ", this space has " + space.fingerprint() + ")");
  return SavedPredictor{std::move(*root), std::move(name)};
}

const char* accuracy_model_name(AccuracyModel m) {
  switch (m) {
    case AccuracyModel::kMlp:
      return "mlp";
    case AccuracyModel::kGp:
      return "gp";
    case AccuracyModel::kWlGp:
      return "wl-gp";
  }
  return "?";
}

std::optional<AccuracyModel> parse_accuracy_model(const std::string& name) {
  for (AccuracyModel m : {AccuracyModel::kMlp, AccuracyModel::kGp, AccuracyModel::kWlGp})
    if (name == accuracy_model_name(m)) return m;
  return std::nullopt;
}

StatusOr<std::unique_ptr<Predictor>> load_accuracy_predictor(const std::string& path,
                                                             const SearchSpace& space) {
  auto saved = read_saved_predictor(path, space);
  if (!saved.ok()) return saved.status();
  const auto model = parse_accuracy_model(saved->name);
  if (!model) {
    Diagnostics d;
    d.error(saved->root.find("predictor")->loc, "predictor",
            "expected an accuracy predictor (mlp, gp or wl-gp), got '" + saved->name + "'");
    return InvalidArgument(d.str());
  }
  Diagnostics d;
  auto p = load_accuracy_predictor(saved->root, *model, space, d);
  if (!p.ok()) return p.status().WithContext(path);
  return p;
}

}  // namespace nasforge::predictors
