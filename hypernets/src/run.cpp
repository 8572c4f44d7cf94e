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

}  // namespace nasforge::hypernets
