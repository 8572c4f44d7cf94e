// SearchSpace: description, size, validation, sampling and neighbourhoods, encodings.
#include "nasforge/searchspace/search_space.h"

#include "nasforge/searchspace/hash.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace nasforge {

const char* domain_type_name(DomainType t) {
  switch (t) {
    case DomainType::kInt:
      return "int";
    case DomainType::kKernel:
      return "kernel";
    case DomainType::kChannels:
      return "channels";
    case DomainType::kExpand:
      return "expand";
    case DomainType::kDepth:
      return "depth";
    case DomainType::kLayers:
      return "layers";
    case DomainType::kHeads:
      return "heads";
    case DomainType::kBool:
      return "bool";
    case DomainType::kOp:
      return "op";
    case DomainType::kInputs:
      return "inputs";
    case DomainType::kChoice:
      return "choice";
  }
  return "?";
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::kRelu:
      return "relu";
    case Activation::kRelu6:
      return "relu6";
    case Activation::kHswish:
      return "hswish";
    case Activation::kSwish:
      return "swish";
    case Activation::kGelu:
      return "gelu";
    case Activation::kNone:
      return "none";
  }
  return "?";
}

std::string Shape::str() const {
  std::string c;
  if (channels.size() == 1) {
    c = std::to_string(channels[0]);
  } else {
    c = "{";
    for (size_t i = 0; i < channels.size(); ++i) c += (i ? "," : "") + std::to_string(channels[i]);
    c += "}";
  }
  if (tokens) return std::to_string(height) + " tokens x " + c;
  return c + "x" + std::to_string(height) + "x" + std::to_string(width);
}

std::string Domain::value_str(size_t i) const {
  if (type == DomainType::kBool) return ints[i] ? "true" : "false";
  return numeric() ? std::to_string(ints[i]) : names[i];
}

std::string Domain::str() const {
  std::string s = "{";
  for (size_t i = 0; i < size(); ++i) s += (i ? ", " : "") + value_str(i);
  return s + "}";
}

int SearchSpace::find_decision(const std::string& label) const {
  for (size_t i = 0; i < decisions_.size(); ++i)
    if (decisions_[i].label == label) return static_cast<int>(i);
  return -1;
}

std::string SearchSpace::fingerprint() const {
  uint64_t h = kFnvOffset;
  auto mix = [&](const std::string& s) { h = fnv1a64(s + '\x1f', h); };
  mix(std::to_string(input_.channels) + "x" + std::to_string(input_.height) + "x" +
      std::to_string(input_.width) + "/" + std::to_string(classes_));
  for (const auto& d : decisions_) {
    mix(d.label + "=" + d.domain.str());
    if (d.gate) mix(std::to_string(d.gate->decision) + ">=" + std::to_string(d.gate->min_value));
  }
  for (const auto& l : layers_) mix(l.name + ":" + l.in.str() + "->" + l.out.str());
  return hex64(h);
}

std::string SearchSpace::summary() const {
  std::ostringstream os;
  os << "space: " << name_ << " (" << file_ << ")\n";
  os << "input: " << input_.channels << "x" << input_.height << "x" << input_.width
     << ", classes: " << classes_ << "\n";
  os << "layers: " << layers_.size() << " (";
  std::map<std::string, int> kinds;
  std::vector<std::string> order;
  for (const auto& l : layers_) {
    std::string k = l.name;
    while (!k.empty() && std::isdigit(static_cast<unsigned char>(k.back()))) k.pop_back();
    if (!kinds[k]++) order.push_back(k);
  }
  for (size_t i = 0; i < order.size(); ++i)
    os << (i ? ", " : "") << order[i]
       << (kinds[order[i]] > 1 ? " x" + std::to_string(kinds[order[i]]) : "");
  os << ")\n";
  os << "decisions: " << decisions_.size() << "\n";
  const size_t kShown = 64;
  for (size_t i = 0; i < decisions_.size() && i < kShown; ++i) {
    const auto& d = decisions_[i];
    os << "  " << d.label << "  " << domain_type_name(d.domain.type) << " " << d.domain.str();
    if (d.gate && d.gate->equals >= 0)
      os << "  if " << decisions_[d.gate->decision].label << " = "
         << decisions_[d.gate->decision].domain.value_str(d.gate->equals);
    else if (d.gate)
      os << "  if " << decisions_[d.gate->decision].label << " >= " << d.gate->min_value;
    os << "\n";
  }
  if (decisions_.size() > kShown) os << "  ... and " << decisions_.size() - kShown << " more\n";
  for (const auto& c : constraints_) os << "constraint: " << c.str() << "\n";
  if (!objectives_.empty()) {
    os << "objectives: ";
    for (size_t i = 0; i < objectives_.size(); ++i) os << (i ? ", " : "") << objectives_[i].str();
    os << "\n";
  }
  BigUint n = size();
  char lg[32];
  std::snprintf(lg, sizeof lg, "%.2f", n.log10());
  os << "size: " << group_thousands(n.str()) << " architectures (10^" << lg << ")\n";
  return os.str();
}

