// The YAML layer of the DSL: a tree that keeps the file:line:col of every node.
//
// yaml-cpp parses; this layer converts its node graph into a plain tree under hard limits
// (bytes, nesting depth, node count after alias expansion) so that no input, however
// hostile, can crash or hang the checker. Duplicate keys are reported here.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nasforge/searchspace/diagnostics.h"

namespace nasforge {

struct YamlLimits {
  size_t max_bytes = 8u << 20;  // 8 MiB of text
  int max_depth = 64;           // nesting of mappings and sequences
  size_t max_nodes = 200000;    // after alias expansion
};

class AstNode {
 public:
  enum class Kind { kNull, kScalar, kSequence, kMapping };

  Kind kind = Kind::kNull;
  SourceLoc loc;
  std::string scalar;          // the text of a scalar
  bool quoted = false;         // a quoted scalar is always a string, never a number
  std::vector<AstNode> items;  // sequence items
  std::vector<std::pair<AstNode, AstNode>> entries;  // mapping entries, in file order

  bool is_null() const { return kind == Kind::kNull; }
  bool is_scalar() const { return kind == Kind::kScalar; }
  bool is_sequence() const { return kind == Kind::kSequence; }
  bool is_mapping() const { return kind == Kind::kMapping; }

  // The value under `key` of a mapping, or nullptr.
  const AstNode* find(const std::string& key) const;
  // The key node under which `key` is stored (for locating key errors), or nullptr.
  const AstNode* find_key(const std::string& key) const;
  // "a mapping", "a sequence", "'text'", "nothing" - for "got ..." in diagnostics.
  std::string describe() const;
};

// Parses `text` (named `file` in diagnostics). Returns nullopt after reporting errors.
std::optional<AstNode> parse_yaml(const std::string& text, const std::string& file,
                                  Diagnostics& diags, const YamlLimits& limits = {});

// Reads and parses a file; a missing or unreadable file is a diagnostic, too.
std::optional<AstNode> load_yaml_file(const std::string& path, Diagnostics& diags,
                                      const YamlLimits& limits = {});

}  // namespace nasforge
