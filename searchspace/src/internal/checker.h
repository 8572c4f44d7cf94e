// The DSL checker: turns an AST into a SearchSpace, reporting every error it finds.
// Split by seam: check_values.cpp (scalars, domains, keys), check_network.cpp (the layer
// sequence and its shapes), check_blocks.cpp (blocks and elastic stages), check_cells.cpp
// (cell DAGs), check_space.cpp (document, constraints, objectives).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "nasforge/searchspace/diagnostics.h"
#include "nasforge/searchspace/search_space.h"
#include "nasforge/searchspace/yaml_ast.h"

namespace nasforge {

class SpaceBuilder {
 public:
  explicit SpaceBuilder(Diagnostics& diags) : d_(diags) {}
  std::optional<SearchSpace> build(const AstNode& root);

 private:
  // --- check_values.cpp ---
  void error(const AstNode& at, const std::string& path, const std::string& message) {
    d_.error(at.loc, path, message);
  }
  // Reports unknown keys (with a suggestion) and missing required ones. False if any.
  bool check_keys(const AstNode& map, const std::string& path,
                  const std::vector<std::string>& allowed,
                  const std::vector<std::string>& required);
  bool expect_mapping(const AstNode& n, const std::string& path, const std::string& what);
  std::optional<int64_t> get_int(const AstNode& n, const std::string& path,
                                 const std::string& expected);
  std::optional<double> get_number(const AstNode& n, const std::string& path,
                                   const std::string& expected);
  std::optional<bool> get_bool(const AstNode& n, const std::string& path);
  // One of `options`; reports "expected one of ..., got 'x' (did you mean ...)".
  std::optional<std::string> get_enum(const AstNode& n, const std::string& path,
                                      const std::vector<std::string>& options);
  // A fixed integer rule: value in [lo, hi] (and odd), described as `what` in errors.
  struct IntRule {
    int64_t lo, hi;
    bool odd;
    const char* what;
  };
  static const IntRule kStrideRule, kKernelRule, kChannelsRule, kRepeatRule, kInputsRule,
      kGroupsRule;
  // The fixed integer under `key` of `map`, or `fallback` when the key is absent.
  std::optional<int64_t> fixed_int(const AstNode& map, const std::string& key,
                                   const std::string& path, const IntRule& rule, int64_t fallback);
  // The activation under "act" of `map` (`fallback` when absent), one of relu, relu6, hswish,
  // swish, gelu, none.
  std::optional<Activation> act_of(const AstNode& map, const std::string& path,
                                   Activation fallback);
  // The dropout rate under "dropout" of `map` (0 when absent), in [0, 1).
  std::optional<double> dropout_of(const AstNode& map, const std::string& path);
  // Empty if `v` is a valid value of `type`, else what was expected.
  static std::string check_value(int64_t v, DomainType type);
  // The domain written at `n`: a fixed scalar, {choice: [...]}, {range: {...}} or $name.
  std::optional<Domain> domain_at(const AstNode& n, const std::string& path, DomainType type);
  // domain_at's parts: the domain a value, {choice} or {range} at `path` defines (use_note says
  // where a let is used), one listed value, and a {min, max, step} range.
  std::optional<Domain> domain_of(const AstNode& body, const std::string& path, DomainType type,
                                  const std::string& use_note);
  bool add_domain_value(const AstNode& v, const std::string& path, const std::string& use_note,
                        Domain& dom);
  bool add_domain_range(const AstNode& v, const std::string& path, const std::string& use_note,
                        Domain& dom);
  // A fixed value or a new decision labelled `label`.
  std::optional<IntParam> param(const AstNode& n, const std::string& path, DomainType type,
                                const std::string& label, const std::string& key,
                                std::optional<Gate> gate);
  // Same, where the key may be absent and then takes `fallback`.
  std::optional<IntParam> param_or(const AstNode& map, const std::string& key_name,
                                   const std::string& path, DomainType type,
                                   const std::string& label, const std::string& key,
                                   std::optional<Gate> gate, int64_t fallback);
  int add_decision(const std::string& label, const std::string& key, Domain domain,
                   std::optional<Gate> gate, const SourceLoc& loc);
  // Values a parameter can take.
  std::vector<int64_t> values(const IntParam& p) const;