std::vector<std::vector<int>> SearchSpace::gated_children() const {
  std::vector<std::vector<int>> children(decisions_.size());
  for (size_t i = 0; i < decisions_.size(); ++i)
    if (decisions_[i].gate) children[decisions_[i].gate->decision].push_back(static_cast<int>(i));
  return children;
}

namespace {

// Whether value index v of decision `gd` satisfies gate g.
bool admits(const Gate& g, const Decision& gd, uint32_t v) {
  if (g.equals >= 0) return static_cast<int>(v) == g.equals;
  return gd.domain.ints[v] >= g.min_value;
}

}  // namespace

BigUint SearchSpace::size() const {
  // Bottom-up over the gate forest: a decision with gated children counts, per value, the
  // product of the completions of the children that value admits. Children follow parents.
  const auto children = gated_children();
  std::vector<BigUint> count(decisions_.size(), BigUint(0));
  for (size_t i = decisions_.size(); i-- > 0;) {
    const Decision& d = decisions_[i];
    if (children[i].empty()) {
      count[i] = BigUint(d.domain.size());
      continue;
    }
    BigUint sum(0);
    for (uint32_t v = 0; v < d.domain.size(); ++v) {
      BigUint term(1);
      for (int c : children[i])
        if (admits(*decisions_[c].gate, d, v)) term *= count[c];
      sum += term;
    }
    count[i] = sum;
  }
  BigUint total(1);
  for (size_t i = 0; i < decisions_.size(); ++i)
    if (!decisions_[i].gate) total *= count[i];
  return total;
}

std::vector<double> SearchSpace::log_completions(int d,
                                                 const std::vector<std::vector<int>>& children,
                                                 std::vector<std::vector<double>>& memo) const {
  if (!memo[d].empty()) return memo[d];
  const Decision& dec = decisions_[d];
  std::vector<double> out(dec.domain.size(), 0.0);
  for (uint32_t v = 0; v < dec.domain.size(); ++v)
    for (int c : children[d]) {
      if (!admits(*decisions_[c].gate, dec, v)) continue;
      // log of the child's own completions: log-sum-exp over its values
      const auto lc = log_completions(c, children, memo);
      const double mx = *std::max_element(lc.begin(), lc.end());
      double total = 0;
      for (double x : lc) total += std::exp(x - mx);
      out[v] += mx + std::log(total);
    }
  memo[d] = out;
  return out;
}

bool SearchSpace::gate_admits(const Architecture& a, int d) const {
  const auto& g = decisions_[d].gate;
  return !g || admits(*g, decisions_[g->decision], a[g->decision]);
}

bool SearchSpace::is_active(const Architecture& a, int decision) const {
  for (int d = decision; decisions_[d].gate; d = decisions_[d].gate->decision)
    if (!gate_admits(a, d)) return false;
  return true;
}

int64_t SearchSpace::int_value(const Architecture& a, int decision) const {
  return decisions_[decision].domain.ints[a[decision]];
}

