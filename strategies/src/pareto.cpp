#include "nasforge/strategies/pareto.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace nasforge::strategies {

bool dominates(const Point& a, const Point& b) {
  bool better = false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] < b[i]) return false;
    if (a[i] > b[i]) better = true;
  }
  return better;
}

std::vector<size_t> pareto_front(const std::vector<Point>& points) {
  std::vector<size_t> front;
  for (size_t i = 0; i < points.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < points.size() && !dominated; ++j)
      dominated = j != i && dominates(points[j], points[i]);
    if (!dominated) front.push_back(i);
  }
  return front;
}

std::vector<std::vector<size_t>> nondominated_sort(const std::vector<Point>& points) {
  const size_t n = points.size();
  std::vector<std::vector<size_t>> beats(n);
  std::vector<size_t> beaten_by(n, 0);
  std::vector<std::vector<size_t>> fronts(1);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      if (dominates(points[i], points[j])) {
        beats[i].push_back(j);
        ++beaten_by[j];
      } else if (dominates(points[j], points[i])) {
        beats[j].push_back(i);
        ++beaten_by[i];
      }
    }
  }
  for (size_t i = 0; i < n; ++i)
    if (beaten_by[i] == 0) fronts[0].push_back(i);
  while (!fronts.back().empty()) {
    std::vector<size_t> next;
    for (size_t i : fronts.back())
      for (size_t j : beats[i])
        if (--beaten_by[j] == 0) next.push_back(j);
    std::sort(next.begin(), next.end());
    fronts.push_back(std::move(next));
  }
  fronts.pop_back();
  return fronts;
}

std::vector<double> crowding_distance(const std::vector<Point>& points,
                                      const std::vector<size_t>& front) {
  const size_t n = front.size();
  std::vector<double> d(n, 0.0);
  if (n == 0) return d;
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<size_t> order(n);
  for (size_t m = 0; m < points[front[0]].size(); ++m) {
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return points[front[a]][m] < points[front[b]][m]; });
    const double lo = points[front[order.front()]][m], hi = points[front[order.back()]][m];
    d[order.front()] = d[order.back()] = inf;
    if (hi <= lo) continue;
    for (size_t k = 1; k + 1 < n; ++k)
      d[order[k]] += (points[front[order[k + 1]]][m] - points[front[order[k - 1]]][m]) / (hi - lo);
  }
  return d;
}

namespace {

// Volume dominated by `pts` (all strictly better than ref in the first `dims` coordinates).
double volume(std::vector<Point> pts, const Point& ref, size_t dims) {
  if (pts.empty()) return 0;
  if (dims == 1) {
    double best = ref[0];
    for (const auto& p : pts) best = std::max(best, p[0]);
    return best - ref[0];
  }
  if (dims == 2) {
    std::sort(pts.begin(), pts.end(), [](const Point& a, const Point& b) {
      return a[0] != b[0] ? a[0] > b[0] : a[1] > b[1];
    });
    double v = 0, top = ref[1];
    for (const auto& p : pts) {
      if (p[1] > top) {
        v += (p[0] - ref[0]) * (p[1] - top);
        top = p[1];
      }
    }
    return v;
  }
  // Slice along the last coordinate: between consecutive levels, the points at or above the
  // slice dominate a (dims-1)-dimensional region.
  const size_t last = dims - 1;
  std::sort(pts.begin(), pts.end(),
            [&](const Point& a, const Point& b) { return a[last] > b[last]; });
  double v = 0;
  std::vector<Point> above;
  for (size_t i = 0; i < pts.size(); ++i) {
    above.push_back(pts[i]);
    const double lower = i + 1 < pts.size() ? pts[i + 1][last] : ref[last];
    const double height = pts[i][last] - lower;
    if (height > 0) v += height * volume(above, ref, last);
  }
  return v;
}

}  // namespace

double hypervolume(const std::vector<Point>& points, const Point& ref) {
  std::vector<Point> useful;
  for (const auto& p : points) {
    bool strictly = p.size() == ref.size();
    for (size_t i = 0; strictly && i < p.size(); ++i) strictly = p[i] > ref[i];
    if (strictly) useful.push_back(p);
  }
  std::vector<Point> front;
  for (size_t i : pareto_front(useful)) front.push_back(useful[i]);
  return volume(std::move(front), ref, ref.size());
}

}  // namespace nasforge::strategies
