#include "nasforge/searchspace/metrics.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace nasforge {

const std::vector<std::string>& example_devices() {
  static const std::vector<std::string> kDevices = {
      "cpu", "onednn", "cuda", "pixel3", "raspi4", "eyeriss", "fpga", "gold_6226", "titan_rtx_1"};
  return kDevices;
}

std::string Metric::str() const {
  switch (kind) {
    case MetricKind::kAccuracy:
      return "accuracy";
    case MetricKind::kLatencyMs:
      return "latency_ms@" + device;
    case MetricKind::kParams:
      return "params";
    case MetricKind::kMacs:
      return "macs";
  }
  return "?";
}

StatusOr<Metric> Metric::parse(const std::string& text) {
  if (text == "accuracy") return Metric{MetricKind::kAccuracy, ""};
  if (text == "params") return Metric{MetricKind::kParams, ""};
  if (text == "macs") return Metric{MetricKind::kMacs, ""};
  const std::string prefix = "latency_ms@";
  if (text.rfind(prefix, 0) == 0) {
    // Any device a source can supply: one nasforge measures, a table column, a predictor file
    // fitted for it. Whether a source supplies it is checked where sources are bound.
    std::string dev = text.substr(prefix.size());
    bool name = !dev.empty() && std::isalnum(static_cast<unsigned char>(dev[0]));
    for (char c : dev)
      name &= std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    if (name) return Metric{MetricKind::kLatencyMs, dev};
    return InvalidArgument(
        "expected a device name after '@' (letters, digits, '_', '-', '.'; for example cpu, "
        "raspi4, pixel7), got '" +
        dev + "'");
  }
  std::string msg =
      "expected a metric (accuracy, latency_ms@DEVICE, params, macs), got '" + text + "'";
  std::string near = closest_match(text, {"accuracy", "params", "macs", "latency_ms"});
  if (!near.empty()) msg += " (did you mean '" + near + "'?)";
  return InvalidArgument(msg);
}

namespace {
std::string fmt_number(double v) {
  std::ostringstream os;
  os.precision(12);
  os << v;
  return os.str();
}
}  // namespace

std::string Constraint::str() const {
  std::string s = metric.str();
  if (min && max) return fmt_number(*min) + " <= " + s + " <= " + fmt_number(*max);
  if (min) return s + " >= " + fmt_number(*min);
  if (max) return s + " <= " + fmt_number(*max);
  return s;
}

std::string Objective::str() const {
  return metric.str() + (direction == Direction::kMaximize ? ": max" : ": min");
}

std::optional<double> parse_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double scale = 1.0;
  std::string body = text;
  switch (body.back()) {
    case 'k':
    case 'K':
      scale = 1e3;
      break;
    case 'M':
      scale = 1e6;
      break;
    case 'G':
      scale = 1e9;
      break;
    default:
      break;
  }
  if (scale != 1.0) body.pop_back();
  if (body.empty()) return std::nullopt;
  // Only plain decimal notation: no hex, no inf/nan, no leading '+' ("1e+308" is fine).
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    const bool exponent_sign = c == '+' && i > 0 && (body[i - 1] == 'e' || body[i - 1] == 'E');
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == 'e' ||
          c == 'E' || exponent_sign))
      return std::nullopt;
  }
  char* end = nullptr;
  double v = std::strtod(body.c_str(), &end);
  if (end != body.c_str() + body.size() || !std::isfinite(v)) return std::nullopt;
  return v * scale;
}

}  // namespace nasforge
