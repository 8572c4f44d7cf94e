// Predictors: fit on measured architectures, then predict a mean and an uncertainty for any
// architecture of the space. Latency predictors (`lut`, `lut+residual`, `table`) and accuracy
// predictors (`mlp`, `gp`, `wl-gp`, accuracy.h) share this interface. Each registers by name and
// saves and loads as JSON.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nasforge/hardware/profile.h"
#include "nasforge/predictors/table.h"
#include "nasforge/searchspace/status.h"

namespace nasforge::predictors {

struct Prediction {
  double mean = 0;
  double std = 0;
};

// How `table` uses the source devices it transfers from.
enum class TransferMode {
  // Each source device is learned from its whole table as a predictor of the architecture, and
  // those predictions are the transfer features, at fit and at query time: nothing but the
  // architecture is needed to predict (like HELP), and the saved predictor carries the source
  // models, so it needs no CSV afterwards.
  kLearned,
  // The source devices' measured values for the architecture, where the source table has its
  // row; the learned source models stand in where it has none. Needs the CSV at query time.
  kMeasured,
};
const char* transfer_mode_name(TransferMode m);  // "learned", "measured"

// What a predictor may draw on besides the architectures it is fitted on.
struct PredictorContext {
  const SearchSpace* space = nullptr;
  const hardware::Profile* profile = nullptr;  // lut, lut+residual
  // The source devices' table (latency on other devices, for transfer), keyed by architecture
  // string; `transfer` names the columns to use ("auto": every numeric column but the target
  // and `index`).
  const ArchTable* side = nullptr;
  std::vector<std::string> transfer;
  TransferMode transfer_mode = TransferMode::kLearned;
  std::string target_column;
  uint64_t seed = 0;  // for predictors that draw (the MLP ensemble's initialisation and batches)
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

std::vector<std::string> predictor_names();
// A new, unfitted predictor. Errors say what the predictor needs that the context lacks.
StatusOr<std::unique_ptr<Predictor>> make_predictor(const std::string& name,
                                                    const PredictorContext& ctx);
// A fitted predictor saved by save(); refused for another space.
StatusOr<std::unique_ptr<Predictor>> load_predictor(const std::string& path,
                                                    const PredictorContext& ctx);

}  // namespace nasforge::predictors
