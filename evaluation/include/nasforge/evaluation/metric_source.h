// Metric sources: where the value of a metric for an architecture comes from. A metric is a name
// with a unit ("accuracy" in percent, "latency_ms@DEV", "params", "macs", or a plain name such
// as "test_acc" for a table column); its source is one of
//   table:CSV:COLUMN     the CSV's value for the architecture (keyed by its canonical string)
//   count                exact params or MACs (hardware/counts.h)
//   predictor:FILE       a fitted predictor saved by `fit-latency` or Predictor::save
//   measure:DEVICE       measured on the device (cpu, onednn, cuda)
//   supernet:DIR[:test]  inherited-weight accuracy of a train-supernet run, BN recalibrated
//   ghn:DIR[:test]       accuracy with the weights a train-ghn hypernetwork predicts, BN
//                        recalibrated
//   train:EPOCHS[:test]  accuracy after training from scratch on --data
//   proxy:NAME[:NxB]     a zero-cost proxy of the network with fresh weights (nasforge/proxies),
//                        on N batches of B images of --data (default 1x64)
//   callback:NAME        a C++ function the caller registered with SourceFactory::add_callback
//                        (library use; the CLI has none)
#pragma once

#include <functional>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nasforge/searchspace/metrics.h"
#include "nasforge/searchspace/search_space.h"

namespace nasforge::evaluation {

// A metric's name and, when it is one of the typed metrics, its kind.
struct MetricName {
  std::string name;
  std::optional<Metric> typed;
  std::string unit() const;  // "%", "ms", "params", "MACs" or ""
  // Typed names parse strictly (so "latncy_ms@cpu" is an error with a suggestion); any other
  // lower-case identifier is a plain metric without a unit.
  static StatusOr<MetricName> parse(const std::string& text);
};

struct MetricSpec {
  MetricName metric;
  std::string source;  // as written
  // "NAME=SOURCE"
  static StatusOr<MetricSpec> parse(const std::string& text);
};

// Everything a source may need besides its own text.
struct SourceContext {
  std::shared_ptr<const SearchSpace> space;
  std::string data;  // for train: sources (fashion-mnist, cifar10:DIR, synthetic)
  uint64_t seed = 0;
  int threads = 1;
};

class MetricSource {
 public:
  virtual ~MetricSource() = default;
  virtual std::string describe() const = 0;
  // Cheap enough to check before an architecture is proposed (table, count, predictor).
  virtual bool cheap() const = 0;
  // Never decreases when a numeric decision (kernel, width, depth, ...) grows and the rest stay:
  // exact counts and plain lookup-table latency. Lets the feasibility check bound it by descent.
  virtual bool monotone() const { return false; }
  // The exact smallest and largest values over the space with their architectures, when the
  // source knows them without a search (a table: over its rows).
  struct Extreme {
    double value;
    Architecture arch;
  };
  virtual std::optional<std::pair<Extreme, Extreme>> extremes() const { return std::nullopt; }
  virtual StatusOr<double> evaluate(const Architecture& a) = 0;
  // When each value is the percentage of a finite sample classified right (train:, supernet:
  // and ghn: accuracies), that sample's size, so that a caller can tell a value's binomial
  // measurement error; nullopt for any other source. May load the data.
  virtual StatusOr<std::optional<int64_t>> sample_size() { return std::optional<int64_t>(); }
};

// Makes sources, sharing what several sources read (a CSV loaded once, one training run for
// a train: accuracy and its :test twin).
class SourceFactory {
 public:
  explicit SourceFactory(SourceContext ctx);
  ~SourceFactory();
  StatusOr<std::shared_ptr<MetricSource>> make(const MetricSpec& spec);
  const SourceContext& context() const { return ctx_; }

  // Your own metric, in C++: `callback:NAME` sources call `f`. An error it returns, or an
  // exception it throws, fails that trial with the message. `cheap`: fast and deterministic
  // enough for constraints to be checked before an architecture is proposed. A search runs
  // sources in its own process only (no --workers: a function cannot travel to a worker).
  using Callback = std::function<StatusOr<double>(const Architecture&)>;
  void add_callback(const std::string& name, Callback f, bool cheap = false);

  struct Shared;

 private:
  SourceContext ctx_;
  std::unique_ptr<Shared> shared_;
};

}  // namespace nasforge::evaluation
