#include "nasforge/evaluation/trial_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "nasforge/searchspace/json.h"
#include "nasforge/searchspace/metrics.h"
#include "nasforge/searchspace/yaml_ast.h"

namespace nasforge::evaluation {
namespace {

// A prepared statement, finalised on scope exit.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

Status sql_error(sqlite3* db, const std::string& path, const std::string& what) {
  return FailedPrecondition(path + ": " + what + ": " + sqlite3_errmsg(db));
}

Status exec(sqlite3* db, const std::string& path, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    return FailedPrecondition(path + ": " + m);
  }
  return Status::Ok();
}

std::string column_text(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

}  // namespace

std::string metrics_json(const std::map<std::string, double>& m) {
  std::string s = "{";
  for (const auto& [k, v] : m)
    s += (s.size() > 1 ? ", " : "") + json_quote(k) + ": " + json_number(v);
  return s + "}";
}

StatusOr<std::map<std::string, double>> parse_metrics_json(const std::string& text) {
  Diagnostics d;
  auto root = parse_yaml(text, "metrics", d);
  if (!root || !root->is_mapping())
    return InvalidArgument("expected a JSON object of metrics, got '" + text + "'");
  std::map<std::string, double> out;
  for (const auto& [k, v] : root->entries) {
    if (v.is_null() || v.scalar == "null") {
      out[k.scalar] = NAN;
      continue;
    }
    auto n = parse_number(v.scalar);
    if (!n)
      return InvalidArgument("metric " + k.scalar + ": expected a number, got '" + v.scalar + "'");
    out[k.scalar] = *n;
  }
  return out;
}

StatusOr<std::unique_ptr<TrialStore>> TrialStore::open(
    const std::string& path, const std::vector<std::pair<std::string, std::string>>& config,
    const std::vector<std::string>& may_change) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec)
    return FailedPrecondition(parent.string() + ": cannot create the folder: " + ec.message());
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    Status st = sql_error(db, path, "cannot open the trial store");
    sqlite3_close(db);
    return st;
  }
  std::unique_ptr<TrialStore> store(new TrialStore(db, path));
  sqlite3_busy_timeout(db, 5000);
  // WAL: each commit is one append to the log; synchronous=FULL makes it durable at commit.
  Status st = exec(db, path, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  if (!st.ok()) return st.WithContext("not a nasforge trial store (SQLite)");
  st = exec(db, path,
            "CREATE TABLE IF NOT EXISTS config (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS trials (id INTEGER PRIMARY KEY, arch TEXT NOT NULL, "
            "hash TEXT NOT NULL UNIQUE, metrics TEXT NOT NULL, report TEXT NOT NULL, "
            "status TEXT NOT NULL, error TEXT NOT NULL, violation REAL NOT NULL, "
            "started REAL NOT NULL, seconds REAL NOT NULL);");
  if (!st.ok()) return st;
  // Compare or write the configuration in one write transaction: BEGIN IMMEDIATE takes the
  // database's write lock first, so two processes that open a new store at once cannot both
  // see it empty; the second waits, then compares with what the first wrote.
  NF_RETURN_IF_ERROR(exec(db, path, "BEGIN IMMEDIATE"));
  auto check_and_write = [&]() -> Status {
    auto read = store->config();
    if (!read.ok()) return read.status();
    const std::map<std::string, std::string>& stored = *read;
    if (!stored.empty()) {
      for (const auto& [k, v] : config) {
        bool free = false;
        for (const auto& m : may_change) free |= m == k;
        auto it = stored.find(k);
        // A key the store lacks was added by a later version of nasforge: it is written now.
        if (it == stored.end()) continue;
        const std::string& was = it->second;
        if (!free && was != v)
          return FailedPrecondition(path + " holds a run with another configuration: " + k +
                                    " was '" + was + "', now '" + v +
                                    "'; use another --out, or the same settings to resume");
      }
    }
    for (const auto& [k, v] : config) {
      Stmt ins;
      sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO config (key, value) VALUES (?, ?)", -1, &ins.s,
                         nullptr);
      sqlite3_bind_text(ins.s, 1, k.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(ins.s, 2, v.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(ins.s) != SQLITE_DONE) return sql_error(db, path, "cannot write the config");
    }
    return exec(db, path, "COMMIT");
  };
  if (Status st = check_and_write(); !st.ok()) {
    (void)exec(db, path, "ROLLBACK");
    return st;
  }
  return store;
}

namespace {

// An SQLite URI that opens `path` as immutable: no lock, no shared-memory file, nothing written.
std::string immutable_uri(const std::string& path) {
  std::string uri = "file:";
  for (char c : std::filesystem::absolute(path).string()) {
    if (c == '%' || c == '?' || c == '#') {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      uri += hex;
    } else {
      uri += c;
    }
  }
  return uri + "?immutable=1";
}

bool folder_writable(const std::string& path) {
  const auto dir = std::filesystem::path(path).parent_path();
  return ::access(dir.empty() ? "." : dir.c_str(), W_OK) == 0;
}

}  // namespace

