// The training config file: YAML with typed, located diagnostics like the space DSL's.
#include <cmath>
#include <sstream>

#include "nasforge/searchspace/metrics.h"
#include "nasforge/searchspace/yaml_ast.h"
#include "nasforge/supernet/train.h"

namespace nasforge::supernet {

namespace {

// Reads one mapping's keys into typed fields, reporting unknown keys and bad values.
class ConfigReader {
 public:
  ConfigReader(Diagnostics& d) : d_(d) {}

  bool keys(const AstNode& map, const std::string& path, const std::vector<std::string>& allowed) {
    if (!map.is_mapping()) {
      d_.error(map.loc, path, "expected a mapping, got " + map.describe());
      return false;
    }
    bool ok = true;
    for (const auto& [k, v] : map.entries) {
      if (std::find(allowed.begin(), allowed.end(), k.scalar) != allowed.end()) continue;
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      std::string msg = "expected one of " + list + ", got unknown key '" + k.scalar + "'";
      std::string near = closest_match(k.scalar, allowed);
      if (!near.empty()) msg += " (did you mean '" + near + "'?)";
      d_.error(k.loc, path.empty() ? k.scalar : path + "." + k.scalar, msg);
      ok = false;
    }
    return ok;
  }

  void number(const AstNode& map, const char* key, const std::string& path, double lo, double hi,
              bool hi_open, double& out) {
    const AstNode* n = map.find(key);
    if (!n) return;
    const std::string p = path.empty() ? key : path + "." + key;
    std::ostringstream range;
    range << "a number in [" << lo << ", " << hi << (hi_open ? ")" : "]");
    auto v = n->is_scalar() && !n->quoted ? parse_number(n->scalar) : std::nullopt;
    if (!v || *v < lo || *v > hi || (hi_open && *v == hi)) {
      d_.error(n->loc, p, "expected " + range.str() + ", got " + n->describe());
      return;
    }
    out = *v;
  }

  template <typename Int>
  void integer(const AstNode& map, const char* key, const std::string& path, int64_t lo, int64_t hi,
               Int& out) {
    double v = static_cast<double>(out);
    const AstNode* n = map.find(key);
    if (!n) return;
    const std::string p = path.empty() ? key : path + "." + key;
    auto x = n->is_scalar() && !n->quoted ? parse_number(n->scalar) : std::nullopt;
    if (!x || std::floor(*x) != *x || *x < lo || *x > hi) {
      d_.error(n->loc, p,
               "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                   "], got " + n->describe());
      return;
    }
    v = *x;
    out = static_cast<Int>(v);
  }

  void boolean(const AstNode& map, const char* key, const std::string& path, bool& out) {
    const AstNode* n = map.find(key);
    if (!n) return;
    if (n->is_scalar() && (n->scalar == "true" || n->scalar == "false")) {
      out = n->scalar == "true";
      return;
    }
    d_.error(n->loc, path.empty() ? key : path + "." + key,
             "expected true or false, got " + n->describe());
  }

  // One of `options`; returns its index or -1 (absent: -2).
  int choice(const AstNode& map, const char* key, const std::string& path,
             const std::vector<std::string>& options) {
    const AstNode* n = map.find(key);
    if (!n) return -2;
    for (size_t i = 0; i < options.size(); ++i)
      if (n->is_scalar() && n->scalar == options[i]) return static_cast<int>(i);
    std::string list;
    for (const auto& o : options) list += (list.empty() ? "" : ", ") + o;
    std::string msg = "expected one of " + list + ", got " + n->describe();
    if (n->is_scalar()) {
      std::string near = closest_match(n->scalar, options);
      if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    }
    d_.error(n->loc, path.empty() ? key : path + "." + key, msg);
    return -1;
  }