  // --- check_network.cpp and check_blocks.cpp ---
  struct Flow {
    Shape cur, prev;  // prev: the input before `cur`, for two-input cells
    bool ok = true;   // false once a shape error makes later shape checks meaningless
  };
  void check_network(const AstNode& seq, const std::string& path);
  void check_item(const AstNode& item, const std::string& path, Flow& flow, bool is_last);
  std::optional<Block> check_block(const AstNode& item, const std::string& path,
                                   const std::string& label, std::optional<Gate> gate,
                                   bool in_stage, std::vector<int>* group);
  // One block's options as check_block reads them: its mapping `v` at `path`, the label its
  // decisions take, their gate, whether a stage owns out and stride, and the decision group.
  struct BlockOptions {
    const AstNode& v;
    std::string path, label;
    std::optional<Gate> gate;
    bool in_stage;
    std::vector<int>* group;
  };
  // out, kernel (fixed `fixed_kernel` when > 0), stride and act, which conv-like blocks share.
  struct ConvLike {
    IntParam out, kernel;
    int stride = 1;
    Activation act = Activation::kRelu;
  };
  std::optional<ConvLike> conv_like(const BlockOptions& o, Activation default_act,
                                    int64_t fixed_kernel = 0);
  std::optional<Block> check_mbconv(const BlockOptions& o);
  std::optional<Block> check_resblock(const BlockOptions& o);
  void check_stage(const AstNode& n, const std::string& path, Flow& flow, const SourceLoc& loc);
  void check_cell_use(const AstNode& n, const std::string& path, Flow& flow, const SourceLoc& loc);
  void check_encoder(const AstNode& n, const std::string& path, Flow& flow, const SourceLoc& loc);
  void check_head(const AstNode& n, const std::string& path, Flow& flow, const SourceLoc& loc);
  // Applies a block to the flowing shape, checking strides and residual shapes.
  // Grouped mbconv and shuffle blocks split their channels: their widths must be fixed and
  // divide as the split needs. Reports at `at` and returns false when they do not.
  bool check_split_widths(const MBConvBlock& b, const Shape& in, const AstNode& at,
                          const std::string& path);
  bool check_split_widths(const ShuffleBlock& b, const Shape& in, const AstNode& at,
                          const std::string& path);
  template <typename T>
  bool check_split_widths(const T&, const Shape&, const AstNode&, const std::string&) {
    return true;
  }
  // same_width: the block's input width is the same decision as its output width.
  void apply_block(Block& b, const AstNode& at, const std::string& path, Flow& flow,
                   bool same_width);
  // --- check_choice.cpp ---
  // One alternative as written: its kind, its options (null for a bare `identity`), its name.
  struct WrittenAlternative {
    std::string kind, name;
    const AstNode* kind_key = nullptr;
    const AstNode* options = nullptr;
    const AstNode* at = nullptr;
  };
  // The alternatives' kinds and names (defaults derived, duplicates refused).
  std::optional<std::vector<WrittenAlternative>> read_alternatives(const AstNode& list,
                                                                   const std::string& path);
  // One alternative with its own decisions, gated by `chosen`.
  std::optional<Alternative> check_alternative(const WrittenAlternative& w, const std::string& path,
                                               const std::string& label, Gate chosen, bool in_stage,
                                               std::vector<int>* group);
  // A `choose` block: its alternatives (conv, mbconv, resblock, shufflenet, xception, identity,
  // zero, each with an optional name), one decision over them gated by `gate`, and their own
  // decisions gated by it. In a stage, the stage sets out and stride afterwards (set_out_stride).
  std::optional<Block> check_choice(const AstNode& list, const std::string& path,
                                    const std::string& label, std::optional<Gate> gate,
                                    bool in_stage, std::vector<int>* group);
  // Checks that every alternative of a choice gives the same output shape from `flow.cur`,
  // that zero stands only where the shapes are equal, and marks identities that project.
  void check_choice_shapes(ChoiceBlock& c, const AstNode& at, const std::string& path,
                           const Flow& flow, bool same_width);
  bool expect_image(const AstNode& at, const std::string& path, const Flow& flow);
  // False, with an error, when one image's activation of shape `s` cannot be allocated.
  bool check_activation(const AstNode& at, const std::string& path, const Shape& s);
  bool apply_stride(int stride, const AstNode& at, const std::string& path, Shape& s);
  std::string next_name(const std::string& kind);
  void push_layer(Layer layer, Flow& flow);
  int open_section(const std::string& name, Section::Kind kind);

  // --- check_cells.cpp ---
  void check_cells(const AstNode& map, const std::string& path);
  void check_cell(const std::string& name, const AstNode& def, const std::string& path);
  // check_cell's steps: inputs, nodes, combine and the op domain; the edges (dense, listed or
  // {choose: K}); that every node is fed and reaches the output; the cell's decisions.
  struct CellEdgeSpec {
    int from, to;
    std::optional<Domain> op;  // an edge's own op
    SourceLoc loc;
  };
  bool check_cell_shape(const AstNode& def, const std::string& path, CellTemplate& cell,
                        std::optional<Domain>& ops);
  bool check_cell_edges(const AstNode& def, const std::string& path,
                        const std::optional<Domain>& ops, CellTemplate& cell,
                        std::vector<CellEdgeSpec>& out);
  bool check_listed_edges(const AstNode& def, const std::string& path,
                          const std::optional<Domain>& ops, const CellTemplate& cell,
                          std::vector<CellEdgeSpec>& out);
  bool check_cell_graph(const AstNode& edges, const std::string& path, const CellTemplate& cell,
                        const std::vector<CellEdgeSpec>& listed);
  void add_cell_decisions(const AstNode& def, CellTemplate& cell,
                          const std::vector<CellEdgeSpec>& listed,
                          const std::optional<Domain>& ops);

  // --- check_space.cpp ---
  void check_lets(const AstNode& map, const std::string& path);
  void check_constraints(const AstNode& seq, const std::string& path);
  void check_objectives(const AstNode& map, const std::string& path);

  Diagnostics& d_;
  SearchSpace s_;
  std::map<std::string, const AstNode*> lets_;
  std::set<std::string> used_lets_;
  std::set<std::string> reported_lets_;  // "name/type" pairs already diagnosed
  std::map<std::string, int> counters_;  // per layer kind, for section names
  std::map<std::string, const AstNode*> cell_defs_;
  std::set<std::string> used_cells_;
  int section_ = -1;  // section new decisions belong to
};

}  // namespace nasforge