const std::string& SearchSpace::name_value(const Architecture& a, int decision) const {
  return decisions_[decision].domain.names[a[decision]];
}

Status SearchSpace::validate(const Architecture& a) const {
  if (a.size() != decisions_.size())
    return InvalidArgument("expected " + std::to_string(decisions_.size()) + " decisions, got " +
                           std::to_string(a.size()));
  for (size_t i = 0; i < decisions_.size(); ++i) {
    if (a[i] >= decisions_[i].domain.size())
      return InvalidArgument(decisions_[i].label + ": expected a choice index below " +
                             std::to_string(decisions_[i].domain.size()) + ", got " +
                             std::to_string(a[i]));
    if (!is_active(a, static_cast<int>(i)) && a[i] != 0)
      return InvalidArgument(decisions_[i].label + ": expected 0 for an inactive decision, got " +
                             std::to_string(a[i]));
  }
  return Status::Ok();
}

void SearchSpace::normalize(Architecture& a) const {
  for (size_t i = 0; i < decisions_.size(); ++i)
    if (!is_active(a, static_cast<int>(i))) a[i] = 0;
}

Architecture SearchSpace::sample(Rng& rng, SampleMode mode) const {
  Architecture a(std::vector<uint32_t>(decisions_.size(), 0));
  const auto children = gated_children();
  std::vector<std::vector<double>> memo(decisions_.size());
  // A decision that gates others picks each value in proportion to its completions, so that
  // every architecture is equally likely; the rest are uniform.
  auto pick = [&](int i) {
    const Decision& d = decisions_[i];
    if (children[i].empty() || mode == SampleMode::kUniformDecision) {
      a[i] = static_cast<uint32_t>(rng.uniform(d.domain.size()));
      return;
    }
    std::vector<double> logw = log_completions(i, children, memo);
    double mx = *std::max_element(logw.begin(), logw.end()), total = 0;
    for (double& w : logw) total += (w = std::exp(w - mx));
    double r = rng.uniform01() * total;
    size_t v = 0;
    while (v + 1 < logw.size() && r >= logw[v]) r -= logw[v++];
    a[i] = static_cast<uint32_t>(v);
  };
  // Ungated decisions first, then the gated ones in order (each after its gate).
  for (size_t i = 0; i < decisions_.size(); ++i)
    if (!decisions_[i].gate) pick(static_cast<int>(i));
  for (size_t i = 0; i < decisions_.size(); ++i)
    if (decisions_[i].gate && is_active(a, static_cast<int>(i))) pick(static_cast<int>(i));
  return a;
}

Architecture SearchSpace::mutate(const Architecture& a, Rng& rng) const {
  std::vector<int> candidates;
  for (size_t i = 0; i < decisions_.size(); ++i)
    if (decisions_[i].domain.size() > 1 && is_active(a, static_cast<int>(i)))
      candidates.push_back(static_cast<int>(i));
  Architecture child = a;
  if (candidates.empty()) return child;
  int d = candidates[rng.uniform(candidates.size())];
  uint32_t n = static_cast<uint32_t>(decisions_[d].domain.size());
  uint32_t v = static_cast<uint32_t>(rng.uniform(n - 1));
  child[d] = v >= a[d] ? v + 1 : v;
  // Decisions that the new value activates (directly, or through a choice it activates) get
  // fresh uniform values; gates precede what they gate, so one pass in order reaches them all.
  for (size_t i = static_cast<size_t>(d) + 1; i < decisions_.size(); ++i)
    if (decisions_[i].gate && is_active(child, static_cast<int>(i)) &&
        !is_active(a, static_cast<int>(i)))
      child[i] = static_cast<uint32_t>(rng.uniform(decisions_[i].domain.size()));
  normalize(child);
  return child;
}

