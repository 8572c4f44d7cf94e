// A CSV of architectures and numeric columns (latency per device, accuracy, ...), keyed by the
// architecture's canonical string: how measurements made elsewhere reach nasforge.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "nasforge/searchspace/search_space.h"

namespace nasforge::predictors {

// The fields of one CSV line: a quoted field may hold commas, "" inside quotes is one quote, and
// a trailing carriage return (a CRLF file) is dropped.
std::vector<std::string> split_csv(const std::string& line);

struct ArchTable {
  std::string file;
  std::vector<std::string> columns;                // numeric columns, in file order
  std::vector<Architecture> archs;                 // one per row
  std::vector<std::vector<double>> values;         // values[column][row]
  std::unordered_map<std::string, size_t> row_of;  // by space.to_string(arch)
  // Header columns that are not numeric, with where the first row shows it ("FILE:2: 'inf'").
  std::unordered_map<std::string, std::string> not_numeric;

  // Reads FILE: a header naming an `arch` column and numeric columns; other text columns are
  // ignored. Every arch must parse in `space`; errors name the file, line and column. An
  // architecture listed twice with the same values is read once; with other values it is
  // refused, naming both lines.
  static StatusOr<ArchTable> load(const std::string& path, const SearchSpace& space);
  // Index of a numeric column, or an error listing them.
  StatusOr<size_t> column(const std::string& name) const;
  size_t rows() const { return archs.size(); }
  // `n` distinct row indices drawn with `seed` (a partial Fisher-Yates shuffle); n <= rows().
  std::vector<size_t> sample_rows(size_t n, uint64_t seed) const;
};

}  // namespace nasforge::predictors
