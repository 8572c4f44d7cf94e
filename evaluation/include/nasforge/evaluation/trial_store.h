// The durable trial store: DIR/trials.sqlite, one row per evaluated architecture, each committed
// on its own in WAL mode before the search asks for the next, so a killed run loses nothing.
// The run's configuration is kept beside the trials; reopening with another configuration is
// refused with the key that differs.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nasforge/searchspace/status.h"

struct sqlite3;

namespace nasforge::evaluation {

struct TrialRecord {
  int64_t id = 0;                         // 1, 2, ... in evaluation order
  std::string arch, hash;                 // the architecture's string and canonical hash (hex)
  std::map<std::string, double> metrics;  // signal and constraint metrics
  std::map<std::string, double> report;   // --report metrics, never shown to the strategy
  std::string status = "ok";              // ok | infeasible | failed
  std::string error;                      // why it failed
  double violation = 0;                   // summed relative constraint excess
  double started_unix = 0, seconds = 0;   // when it began, and how long evaluation took
};

class TrialStore {
 public:
  // Opens or creates `path`. `config` is a list of "key: value" lines: written to a new store,
  // compared with an existing one (keys in `may_change`, such as the budget, may differ).
  static StatusOr<std::unique_ptr<TrialStore>> open(
      const std::string& path, const std::vector<std::pair<std::string, std::string>>& config,
      const std::vector<std::string>& may_change = {});
  ~TrialStore();
  TrialStore(const TrialStore&) = delete;
  TrialStore& operator=(const TrialStore&) = delete;

  // A finished or running search's store, read without writing to it (explain, export --run):
  // its configuration and trials as of one moment, in one read transaction, so a search that
  // commits meanwhile is seen either before or after a trial, never half-way.
  struct Snapshot {
    std::map<std::string, std::string> config;
    std::vector<TrialRecord> trials;
  };
  static StatusOr<Snapshot> read_snapshot(const std::string& path);

  // Commits one trial (its id is assigned here).
  Status insert(TrialRecord& t);
  StatusOr<std::vector<TrialRecord>> all() const;
  // The configuration lines the store was created with.
  StatusOr<std::map<std::string, std::string>> config() const;
  const std::string& path() const { return path_; }

 private:
  TrialStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

// {"name": value, ...} with round-trip precision, and back.
std::string metrics_json(const std::map<std::string, double>& m);
StatusOr<std::map<std::string, double>> parse_metrics_json(const std::string& text);

}  // namespace nasforge::evaluation
