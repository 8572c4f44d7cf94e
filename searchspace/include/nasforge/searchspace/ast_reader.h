// Reads the fields of one mapping of a parsed YAML/JSON file (profiles, predictors), reporting
// a missing or mistyped field at its file:line:col.
#pragma once

#include <string>
#include <vector>

#include "nasforge/searchspace/metrics.h"
#include "nasforge/searchspace/yaml_ast.h"

namespace nasforge {

class AstReader {
 public:
  // path: the prefix of reported keys ("units[3].").
  AstReader(const AstNode& node, std::string path, Diagnostics& d)
      : node_(node), path_(std::move(path)), d_(d) {}

  const AstNode* get(const std::string& key) const {
    const AstNode* v = node_.find(key);
    if (v == nullptr) d_.error(node_.loc, path_ + key, "expected key '" + key + "', missing");
    return v;
  }
  std::string str(const std::string& key) const {
    const AstNode* v = get(key);
    if (v == nullptr) return "";
    if (!v->is_scalar()) d_.error(v->loc, path_ + key, "expected a string, got " + v->describe());
    return v->scalar;
  }
  double number(const std::string& key) const {
    const AstNode* v = get(key);
    return v ? number_of(*v, path_ + key) : 0;
  }
  std::vector<double> numbers(const std::string& key) const {
    std::vector<double> out;
    const AstNode* v = get(key);
    if (v == nullptr) return out;
    if (!v->is_sequence()) {
      d_.error(v->loc, path_ + key, "expected a list of numbers, got " + v->describe());
      return out;
    }
    for (size_t i = 0; i < v->items.size(); ++i)
      out.push_back(number_of(v->items[i], path_ + key + "[" + std::to_string(i) + "]"));
    return out;
  }
  double number_of(const AstNode& v, const std::string& at) const {
    auto n = v.is_scalar() ? parse_number(v.scalar) : std::nullopt;
    if (!n) {
      d_.error(v.loc, at, "expected a number, got " + v.describe());
      return 0;
    }
    return *n;
  }

 private:
  const AstNode& node_;
  std::string path_;
  Diagnostics& d_;
};

}  // namespace nasforge