Architecture SearchSpace::crossover(const Architecture& a, const Architecture& b, Rng& rng) const {
  Architecture child(std::vector<uint32_t>(decisions_.size(), 0));
  // Gates precede the decisions they gate, so activity is known when a decision is reached.
  for (size_t i = 0; i < decisions_.size(); ++i) {
    int d = static_cast<int>(i);
    if (!is_active(child, d)) continue;
    bool in_a = is_active(a, d), in_b = is_active(b, d);
    if (in_a && in_b) {
      child[i] = rng.uniform(2) ? b[i] : a[i];
    } else if (in_a || in_b) {
      child[i] = in_a ? a[i] : b[i];
    } else {
      child[i] = static_cast<uint32_t>(rng.uniform(decisions_[i].domain.size()));
    }
  }
  return child;
}

std::vector<Architecture> SearchSpace::neighbours(const Architecture& a) const {
  std::vector<Architecture> out;
  for (size_t i = 0; i < decisions_.size(); ++i) {
    int d = static_cast<int>(i);
    if (!is_active(a, d)) continue;
    for (uint32_t v = 0; v < decisions_[i].domain.size(); ++v) {
      if (v == a[i]) continue;
      Architecture n = a;
      n[i] = v;
      // Blocks activated by a deeper depth copy the previous block of their section.
      NF_CHECK(decisions_[i].section >= 0, "the checker puts every decision in a section");
      const Section& sec = sections_[decisions_[i].section];
      for (size_t gi = 1; gi < sec.groups.size(); ++gi) {
        const auto& group = sec.groups[gi];
        const auto& g = decisions_[group[0]].gate;
        if (!g || g->equals >= 0 || g->decision != d || is_active(a, group[0]) ||
            !is_active(n, group[0]))
          continue;
        const auto& prev = sec.groups[gi - 1];
        for (size_t t = 0; t < group.size() && t < prev.size(); ++t)
          n[group[t]] = n[prev[t]] < decisions_[group[t]].domain.size() ? n[prev[t]] : 0;
      }
      normalize(n);
      out.push_back(std::move(n));
    }
  }
  return out;
}

void SearchSpace::for_each(const std::function<bool(const Architecture&)>& f) const {
  Architecture a(std::vector<uint32_t>(decisions_.size(), 0));
  const int n = static_cast<int>(decisions_.size());
  // Iterative odometer over active decisions, last decision fastest.
  std::function<bool(int)> rec = [&](int i) -> bool {
    if (i == n) return f(a);
    if (!is_active(a, i)) {
      a[i] = 0;
      return rec(i + 1);
    }
    for (uint32_t v = 0; v < decisions_[i].domain.size(); ++v) {
      a[i] = v;
      if (!rec(i + 1)) return false;
    }
    a[i] = 0;
    return true;
  };
  rec(0);
}

StatusOr<std::vector<Architecture>> SearchSpace::enumerate(uint64_t limit) const {
  BigUint n = size();
  if (BigUint(limit) < n)
    return FailedPrecondition("the space has " + group_thousands(n.str()) +
                              " architectures, more than the enumeration limit of " +
                              group_thousands(std::to_string(limit)));
  std::vector<Architecture> out;
  for_each([&](const Architecture& a) {
    out.push_back(a);
    return true;
  });
  return out;
}

size_t SearchSpace::onehot_size() const {
  size_t n = 0;
  for (const auto& d : decisions_) n += d.domain.size();
  return n;
}

std::vector<float> SearchSpace::encode_onehot(const Architecture& a) const {
  std::vector<float> v(onehot_size(), 0.0f);
  size_t off = 0;
  for (size_t i = 0; i < decisions_.size(); ++i) {
    if (is_active(a, static_cast<int>(i))) v[off + a[i]] = 1.0f;
    off += decisions_[i].domain.size();
  }
  return v;
}

std::vector<float> SearchSpace::encode_ordinal(const Architecture& a) const {
  std::vector<float> v(decisions_.size(), -1.0f);
  for (size_t i = 0; i < decisions_.size(); ++i) {
    if (!is_active(a, static_cast<int>(i))) continue;
    size_t n = decisions_[i].domain.size();
    v[i] = n > 1 ? static_cast<float>(a[i]) / static_cast<float>(n - 1) : 0.0f;
  }
  return v;
}

}  // namespace nasforge
