#include "nasforge/proxies/evaluator.h"

#include <torch/torch.h>

#include "nasforge/hardware/counts.h"

namespace nasforge::proxies {

ProxyEvaluator::ProxyEvaluator(std::shared_ptr<const SearchSpace> space, Proxy proxy,
                               ProxyOptions options)
    : space_(std::move(space)), proxy_(proxy), options_(options) {}

StatusOr<std::unique_ptr<ProxyEvaluator>> ProxyEvaluator::create(
    std::shared_ptr<const SearchSpace> space, Proxy proxy, const ProxyOptions& options,
    const data::Splits* data) {
  const ProxyInfo& i = info(proxy);
  if (options.batches < 1 || options.batch_size < 2)
    return InvalidArgument(std::string("proxy:") + i.name +
                           ": expected at least 1 batch of at least 2 images");
  if (i.needs_data && !data)
    return FailedPrecondition(std::string("proxy:") + i.name +
                              " reads real images: give the data (--data fashion-mnist, "
                              "cifar10:DIR or synthetic)");
  std::unique_ptr<ProxyEvaluator> e(new ProxyEvaluator(space, proxy, options));
  if (i.counted) return e;
  if (data) {
    e->batches_ = take_batches(*data, options.batches, options.batch_size, options.seed);
    if (e->batches_.empty())
      return FailedPrecondition(std::string("proxy:") + i.name + ": the training split is empty");
  } else {  // data-free: only the input's shape matters
    const auto& in = space->input();
    for (int64_t k = 0; k < options.batches; ++k)
      e->batches_.push_back({torch::zeros({options.batch_size, in.channels, in.height, in.width}),
                             torch::zeros({options.batch_size}, torch::kLong)});
  }
  e->net_ = supernet::Supernet(space, supernet::SupernetOptions().seed(options.seed));
  e->net_->eval();
  return e;
}

StatusOr<double> ProxyEvaluator::evaluate(const Architecture& a) {
  if (info(proxy_).counted) {
    const auto c = hardware::count(*space_, a, options_.counting);
    return static_cast<double>(proxy_ == Proxy::kParams ? c.params : c.macs);
  }
  supernet::StaticNetwork alone = net_->extract(a);
  const auto& in = space_->input();
  const supernet::Graph g = alone->lower({options_.batch_size, in.channels, in.height, in.width});
  return score(proxy_, g, batches_, options_.seed);
}

}  // namespace nasforge::proxies
