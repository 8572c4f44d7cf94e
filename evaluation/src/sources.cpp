// Metric names and the sources that need no LibTorch: table, count, predictor.
#include <cctype>

#include "internal/sources.h"
#include "nasforge/hardware/counts.h"
#include "nasforge/latency/predictors.h"

namespace nasforge::evaluation {

std::string MetricName::unit() const {
  if (!typed) return "";
  switch (typed->kind) {
    case MetricKind::kAccuracy:
      return "%";
    case MetricKind::kLatencyMs:
      return "ms";
    case MetricKind::kParams:
      return "params";
    case MetricKind::kMacs:
      return "MACs";
  }
  return "";
}

StatusOr<MetricName> MetricName::parse(const std::string& text) {
  MetricName m;
  m.name = text;
  auto typed = Metric::parse(text);
  if (typed.ok()) {
    m.typed = *typed;
    return m;
  }
  if (text.rfind("latency", 0) == 0 || text.rfind("accuracy", 0) == 0 ||
      text.find('@') != std::string::npos)
    return typed.status();
  bool ident = !text.empty() && std::islower(static_cast<unsigned char>(text[0]));
  for (char c : text)
    ident &= std::islower(static_cast<unsigned char>(c)) ||
             std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  if (!ident)
    return InvalidArgument(
        "expected a metric name (accuracy, latency_ms@DEVICE, params, macs, or "
        "a lower-case name such as test_acc), got '" +
        text + "'");
  return m;
}

StatusOr<MetricSpec> MetricSpec::parse(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    return InvalidArgument("expected NAME=SOURCE (e.g. accuracy=table:nb201.csv:valid_acc), got '" +
                           text + "'");
  auto name = MetricName::parse(text.substr(0, eq));
  if (!name.ok()) return name.status();
  return MetricSpec{*name, text.substr(eq + 1)};
}

namespace {

class TableSource : public MetricSource {
 public:
  TableSource(std::shared_ptr<predictors::ArchTable> t, size_t column, std::string desc)
      : table_(std::move(t)), column_(column), desc_(std::move(desc)) {}
  std::string describe() const override { return desc_; }
  bool cheap() const override { return true; }
  std::optional<std::pair<Extreme, Extreme>> extremes() const override {
    const auto& v = table_->values[column_];
    size_t lo = 0, hi = 0;
    for (size_t i = 1; i < v.size(); ++i) {
      if (v[i] < v[lo]) lo = i;
      if (v[i] > v[hi]) hi = i;
    }
    if (v.empty()) return std::nullopt;
    return std::make_pair(Extreme{v[lo], table_->archs[lo]}, Extreme{v[hi], table_->archs[hi]});
  }
  StatusOr<double> evaluate(const Architecture& a) override {
    // The table is keyed by architecture string; an architecture whose string is absent may
    // still be there under an equivalent (canonically equal) string.
    const SearchSpace& s = *space_;
    auto it = table_->row_of.find(s.to_string(a));
    if (it == table_->row_of.end()) {
      if (canonical_.empty())
        for (size_t r = 0; r < table_->archs.size(); ++r)
          canonical_.emplace(s.canonical_hash(table_->archs[r]), r);
      auto c = canonical_.find(s.canonical_hash(a));
      if (c == canonical_.end())
        return NotFound(table_->file + ": no row for architecture " + s.to_string(a));
      return table_->values[column_][c->second];
    }
    return table_->values[column_][it->second];
  }
  const SearchSpace* space_ = nullptr;

 private:
  std::shared_ptr<predictors::ArchTable> table_;
  size_t column_;
  std::string desc_;
  std::unordered_map<uint64_t, size_t> canonical_;
};

class CountSource : public MetricSource {
 public:
  CountSource(const SearchSpace& s, bool params, Counting counting)
      : space_(s), params_(params), counting_(counting) {}
  std::string describe() const override {
    return std::string(params_ ? "count (params" : "count (MACs") + ", as " +
           counting_name(counting_) + ")";
  }
  bool cheap() const override { return true; }
  bool monotone() const override { return true; }
  StatusOr<double> evaluate(const Architecture& a) override {
    auto c = hardware::count(space_, a, counting_);
    return static_cast<double>(params_ ? c.params : c.macs);
  }

 private:
  const SearchSpace& space_;
  bool params_;
  Counting counting_;
};

class CallbackSource : public MetricSource {
 public:
  CallbackSource(std::string name, SourceFactory::Callback f, bool cheap)
      : name_(std::move(name)), f_(std::move(f)), cheap_(cheap) {}
  std::string describe() const override { return "callback:" + name_ + " (a C++ function)"; }
  bool cheap() const override { return cheap_; }
  StatusOr<double> evaluate(const Architecture& a) override {
    try {
      return f_(a);
    } catch (const std::exception& e) {
      return FailedPrecondition("callback:" + name_ + " threw: " + e.what());
    }
  }

 private:
  std::string name_;
  SourceFactory::Callback f_;
  bool cheap_;
};

class PredictorSource : public MetricSource {
 public:
  PredictorSource(std::unique_ptr<predictors::Predictor> p, std::string desc)
      : p_(std::move(p)), desc_(std::move(desc)) {}
  std::string describe() const override { return desc_ + " (" + p_->name() + ")"; }
  bool cheap() const override { return true; }
  // A plain lookup-table sum grows with every unit it prices; lut+residual's learned correction
  // may have negative weights, so it is not claimed to.
  bool monotone() const override { return p_->name() == "lut"; }
  StatusOr<double> evaluate(const Architecture& a) override { return p_->predict(a).mean; }

