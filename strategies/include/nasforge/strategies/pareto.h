// Pareto dominance, non-dominated sorting, crowding distance and the exact hypervolume. Every
// point is a vector of objective values to be maximised (negate the minimised ones first).
#pragma once

#include <cstddef>
#include <vector>

namespace nasforge::strategies {

using Point = std::vector<double>;

// a is at least as good as b everywhere and better somewhere.
bool dominates(const Point& a, const Point& b);
// Indices of the points no other point dominates; duplicates all stay.
std::vector<size_t> pareto_front(const std::vector<Point>& points);
// Fronts in order (Deb's fast non-dominated sort): fronts[0] is the Pareto front.
std::vector<std::vector<size_t>> nondominated_sort(const std::vector<Point>& points);
// Crowding distance of each member of one front (infinite at each objective's extremes).
std::vector<double> crowding_distance(const std::vector<Point>& points,
                                      const std::vector<size_t>& front);
// The volume dominated by the points and bounded below by `ref` (points that do not strictly
// dominate ref add nothing). Exact: a sweep in 2-D, recursive slicing in more dimensions.
double hypervolume(const std::vector<Point>& points, const Point& ref);

}  // namespace nasforge::strategies
