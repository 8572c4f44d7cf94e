// The method registry and its knobs.
#include "nasforge/differentiable/method.h"

#include <cmath>
#include <sstream>

#include "nasforge/searchspace/diagnostics.h"

namespace nasforge::differentiable {

const std::vector<MethodKnob>& common_knobs() {
  static const std::vector<MethodKnob> knobs = {
      {"arch_lr", "0.0003", "Adam learning rate of the architecture logits (DARTS: 3e-4)"},
      {"arch_wd", "0.001", "weight decay of the architecture logits (DARTS: 1e-3)"},
      {"arch_warmup", "0", "epochs of weight training before the architecture moves"},
      {"init_std", "0.001", "standard deviation of the initial logits around 0 (DARTS: 1e-3)"},
      {"penalty", "1",
       "weight of the hinge penalty max(0, E[cost] / bound - 1) for a "
       "differentiable constraint (darts, gdas, sharpdarts)"},
      {"hessian_iters", "8",
       "power iterations for the Hessian's dominant eigenvalue each epoch "
       "(0: off)"},
      {"checkpoint_every", "25", "weight steps between mid-epoch checkpoints"},
  };
  return knobs;
}

const std::vector<MethodInfo>& method_infos() {
  static const std::vector<MethodInfo> infos = {
      {Method::kDarts,
       "darts",
       "bilevel: weights on the train split, softmax architecture logits on the validation "
       "split; first order or second order (finite-difference Hessian-vector product)",
       "Liu, Simonyan & Yang, DARTS: Differentiable Architecture Search, ICLR 2019",
       {{"order", "1", "1: first order; 2: the unrolled second-order gradient"},
        {"xi", "0", "virtual step of the second-order gradient (0: the weights' current lr)"}}},
      {Method::kGdas,
       "gdas",
       "Gumbel-softmax hard forward (one value per decision) with a straight-through gradient, "
       "tau annealed linearly",
       "Dong & Yang, Searching for a Robust Neural Architecture in Four GPU Hours, CVPR 2019",
       {{"tau_max", "10", "Gumbel-softmax temperature at the start"},
        {"tau_min", "0.1", "temperature at the end"}}},
      {Method::kSharpDarts,
       "sharpdarts",
       "DARTS with Max-W weighting (w = 1 - max p + p) and the softmax temperature under Cosine "
       "Power Annealing",
       "Hundt, Jain & Hager, sharpDARTS: Faster and More Accurate Differentiable Architecture "
       "Search, arXiv 1903.09900, 2019",
       {{"tau_max", "1", "temperature at the start"},
        {"tau_min", "0.2", "temperature at the end"},
        {"power", "10", "the annealing's power p"},
        {"max_w", "1", "1: Max-W weighting; 0: plain softmax"}}},
      {Method::kGold,
       "gold",
       "one level (weights and logits on the train split) with a resource penalty whose weight "
       "grows while too few values are pruned and shrinks while too many are; values whose "
       "probability falls below the threshold are pruned, and each round records the derived "
       "architecture when it moved: a series along the accuracy-resource front",
       "Bi, Xie, Chang, Zhang, Chen, Tian & Tian, GOLD-NAS: Gradual, One-Level, Differentiable, "
       "arXiv 2007.03331, 2020",
       {{"mu", "0.1", "initial weight of the resource penalty E[cost] / cost of the uniform start"},
        {"prune_every", "10", "weight steps between pruning rounds"},
        {"threshold", "0.5", "prune a value whose probability is below threshold / (values left)"},
        {"min_pruned", "1", "fewer values pruned in a round: mu grows by `pace`"},
        {"max_pruned", "3", "more values pruned in a round: mu shrinks by `pace`"},
        {"pace", "1.2", "factor by which mu moves"}}},
      {Method::kHardCore,
       "hardcore",
       "the architecture distribution itself is optimised by block-coordinate Frank-Wolfe steps "
       "inside {E[latency] <= bound}, with E[latency] exact from a lut predictor, so the bound "
       "holds at every step; the derived architecture is repaired to meet it",
       "Nayman, Aflalo, Noy, Jin & Zelnik-Manor, HardCoRe-NAS: Hard Constrained diffeRentiable "
       "Neural Architecture Search, ICML 2021",
       {{"fw_step", "0.1", "Frank-Wolfe step size towards each block's constrained minimiser"}}},
      {Method::kProxyless,
       "proxyless",
       "the expected cost as a loss term: lambda * E[cost] / E[cost at the start] (ProxylessNAS) "
       "or CE * alpha * log(1 + E[cost])^beta (FBNet), on softmax or Gumbel-softmax weights",
       "Cai, Zhu & Han, ProxylessNAS, ICLR 2019; Wu et al., FBNet, CVPR 2019",
       {{"form", "proxyless", "proxyless (additive) or fbnet (multiplicative)"},
        {"lambda", "0.1", "weight of the additive term"},
        {"alpha", "0.2", "FBNet's alpha"},
        {"beta", "0.6", "FBNet's beta"},
        {"gumbel", "0", "1: Gumbel-softmax weights (FBNet), tau annealed from 5 to 0.5"}}},
  };
  return infos;
}

const MethodInfo& info_of(Method m) {
  for (const auto& i : method_infos())
    if (i.method == m) return i;
  return method_infos().front();
}

std::optional<Method> parse_method(const std::string& name) {
  for (const auto& i : method_infos())
    if (i.name == name) return i.method;
  return std::nullopt;
}

StatusOr<MethodKnobs> MethodKnobs::make(Method m, const std::map<std::string, std::string>& given) {
  MethodKnobs k;
  std::vector<std::string> names;
  const auto& info = info_of(m);
  for (const auto* list : {&common_knobs(), &info.knobs})
    for (const auto& knob : *list) {
      k.values_[knob.name] = knob.default_value;
      names.push_back(knob.name);
    }
  for (const auto& [name, value] : given) {
    if (!k.values_.count(name)) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      const std::string near = closest_match(name, names);
      return InvalidArgument("strategy " + info.name + " has no knob '" + name + "'" +
                             (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                             "; its knobs are " + list);
    }
    k.values_[name] = value;
  }
  for (const auto& [name, value] : k.values_) {
    if (name == "form") {
      if (value != "proxyless" && value != "fbnet")
        return InvalidArgument("knob form: expected proxyless or fbnet, got '" + value + "'");
      continue;
    }
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !std::isfinite(v) || v < 0)
      return InvalidArgument("knob " + name + ": expected a non-negative number, got '" + value +
                             "'");
  }
  if (k.number("order") != 1 && k.number("order") != 2)
    return InvalidArgument("knob order: expected 1 or 2, got '" + k.text("order") + "'");
  if (k.number("tau_min") <= 0 || k.number("tau_max") < k.number("tau_min"))
    return InvalidArgument("knobs tau_min and tau_max: expected 0 < tau_min <= tau_max");
  if (k.number("checkpoint_every") < 1)
    return InvalidArgument("knob checkpoint_every: expected at least 1");
  if (k.number("fw_step") > 1)
    return InvalidArgument("knob fw_step: expected a step in [0, 1], got '" + k.text("fw_step") +
                           "'");
  return k;
}

double MethodKnobs::number(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? 1.0 : std::strtod(it->second.c_str(), nullptr);
}

const std::string& MethodKnobs::text(const std::string& name) const {
  static const std::string none;
  auto it = values_.find(name);
  return it == values_.end() ? none : it->second;
}

std::string MethodKnobs::str() const {
  std::ostringstream o;
  for (const auto& [k, v] : values_) o << k << "=" << v << " ";
  return o.str();
}

double cosine_power(double from, double to, double t, double power) {
  t = std::min(1.0, std::max(0.0, t));
  const double c = (1.0 + std::cos(M_PI * t)) / 2.0;  // 1 -> 0
  const double shape =
      std::abs(power - 1.0) < 1e-9 ? c : (std::pow(power, c) - 1.0) / (power - 1.0);
  return to + (from - to) * shape;
}

}  // namespace nasforge::differentiable
