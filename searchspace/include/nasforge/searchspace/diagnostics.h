// DSL diagnostics: `file:line:col: error: key.path: expected X, got Y`.
#pragma once

#include <string>
#include <vector>

namespace nasforge {

struct SourceLoc {
  std::string file;
  int line = 1;  // 1-based
  int col = 1;   // 1-based
};

struct Diagnostic {
  SourceLoc loc;
  std::string path;     // key path, e.g. network[1].stage.depth
  std::string message;  // usually "expected X, got Y"
  std::string str() const;
};

// Collects every error of one pass. Capped so that a pathological file cannot flood stderr.
class Diagnostics {
 public:
  static constexpr size_t kMaxErrors = 100;

  void error(const SourceLoc& loc, const std::string& path, const std::string& message);
  bool ok() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  const std::vector<Diagnostic>& errors() const { return errors_; }
  bool truncated() const { return truncated_; }
  // All diagnostics, one per line, each line ending in '\n'.
  std::string str() const;

 private:
  std::vector<Diagnostic> errors_;
  bool truncated_ = false;
};

// Closest candidate by edit distance, or "" if none is close enough to be a useful suggestion.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace nasforge
