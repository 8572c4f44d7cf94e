// Latency lookup tables ("profiles"): every distinct unit of a space timed on one device,
// saved as JSON with the device's metadata. Building one is resumable, and a profile made for
// another space, device, batch, thread count or library version is refused with the reason.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "nasforge/hardware/device.h"

namespace nasforge::hardware {

struct Profile {
  std::string space_name, space_fingerprint, device;
  int64_t batch = 1;
  int threads = 1;
  Environment environment;
  std::map<std::string, Measurement> entries;  // by unit key
  size_t expected = 0;                         // distinct units of the space
  // Whole architectures measured end to end on the same device (arch string, median ms): what
  // lut+residual learns the table's blind spots from (fusion, per-op overhead, caches).
  std::vector<std::pair<std::string, double>> calibration;

  bool complete() const { return entries.size() >= expected; }
  // The entry's median, or nullopt for a unit the profile does not hold.
  std::optional<double> lookup(const std::string& key) const;

  std::string to_json() const;
  // Writes to a temporary file and renames it over `path`, so a kill never leaves half a file.
  Status save(const std::string& path) const;
  // Malformed files are errors naming the file, line and key.
  static StatusOr<Profile> load(const std::string& path);

  // Whether this profile can price architectures of `space` on `device`; the message says
  // what differs.
  Status compatible_with(const SearchSpace& space, const Device& device) const;
  Status compatible_with(const SearchSpace& space) const;
};

struct ProfileProgress {
  size_t done = 0, total = 0, resumed = 0;
  const std::string* key = nullptr;
  const Measurement* last = nullptr;
};

// Measures every distinct unit of `space` on `device` that `path` does not hold yet, saving
// every `save_every` units. An existing incompatible file is refused (never overwritten).
StatusOr<Profile> build_profile(const SearchSpace& space, Device& device, const std::string& path,
                                const std::function<void(const ProfileProgress&)>& progress = {},
                                size_t save_every = 8);

// Measures `n` random architectures (seeded) end to end and adds them to the profile's
// calibration set, saving as it goes; architectures already there are kept, not re-measured.
Status calibrate_profile(const SearchSpace& space, Device& device, Profile& profile, size_t n,
                         uint64_t seed, const std::string& path,
                         const std::function<void(size_t done, size_t total)>& progress = {});

}  // namespace nasforge::hardware
