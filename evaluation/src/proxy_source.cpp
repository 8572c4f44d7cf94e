// The proxy:NAME[:BATCHESxSIZE] source: a zero-cost proxy (nasforge/proxies) of the architecture's
// network with fresh weights seeded from the search's seed, on real batches of --data.
#include <torch/torch.h>

#include "internal/sources.h"
#include "nasforge/proxies/evaluator.h"
#include "nasforge/supernet/run.h"

namespace nasforge::evaluation {
namespace {

class ProxySource : public MetricSource {
 public:
  ProxySource(std::unique_ptr<proxies::ProxyEvaluator> e, std::shared_ptr<data::Splits> d,
              std::string desc)
      : e_(std::move(e)), data_(std::move(d)), desc_(std::move(desc)) {}
  std::string describe() const override { return desc_; }
  bool cheap() const override { return proxies::info(e_->proxy()).counted; }
  bool monotone() const override { return proxies::info(e_->proxy()).counted; }
  StatusOr<double> evaluate(const Architecture& a) override { return e_->evaluate(a); }

 private:
  std::unique_ptr<proxies::ProxyEvaluator> e_;
  std::shared_ptr<data::Splits> data_;  // the evaluator copies its batches; kept for clarity
  std::string desc_;
};

// "NAME" or "NAME:BATCHESxSIZE".
StatusOr<std::pair<proxies::Proxy, proxies::ProxyOptions>> parse(const std::string& body) {
  const size_t colon = body.find(':');
  const std::string name = body.substr(0, colon);
  auto p = proxies::parse_proxy(name);
  if (!p) {
    std::vector<std::string> names;
    for (const auto& i : proxies::proxy_infos()) names.push_back(i.name);
    std::string near = closest_match(name, names), list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    return InvalidArgument("unknown proxy '" + name + "'" +
                           (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                           "; the proxies are " + list);
  }
  proxies::ProxyOptions o;
  if (colon != std::string::npos) {
    const std::string shape = body.substr(colon + 1);
    const size_t x = shape.find('x');
    auto n = x == std::string::npos ? std::nullopt : parse_number(shape.substr(0, x));
    auto b = x == std::string::npos ? std::nullopt : parse_number(shape.substr(x + 1));
    if (!n || !b || *n < 1 || *b < 2 || *n != static_cast<int64_t>(*n) ||
        *b != static_cast<int64_t>(*b))
      return InvalidArgument(
          "expected proxy:NAME or proxy:NAME:BATCHESxSIZE (such as 1x64), got "
          "'proxy:" +
          body + "'");
    o.batches = static_cast<int64_t>(*n);
    o.batch_size = static_cast<int64_t>(*b);
  }
  return std::make_pair(*p, o);
}

}  // namespace

StatusOr<std::shared_ptr<MetricSource>> make_proxy_source(const MetricSpec& spec,
                                                          const SourceContext& ctx,
                                                          SourceFactory::Shared& shared,
                                                          const std::string& body) {
  const std::string where = "--metric " + spec.metric.name + "=" + spec.source;
  auto parsed = parse(body);
  if (!parsed.ok()) return parsed.status().WithContext(where);
  auto [proxy, options] = *parsed;
  // params and flops are counts: they may fill the typed params and macs metrics.
  const auto kind = spec.metric.typed ? std::optional(spec.metric.typed->kind) : std::nullopt;
  const bool count_fits = (proxy == proxies::Proxy::kParams && kind == MetricKind::kParams) ||
                          (proxy == proxies::Proxy::kFlops && kind == MetricKind::kMacs);
  if (kind && !count_fits)
    return InvalidArgument(where + ": a proxy gives a score, not " + spec.metric.name +
                           "; name the metric plainly, as " + body.substr(0, body.find(':')) +
                           "=proxy:" + body);
  options.seed = ctx.seed;
  std::shared_ptr<data::Splits> data;
  if (!ctx.data.empty()) {
    auto& slot = shared.datasets[ctx.data];
    if (!slot) {
      auto d = supernet::load_data_for(ctx.data, *ctx.space, ctx.seed, 256);
      if (!d.ok()) return d.status().WithContext(where);
      slot = std::make_shared<data::Splits>(std::move(*d));
    }
    data = std::static_pointer_cast<data::Splits>(slot);
  }
  auto e = proxies::ProxyEvaluator::create(ctx.space, proxy, options, data.get());
  if (!e.ok()) return e.status().WithContext(where);
  return std::shared_ptr<MetricSource>(
      std::make_shared<ProxySource>(std::move(*e), data, spec.source));
}

}  // namespace nasforge::evaluation
