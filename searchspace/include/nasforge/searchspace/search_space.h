// SearchSpace: the typed decisions of a space plus its graph template (network.h).
//
// A space is made by load_space() (dsl.h) from a checked YAML file. Every operation on
// architectures - strings, JSON/YAML, canonical hashing, sampling, mutation, crossover,
// neighbours, enumeration, encodings - lives here, so that nothing else needs to know how a
// space is laid out.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nasforge/searchspace/architecture.h"
#include "nasforge/searchspace/bigint.h"
#include "nasforge/searchspace/diagnostics.h"
#include "nasforge/searchspace/metrics.h"
#include "nasforge/searchspace/network.h"
#include "nasforge/searchspace/rng.h"
#include "nasforge/searchspace/status.h"

namespace nasforge {

// What a decision's values mean; each type has its own value checks.
enum class DomainType {
  kInt,
  kKernel,
  kChannels,
  kExpand,
  kDepth,
  kLayers,
  kHeads,
  kBool,
  kOp,
  kInputs,
  kChoice,  // a layer choice: names are its alternatives
};
const char* domain_type_name(DomainType t);

struct Domain {
  DomainType type = DomainType::kInt;
  std::vector<int64_t> ints;       // numeric values (kBool: 0, 1); empty for kOp and kInputs
  std::vector<std::string> names;  // op names, or input sets written "0+2"

  size_t size() const { return ints.empty() ? names.size() : ints.size(); }
  bool numeric() const { return !ints.empty(); }
  std::string value_str(size_t i) const;
  std::string str() const;  // "{3, 5, 7}"
};

// When a gated decision matters: decision `decision` (a depth) is >= min_value, or, when
// `equals` >= 0, decision `decision` (a layer choice) holds its `equals`-th value. Gates nest:
// the gating decision may itself be gated (a choice inside an elastic-depth stage), and a
// decision is active only when every gate up the chain admits it. A gate's decision always
// precedes the decisions it gates.
struct Gate {
  int decision = -1;
  int64_t min_value = 0;
  int equals = -1;
};

struct Decision {
  std::string label;  // stable, e.g. "stage1.block2.kernel"
  std::string key;    // short key in arch strings, e.g. "k"
  Domain domain;
  std::optional<Gate> gate;
  int section = -1;
  SourceLoc loc;
  // A layer choice: per alternative, what it computes for the canonical hash ("identity" for an
  // identity that passes its input on and for zero, which the residual then passes on; else the
  // alternative's name).
  std::vector<std::string> computes;
};

// A part of the canonical arch string. Blocks sections read "d3w24:k3e4,k5e6,k7e3"; cell
// sections use the NAS-Bench-201 convention "|op~0|+|op~0|op~1|".
struct Section {
  enum class Kind { kLayer, kBlocks, kCell };
  std::string name;
  Kind kind = Kind::kLayer;
  std::vector<int> head;                 // ungated decisions (depth, width, ...)
  std::vector<std::vector<int>> groups;  // per block: its decisions (all gated alike)
  int cell = -1;
};

struct InputSpec {
  int64_t channels = 0, height = 0, width = 0;
};

enum class SampleMode {
  kUniformArchitecture,  // every distinct architecture is equally likely (depth weighted)
  kUniformDecision,      // every decision independently uniform (SPOS-style)
};

// The labelled DAG of an architecture, for graph kernels (see graph.h for the Boost view).
struct LabelledDag {
  std::vector<std::string> labels;         // one per vertex
  std::vector<std::pair<int, int>> edges;  // (from, to)
};

class SearchSpace {
 public:
  // --- description ---
  const std::string& name() const { return name_; }
  const std::string& file() const { return file_; }
  const InputSpec& input() const { return input_; }
  int64_t classes() const { return classes_; }
  const std::vector<Decision>& decisions() const { return decisions_; }
  const std::vector<Section>& sections() const { return sections_; }
  const std::vector<Layer>& layers() const { return layers_; }
  const std::vector<CellTemplate>& cells() const { return cells_; }
  const std::vector<Constraint>& constraints() const { return constraints_; }
  const std::vector<Objective>& objectives() const { return objectives_; }
  // Index of the decision with this label, or -1.
  int find_decision(const std::string& label) const;
  // A stable fingerprint of decisions and template (hex), for checkpoints and profiles.
  std::string fingerprint() const;
  // Multi-line summary for `nasforge check`.
  std::string summary() const;

  // --- size ---
  BigUint size() const;
  double log10_size() const { return size().log10(); }

  // --- reading architectures ---
  bool is_active(const Architecture& a, int decision) const;
  int64_t int_value(const Architecture& a, int decision) const;
  const std::string& name_value(const Architecture& a, int decision) const;
  // The value of a parameter: fixed, or the decision's value in `a`.
  int64_t value(const Architecture& a, const IntParam& p) const {
    return p.is_decision() ? int_value(a, p.decision) : p.fixed;
  }
  // Checks sizes and ranges, and that inactive decisions hold 0.
  Status validate(const Architecture& a) const;
  // Sets inactive decisions to 0.
  void normalize(Architecture& a) const;

