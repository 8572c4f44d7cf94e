#include "nasforge/supernet/run.h"

#include <filesystem>

#include "nasforge/searchspace/dsl.h"
#include "nasforge/searchspace/yaml_ast.h"

namespace nasforge::supernet {

namespace fs = std::filesystem;

StatusOr<RunFolder> load_run(const std::string& path, const std::string& checkpoint,
                             const std::string& command) {
  const fs::path dir = path;
  for (const std::string& f :
       {std::string("space.yaml"), std::string("train.yaml"), std::string("run.yaml"), checkpoint})
    if (!fs::exists(dir / f))
      return NotFound(dir.string() + ": expected a run folder of " + command + " with " + f +
                      ", got none");
  RunFolder run;
  run.dir = path;
  Diagnostics d;
  auto space = load_space((dir / "space.yaml").string(), d);
  if (!space) return InvalidArgument(d.str() + (dir / "space.yaml").string() + " does not check");
  run.space = std::make_shared<const SearchSpace>(std::move(*space));
  auto config = load_train_config((dir / "train.yaml").string(), d);
  if (!config) return InvalidArgument(d.str());
  run.config = *config;
  auto meta = load_yaml_file((dir / "run.yaml").string(), d);
  const AstNode* data = meta ? meta->find("data") : nullptr;
  const AstNode* valid = meta ? meta->find("valid_size") : nullptr;
  if (!data || !valid)
    return InvalidArgument((dir / "run.yaml").string() + ": expected keys data and valid_size");
  auto size = parse_number(valid->scalar);
  if (!size || *size < 0)
    return InvalidArgument((dir / "run.yaml").string() +
                           ": valid_size: expected an integer, got '" + valid->scalar + "'");
  run.data = data->scalar;
  run.valid_size = static_cast<int64_t>(*size);
  return run;
}

StatusOr<data::Splits> load_data_for(const std::string& spec, const SearchSpace& space,
                                     uint64_t seed, int64_t valid_size) {
  data::SyntheticOptions synth;
  synth.channels = space.input().channels;
  synth.height = space.input().height;
  synth.width = space.input().width;
  synth.classes = space.classes();
  synth.train = 2048;
  synth.valid = 512;
  synth.test = 512;
  // SPEC+pad: pad (and repeat a single channel) to the space's input.
  const std::string suffix = "+pad";
  const bool pad = spec.size() > suffix.size() &&
                   spec.compare(spec.size() - suffix.size(), suffix.size(), suffix) == 0;
  const std::string base = pad ? spec.substr(0, spec.size() - suffix.size()) : spec;
  auto d =
      data::load_dataset(base, {base.rfind("synthetic", 0) == 0 ? 0 : valid_size, seed}, synth);
  if (!d.ok()) return d.status();
  const auto& in = space.input();
  if (pad)
    if (Status st = data::fit_images(*d, in.channels, in.height, in.width); !st.ok()) return st;
  const auto& x = d->train.images;
  if (x.size(1) != in.channels || x.size(2) != in.height || x.size(3) != in.width)
    return InvalidArgument("space '" + space.name() + "' expects " + std::to_string(in.channels) +
                           "x" + std::to_string(in.height) + "x" + std::to_string(in.width) +
                           " inputs, but " + spec + " has " + std::to_string(x.size(1)) + "x" +
                           std::to_string(x.size(2)) + "x" + std::to_string(x.size(3)) +
                           (pad ? "" : " (add +pad to pad smaller images, e.g. " + spec + "+pad)"));
  return d;
}

}  // namespace nasforge::supernet
