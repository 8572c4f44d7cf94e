// Predictors: fit on measured architectures, then predict a mean and an uncertainty for any
// architecture of the space. The accuracy predictors (`mlp`, `gp`, `wl-gp`, accuracy.h) live in
// this library, which needs only the search space: no hardware, no supernet, no LibTorch. The
// latency predictors (`lut`, `lut+residual`, `table`) and the registry over all six live in
// nasforge::latency (latency/), which adds the hardware cost model and profiles. Every predictor
// saves and loads as JSON.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nasforge/searchspace/search_space.h"
#include "nasforge/searchspace/status.h"
#include "nasforge/searchspace/yaml_ast.h"

namespace nasforge::predictors {

struct Prediction {
  double mean = 0;
  double std = 0;
};

class Predictor {
 public:
  virtual ~Predictor() = default;
  virtual std::string name() const = 0;
  // Fits on (architecture, value) pairs. Predictors that need no data (lut) accept none.
  virtual Status fit(const std::vector<Architecture>& archs, const std::vector<double>& y) = 0;
  virtual Prediction predict(const Architecture& a) const = 0;
  // Predicts many at once, in parallel (TBB); the same answers as predict().
  std::vector<Prediction> predict_batch(const std::vector<Architecture>& archs) const;
  virtual std::string to_json() const = 0;
  Status save(const std::string& path) const;
};

// A file written by Predictor::save, read back: its JSON root and the predictor's name (the
// "predictor" key). Refused, naming the file, when it is not such a file or was fitted for
// another space.
struct SavedPredictor {
  AstNode root;
  std::string name;
};
StatusOr<SavedPredictor> read_saved_predictor(const std::string& path, const SearchSpace& space);

}  // namespace nasforge::predictors