StatusOr<TrialStore::Snapshot> TrialStore::read_snapshot(const std::string& path) {
  auto read = [&path](const std::string& name, int flags) -> StatusOr<Snapshot> {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(name.c_str(), &db, flags, nullptr) != SQLITE_OK) {
      Status st = sql_error(db, path, "cannot open the trial store");
      sqlite3_close(db);
      return st;
    }
    TrialStore store(db, path);
    sqlite3_busy_timeout(db, 5000);
    NF_RETURN_IF_ERROR(exec(db, path, "BEGIN").WithContext("not a nasforge trial store (SQLite)"));
    Snapshot out;
    auto config = store.config();
    if (!config.ok()) {
      const int code = sqlite3_errcode(db) & 0xff;
      if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN) return config.status();
      return config.status().WithContext("not a nasforge trial store (SQLite)");
    }
    auto trials = store.all();
    if (!trials.ok()) return trials.status();
    NF_RETURN_IF_ERROR(exec(db, path, "COMMIT"));
    out.config = std::move(*config);
    out.trials = std::move(*trials);
    return out;
  };
  auto snapshot = read(path, SQLITE_OPEN_READONLY);
  if (snapshot.ok() || folder_writable(path) || !std::filesystem::exists(path)) return snapshot;
  // A folder we may not write to: SQLite cannot make the WAL's shared-memory file there. When no
  // write-ahead log is left over, the database file holds every committed trial, and it is read
  // as immutable; otherwise the trials in the log cannot be read without writing.
  std::error_code ec;
  const auto wal = std::filesystem::file_size(path + "-wal", ec);
  if (!ec && wal > 0)
    return FailedPrecondition(path +
                              ": cannot read the trial store in a read-only folder: its "
                              "write-ahead log (" +
                              path +
                              "-wal) holds trials that only a process allowed to write there can "
                              "merge; copy the folder somewhere writable and read the copy");
  return read(immutable_uri(path), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
}

TrialStore::~TrialStore() { sqlite3_close(db_); }

Status TrialStore::insert(TrialRecord& t) {
  Stmt s;
  if (sqlite3_prepare_v2(db_,
                         "INSERT INTO trials (arch, hash, metrics, report, status, error, "
                         "violation, started, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         -1, &s.s, nullptr) != SQLITE_OK)
    return sql_error(db_, path_, "cannot prepare an insert");
  const std::string m = metrics_json(t.metrics), r = metrics_json(t.report);
  sqlite3_bind_text(s.s, 1, t.arch.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s.s, 2, t.hash.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s.s, 3, m.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s.s, 4, r.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s.s, 5, t.status.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s.s, 6, t.error.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(s.s, 7, t.violation);
  sqlite3_bind_double(s.s, 8, t.started_unix);
  sqlite3_bind_double(s.s, 9, t.seconds);
  if (sqlite3_step(s.s) != SQLITE_DONE) return sql_error(db_, path_, "cannot commit a trial");
  t.id = sqlite3_last_insert_rowid(db_);
  return Status::Ok();
}

StatusOr<std::map<std::string, std::string>> TrialStore::config() const {
  Stmt s;
  if (sqlite3_prepare_v2(db_, "SELECT key, value FROM config", -1, &s.s, nullptr) != SQLITE_OK)
    return sql_error(db_, path_, "cannot read the configuration");
  std::map<std::string, std::string> out;
  int rc;
  while ((rc = sqlite3_step(s.s)) == SQLITE_ROW) out[column_text(s.s, 0)] = column_text(s.s, 1);
  if (rc != SQLITE_DONE) return sql_error(db_, path_, "cannot read the configuration");
  return out;
}

StatusOr<std::vector<TrialRecord>> TrialStore::all() const {
  Stmt s;
  if (sqlite3_prepare_v2(db_,
                         "SELECT id, arch, hash, metrics, report, status, error, violation, "
                         "started, seconds FROM trials ORDER BY id",
                         -1, &s.s, nullptr) != SQLITE_OK)
    return sql_error(db_, path_, "cannot read the trials");
  std::vector<TrialRecord> out;
  int rc;
  while ((rc = sqlite3_step(s.s)) == SQLITE_ROW) {
    TrialRecord t;
    t.id = sqlite3_column_int64(s.s, 0);
    t.arch = column_text(s.s, 1);
    t.hash = column_text(s.s, 2);
    auto m = parse_metrics_json(column_text(s.s, 3));
    auto r = parse_metrics_json(column_text(s.s, 4));
    if (!m.ok() || !r.ok())
      return InvalidArgument(path_ + ": trial " + std::to_string(t.id) + ": " +
                             (!m.ok() ? m.status() : r.status()).message());
    t.metrics = *m;
    t.report = *r;
    t.status = column_text(s.s, 5);
    t.error = column_text(s.s, 6);
    t.violation = sqlite3_column_double(s.s, 7);
    t.started_unix = sqlite3_column_double(s.s, 8);
    t.seconds = sqlite3_column_double(s.s, 9);
    out.push_back(std::move(t));
  }
  if (rc != SQLITE_DONE) return sql_error(db_, path_, "cannot read the trials");
  return out;
}

}  // namespace nasforge::evaluation
