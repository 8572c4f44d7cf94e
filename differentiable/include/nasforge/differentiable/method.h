// The differentiable strategies (the DARTS family): their names, papers and knobs.
//
//   darts       Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search", ICLR 2019
//   gdas        Dong & Yang, "Searching for a Robust Neural Architecture in Four GPU Hours",
//               CVPR 2019
//   sharpdarts  Hundt, Jain & Hager, "sharpDARTS: Faster and More Accurate Differentiable
//               Architecture Search", 2019
//   gold        Bi et al., "GOLD-NAS: Gradual, One-Level, Differentiable", 2020
//   hardcore    Nayman et al., "HardCoRe-NAS: Hard Constrained diffeRentiable Neural
//               Architecture Search", ICML 2021
//   proxyless   Cai, Zhu & Han, "ProxylessNAS", ICLR 2019, and Wu et al., "FBNet", CVPR 2019:
//               the expected latency as a loss term
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nasforge/searchspace/status.h"

namespace nasforge::differentiable {

enum class Method { kDarts, kGdas, kSharpDarts, kGold, kHardCore, kProxyless };

struct MethodKnob {
  std::string name, default_value, help;
};

struct MethodInfo {
  Method method;
  std::string name, summary, paper;
  std::vector<MethodKnob> knobs;  // besides the knobs every method has (common_knobs())
};

const std::vector<MethodInfo>& method_infos();
const std::vector<MethodKnob>& common_knobs();
const MethodInfo& info_of(Method m);
std::optional<Method> parse_method(const std::string& name);

// A method's knobs with their defaults filled in; unknown knobs and values that do not parse
// are errors naming the knob.
class MethodKnobs {
 public:
  static StatusOr<MethodKnobs> make(Method m, const std::map<std::string, std::string>& given);
  double number(const std::string& name) const;
  const std::string& text(const std::string& name) const;
  // Every knob and its value, sorted: the configuration a resumed run must match.
  std::string str() const;

 private:
  std::map<std::string, std::string> values_;
};

// sharpDARTS's Cosine Power Annealing: from `from` at t = 0 to `to` at t = 1, falling as
// (p^((1 + cos(pi t)) / 2) - 1) / (p - 1) does (p -> 1 is plain cosine annealing).
double cosine_power(double from, double to, double t, double power);

}  // namespace nasforge::differentiable