  // --- serialisation (each parses back to an equal Architecture) ---
  std::string to_string(const Architecture& a) const;
  StatusOr<Architecture> parse(const std::string& text) const;
  std::string to_json(const Architecture& a) const;  // {"label": value, ...} active only
  std::string to_yaml(const Architecture& a) const;  // label: value lines
  StatusOr<Architecture> from_json(const std::string& text) const;  // JSON or YAML mapping
  StatusOr<Architecture> from_yaml(const std::string& text) const { return from_json(text); }

  // --- canonical identity ---
  // A string equal for architectures that compute the same function with the same ops:
  // inactive decisions are ignored; a cell becomes the symbolic expression it computes (edges
  // that carry `none`, come from a dead node or cannot reach the output drop out, skip_connect
  // is the identity, sums commute, so isomorphic cells agree) plus its live op edges (every op but
  // none and skip_connect).
  std::string canonical_form(const Architecture& a) const;
  uint64_t canonical_hash(const Architecture& a) const;
  std::string canonical_hash_hex(const Architecture& a) const;

  // --- sampling and neighbourhoods ---
  Architecture sample(Rng& rng, SampleMode mode = SampleMode::kUniformArchitecture) const;
  // Changes one active decision to another value of its domain. Decisions that a deeper depth
  // activates are drawn uniformly.
  Architecture mutate(const Architecture& a, Rng& rng) const;
  // Uniform crossover: each decision from either parent where it is active there.
  Architecture crossover(const Architecture& a, const Architecture& b, Rng& rng) const;
  // Every architecture one decision away. A deeper depth copies the last active block's values
  // into the blocks it activates.
  std::vector<Architecture> neighbours(const Architecture& a) const;
  // Every architecture, in lexicographic order; an error if there are more than `limit`.
  StatusOr<std::vector<Architecture>> enumerate(uint64_t limit = 1000000) const;
  // Calls f for each architecture in the same order; stops early when f returns false.
  void for_each(const std::function<bool(const Architecture&)>& f) const;

  // The edges of cell `cell` that carry a signal in `a`: not `none`, from a node that some
  // input reaches, into a node that reaches the output; ordered by (to, from). This is what
  // the supernet runs, what extraction keeps, and what the canonical hash reads.
  struct LiveEdge {
    int from, to;
    std::string op;
  };
  std::vector<LiveEdge> live_edges(const Architecture& a, int cell) const;
  // Every edge whose op is not `none`, dead or not: what a reference implementation that builds
  // each chosen op runs (NAS-Bench-201's does), in the same order as live_edges.
  std::vector<LiveEdge> op_edges(const Architecture& a, int cell) const;

  // --- encodings for predictors ---
  size_t onehot_size() const;
  // One block of |domain| slots per decision; all zero for an inactive decision.
  std::vector<float> encode_onehot(const Architecture& a) const;
  // One slot per decision: index / (|domain| - 1) in [0, 1]; -1 for an inactive decision.
  std::vector<float> encode_ordinal(const Architecture& a) const;
  // Ops-on-vertices DAG of the canonical (pruned) architecture: cells become their live edges,
  // blocks become a chain of labelled vertices.
  LabelledDag dag(const Architecture& a) const;

 private:
  friend class SpaceBuilder;

  std::string cell_string(const Architecture& a, int cell) const;
  std::string decision_tokens(const Architecture& a, const std::vector<int>& ds) const;
  // The active decisions of `ds` as canonical text: as decision_tokens, but a choice reads as
  // what its alternative computes.
  std::string canonical_tokens(const Architecture& a, const std::vector<int>& ds) const;
  // Reads decision_tokens' text back into `a` (gates earlier in `ds` are set first).
  Status assign_tokens(const std::vector<int>& ds, const std::string& text,
                       const std::string& where, Architecture& a) const;
  Status parse_cell(const std::string& text, int cell, Architecture& a) const;
  std::string cell_canonical(const Architecture& a, int cell) const;
  // Whether decision d's own gate admits `a` (its chain above is not looked at).
  bool gate_admits(const Architecture& a, int d) const;
  // The decisions each decision gates directly, and the natural log of the number of
  // completions below each value of each decision (for exact sizes and uniform sampling).
  std::vector<std::vector<int>> gated_children() const;
  std::vector<double> log_completions(int d, const std::vector<std::vector<int>>& children,
                                      std::vector<std::vector<double>>& memo) const;

  std::string name_, file_;
  InputSpec input_;
  int64_t classes_ = 0;
  std::vector<Decision> decisions_;
  std::vector<Section> sections_;
  std::vector<Layer> layers_;
  std::vector<CellTemplate> cells_;
  std::vector<Constraint> constraints_;
  std::vector<Objective> objectives_;
};

}  // namespace nasforge