 private:
  std::unique_ptr<predictors::Predictor> p_;
  std::string desc_;
};

}  // namespace

SourceFactory::SourceFactory(SourceContext ctx) : ctx_(std::move(ctx)), shared_(new Shared) {}
SourceFactory::~SourceFactory() = default;

void SourceFactory::add_callback(const std::string& name, Callback f, bool cheap) {
  shared_->callbacks[name] = {std::move(f), cheap};
}

StatusOr<std::shared_ptr<MetricSource>> SourceFactory::make(const MetricSpec& spec) {
  const std::string& src = spec.source;
  const std::string& name = spec.metric.name;
  const SearchSpace& space = *ctx_.space;
  auto kind_is = [&](MetricKind k) { return spec.metric.typed && spec.metric.typed->kind == k; };
  const std::string where = "--metric " + name + "=" + src + ": ";
  if (src.rfind("table:", 0) == 0) {
    const std::string rest = src.substr(6);
    const size_t colon = rest.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size())
      return InvalidArgument(where + "expected table:CSV:COLUMN");
    const std::string path = rest.substr(0, colon), column = rest.substr(colon + 1);
    auto& table = shared_->tables[path];
    if (!table) {
      auto t = predictors::ArchTable::load(path, space);
      if (!t.ok()) {
        shared_->tables.erase(path);
        return t.status().WithContext(where.substr(0, where.size() - 2));
      }
      table = std::make_shared<predictors::ArchTable>(std::move(*t));
    }
    auto col = table->column(column);
    if (!col.ok()) return col.status().WithContext(where.substr(0, where.size() - 2));
    auto s = std::make_shared<TableSource>(table, *col, src);
    s->space_ = &space;
    return std::shared_ptr<MetricSource>(s);
  }
  if (src == "count" || src.rfind("count:", 0) == 0) {
    if (!kind_is(MetricKind::kParams) && !kind_is(MetricKind::kMacs))
      return InvalidArgument(where + "count gives params or macs, not " + name);
    const auto counting = src == "count" ? Counting::kAsDeployed : parse_counting(src.substr(6));
    if (!counting)
      return InvalidArgument(where + "expected count, count:deployed or count:implemented, got '" +
                             src + "'");
    return std::shared_ptr<MetricSource>(
        std::make_shared<CountSource>(space, kind_is(MetricKind::kParams), *counting));
  }
  if (src.rfind("predictor:", 0) == 0) {
    latency::PredictorContext pc;
    pc.space = &space;
    pc.seed = ctx_.seed;
    auto p = latency::load_predictor(src.substr(10), pc);
    if (!p.ok()) return p.status().WithContext(where.substr(0, where.size() - 2));
    return std::shared_ptr<MetricSource>(std::make_shared<PredictorSource>(std::move(*p), src));
  }
  if (src.rfind("measure:", 0) == 0) {
    // A typed latency_ms@DEVICE, or a plain name (a --report such as measured_ms beside a
    // predicted latency_ms@DEVICE, which the report's predictor-quality chart pairs with it).
    if (spec.metric.typed && !kind_is(MetricKind::kLatencyMs))
      return InvalidArgument(where + "measure: gives latency_ms@DEVICE or a plain name, not " +
                             name);
    const std::string device = src.substr(8);
    if (spec.metric.typed && spec.metric.typed->device != device)
      return InvalidArgument(where + "the metric names device " + spec.metric.typed->device +
                             " but the source measures " + device);
    return make_measure_source(spec, ctx_, device);
  }
  if (src.rfind("proxy:", 0) == 0) return make_proxy_source(spec, ctx_, *shared_, src.substr(6));
  if (src.rfind("callback:", 0) == 0) {
    auto it = shared_->callbacks.find(src.substr(9));
    if (it == shared_->callbacks.end())
      return InvalidArgument(where + "no C++ function is registered as " + src.substr(9) +
                             " (callback: sources are for library use: "
                             "SourceFactory::add_callback, docs/library.md)");
    return std::shared_ptr<MetricSource>(
        std::make_shared<CallbackSource>(it->first, it->second.first, it->second.second));
  }
  const bool test = src.size() > 5 && src.compare(src.size() - 5, 5, ":test") == 0;
  const std::string body = test ? src.substr(0, src.size() - 5) : src;
  if (body.rfind("supernet:", 0) == 0)
    return make_supernet_source(spec, ctx_, *shared_, body.substr(9), test);
  if (body.rfind("ghn:", 0) == 0)
    return make_ghn_source(spec, ctx_, *shared_, body.substr(4), test);
  if (body.rfind("train:", 0) == 0) {
    auto e = parse_number(body.substr(6));
    if (!e || *e < 0 || *e != static_cast<double>(static_cast<int64_t>(*e)))
      return InvalidArgument(where +
                             "expected train:EPOCHS with a whole EPOCHS >= 0 (0: the network as "
                             "initialised, batch norm measured on training batches)");
    if (ctx_.data.empty())
      return InvalidArgument(where +
                             "train: needs the data to train on (--data fashion-mnist, "
                             "cifar10:DIR or synthetic)");
    return make_train_source(spec, ctx_, *shared_, static_cast<int64_t>(*e), test);
  }
  return InvalidArgument(
      where +
      "expected a source: table:CSV:COLUMN, count, predictor:FILE, "
      "measure:DEVICE, supernet:DIR[:test], ghn:DIR[:test], train:EPOCHS[:test], "
      "proxy:NAME or callback:NAME");
}

}  // namespace nasforge::evaluation
