// The latency predictors and the registry of every predictor by name.
//
//   lut           the sum of a profile's per-unit latencies (hardware/profile.h); fits nothing
//   lut+residual  lut, plus a ridge model of what the sum misses, fitted on measured networks
//   table         a model of the architecture fitted on a measured table's column, optionally
//                 transferring from the other devices of a source table (TransferMode)
//
// The accuracy predictors (mlp, gp, wl-gp) are in nasforge::predictors (accuracy.h), which does
// not depend on hardware; make_predictor and load_predictor here reach all six by name, for the
// CLI and the metric sources.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nasforge/hardware/profile.h"
#include "nasforge/predictors/predictor.h"
#include "nasforge/predictors/table.h"
#include "nasforge/searchspace/units.h"

namespace nasforge::latency {

using predictors::Prediction;
using predictors::Predictor;

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
  const predictors::ArchTable* side = nullptr;
  std::vector<std::string> transfer;
  TransferMode transfer_mode = TransferMode::kLearned;
  std::string target_column;
  uint64_t seed = 0;  // for predictors that draw (the MLP ensemble's initialisation and batches)
};

// Every predictor's name: the three latency predictors, then the accuracy predictors.
std::vector<std::string> predictor_names();
// A new, unfitted predictor. Errors say what the predictor needs that the context lacks.
StatusOr<std::unique_ptr<Predictor>> make_predictor(const std::string& name,
                                                    const PredictorContext& ctx);
// A fitted predictor saved by save(); refused for another space.
StatusOr<std::unique_ptr<Predictor>> load_predictor(const std::string& path,
                                                    const PredictorContext& ctx);

// The per-unit price a `lut` predictor sums (NaN for a unit its table lacks). Its predictions
// add over units, so their expectation under a distribution that factorises over decisions is
// exact (searchspace/unit_terms.h): the differentiable searches' expected latency. Fails for
// every other predictor, whose predictions do not add over units. The function refers to `p`,
// which must outlive it.
StatusOr<std::function<double(const Unit&)>> additive_unit_cost(const Predictor& p);

}  // namespace nasforge::latency
