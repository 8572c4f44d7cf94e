#include "nasforge/predictors/table.h"

#include <sstream>

#include "nasforge/searchspace/files.h"
#include "nasforge/searchspace/json.h"
#include "nasforge/searchspace/metrics.h"
#include "nasforge/searchspace/rng.h"

namespace nasforge::predictors {

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      out.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

StatusOr<ArchTable> ArchTable::load(const std::string& path, const SearchSpace& space) {
  auto text = read_text_file(path);
  if (!text.ok()) return text.status();
  std::istringstream f(*text);
  ArchTable t;
  t.file = path;
  std::string line;
  if (!std::getline(f, line))
    return InvalidArgument(path + ":1: expected a CSV header, got an empty file");
  const auto header = split_csv(line);
  int arch_col = -1;
  std::vector<int> numeric;  // header indices of numeric columns, decided by the first row
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == "arch") arch_col = static_cast<int>(i);
  if (arch_col < 0)
    return InvalidArgument(path + ":1: expected a column named 'arch' in the header, got '" +
                           line.substr(0, 120) + "'");
  size_t lineno = 1;
  std::vector<size_t> line_of;  // each row's line, for naming a conflicting duplicate
  while (std::getline(f, line)) {
    ++lineno;
    if (line.empty()) continue;
    const auto cells = split_csv(line);
    const std::string at = path + ":" + std::to_string(lineno);
    if (cells.size() != header.size())
      return InvalidArgument(at + ": expected " + std::to_string(header.size()) + " fields, got " +
                             std::to_string(cells.size()));
    if (t.archs.empty()) {  // the first row decides which columns are numeric
      for (size_t i = 0; i < cells.size(); ++i) {
        if (static_cast<int>(i) == arch_col) continue;
        if (parse_number(cells[i])) {
          numeric.push_back(static_cast<int>(i));
          t.columns.push_back(header[i]);
        } else {
          t.not_numeric[header[i]] = at + ": '" + cells[i].substr(0, 40) + "'";
        }
      }
      t.values.resize(numeric.size());
    }
    auto arch = space.parse(cells[arch_col]);
    if (!arch.ok())
      return InvalidArgument(at + ": column 'arch': not an architecture of space '" + space.name() +
                             "': " + arch.status().message());
    std::vector<double> row(numeric.size());
    for (size_t c = 0; c < numeric.size(); ++c) {
      auto v = parse_number(cells[numeric[c]]);
      if (!v)
        return InvalidArgument(at + ": column '" + t.columns[c] + "': expected a number, got '" +
                               cells[numeric[c]] + "'");
      row[c] = *v;
    }
    const std::string key = space.to_string(*arch);
    if (auto seen = t.row_of.find(key); seen != t.row_of.end()) {
      // Listed before: the same values are one row; other values are a conflict to resolve.
      for (size_t c = 0; c < numeric.size(); ++c)
        if (t.values[c][seen->second] != row[c])
          return InvalidArgument(at + ": architecture " + key + " is listed again with " +
                                 t.columns[c] + " " + cells[numeric[c]] + ", against " +
                                 json_number(t.values[c][seen->second]) + " at line " +
                                 std::to_string(line_of[seen->second]) +
                                 "; keep one row per architecture");
      continue;
    }
    for (size_t c = 0; c < numeric.size(); ++c) t.values[c].push_back(row[c]);
    t.row_of.emplace(key, t.archs.size());
    line_of.push_back(lineno);
    t.archs.push_back(std::move(*arch));
  }
  if (t.archs.empty()) return InvalidArgument(path + ": expected rows after the header, got none");
  return t;
}

std::vector<size_t> ArchTable::sample_rows(size_t n, uint64_t seed) const {
  std::vector<size_t> rows(archs.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  Rng rng(seed);
  for (size_t i = 0; i < n && i < rows.size(); ++i)
    std::swap(rows[i], rows[i + rng.uniform(rows.size() - i)]);
  rows.resize(std::min(n, rows.size()));
  return rows;
}

StatusOr<size_t> ArchTable::column(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return i;
  if (auto it = not_numeric.find(name); it != not_numeric.end())
    return InvalidArgument(file + ": column '" + name + "' is not numeric: its first value, at " +
                           it->second + ", is not a finite decimal number");
  std::string list;
  for (const auto& c : columns) list += (list.empty() ? "" : ", ") + c;
  return NotFound(file + ": no numeric column '" + name + "'; it has " + list);
}

}  // namespace nasforge::predictors
