// The supernet's layer modules (one per kind of DSL layer) and their static counterparts made by
// extraction. Private to supernet/: users see Supernet and StaticNetwork only.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "internal/graph_builder.h"
#include "internal/relaxed.h"
#include "nasforge/searchspace/search_space.h"
#include "nasforge/searchspace/units.h"
#include "nasforge/supernet/elastic.h"
#include "nasforge/supernet/supernet.h"

namespace nasforge::supernet {

// What one forward pass needs to know: the space and the sampled architecture.
struct PathContext {
  const SearchSpace& space;
  const Architecture& arch;
  int64_t value(const IntParam& p) const { return space.value(arch, p); }
};

// The largest value a parameter can take.
int64_t max_value(const SearchSpace& space, const IntParam& p);

// A layer of an extracted network: plain LibTorch modules, no choices.
class StaticLayer : public torch::nn::Module {
 public:
  // x: this layer's input; older: the previous layer's input (read by two-input cells).
  virtual at::Tensor run(const at::Tensor& x, const at::Tensor& older) = 0;
  // Emits this layer's ops (eval semantics); returns its output's id.
  virtual int lower(GraphBuilder&, int x, int older) const {
    (void)x;
    (void)older;
    GraphBuilder::unsupported(name());
  }
};

// Channel counts flowing into a layer on one path.
struct Widths {
  int64_t cur = 0;    // this layer's input
  int64_t older = 0;  // the previous layer's input
};

struct Extracted {
  std::shared_ptr<StaticLayer> layer;
  int64_t out = 0;  // output channels (features for tokens)
};

// A layer of the supernet.
class LayerModule : public torch::nn::Module {
 public:
  virtual at::Tensor run(const at::Tensor& x, const at::Tensor& older, const PathContext& ctx) = 0;
  // The relaxed forward: every candidate runs and outputs mix by the context's weights, with
  // widths as channel masks (internal/relaxed.h). One-hot weights reproduce run().
  virtual Flow run_relaxed(const Flow& x, const Flow& older, const RelaxedContext& r) = 0;
  // A standalone copy of this layer's active path, with the weights copied.
  virtual Extracted extract(const PathContext& ctx, Widths in) const = 0;
};

// Runs static layers one after another (the active blocks of a stage, say) as one layer.
class StaticSequence : public StaticLayer {
 public:
  explicit StaticSequence(std::vector<std::shared_ptr<StaticLayer>> layers);
  at::Tensor run(const at::Tensor& x, const at::Tensor& older) override;
  int lower(GraphBuilder& g, int x, int older) const override;

 private:
  std::vector<std::shared_ptr<StaticLayer>> layers_;
};

// Plain modules holding copies of elastic weights (the slices that are active).
torch::nn::Conv2d copy_conv(const ElasticConv2dImpl& conv, int64_t in, int64_t out, int64_t kernel);
torch::nn::BatchNorm2d copy_bn(const ElasticBatchNorm2dImpl& bn, int64_t channels);
torch::nn::Linear copy_linear(const ElasticLinearImpl& linear, int64_t in, int64_t out);
torch::nn::LayerNorm copy_layer_norm(const ElasticLayerNormImpl& norm, int64_t features);

// Blocks (conv, mbconv, resblock), used alone and inside stages.
class BlockModule : public torch::nn::Module {
 public:
  virtual at::Tensor run(const at::Tensor& x, const PathContext& ctx) = 0;
  virtual Flow run_relaxed(const Flow& x, const RelaxedContext& r) = 0;
  virtual Extracted extract(const PathContext& ctx, int64_t in) const = 0;
};
std::shared_ptr<BlockModule> make_block(const SearchSpace& space, const Block& block,
                                        int64_t max_in, const SupernetOptions& options);
// ShuffleNetV2 and Xception units (shuffle.cpp).
std::shared_ptr<BlockModule> make_shuffle_block(const SearchSpace& space, const ShuffleBlock& spec,
                                                int64_t max_in, const SupernetOptions& options);
// A layer choice's module (choice.cpp): one module per alternative.
std::shared_ptr<BlockModule> make_choice_block(const SearchSpace& space, const ChoiceBlock& spec,
                                               int64_t max_in, const SupernetOptions& options);

// Builds the module of one layer of the space's template.
std::shared_ptr<LayerModule> make_layer(const SearchSpace& space, const Layer& layer,
                                        const Shape& older, const SupernetOptions& options);

// Standalone modules for single units (zero weights; the caller draws them): one cell edge's
// op or a cell's preprocessing (cells.cpp), one encoder layer or the final norm
// (transformer.cpp).
std::shared_ptr<StaticLayer> make_cell_unit(const Unit& u);
std::shared_ptr<StaticLayer> make_transformer_unit(const Unit& u);

}  // namespace nasforge::supernet
