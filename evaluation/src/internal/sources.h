// The sources that run LibTorch (measure, supernet, train, proxy), kept in their own files.
#pragma once

#include <map>
#include <memory>
#include <utility>

#include "nasforge/evaluation/metric_source.h"
#include "nasforge/predictors/table.h"

namespace nasforge::evaluation {

struct SourceFactory::Shared {
  std::map<std::string, std::shared_ptr<predictors::ArchTable>> tables;
  // train: results by canonical hash and epochs: (valid %, test %).
  std::map<std::pair<uint64_t, int64_t>, std::pair<double, double>> trained;
  // supernet: runs by folder (opaque; owned by torch_sources.cpp).
  std::map<std::string, std::shared_ptr<void>> runs;
  // proxy: data by --data spec (opaque: data::Splits, owned by proxy_source.cpp).
  std::map<std::string, std::shared_ptr<void>> datasets;
  // callback: functions by name, and whether each is cheap.
  std::map<std::string, std::pair<SourceFactory::Callback, bool>> callbacks;
};

StatusOr<std::shared_ptr<MetricSource>> make_measure_source(const MetricSpec& spec,
                                                            const SourceContext& ctx,
                                                            const std::string& device);
StatusOr<std::shared_ptr<MetricSource>> make_supernet_source(const MetricSpec& spec,
                                                             const SourceContext& ctx,
                                                             SourceFactory::Shared& shared,
                                                             const std::string& dir, bool test);
StatusOr<std::shared_ptr<MetricSource>> make_train_source(const MetricSpec& spec,
                                                          const SourceContext& ctx,
                                                          SourceFactory::Shared& shared,
                                                          int64_t epochs, bool test);

StatusOr<std::shared_ptr<MetricSource>> make_proxy_source(const MetricSpec& spec,
                                                          const SourceContext& ctx,
                                                          SourceFactory::Shared& shared,
                                                          const std::string& body);

StatusOr<std::shared_ptr<MetricSource>> make_ghn_source(const MetricSpec& spec,
                                                        const SourceContext& ctx,
                                                        SourceFactory::Shared& shared,
                                                        const std::string& dir, bool test);

}  // namespace nasforge::evaluation
