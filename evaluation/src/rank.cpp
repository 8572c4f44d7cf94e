// nasforge rank as a library call (rank.h).
#include "nasforge/evaluation/rank.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "nasforge/evaluation/trial_store.h"
#include "nasforge/predictors/quality.h"
#include "nasforge/predictors/table.h"

namespace nasforge::evaluation {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

StatusOr<std::vector<Architecture>> pick_archs(const RankConfig& c) {
  std::vector<Architecture> out;
  if (!c.archs_from.empty()) {
    auto t = predictors::ArchTable::load(c.archs_from, *c.space);
    if (!t.ok()) return t.status().WithContext("--archs-from");
    const size_t n =
        c.archs > 0 ? std::min<size_t>(static_cast<size_t>(c.archs), t->rows()) : t->rows();
    for (size_t row : t->sample_rows(n, c.seed)) out.push_back(t->archs[row]);
  } else {
    Rng rng(c.seed);
    std::set<uint64_t> seen;
    for (int64_t tries = 0; static_cast<int64_t>(out.size()) < c.archs && tries < 100 * c.archs;
         ++tries) {
      Architecture a = c.space->sample(rng);
      if (seen.insert(c.space->canonical_hash(a)).second) out.push_back(std::move(a));
    }
  }
  if (out.size() < 3)
    return InvalidArgument("ranking needs at least 3 distinct architectures, got " +
                           std::to_string(out.size()));
  return out;
}

// The reference's measurement noise, when its source measures accuracy on a finite sample. A
// source that cannot be made or load its data when every value was read back from the store
// (its data gone since) leaves the noise unknown, with the reason, rather than failing a
// ranking that needs nothing else from it.
void reference_noise_of(const RankConfig& c, SourceFactory& factory,
                        std::shared_ptr<MetricSource> source, RankReport& r) {
  if (!source) {
    auto made = factory.make(c.reference);
    if (!made.ok()) {
      r.noise_unknown = made.status().message();
      return;
    }
    source = *made;
  }
  auto n = source->sample_size();
  if (!n.ok())
    r.noise_unknown = n.status().message();
  else if (n->has_value() && **n > 0)
    r.noise = reference_noise(r.reference, **n);
}

// The reference value of every architecture: read back from the store where it was evaluated
// before, evaluated and committed one by one where not.
Status reference_values(const RankConfig& c, SourceFactory& factory, RankReport& r,
                        const std::function<void(const std::string&, int64_t, int64_t)>& progress) {
  std::unique_ptr<TrialStore> store;
  std::map<std::string, double> cached;
  if (!c.store.empty()) {
    auto s = TrialStore::open(c.store, {{"command", "rank"},
                                        {"space", c.space->fingerprint()},
                                        {"reference", c.reference.source},
                                        {"data", c.data},
                                        {"seed", std::to_string(c.seed)}});
    if (!s.ok()) return s.status();
    store = std::move(*s);
    auto all = store->all();
    if (!all.ok()) return all.status();
    for (const auto& t : *all)
      if (t.status == "ok" && t.metrics.count("reference"))
        cached[t.hash] = t.metrics.at("reference");
  }
  std::shared_ptr<MetricSource> source;
  double spent = 0;
  int64_t evaluated = 0;
  for (size_t i = 0; i < r.archs.size(); ++i) {
    const std::string hash = c.space->canonical_hash_hex(r.archs[i]);
    if (auto it = cached.find(hash); it != cached.end()) {
      r.reference.push_back(it->second);
      ++r.reference_cached;
    } else {
      if (!source) {
        auto made = factory.make(c.reference);
        if (!made.ok()) return made.status().WithContext("--reference");
        source = *made;
      }
      const auto t0 = std::chrono::steady_clock::now();
      auto v = source->evaluate(r.archs[i]);
      if (!v.ok())
        return v.status().WithContext("--reference " + c.reference.source + " of " +
                                      c.space->to_string(r.archs[i]));
      spent += seconds_since(t0);
      ++evaluated;
      r.reference.push_back(*v);
      if (store) {
        TrialRecord t;
        t.arch = c.space->to_string(r.archs[i]);
        t.hash = hash;
        t.metrics["reference"] = *v;
        t.seconds = seconds_since(t0);
        if (Status st = store->insert(t); !st.ok()) return st;
      }
    }
    if (progress) progress(c.reference.source, static_cast<int64_t>(i + 1), r.archs.size());
  }
  r.reference_seconds_per_arch = evaluated ? spent / static_cast<double>(evaluated) : 0;
  reference_noise_of(c, factory, source, r);
  return Status::Ok();
}

// Evaluates one signal's source on every architecture, then its statistics.
StatusOr<SignalRanking> rank_one(
    const RankConfig& c, MetricSource& source, SignalRanking out, const RankReport& r,
    const std::function<void(const std::string&, int64_t, int64_t)>& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < r.archs.size(); ++i) {
    auto v = source.evaluate(r.archs[i]);
    if (!v.ok())
      return v.status().WithContext("--signals " + out.signal + " of " +
                                    c.space->to_string(r.archs[i]));
    out.values.push_back(*v);
    if (progress) progress(out.signal, static_cast<int64_t>(i + 1), r.archs.size());
  }
  out.seconds_per_arch = seconds_since(t0) / static_cast<double>(r.archs.size());
  using predictors::bootstrap;
  const auto tau = bootstrap(predictors::kendall, out.values, r.reference, c.resamples, c.seed);
  const auto rho = bootstrap(predictors::spearman, out.values, r.reference, c.resamples, c.seed);
  const double f = c.top_fraction;
  const auto top =
      bootstrap([f](const std::vector<double>& a,
                    const std::vector<double>& b) { return predictors::top_precision(a, b, f); },
                out.values, r.reference, c.resamples, c.seed);
  out.kendall = tau.value, out.kendall_low = tau.low, out.kendall_high = tau.high;
  out.spearman = rho.value, out.spearman_low = rho.low, out.spearman_high = rho.high;
  out.top = top.value, out.top_low = top.low, out.top_high = top.high;
  return out;
}

}  // namespace

