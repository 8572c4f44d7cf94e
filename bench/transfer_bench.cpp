// Latency transfer to a new device, like-for-like with HELP (issue F): leave one device out.
// For each device of the table in turn, that device is the target and the other columns are
// the sources. The architectures are split at random (per seed) into thirds: the sources hold
// rows for one third, the target is fitted on N of those cells and evaluated (Spearman) on the
// other two thirds, which no device has measured. Modes:
//   learned   transfer from the sources learned as predictors of the architecture (the default
//             of `fit-latency --transfer`): architecture-only;
//   none      no transfer: MACs/params and op counts only;
//   lookup    the earlier protocol, for comparison: every cell is measured on every source, the
//             measured values are the transfer features and all cells are evaluated.
// usage: transfer_bench REPO_ROOT [--table CSV] [--seeds S] [--space zoo/nb201.yaml]
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>

#include "bench_flags.h"
#include "bench_table.h"
#include "nasforge/latency/predictors.h"
#include "nasforge/predictors/quality.h"
#include "nasforge/searchspace/rng.h"

using namespace nasforge;

namespace {

// The rows `keep` of `t`, as a table of their own.
predictors::ArchTable subset(const predictors::ArchTable& t, const std::vector<size_t>& keep) {
  predictors::ArchTable s;
  s.file = t.file + " (subset)";
  s.columns = t.columns;
  s.values.resize(t.columns.size());
  for (size_t r : keep) {
    s.archs.push_back(t.archs[r]);
    for (size_t c = 0; c < t.columns.size(); ++c) s.values[c].push_back(t.values[c][r]);
  }
  return s;  // row_of is filled by the caller, who has the space
}

struct Split {
  std::vector<size_t> sources, held;  // row indices: a third, and the other two thirds
};

Split split(size_t rows, uint64_t seed) {
  std::vector<size_t> order(rows);
  std::iota(order.begin(), order.end(), 0);
  Rng rng(seed);
  for (size_t i = rows; i > 1; --i) std::swap(order[i - 1], order[rng.uniform(i)]);
  Split s;
  s.sources.assign(order.begin(), order.begin() + rows / 3);
  s.held.assign(order.begin() + rows / 3, order.end());
  return s;
}

enum class Mode { kLearned, kNone, kLookup };

// One fit and its Spearman on the evaluated rows; NaN when the fit failed.
double run(const SearchSpace& space, const predictors::ArchTable& table, size_t target, Mode mode,
           size_t n, uint64_t seed) {
  std::vector<size_t> fit_pool, eval_rows;
  std::optional<predictors::ArchTable> sources;
  if (mode == Mode::kLookup) {
    fit_pool.resize(table.rows());
    std::iota(fit_pool.begin(), fit_pool.end(), 0);
    eval_rows = fit_pool;
  } else {
    Split sp = split(table.rows(), seed);
    fit_pool = sp.sources;
    eval_rows = sp.held;
    sources = subset(table, sp.sources);
    for (size_t i = 0; i < sources->archs.size(); ++i)
      sources->row_of.emplace(space.to_string(sources->archs[i]), i);
  }
  Rng rng(seed * 7919 + n);
  for (size_t i = 0; i < n; ++i)  // n of the pool, without replacement
    std::swap(fit_pool[i], fit_pool[i + rng.uniform(fit_pool.size() - i)]);
  std::vector<Architecture> archs;
  std::vector<double> y;
  for (size_t i = 0; i < n; ++i) {
    archs.push_back(table.archs[fit_pool[i]]);
    y.push_back(table.values[target][fit_pool[i]]);
  }
  latency::PredictorContext ctx;
  ctx.space = &space;
  ctx.target_column = table.columns[target];
  if (mode != Mode::kNone) {
    // The sources are every other device column: the held-out device's own column is dropped
    // from the transfer list by `auto`, and `index` is never a source.
    ctx.side = mode == Mode::kLookup ? &table : &*sources;
    ctx.transfer = {"auto"};
    ctx.transfer_mode =
        mode == Mode::kLookup ? latency::TransferMode::kMeasured : latency::TransferMode::kLearned;
  }
  auto p = latency::make_predictor("table", ctx);
  if (!p.ok() || !(*p)->fit(archs, y).ok()) return std::nan("");
  std::vector<Architecture> eval;
  std::vector<double> truth;
  for (size_t r : eval_rows) {
    eval.push_back(table.archs[r]);
    truth.push_back(table.values[target][r]);
  }
  std::vector<double> pred;
  for (const auto& q : (*p)->predict_batch(eval)) pred.push_back(q.mean);
  return predictors::spearman(pred, truth);
}

}  // namespace

int main(int argc, char** argv) {
  bench::BenchFlags f(argc, argv,
                      {{"space", "zoo/nb201.yaml"},
                       {"table", "data/nasbench201/nb201_latency_ms.csv.gz"},
                       {"seeds", "5"}});
  auto space = f.space();
  const predictors::ArchTable table = bench::table(f, *space);
  const int seeds = static_cast<int>(f.num("seeds"));
  std::printf(
      "Leave one device out; sources hold a random third of the %zu cells; the target is fitted "
      "on N of them and evaluated on the other two thirds (lookup: all cells measured on every "
      "source, all evaluated). Spearman, mean (min) over %d seeds.\n\n",
      table.rows(), seeds);
  struct Column {
    const char* title;
    Mode mode;
    size_t n;
  };
  const std::vector<Column> cols = {{"learned N=10", Mode::kLearned, 10},
                                    {"learned N=20", Mode::kLearned, 20},
                                    {"none N=10", Mode::kNone, 10},
                                    {"none N=20", Mode::kNone, 20},
                                    {"lookup N=10", Mode::kLookup, 10}};
  std::printf("| device |");
  for (const auto& c : cols) std::printf(" %s |", c.title);
  std::printf("\n|---|");
  for (size_t i = 0; i < cols.size(); ++i) std::printf("---|");
  std::printf("\n");
  std::vector<double> col_sum(cols.size(), 0);
  int devices = 0;
  for (size_t t = 0; t < table.columns.size(); ++t) {
    if (table.columns[t] == "index") continue;
    ++devices;
    std::printf("| %s |", table.columns[t].c_str());
    for (size_t k = 0; k < cols.size(); ++k) {
      double sum = 0, lo = 1;
      for (int s = 0; s < seeds; ++s) {
        const double rho = run(*space, table, t, cols[k].mode, cols[k].n, 1000 + s);
        sum += rho;
        lo = std::min(lo, rho);
      }
      col_sum[k] += sum / seeds;
      std::printf(" %.3f (%.3f) |", sum / seeds, lo);
      std::fflush(stdout);
    }
    std::printf("\n");
  }
  std::printf("| **mean** |");
  for (double s : col_sum) std::printf(" **%.3f** |", s / devices);
  std::printf("\n\n");
  const double learned10 = col_sum[0] / devices, none20 = col_sum[3] / devices;
  std::printf("FIGURE transfer.learned_n10: mean Spearman %.3f, target >= 0.93 (HELP 0.932): %s\n",
              learned10, learned10 >= 0.93 ? "met" : "missed");
  std::printf("FIGURE transfer.none_n20: mean Spearman %.3f, target >= 0.90: %s\n", none20,
              none20 >= 0.90 ? "met" : "missed");
  return 0;
}
