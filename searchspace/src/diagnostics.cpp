#include "nasforge/searchspace/diagnostics.h"

#include <algorithm>

namespace nasforge {

std::string Diagnostic::str() const {
  std::string s =
      loc.file + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.col) + ": error: ";
  if (!path.empty()) s += path + ": ";
  return s + message;
}

void Diagnostics::error(const SourceLoc& loc, const std::string& path, const std::string& message) {
  if (errors_.size() >= kMaxErrors) {
    truncated_ = true;
    return;
  }
  errors_.push_back({loc, path, message});
}

std::string Diagnostics::str() const {
  std::string out;
  for (const auto& d : errors_) out += d.str() + "\n";
  if (truncated_) out += "note: stopped after " + std::to_string(kMaxErrors) + " errors\n";
  return out;
}

namespace {
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  // Close enough: at most one edit per three characters (and always one).
  size_t best_d = std::max<size_t>(1, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

}  // namespace nasforge
