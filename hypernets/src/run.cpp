#include "nasforge/hypernets/run.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace nasforge::hypernets {

std::string ghn_yaml(const GhnOptions& o, int64_t archs_per_step) {
  return o.str() + "archs_per_step: " + std::to_string(archs_per_step) + "\n";
}

StatusOr<GhnRun> load_ghn_run(const std::string& dir) {
  const std::string file = dir + "/ghn.yaml";
  if (!std::filesystem::exists(file))
    return NotFound(dir + ": expected a train-ghn run folder, but it has no ghn.yaml");
  auto run = supernet::load_run(dir, "ghn.pt", "train-ghn");
  if (!run.ok()) return run.status();
  std::ifstream in(file);
  std::map<std::string, std::string> kv;
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty()) continue;
    const size_t colon = line.find(": ");
    if (colon == std::string::npos)
      return InvalidArgument(file + ":" + std::to_string(line_no) + ": expected 'key: value'");
    kv[line.substr(0, colon)] = line.substr(colon + 2);
  }
  GhnRun r;
  r.run = *run;
  auto number = [&](const std::string& key, int64_t& out) -> Status {
    auto it = kv.find(key);
    if (it == kv.end()) return InvalidArgument(file + ": expected the key '" + key + "'");
    try {
      size_t used = 0;
      out = std::stoll(it->second, &used);
      if (used != it->second.size() || out < 0) throw std::invalid_argument("");
    } catch (const std::exception&) {
      return InvalidArgument(file + ": " + key + ": expected a non-negative integer, got '" +
                             it->second + "'");
    }
    return Status::Ok();
  };
  auto kind = parse_ghn_kind(kv.count("kind") ? kv["kind"] : "");
  if (!kind)
    return InvalidArgument(file + ": kind: expected ghn1 or ghn2, got '" + kv["kind"] + "'");
  r.options.kind = *kind;
  int64_t s_max = 0;
  for (auto [key, out] : std::initializer_list<std::pair<const char*, int64_t*>>{
           {"hidden", &r.options.hidden},
           {"rounds", &r.options.rounds},
           {"rank", &r.options.rank},
           {"max_out", &r.options.max_out},
           {"max_in", &r.options.max_in},
           {"s_max", &s_max},
           {"archs_per_step", &r.archs_per_step},
           {"encoding", &r.options.encoding}})
    if (Status st = number(key, *out); !st.ok()) return st;
  r.options.s_max = static_cast<int>(s_max);
  return r;
}

namespace {

std::string without_pad(const std::string& spec) {
  const std::string pad = "+pad";
  return spec.size() > pad.size() && spec.compare(spec.size() - pad.size(), pad.size(), pad) == 0
             ? spec.substr(0, spec.size() - pad.size())
             : spec;
}

}  // namespace

StatusOr<std::unique_ptr<LoadedGhn>> open_ghn(const std::string& dir,
                                              std::shared_ptr<const SearchSpace> space,
                                              const std::string& other_data) {
  auto run = load_ghn_run(dir);
  if (!run.ok()) return run.status();
  auto g = std::make_unique<LoadedGhn>();
  g->run = *run;
  g->space = std::move(space);
  g->transfer = g->space->fingerprint() != run->run.space->fingerprint();
  const std::string spec = g->transfer && !other_data.empty() ? other_data : run->run.data;
  if (without_pad(spec) != without_pad(run->run.data))
    return InvalidArgument(dir + ": the hypernetwork was trained on " + run->run.data +
                           ", so its weights are evaluated on that data (its validation split "
                           "is held out of training), not on " +
                           spec);
  auto data = supernet::load_data_for(spec, *g->space, run->run.config.seed, run->run.valid_size);
  if (!data.ok()) return data.status().WithContext(dir);
  g->data = std::move(*data);
  g->trainer = std::make_unique<GhnTrainer>(g->space, g->data, run->run.config, run->options,
                                            run->archs_per_step);
  if (Status st = g->trainer->load(run->checkpoint(), GhnTrainer::LoadScope::kWeights); !st.ok())
    return st;
  return g;
}

}  // namespace nasforge::hypernets
