// Typed metrics with units, and the hard constraints and objectives built on them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "nasforge/searchspace/diagnostics.h"
#include "nasforge/searchspace/status.h"

namespace nasforge {

enum class MetricKind { kAccuracy, kLatencyMs, kParams, kMacs };

struct Metric {
  MetricKind kind = MetricKind::kAccuracy;
  std::string device;  // only for kLatencyMs

  // "accuracy", "latency_ms@cpu", "params", "macs"
  std::string str() const;
  // Parses a metric name; the error says what was expected and suggests a close match.
  static StatusOr<Metric> parse(const std::string& text);
  bool operator==(const Metric& o) const { return kind == o.kind && device == o.device; }
};

// Devices nasforge knows by name: the measured ones (cpu, onednn, cuda) and the devices of the
// published tables in data/nasbench201. latency_ms@DEVICE accepts any other name as well (a
// device fitted from a CSV, say pixel7); this list is for `nasforge list devices`.
const std::vector<std::string>& example_devices();

struct Constraint {
  Metric metric;
  std::optional<double> min, max;
  SourceLoc loc;
  std::string str() const;  // "params <= 200000"
};

enum class Direction { kMinimize, kMaximize };

struct Objective {
  Metric metric;
  Direction direction = Direction::kMaximize;
  std::string str() const;  // "accuracy: max"
};

// Parses "200k", "1.5M", "2G", "0.25", "12": the suffixes are powers of 1000.
std::optional<double> parse_number(const std::string& text);

}  // namespace nasforge