ReferenceNoise reference_noise(const std::vector<double>& percentages, int64_t sample_size) {
  ReferenceNoise out;
  out.sample_size = sample_size;
  const double k = static_cast<double>(percentages.size());
  if (percentages.empty() || sample_size <= 0) return out;
  double mean = 0;
  for (double v : percentages) mean += v / k;
  double ss = 0;
  for (double v : percentages) ss += (v - mean) * (v - mean);
  out.spread = k > 1 ? std::sqrt(ss / (k - 1)) : 0;
  const double p = std::clamp(mean / 100.0, 0.0, 1.0);
  out.standard_error = 100.0 * std::sqrt(p * (1 - p) / static_cast<double>(sample_size));
  if (out.spread > 0) {
    const double ratio = out.standard_error / out.spread;
    out.reliability = std::max(0.0, 1.0 - ratio * ratio);
  }
  return out;
}

StatusOr<MetricSpec> parse_signal(const std::string& text) {
  if (text.find('=') != std::string::npos) return MetricSpec::parse(text);
  std::string name = "signal";
  if (text == "count" || text.rfind("count:", 0) == 0)
    name = "params";
  else if (text.rfind("measure:", 0) == 0)
    name = "latency_ms@" + text.substr(8);
  else if (text.rfind("proxy:", 0) == 0)
    name = text.substr(6, text.find(':', 6) - 6) == "flops" ? "macs"
                                                            : text.substr(6, text.find(':', 6) - 6);
  else if (text.rfind("supernet:", 0) == 0 || text.rfind("ghn:", 0) == 0 ||
           text.rfind("train:", 0) == 0)
    name = "accuracy";
  return MetricSpec::parse(name + "=" + text);
}

StatusOr<RankReport> rank_signals(
    const RankConfig& c,
    const std::function<void(const std::string&, int64_t, int64_t)>& progress) {
  RankReport r;
  auto archs = pick_archs(c);
  if (!archs.ok()) return archs.status();
  r.archs = std::move(*archs);
  SourceContext ctx;
  ctx.space = c.space;
  ctx.data = c.data;
  ctx.seed = c.seed;
  ctx.threads = c.threads;
  SourceFactory factory(ctx);
  // Every source is made before anything is evaluated, so a bad one costs nothing.
  std::vector<std::shared_ptr<MetricSource>> sources;
  std::vector<SignalRanking> rankings;
  for (const auto& s : c.signals) {
    SignalRanking one;
    one.signal = s.metric.name + "=" + s.source;
    const auto t0 = std::chrono::steady_clock::now();
    auto made = factory.make(s);
    if (!made.ok()) return made.status().WithContext("--signals");
    one.setup_seconds = seconds_since(t0);
    sources.push_back(*made);
    rankings.push_back(std::move(one));
  }
  if (Status st = reference_values(c, factory, r, progress); !st.ok()) return st;
  for (size_t i = 0; i < sources.size(); ++i) {
    auto one = rank_one(c, *sources[i], std::move(rankings[i]), r, progress);
    if (!one.ok()) return one.status();
    r.signals.push_back(std::move(*one));
  }
  return r;
}

}  // namespace nasforge::evaluation
