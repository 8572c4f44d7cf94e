// Strategies: every search method behind one ask/tell loop. A strategy proposes architectures
// (ask), hears how they scored (tell), and keeps its state in the object, so that the same driver
// runs every strategy and a run resumes by replaying its trials through a fresh strategy made
// with the same seed. Strategies never evaluate anything themselves.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nasforge/searchspace/search_space.h"
#include "nasforge/searchspace/status.h"

namespace nasforge::strategies {

// One evaluated architecture, as a strategy sees it.
struct Trial {
  Architecture arch;
  // One value per objective, larger is better: the driver negates minimised objectives.
  std::vector<double> score;
  bool ok = true;        // false: the evaluation failed (score is empty)
  double violation = 0;  // 0 when every constraint holds; else the summed relative excess
  bool feasible() const { return ok && violation <= 0; }
};

// Constraint checks cheap enough to run before proposing (count, lookup-table latency, tables).
class Feasibility {
 public:
  virtual ~Feasibility() = default;
  virtual bool feasible(const Architecture& a) const = 0;
};

struct Problem {
  const SearchSpace* space = nullptr;
  size_t objectives = 1;
  const Feasibility* feasibility = nullptr;  // null: every architecture passes before evaluation
  // An architecture known to pass `feasibility` (found by the pre-search check): the target of
  // repair, so that proposing never loops. Required when `feasibility` is set.
  std::optional<Architecture> witness;
  uint64_t seed = 0;
  // Strategy knobs, "name" -> "value"; unknown knobs are refused by name.
  std::map<std::string, std::string> options;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  // Up to n architectures to evaluate next, each passing the problem's feasibility check.
  virtual std::vector<Architecture> ask(size_t n) = 0;
  // The results for architectures this strategy asked for, in any grouping.
  virtual void tell(const std::vector<Trial>& trials) = 0;
};

struct Knob {
  std::string name, default_value, help;
};

struct StrategyInfo {
  std::string name, summary, paper;
  bool multi_objective = false;  // false: exactly one objective (constraints still apply)
  std::vector<Knob> knobs;
  // False for `list`, which evaluates given architectures instead of proposing feasible ones.
  bool proposes = true;
};

const std::vector<StrategyInfo>& strategy_infos();
// A new strategy for `problem`; errors name unknown strategies, knobs and bad knob values.
StatusOr<std::unique_ptr<Strategy>> make_strategy(const std::string& name, const Problem& problem);

}  // namespace nasforge::strategies
