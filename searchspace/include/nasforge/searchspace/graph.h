// Boost.Graph view of an architecture's labelled DAG, for graph kernels (NAS-BOWL's WL kernel)
// and graph algorithms.
#pragma once

#include <boost/graph/adjacency_list.hpp>
#include <string>

#include "nasforge/searchspace/search_space.h"

namespace nasforge {

struct ArchVertex {
  std::string label;
};

using ArchGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, ArchVertex>;

inline ArchGraph to_boost_graph(const LabelledDag& dag) {
  ArchGraph g(dag.labels.size());
  for (size_t v = 0; v < dag.labels.size(); ++v) g[v].label = dag.labels[v];
  for (auto [from, to] : dag.edges) boost::add_edge(from, to, g);
  return g;
}

}  // namespace nasforge
