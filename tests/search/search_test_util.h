// Helpers of the search tests: a tiny enumerable cell space and a known table over it.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "../searchspace/test_util.h"
#include "nasforge/evaluation/search.h"

namespace nasforge::testing {

// Three nodes, five ops: 125 architectures.
inline const char* kTinyCell = R"(nasforge: 1
name: tiny_cell
input: {channels: 1, height: 8, width: 8}
classes: 10
cells:
  c:
    nodes: 3
    edges: dense
    op: {choice: [none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3]}
    combine: sum
network:
  - stem: {conv: {out: 8, kernel: 3}}
  - cell: c
  - head: {pool: global_avg}
)";

inline std::shared_ptr<const SearchSpace> tiny_space() {
  return std::make_shared<const SearchSpace>(load_text(kTinyCell));
}

// A known score: the sum over live op edges of conv3x3 = 3, conv1x1 = 2, pool = 1 (skip 0), so
// canonically equal architectures score equally and the unique optimum is all conv3x3 (9).
inline double tiny_score(const SearchSpace& s, const Architecture& a) {
  static const std::map<std::string, double> w = {
      {"nor_conv_3x3", 3}, {"nor_conv_1x1", 2}, {"avg_pool_3x3", 1}, {"skip_connect", 0}};
  double v = 0;
  for (const auto& e : s.live_edges(a, 0)) v += w.at(e.op);
  return v;
}

// Writes the table of every architecture: arch, score, params-like "cost" (conv edges).
inline std::string write_tiny_table(const SearchSpace& s, const std::string& name) {
  const std::string path = testing::temp_path(name + ".csv");
  std::ofstream out(path);
  out << "arch,score,cost\n";
  const auto all = s.enumerate();
  for (const auto& a : *all) {
    double cost = 0;
    for (const auto& e : s.live_edges(a, 0)) cost += e.op.rfind("nor_conv", 0) == 0 ? 1 : 0;
    out << s.to_string(a) << "," << tiny_score(s, a) << "," << cost << "\n";
  }
  return path;
}

}  // namespace nasforge::testing
