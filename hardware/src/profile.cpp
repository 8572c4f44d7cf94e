#include "nasforge/hardware/profile.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "nasforge/searchspace/ast_reader.h"
#include "nasforge/searchspace/files.h"
#include "nasforge/searchspace/json.h"
#include "nasforge/searchspace/metrics.h"
#include "nasforge/searchspace/rng.h"
#include "nasforge/searchspace/yaml_ast.h"

namespace nasforge::hardware {

namespace {

constexpr const char* kFormat = "nasforge-profile/1";

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

std::optional<double> Profile::lookup(const std::string& key) const {
  auto it = entries.find(key);
  if (it == entries.end()) return std::nullopt;
  return it->second.median_ms;
}

std::string Profile::to_json() const {
  std::ostringstream o;
  o << "{\n  \"format\": " << json_quote(kFormat) << ",\n  \"space\": " << json_quote(space_name)
    << ",\n  \"space_fingerprint\": " << json_quote(space_fingerprint)
    << ",\n  \"device\": " << json_quote(device) << ",\n  \"batch\": " << batch
    << ",\n  \"threads\": " << threads << ",\n  \"expected_units\": " << expected
    << ",\n  \"environment\": {\"cpu_model\": " << json_quote(environment.cpu_model)
    << ", \"cores\": " << environment.cores
    << ", \"torch\": " << json_quote(environment.torch_version)
    << ", \"onednn\": " << json_quote(environment.onednn_version)
    << ", \"kernel\": " << json_quote(environment.kernel)
    << ", \"cpus\": " << json_quote(environment.cpus) << "},\n  \"units\": [";
  bool first = true;
  for (const auto& [key, m] : entries) {
    o << (first ? "\n" : ",\n") << "    {\"key\": " << json_quote(key)
      << ", \"median_ms\": " << num(m.median_ms) << ", \"mad_ms\": " << num(m.mad_ms)
      << ", \"ci_ms\": [" << num(m.ci_low_ms) << ", " << num(m.ci_high_ms)
      << "], \"repeats\": " << m.repeats << ", \"attempts\": " << m.attempts
      << ", \"noisy\": " << (m.noisy ? "true" : "false") << "}";
    first = false;
  }
  o << "\n  ],\n  \"calibration\": [";
  first = true;
  for (const auto& [arch, ms] : calibration) {
    o << (first ? "\n" : ",\n") << "    {\"arch\": " << json_quote(arch) << ", \"ms\": " << num(ms)
      << "}";
    first = false;
  }
  o << "\n  ]\n}\n";
  return o.str();
}

Status Profile::save(const std::string& path) const {
  return write_atomically(path, to_json(), "profile");
}

StatusOr<Profile> Profile::load(const std::string& path) {
  Diagnostics d;
  auto root = load_yaml_file(path, d);
  if (!root) return InvalidArgument(d.str());
  if (!root->is_mapping()) {
    d.error(root->loc, "", "expected a nasforge profile (a JSON object), got " + root->describe());
    return InvalidArgument(d.str());
  }
  AstReader r(*root, "", d);
  Profile p;
  const std::string format = r.str("format");
  if (d.ok() && format != kFormat) {
    d.error(root->find("format")->loc, "format",
            std::string("expected '") + kFormat + "', got '" + format + "'");
    return InvalidArgument(d.str());
  }
  p.space_name = r.str("space");
  p.space_fingerprint = r.str("space_fingerprint");
  p.device = r.str("device");
  p.batch = static_cast<int64_t>(r.number("batch"));
  p.threads = static_cast<int>(r.number("threads"));
  p.expected = static_cast<size_t>(r.number("expected_units"));
  if (const AstNode* env = r.get("environment")) {
    AstReader e(*env, "environment.", d);
    p.environment.cpu_model = e.str("cpu_model");
    p.environment.cores = static_cast<int>(e.number("cores"));
    p.environment.torch_version = e.str("torch");
    p.environment.onednn_version = e.str("onednn");
    p.environment.kernel = e.str("kernel");
    if (const AstNode* c = env->find("cpus"); c && c->is_scalar()) p.environment.cpus = c->scalar;
    p.environment.threads = p.threads;
  }
  if (const AstNode* units = r.get("units")) {
    if (!units->is_sequence()) {
      d.error(units->loc, "units", "expected a list of measured units, got " + units->describe());
    } else {
      for (size_t i = 0; i < units->items.size(); ++i) {
        const AstNode& u = units->items[i];
        const std::string at = "units[" + std::to_string(i) + "].";
        if (!u.is_mapping()) {
          d.error(u.loc, at, "expected a unit entry, got " + u.describe());
          continue;
        }
        AstReader ur(u, at, d);
        Measurement m;
        const std::string key = ur.str("key");
        m.median_ms = ur.number("median_ms");
        m.mad_ms = ur.number("mad_ms");
        m.repeats = static_cast<int>(ur.number("repeats"));
        if (const AstNode* ci = u.find("ci_ms"); ci && ci->is_sequence() && ci->items.size() == 2) {
          m.ci_low_ms = parse_number(ci->items[0].scalar).value_or(0);
          m.ci_high_ms = parse_number(ci->items[1].scalar).value_or(0);
        }
        if (const AstNode* n = u.find("noisy")) m.noisy = n->scalar == "true";
        if (m.median_ms <= 0 && d.ok())
          d.error(u.loc, at + "median_ms", "expected a positive time, got " + num(m.median_ms));
        p.entries[key] = m;
      }
    }
  }
  if (const AstNode* cal = root->find("calibration"); cal && cal->is_sequence()) {
    for (size_t i = 0; i < cal->items.size(); ++i) {
      AstReader cr(cal->items[i], "calibration[" + std::to_string(i) + "].", d);
      p.calibration.emplace_back(cr.str("arch"), cr.number("ms"));
    }
  }
  if (!d.ok()) return InvalidArgument(d.str());
  return p;
}

Status Profile::compatible_with(const SearchSpace& space) const {
  if (space_fingerprint != space.fingerprint())
    return FailedPrecondition("the profile was made for space '" + space_name + "' (fingerprint " +
                              space_fingerprint + "), not for '" + space.name() +
                              "' (fingerprint " + space.fingerprint() +
                              "); run `nasforge profile` for this space");
  return Status::Ok();
}

Status Profile::compatible_with(const SearchSpace& space, const Device& dev) const {
  NF_RETURN_IF_ERROR(compatible_with(space));
  if (device != dev.name())
    return FailedPrecondition("the profile was measured on device '" + device + "', not '" +
                              dev.name() + "'");
  if (batch != dev.options().batch || threads != dev.options().threads)
    return FailedPrecondition("the profile was measured at batch " + std::to_string(batch) +
                              " with " + std::to_string(threads) + " threads, not batch " +
                              std::to_string(dev.options().batch) + " with " +
                              std::to_string(dev.options().threads));
  const Environment here = dev.environment();
  if (environment.compatibility_key() != here.compatibility_key())
    return FailedPrecondition("the profile was measured with " + environment.compatibility_key() +
                              ", but this machine has " + here.compatibility_key() +
                              "; profile again here");
  return Status::Ok();
}

StatusOr<Profile> build_profile(const SearchSpace& space, Device& device, const std::string& path,
                                const std::function<void(const ProfileProgress&)>& progress,
                                size_t save_every) {
  auto all = distinct_units(space);
  if (!all.ok()) return all.status();
  Profile p;
  if (std::filesystem::exists(path)) {
    auto old = Profile::load(path);
    if (!old.ok())
      return FailedPrecondition(path + " exists but is not a readable profile (" +
                                old.status().message() + "); move it away to start afresh");
    if (Status st = old->compatible_with(space, device); !st.ok())
      return FailedPrecondition(path + ": " + st.message());
    p = std::move(*old);
  } else {
    p.space_name = space.name();
    p.space_fingerprint = space.fingerprint();
    p.device = device.name();
    p.batch = device.options().batch;
    p.threads = device.options().threads;
    p.environment = device.environment();
  }
  p.expected = all->size();
  ProfileProgress prog;
  prog.total = all->size();
  size_t since_save = 0;
  for (const Unit& u : *all) {
    const std::string key = u.key();
    if (p.entries.count(key)) {
      ++prog.done;
      ++prog.resumed;
      continue;
    }
    auto m = device.measure_unit(u);
    if (!m.ok()) return Status(m.status().code(), key + ": " + m.status().message());
    p.entries[key] = *m;
    ++prog.done;
    prog.key = &key;
    prog.last = &p.entries[key];
    if (progress) progress(prog);
    if (++since_save >= save_every) {
      NF_RETURN_IF_ERROR(p.save(path));
      since_save = 0;
    }
  }
  NF_RETURN_IF_ERROR(p.save(path));
  return p;
}

Status calibrate_profile(const SearchSpace& space, Device& device, Profile& profile, size_t n,
                         uint64_t seed, const std::string& path,
                         const std::function<void(size_t, size_t)>& progress) {
  NF_RETURN_IF_ERROR(profile.compatible_with(space, device));
  Rng rng(seed);
  std::set<std::string> have;
  for (const auto& c : profile.calibration) have.insert(c.first);
  for (size_t i = 0; i < n; ++i) {
    const std::string arch = space.to_string(space.sample(rng));
    if (have.count(arch)) {
      if (progress) progress(i + 1, n);
      continue;
    }
    auto m = device.measure_network(space, *space.parse(arch));
    if (!m.ok()) return m.status();
    profile.calibration.emplace_back(arch, m->median_ms);
    have.insert(arch);
    if (progress) progress(i + 1, n);
    if (profile.calibration.size() % 8 == 0) NF_RETURN_IF_ERROR(profile.save(path));
  }
  return profile.save(path);
}

}  // namespace nasforge::hardware