 private:
  Diagnostics& d_;
};

const std::vector<std::string> kUnlocks = {"none", "kernel", "depth", "expand", "all"};

}  // namespace

namespace {

std::optional<TrainConfig> check_train_config(const std::optional<AstNode>& root, Diagnostics& d) {
  if (!root) return std::nullopt;
  TrainConfig c;
  if (root->is_null()) return c;  // an empty file keeps every default
  ConfigReader r(d);
  if (!r.keys(*root, "",
              {"policy", "sandwich_random", "inplace_distillation", "progressive_shrinking",
               "optimizer", "warmup_epochs", "epochs", "label_smoothing", "grad_clip", "batch_size",
               "augment", "bn_recalibration_batches", "seed"}))
    return std::nullopt;
  int policy = r.choice(*root, "policy", "", {"uniform", "sandwich"});
  if (policy >= 0) c.policy = policy == 1 ? PathPolicy::kSandwich : PathPolicy::kUniform;
  r.integer(*root, "sandwich_random", "", 0, 64, c.sandwich_random);
  r.boolean(*root, "inplace_distillation", "", c.inplace_distillation);
  if (const AstNode* ps = root->find("progressive_shrinking")) {
    if (!ps->is_sequence()) {
      d.error(ps->loc, "progressive_shrinking",
              "expected a sequence of {unlock, epochs} phases, got " + ps->describe());
    } else {
      for (size_t i = 0; i < ps->items.size(); ++i) {
        const std::string p = "progressive_shrinking[" + std::to_string(i) + "]";
        const AstNode& item = ps->items[i];
        if (!r.keys(item, p, {"unlock", "epochs"})) continue;
        ShrinkPhase phase;
        int u = r.choice(item, "unlock", p, kUnlocks);
        if (u >= 0) phase.unlock = static_cast<Unlock>(u);
        r.integer(item, "epochs", p, 1, 100000, phase.epochs);
        c.shrinking.push_back(phase);
      }
    }
  }
  if (const AstNode* o = root->find("optimizer")) {
    if (r.keys(*o, "optimizer", {"type", "lr", "momentum", "weight_decay", "nesterov"})) {
      int type = r.choice(*o, "type", "optimizer", {"sgd", "adam"});
      if (type >= 0) c.optimizer = type == 1 ? OptimizerKind::kAdam : OptimizerKind::kSgd;
      r.number(*o, "lr", "optimizer", 0, 10, false, c.lr);
      r.number(*o, "momentum", "optimizer", 0, 1, true, c.momentum);
      r.number(*o, "weight_decay", "optimizer", 0, 1, false, c.weight_decay);
      r.boolean(*o, "nesterov", "optimizer", c.nesterov);
    }
  }
  r.number(*root, "warmup_epochs", "", 0, 1000, false, c.warmup_epochs);
  r.integer(*root, "epochs", "", 1, 100000, c.epochs);
  r.number(*root, "label_smoothing", "", 0, 1, true, c.label_smoothing);
  r.number(*root, "grad_clip", "", 0, 1e6, false, c.grad_clip);
  r.integer(*root, "batch_size", "", 1, 65536, c.batch_size);
  if (const AstNode* a = root->find("augment")) {
    if (r.keys(*a, "augment", {"pad_crop", "hflip"})) {
      r.integer(*a, "pad_crop", "augment", 0, 16, c.augment.pad_crop);
      r.boolean(*a, "hflip", "augment", c.augment.hflip);
    }
  }
  r.integer(*root, "bn_recalibration_batches", "", 0, 100000, c.bn_recalibration_batches);
  r.integer(*root, "seed", "", 0, int64_t{1} << 53, c.seed);
  if (c.inplace_distillation && c.policy != PathPolicy::kSandwich) {
    const AstNode* n = root->find_key("inplace_distillation");
    d.error(n->loc, "inplace_distillation",
            "expected policy: sandwich, whose largest path is the teacher, got policy: uniform");
  }
  if (!d.ok()) return std::nullopt;
  return c;
}

}  // namespace

std::optional<TrainConfig> parse_train_config(const std::string& text, const std::string& file,
                                              Diagnostics& d) {
  return check_train_config(parse_yaml(text, file, d), d);
}

std::optional<TrainConfig> load_train_config(const std::string& path, Diagnostics& d) {
  return check_train_config(load_yaml_file(path, d), d);
}

std::string TrainConfig::str() const {
  std::ostringstream os;
  os << "policy: " << (policy == PathPolicy::kSandwich ? "sandwich" : "uniform") << "\n"
     << "sandwich_random: " << sandwich_random << "\n"
     << "inplace_distillation: " << (inplace_distillation ? "true" : "false") << "\n";
  if (!shrinking.empty()) {
    os << "progressive_shrinking:\n";
    for (const auto& p : shrinking)
      os << "  - {unlock: " << kUnlocks[static_cast<int>(p.unlock)] << ", epochs: " << p.epochs
         << "}\n";
  }
  os << "optimizer: {type: " << (optimizer == OptimizerKind::kAdam ? "adam" : "sgd")
     << ", lr: " << lr << ", momentum: " << momentum << ", weight_decay: " << weight_decay
     << ", nesterov: " << (nesterov ? "true" : "false") << "}\n"
     << "warmup_epochs: " << warmup_epochs << "\n"
     << "epochs: " << epochs << "\n"
     << "label_smoothing: " << label_smoothing << "\n"
     << "grad_clip: " << grad_clip << "\n"
     << "batch_size: " << batch_size << "\n"
     << "augment: {pad_crop: " << augment.pad_crop
     << ", hflip: " << (augment.hflip ? "true" : "false") << "}\n"
     << "bn_recalibration_batches: " << bn_recalibration_batches << "\n"
     << "seed: " << seed << "\n";
  return os.str();
}

}  // namespace nasforge::supernet
