#include "store/sqlite/sqlite_metadata_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <variant>

#include "core/check.h"

namespace cairn::store {

namespace sqlite_internal {

static_assert(std::endian::native == std::endian::little,
              "metric blocks are packed in little-endian byte order");

// A cached prepared statement, borrowed for one use: reset (and unbound) when it goes out of
// scope. Binding uses 1-based positions like SQLite.
class Stmt {
 public:
  Stmt(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  Stmt(Stmt&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)), db_(other.db_) {}
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Stmt& BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }

  // True when a row is available, false when done.
  Result<bool> Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  // Steps to completion (for statements that return no rows).
  Status Run() {
    while (true) {
      CAIRN_TRY(bool row, Step());
      if (!row) return Status::Ok();
    }
  }

  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) const { return std::string(TextView(col)); }
  std::string_view TextView(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    if (p == nullptr) return {};
    return {reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
  }
  std::string_view Blob(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    if (p == nullptr) return {};
    return {static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
  }

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
};

// One SQLite connection with its cache of prepared statements. Not thread-safe: used by one
// thread at a time (the writer under its mutex, readers taken from the pool).
class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const std::string& path) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      sqlite3_close(db);
      return Internal("cannot open " + path + ": " + msg);
    }
    auto conn = std::unique_ptr<Connection>(new Connection(db));
    sqlite3_busy_timeout(db, 10000);
    // 1 KiB pages (set before the first table exists): a small write dirties a few pages and each
    // becomes a WAL frame, so smaller pages mean fewer bytes written and synced per commit.
    CAIRN_RETURN_IF_ERROR(conn->Exec(
        "PRAGMA page_size=1024; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32768; PRAGMA mmap_size=1073741824;"
        "PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864;"));
    return conn;
  }

  ~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      return Internal("sqlite: " + msg);
    }
    return Status::Ok();
  }

  // A prepared statement for `sql`, compiled once per connection.
  Result<Stmt> Prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                             SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
        return Internal(std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
      }
      it = cache_.emplace(sql, stmt).first;
    }
    return Stmt(it->second, db_);
  }

  // Bounds the cache (search statements are generated per query shape). Call only when no
  // statement is borrowed.
  void TrimCache() {
    if (cache_.size() <= 512) return;
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    cache_.clear();
  }

  sqlite3* raw() const { return db_; }
  int64_t Changes() const { return sqlite3_changes64(db_); }
  int64_t LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace sqlite_internal

using sqlite_internal::Connection;
using sqlite_internal::Stmt;

namespace {

// Schema migrations, applied in order; PRAGMA user_version records how many have run.
// Append new steps; never edit a released one.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE experiments (
  experiment_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL
);
CREATE INDEX experiments_by_creation ON experiments (creation_time);
CREATE TABLE experiment_tags (
  experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;
CREATE TABLE runs (
  run_key INTEGER PRIMARY KEY,
  run_uuid TEXT NOT NULL UNIQUE,
  experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id),
  name TEXT NOT NULL,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  artifact_uri TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL,
  deleted_with_experiment INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time DESC, run_uuid);
CREATE TABLE params (
  run_key INTEGER NOT NULL REFERENCES runs (run_key),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_key, key)
) WITHOUT ROWID;
CREATE INDEX params_by_value ON params (key, value);
CREATE TABLE tags (
  run_key INTEGER NOT NULL REFERENCES runs (run_key),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_key, key)
) WITHOUT ROWID;
CREATE INDEX tags_by_value ON tags (key, value);
-- value is NULL when the latest value is NaN (SQLite has no NaN); is_nan says so.
CREATE TABLE latest_metrics (
  run_key INTEGER NOT NULL REFERENCES runs (run_key),
  key TEXT NOT NULL,
  value REAL,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  is_nan INTEGER NOT NULL,
  num_blocks INTEGER NOT NULL,
  PRIMARY KEY (run_key, key)
) WITHOUT ROWID;
CREATE INDEX latest_metrics_by_value ON latest_metrics (key, value);
-- data packs `count` points of (int64 step, int64 timestamp, float64 value), little-endian.
CREATE TABLE metric_blocks (
  run_key INTEGER NOT NULL REFERENCES runs (run_key),
  key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  count INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (run_key, key, seq)
);
CREATE TABLE run_inputs (
  input_id INTEGER PRIMARY KEY,
  run_key INTEGER NOT NULL REFERENCES runs (run_key),
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  schema TEXT NOT NULL,
  profile TEXT NOT NULL,
  UNIQUE (run_key, name, digest)
);
CREATE TABLE run_input_tags (
  input_id INTEGER NOT NULL REFERENCES run_inputs (input_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (input_id, key)
) WITHOUT ROWID;
CREATE TABLE artifacts (
  path TEXT PRIMARY KEY,
  digest TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime INTEGER NOT NULL
) WITHOUT ROWID;
)sql",
    // 2: dataset versions. No uniqueness on (name, version_id): a later version may return to
    // an older content; only a repeat of the latest is deduplicated, by the store.
    R"sql(
CREATE TABLE datasets (
  name TEXT PRIMARY KEY,
  latest_version INTEGER NOT NULL,
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE dataset_versions (
  name TEXT NOT NULL REFERENCES datasets (name),
  version INTEGER NOT NULL,
  version_id TEXT NOT NULL,
  manifest_digest TEXT NOT NULL,
  profile_digest TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  row_count INTEGER NOT NULL,
  description TEXT NOT NULL,
  created_by TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  PRIMARY KEY (name, version)
) WITHOUT ROWID;
)sql",
    // 3: the model registry. Children reference the model by its integer id, so a rename is one
    // UPDATE; last_version keeps version numbers unique across deletions.
    R"sql(
CREATE TABLE registered_models (
  model_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  creation_time INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  description TEXT NOT NULL,
  last_version INTEGER NOT NULL
);
CREATE INDEX registered_models_by_update ON registered_models (last_updated_time);
CREATE TABLE registered_model_tags (
  model_id INTEGER NOT NULL REFERENCES registered_models (model_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE INDEX registered_model_tags_by_value ON registered_model_tags (key, value);
-- artifact_path is NULL when storage_location is not under run_id's artifact root.
CREATE TABLE model_versions (
  model_id INTEGER NOT NULL REFERENCES registered_models (model_id),
  version INTEGER NOT NULL,
  creation_time INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  description TEXT NOT NULL,
  current_stage TEXT NOT NULL,
  source TEXT NOT NULL,
  storage_location TEXT NOT NULL,
  run_id TEXT NOT NULL,
  artifact_path TEXT,
  run_link TEXT NOT NULL,
  status TEXT NOT NULL,
  status_message TEXT NOT NULL,
  PRIMARY KEY (model_id, version)
) WITHOUT ROWID;
CREATE INDEX model_versions_by_run ON model_versions (run_id);
CREATE TABLE model_version_tags (
  model_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, version, key),
  FOREIGN KEY (model_id, version) REFERENCES model_versions (model_id, version)
) WITHOUT ROWID;
CREATE TABLE registered_model_aliases (
  model_id INTEGER NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (model_id, alias),
  FOREIGN KEY (model_id, version) REFERENCES model_versions (model_id, version)
) WITHOUT ROWID;
CREATE INDEX registered_model_aliases_by_version ON registered_model_aliases (model_id, version);
)sql",
    // 4: scoring endpoints and their deployments. A deployment's traffic and mirror percents live
    // on its row, so a traffic change is one transaction over the endpoint's rows.
    R"sql(
CREATE TABLE endpoints (
  endpoint_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL,
  sample_rate REAL NOT NULL,
  traffic_version INTEGER NOT NULL,
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL
);
CREATE TABLE deployments (
  endpoint_id INTEGER NOT NULL REFERENCES endpoints (endpoint_id),
  name TEXT NOT NULL,
  model_uri TEXT NOT NULL,
  model_name TEXT NOT NULL,
  model_version INTEGER NOT NULL,
  run_id TEXT NOT NULL,
  storage_location TEXT NOT NULL,
  threads INTEGER NOT NULL,
  traffic INTEGER NOT NULL,
  mirror INTEGER NOT NULL,
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL,
  PRIMARY KEY (endpoint_id, name)
) WITHOUT ROWID;
)sql",
    // 5: jobs: the job service's queue and history. The spec is JSON text (the service owns its
    // format); state is what the scheduler lists by.
    R"sql(
CREATE TABLE jobs (
  job_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  spec_json TEXT NOT NULL,
  compute TEXT NOT NULL,
  state TEXT NOT NULL,
  executor_handle TEXT NOT NULL,
  run_id TEXT NOT NULL,
  experiment_id TEXT NOT NULL,
  code_digest TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER NOT NULL,
  exit_code INTEGER,
  message TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX jobs_by_time ON jobs (creation_time, job_id);
CREATE INDEX jobs_by_state ON jobs (state, creation_time);
)sql",
    // 6: pipelines: a run of a pipeline file and one row per step, the engine's state machine.
    // Step logs live in their own table so that listing runs never reads them.
    R"sql(
CREATE TABLE pipeline_runs (
  run_key INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  file TEXT NOT NULL,
  spec TEXT NOT NULL,
  params TEXT NOT NULL,
  created_by TEXT NOT NULL,
  status TEXT NOT NULL,
  error TEXT NOT NULL,
  experiment_id TEXT NOT NULL,
  mlflow_run_id TEXT NOT NULL,
  cancel_requested INTEGER NOT NULL,
  creation_time INTEGER NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL
);
CREATE INDEX pipeline_runs_by_status ON pipeline_runs (status, creation_time);
CREATE INDEX pipeline_runs_by_time ON pipeline_runs (creation_time, run_id);
CREATE TABLE step_runs (
  run_key INTEGER NOT NULL REFERENCES pipeline_runs (run_key),
  step_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  uses TEXT NOT NULL,
  status TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  outputs TEXT NOT NULL,
  error TEXT NOT NULL,
  mlflow_run_id TEXT NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER NOT NULL,
  deadline INTEGER NOT NULL,
  decision TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  comment TEXT NOT NULL,
  decision_time INTEGER NOT NULL,
  PRIMARY KEY (run_key, step_id)
) WITHOUT ROWID;
CREATE TABLE step_logs (
  run_key INTEGER NOT NULL,
  step_id TEXT NOT NULL,
  log TEXT NOT NULL,
  PRIMARY KEY (run_key, step_id)
) WITHOUT ROWID;
)sql",
    // 7: monitoring: per endpoint name (monitoring data outlives a deleted endpoint, as the
    // prediction log does), the monitor configuration, the drift reports with their history and
    // the ground-truth labels posted for scored requests.
    R"sql(
CREATE TABLE monitor_configs (
  endpoint TEXT PRIMARY KEY,
  config_json TEXT NOT NULL,
  last_update_time INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE monitor_reports (
  endpoint TEXT NOT NULL,
  report_id TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  since INTEGER NOT NULL,
  until INTEGER NOT NULL,
  drift_share REAL NOT NULL,
  dataset_drift INTEGER NOT NULL,
  report_json TEXT NOT NULL,
  PRIMARY KEY (endpoint, report_id)
) WITHOUT ROWID;
CREATE INDEX monitor_reports_by_time ON monitor_reports (endpoint, creation_time, report_id);
CREATE TABLE feedback_labels (
  endpoint TEXT NOT NULL,
  request_id TEXT NOT NULL,
  label_json TEXT NOT NULL,
  time INTEGER NOT NULL,
  PRIMARY KEY (endpoint, request_id)
) WITHOUT ROWID;
)sql",
    // 8: triggers: stored pipeline definitions (by name, with a revision), their retraining
    // triggers (enabled flag and the service's JSON state) and the triggers' firings.
    R"sql(
CREATE TABLE pipeline_definitions (
  name TEXT PRIMARY KEY,
  revision INTEGER NOT NULL,
  spec TEXT NOT NULL,
  file TEXT NOT NULL,
  created_by TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE triggers (
  trigger_id TEXT PRIMARY KEY,
  pipeline TEXT NOT NULL,
  position INTEGER NOT NULL,
  kind TEXT NOT NULL,
  condition TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  state TEXT NOT NULL,
  last_fired_time INTEGER NOT NULL,
  last_run_id TEXT NOT NULL,
  last_reason TEXT NOT NULL,
  held_time INTEGER NOT NULL,
  held_reason TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX triggers_by_pipeline ON triggers (pipeline, position);
CREATE TABLE trigger_firings (
  firing_id INTEGER PRIMARY KEY,
  trigger_id TEXT NOT NULL,
  pipeline TEXT NOT NULL,
  kind TEXT NOT NULL,
  time INTEGER NOT NULL,
  reason TEXT NOT NULL,
  context TEXT NOT NULL,
  run_id TEXT NOT NULL,
  user TEXT NOT NULL,
  error TEXT NOT NULL
);
CREATE INDEX trigger_firings_by_trigger ON trigger_firings (trigger_id, firing_id);
)sql",
};

constexpr int kNumMigrations = sizeof(kMigrations) / sizeof(kMigrations[0]);
constexpr size_t kPointBytes = 24;
constexpr size_t kMaxIdleReaders = 8;
// The checkpointer copies the WAL into the database once it holds this many pages (32 MB: each
// checkpoint costs an fsync, so fewer, larger ones keep ingestion fast); the
// writer checkpoints itself only if the WAL runs far ahead (readers pinning old snapshots).
constexpr int kCheckpointPages = 8192;
constexpr int kWriterCheckpointPages = 64000;
constexpr std::string_view kRunNameTag = "mlflow.runName";

std::optional<int64_t> ParseId(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

std::string StageText(LifecycleStage s) { return std::string(LifecycleStageName(s)); }
LifecycleStage ParseStage(std::string_view s) {
  return s == "deleted" ? LifecycleStage::kDeleted : LifecycleStage::kActive;
}

// MLflow's order of metric points: step, then timestamp, then value (NaN above numbers).
bool PointGreater(int64_t step_a, int64_t ts_a, double va, int64_t step_b, int64_t ts_b,
                  double vb) {
  if (step_a != step_b) return step_a > step_b;
  if (ts_a != ts_b) return ts_a > ts_b;
  bool na = std::isnan(va), nb = std::isnan(vb);
  if (na || nb) return na && !nb;
  return va > vb;
}

void PutI64(char* p, int64_t v) { std::memcpy(p, &v, 8); }
int64_t GetI64(const char* p) {
  int64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
double GetF64(const char* p) {
  double v;
  std::memcpy(&v, p, 8);
  return v;
}

// JSON array of integers, bound to `IN (SELECT value FROM json_each(?))`.
std::string JsonIntArray(const std::vector<int64_t>& keys) {
  std::string s = "[";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(keys[i]);
  }
  s += ']';
  return s;
}

// SQL LIKE pattern (% and _) → GLOB pattern, which matches case-sensitively.
std::string LikeToGlob(std::string_view like) {
  std::string g;
  for (char c : like) {
    switch (c) {
      case '%': g += '*'; break;
      case '_': g += '?'; break;
      case '*': g += "[*]"; break;
      case '?': g += "[?]"; break;
      case '[': g += "[[]"; break;
      default: g += c;
    }
  }
  return g;
}

// A SQL text with its positional parameters, built for one search.
struct Sql {
  using Value = std::variant<int64_t, double, std::string>;
  std::string text;
  std::vector<Value> params;

  Sql& operator<<(std::string_view s) {
    text += s;
    return *this;
  }
  Sql& Param(Value v) {
    text += '?';
    params.push_back(std::move(v));
    return *this;
  }
  void BindTo(Stmt& stmt) const {
    for (size_t i = 0; i < params.size(); ++i) {
      int pos = static_cast<int>(i) + 1;
      std::visit([&](const auto& v) { stmt.Bind(pos, v); }, params[i]);
    }
  }
};

const char* OpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq: return " = ";
    case CompareOp::kNe: return " != ";
    case CompareOp::kLt: return " < ";
    case CompareOp::kLe: return " <= ";
    case CompareOp::kGt: return " > ";
    case CompareOp::kGe: return " >= ";
    default: return nullptr;
  }
}

// Appends `column OP value` for a string-valued column (params, tags, string attributes).
Status AppendStringCondition(Sql& sql, const std::string& column, const Comparison& c) {
  if (c.op == CompareOp::kIn || c.op == CompareOp::kNotIn) {
    const auto* list = std::get_if<std::vector<std::string>>(&c.value);
    if (list == nullptr) return InvalidArgument("IN needs a list of strings for '" + c.key + "'");
    if (list->empty()) {
      sql << (c.op == CompareOp::kIn ? "0" : "1");
      return Status::Ok();
    }
    sql << column << (c.op == CompareOp::kIn ? " IN (" : " NOT IN (");
    for (size_t i = 0; i < list->size(); ++i) {
      if (i) sql << ", ";
      sql.Param((*list)[i]);
    }
    sql << ")";
    return Status::Ok();
  }
  const auto* value = std::get_if<std::string>(&c.value);
  if (value == nullptr) return InvalidArgument("'" + c.key + "' compares with a string");
  if (c.op == CompareOp::kLike) {
    sql << column << " GLOB ";
    sql.Param(LikeToGlob(*value));
  } else if (c.op == CompareOp::kILike) {
    sql << column << " LIKE ";
    sql.Param(*value);
  } else {
    sql << column << OpText(c.op);
    sql.Param(*value);
  }
  return Status::Ok();
}

// Appends `column OP number` for a numeric column.
Status AppendNumberCondition(Sql& sql, const std::string& column, const Comparison& c,
                             bool nan_column) {
  const auto* value = std::get_if<double>(&c.value);
  const char* op = OpText(c.op);
  if (value == nullptr || op == nullptr) {
    return InvalidArgument("'" + c.key + "' supports only = != < <= > >= with a number");
  }
  if (std::isnan(*value)) {
    // NaN equals nothing; stored NaN is NULL.
    sql << (c.op == CompareOp::kNe ? "1" : "0");
    return Status::Ok();
  }
  if (c.op == CompareOp::kNe && nan_column) {
    // A stored NaN (NULL) differs from every number.
    sql << "(" << column << " IS NULL OR " << column << " != ";
    sql.Param(*value);
    sql << ")";
    return Status::Ok();
  }
  sql << column << op;
  sql.Param(*value);
  return Status::Ok();
}

struct AttributeColumn {
  const char* column;
  bool numeric;
};

std::optional<AttributeColumn> RunAttribute(std::string_view key) {
  if (key == "run_id" || key == "run_uuid") return AttributeColumn{"r.run_uuid", false};
  if (key == "run_name") return AttributeColumn{"r.name", false};
  if (key == "status") return AttributeColumn{"r.status", false};
  if (key == "user_id") return AttributeColumn{"r.user_id", false};
  if (key == "artifact_uri") return AttributeColumn{"r.artifact_uri", false};
  if (key == "lifecycle_stage") return AttributeColumn{"r.lifecycle_stage", false};
  if (key == "start_time" || key == "created") return AttributeColumn{"r.start_time", true};
  if (key == "end_time") return AttributeColumn{"r.end_time", true};
  if (key == "experiment_id") return AttributeColumn{"r.experiment_id", true};
  return std::nullopt;
}

std::optional<AttributeColumn> ExperimentAttribute(std::string_view key) {
  if (key == "name") return AttributeColumn{"e.name", false};
  if (key == "experiment_id") return AttributeColumn{"e.experiment_id", true};
  if (key == "creation_time") return AttributeColumn{"e.creation_time", true};
  if (key == "last_update_time") return AttributeColumn{"e.last_update_time", true};
  if (key == "lifecycle_stage") return AttributeColumn{"e.lifecycle_stage", false};
  if (key == "artifact_location") return AttributeColumn{"e.artifact_location", false};
  return std::nullopt;
}

// The run's internal key and whether it is active; kNotFound if there is no such run.
struct RunRef {
  int64_t key = 0;
  bool active = true;
  int64_t experiment_id = 0;
};

Result<RunRef> FindRun(Connection& c, std::string_view run_id) {
  CAIRN_TRY(Stmt s, c.Prepare("SELECT run_key, lifecycle_stage, experiment_id FROM runs "
                              "WHERE run_uuid = ?"));
  s.Bind(1, run_id);
  CAIRN_TRY(bool row, s.Step());
  if (!row) return NotFound("Run '" + std::string(run_id) + "' not found");
  return RunRef{s.Int(0), s.TextView(1) == "active", s.Int(2)};
}

Result<RunRef> FindActiveRun(Connection& c, std::string_view run_id) {
  CAIRN_TRY(RunRef run, FindRun(c, run_id));
  if (!run.active) {
    return InvalidArgument("The run " + std::string(run_id) +
                           " must be in the 'active' state. Current state is deleted.");
  }
  return run;
}

struct ExperimentRef {
  int64_t id = 0;
  bool active = true;
  std::string artifact_location;
};

Result<ExperimentRef> FindExperiment(Connection& c, std::string_view experiment_id) {
  auto id = ParseId(experiment_id);
  auto not_found = NotFound("No Experiment with id=" + std::string(experiment_id) + " exists");
  if (!id) return not_found;
  CAIRN_TRY(Stmt s, c.Prepare("SELECT lifecycle_stage, artifact_location FROM experiments "
                              "WHERE experiment_id = ?"));
  s.Bind(1, *id);
  CAIRN_TRY(bool row, s.Step());
  if (!row) return not_found;
  return ExperimentRef{*id, s.TextView(0) == "active", s.Text(1)};
}

// Loads full experiments for `ids`, in that order.
Result<std::vector<Experiment>> LoadExperiments(Connection& c, const std::vector<int64_t>& ids) {
  std::vector<Experiment> out(ids.size());
  if (ids.empty()) return out;
  std::unordered_map<int64_t, size_t> index;
  for (size_t i = 0; i < ids.size(); ++i) index[ids[i]] = i;
  std::string json = JsonIntArray(ids);
  {
    CAIRN_TRY(Stmt s, c.Prepare("SELECT experiment_id, name, artifact_location, lifecycle_stage, "
                                "creation_time, last_update_time FROM experiments "
                                "WHERE experiment_id IN (SELECT value FROM json_each(?))"));
    s.Bind(1, json);
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      Experiment& e = out[index.at(s.Int(0))];
      e.experiment_id = std::to_string(s.Int(0));
      e.name = s.Text(1);
      e.artifact_location = s.Text(2);
      e.lifecycle_stage = ParseStage(s.TextView(3));
      e.creation_time = s.Int(4);
      e.last_update_time = s.Int(5);
    }
  }
  CAIRN_TRY(Stmt s, c.Prepare("SELECT experiment_id, key, value FROM experiment_tags "
                              "WHERE experiment_id IN (SELECT value FROM json_each(?)) "
                              "ORDER BY experiment_id, key"));
  s.Bind(1, json);
  while (true) {
    CAIRN_TRY(bool row, s.Step());
    if (!row) break;
    out[index.at(s.Int(0))].tags.push_back({s.Text(1), s.Text(2)});
  }
  return out;
}

Result<Experiment> LoadExperiment(Connection& c, int64_t id) {
  CAIRN_TRY(std::vector<Experiment> v, LoadExperiments(c, {id}));
  if (v[0].experiment_id.empty()) return NotFound("No Experiment with id=" + std::to_string(id));
  return std::move(v[0]);
}

Result<RunInfo> ReadRunInfo(Stmt& s) {
  RunInfo info;
  info.run_id = s.Text(1);
  info.experiment_id = std::to_string(s.Int(2));
  info.run_name = s.Text(3);
  info.user_id = s.Text(4);
  auto status = ParseRunStatus(s.TextView(5));
  if (!status) return Internal("bad run status in database: " + s.Text(5));
  info.status = *status;
  info.start_time = s.Int(6);
  if (!s.IsNull(7)) info.end_time = s.Int(7);
  info.artifact_uri = s.Text(8);
  info.lifecycle_stage = ParseStage(s.TextView(9));
  return info;
}

constexpr const char* kRunColumns =
    "run_key, run_uuid, experiment_id, name, user_id, status, start_time, end_time, "
    "artifact_uri, lifecycle_stage";

// Loads full runs (info, latest metrics, params, tags, inputs) for `keys`, in that order, with
// one query per table.
Result<std::vector<Run>> LoadRuns(Connection& c, const std::vector<int64_t>& keys) {
  std::vector<Run> out(keys.size());
  if (keys.empty()) return out;
  std::unordered_map<int64_t, size_t> index;
  index.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) index[keys[i]] = i;
  std::string json = JsonIntArray(keys);
  {
    CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kRunColumns +
                                " FROM runs WHERE run_key IN (SELECT value FROM json_each(?))"));
    s.Bind(1, json);
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      CAIRN_TRY(out[index.at(s.Int(0))].info, ReadRunInfo(s));
    }
  }
  {
    CAIRN_TRY(Stmt s, c.Prepare("SELECT run_key, key, value, timestamp, step, is_nan "
                                "FROM latest_metrics WHERE run_key IN "
                                "(SELECT value FROM json_each(?)) ORDER BY run_key, key"));
    s.Bind(1, json);
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      Metric m;
      m.key = s.Text(1);
      m.value = s.Int(5) ? std::numeric_limits<double>::quiet_NaN() : s.Double(2);
      m.timestamp = s.Int(3);
      m.step = s.Int(4);
      out[index.at(s.Int(0))].metrics.push_back(std::move(m));
    }
  }
  for (const char* table : {"params", "tags"}) {
    CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT run_key, key, value FROM ") + table +
                                " WHERE run_key IN (SELECT value FROM json_each(?)) "
                                "ORDER BY run_key, key"));
    s.Bind(1, json);
    bool params = table[0] == 'p';
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      Run& run = out[index.at(s.Int(0))];
      if (params) {
        run.params.push_back({s.Text(1), s.Text(2)});
      } else {
        run.tags.push_back({s.Text(1), s.Text(2)});
      }
    }
  }
  {
    CAIRN_TRY(Stmt s, c.Prepare(
                          "SELECT i.run_key, i.input_id, i.name, i.digest, i.source_type, "
                          "i.source, i.schema, i.profile, t.key, t.value FROM run_inputs i "
                          "LEFT JOIN run_input_tags t ON t.input_id = i.input_id "
                          "WHERE i.run_key IN (SELECT value FROM json_each(?)) "
                          "ORDER BY i.run_key, i.input_id, t.key"));
    s.Bind(1, json);
    int64_t last_input = -1;
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      Run& run = out[index.at(s.Int(0))];
      if (s.Int(1) != last_input) {
        last_input = s.Int(1);
        DatasetInput in;
        in.name = s.Text(2);
        in.digest = s.Text(3);
        in.source_type = s.Text(4);
        in.source = s.Text(5);
        in.schema = s.Text(6);
        in.profile = s.Text(7);
        run.inputs.push_back(std::move(in));
      }
      if (!s.IsNull(8)) run.inputs.back().tags.push_back({s.Text(8), s.Text(9)});
    }
  }
  return out;
}

Result<Run> LoadRun(Connection& c, int64_t key) {
  CAIRN_TRY(std::vector<Run> runs, LoadRuns(c, {key}));
  if (runs[0].info.run_id.empty()) return Internal("run vanished");
  return std::move(runs[0]);
}

Status UpsertRunTag(Connection& c, int64_t run_key, std::string_view key,
                    std::string_view value) {
  CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO tags (run_key, key, value) VALUES (?, ?, ?) "
                              "ON CONFLICT (run_key, key) DO UPDATE SET value = excluded.value"));
  s.Bind(1, run_key).Bind(2, key).Bind(3, value);
  return s.Run();
}

}  // namespace

// --- lifecycle ----------------------------------------------------------------------------------

SqliteMetadataStore::SqliteMetadataStore(std::string db_path, const Clock& clock,
                                         std::string artifact_root,
                                         std::unique_ptr<Connection> writer)
    : db_path_(std::move(db_path)),
      clock_(clock),
      artifact_root_(std::move(artifact_root)),
      writer_(std::move(writer)) {}

SqliteMetadataStore::~SqliteMetadataStore() {
  {
    std::lock_guard lock(checkpoint_mu_);
    stopping_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
  std::lock_guard lock(write_mu_);
  if (writer_) sqlite3_wal_hook(writer_->raw(), nullptr, nullptr);
  idle_readers_.clear();
  writer_.reset();  // the last connection to close checkpoints and removes the WAL
}

int SqliteMetadataStore::OnWalCommit(void* self, sqlite3* db, const char* name, int pages) {
  auto* store = static_cast<SqliteMetadataStore*>(self);
  if (pages >= kWriterCheckpointPages) {
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= kCheckpointPages) {
    {
      std::lock_guard lock(store->checkpoint_mu_);
      store->checkpoint_wanted_ = true;
    }
    store->checkpoint_cv_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteMetadataStore::CheckpointLoop(std::unique_ptr<Connection> conn) {
  std::unique_lock lock(checkpoint_mu_);
  while (true) {
    checkpoint_cv_.wait(lock, [&] { return checkpoint_wanted_ || stopping_; });
    if (stopping_) return;
    checkpoint_wanted_ = false;
    lock.unlock();
    // PASSIVE: copies what it can without blocking the writer or readers.
    sqlite3_wal_checkpoint_v2(conn->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
  }
}

int SqliteMetadataStore::LatestSchemaVersion() { return kNumMigrations; }

Result<std::unique_ptr<SqliteMetadataStore>> SqliteMetadataStore::Open(
    const std::string& db_path, const Clock& clock, std::string default_artifact_root) {
  CAIRN_TRY(auto writer, Connection::Open(db_path));
  while (default_artifact_root.size() > 1 && default_artifact_root.back() == '/' &&
         default_artifact_root[default_artifact_root.size() - 2] != '/') {
    default_artifact_root.pop_back();
  }
  auto store = std::unique_ptr<SqliteMetadataStore>(
      new SqliteMetadataStore(db_path, clock, std::move(default_artifact_root),
                              std::move(writer)));
  Status status = store->Write([&](Connection& c) -> Status {
    int version = 0;
    {
      CAIRN_TRY(Stmt s, c.Prepare("PRAGMA user_version"));
      CAIRN_TRY(bool row, s.Step());
      if (row) version = static_cast<int>(s.Int(0));
    }
    if (version > kNumMigrations) {
      return FailedPrecondition("database " + db_path + " has schema version " +
                                std::to_string(version) + ", newer than this build's " +
                                std::to_string(kNumMigrations));
    }
    for (int v = version; v < kNumMigrations; ++v) {
      CAIRN_RETURN_IF_ERROR(c.Exec(kMigrations[v]));
    }
    if (version != kNumMigrations) {
      CAIRN_RETURN_IF_ERROR(
          c.Exec(("PRAGMA user_version = " + std::to_string(kNumMigrations)).c_str()));
    }
    CAIRN_TRY(Stmt s, c.Prepare("INSERT OR IGNORE INTO experiments (experiment_id, name, "
                                "artifact_location, lifecycle_stage, creation_time, "
                                "last_update_time) VALUES (0, 'Default', ?, 'active', ?, ?)"));
    int64_t now = store->clock_.NowMillis();
    s.Bind(1, store->artifact_root_ + "/0").Bind(2, now).Bind(3, now);
    return s.Run();
  });
  if (!status.ok()) return status;
  CAIRN_TRY(auto checkpoint_conn, Connection::Open(db_path));
  SqliteMetadataStore* raw = store.get();
  raw->checkpointer_ = std::thread(
      [raw, conn = std::move(checkpoint_conn)]() mutable { raw->CheckpointLoop(std::move(conn)); });
  sqlite3_wal_hook(raw->writer_->raw(), &SqliteMetadataStore::OnWalCommit, raw);
  return store;
}

Result<int> SqliteMetadataStore::SchemaVersion() {
  int version = 0;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(Stmt s, c.Prepare("PRAGMA user_version"));
    CAIRN_TRY(bool row, s.Step());
    if (row) version = static_cast<int>(s.Int(0));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return version;
}

Status SqliteMetadataStore::Write(const std::function<Status(Connection&)>& fn) {
  // Group commit: callers queue their transaction bodies; whoever finds no batch running becomes
  // the leader, runs everything queued in one transaction and wakes the others after COMMIT.
  PendingWrite me{&fn, Status::Ok(), false};
  std::unique_lock lock(queue_mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (leader_active_) {
      queue_cv_.wait(lock);
      continue;
    }
    leader_active_ = true;
    std::vector<PendingWrite*> batch;
    batch.swap(queue_);
    lock.unlock();
    CommitBatch(batch);
    lock.lock();
    leader_active_ = false;
    for (PendingWrite* w : batch) w->done = true;
    queue_cv_.notify_all();
  }
  return me.status;
}

void SqliteMetadataStore::CommitBatch(const std::vector<PendingWrite*>& batch) {
  std::lock_guard lock(write_mu_);
  Connection& c = *writer_;
  c.TrimCache();
  auto fail_all = [&](const Status& status) {
    for (PendingWrite* w : batch) w->status = status;
  };
  {
    auto begin = c.Prepare("BEGIN IMMEDIATE");
    Status status = begin.ok() ? begin->Run() : begin.status();
    if (!status.ok()) return fail_all(status);
  }
  if (batch.size() == 1) {
    batch[0]->status = (*batch[0]->fn)(c);
    if (!batch[0]->status.ok()) {
      (void)c.Exec("ROLLBACK");
      return;
    }
  } else {
    // Each caller's writes sit in a savepoint, so one caller's error undoes only its own.
    for (PendingWrite* w : batch) {
      Status status = c.Exec("SAVEPOINT caller");
      if (status.ok()) status = (*w->fn)(c);
      if (!status.ok()) (void)c.Exec("ROLLBACK TO caller");
      Status released = c.Exec("RELEASE caller");
      w->status = status.ok() ? released : status;
    }
  }
  auto commit = c.Prepare("COMMIT");
  Status committed = commit.ok() ? commit->Run() : commit.status();
  if (!committed.ok()) {
    (void)c.Exec("ROLLBACK");
    for (PendingWrite* w : batch) {
      if (w->status.ok()) w->status = committed;
    }
  }
}

Status SqliteMetadataStore::Read(const std::function<Status(Connection&)>& fn) {
  std::unique_ptr<Connection> conn;
  {
    std::lock_guard lock(pool_mu_);
    if (!idle_readers_.empty()) {
      conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
  }
  if (!conn) {
    CAIRN_TRY(conn, Connection::Open(db_path_));
  }
  conn->TrimCache();
  Status status;
  {
    CAIRN_TRY(Stmt begin, conn->Prepare("BEGIN"));
    status = begin.Run();
  }
  if (status.ok()) {
    status = fn(*conn);
    CAIRN_TRY(Stmt end, conn->Prepare("COMMIT"));
    Status end_status = end.Run();
    if (status.ok()) status = end_status;
  }
  std::lock_guard lock(pool_mu_);
  if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(conn));
  return status;
}

// --- experiments --------------------------------------------------------------------------------

Result<std::string> SqliteMetadataStore::CreateExperiment(const NewExperiment& experiment) {
  std::string id_text;
  Status status = Write([&](Connection& c) -> Status {
    {
      CAIRN_TRY(Stmt s, c.Prepare("SELECT 1 FROM experiments WHERE name = ?"));
      s.Bind(1, experiment.name);
      CAIRN_TRY(bool taken, s.Step());
      if (taken) {
        return AlreadyExists("Experiment '" + experiment.name + "' already exists.");
      }
    }
    int64_t id = 0;
    {
      CAIRN_TRY(Stmt s, c.Prepare("SELECT COALESCE(MAX(experiment_id) + 1, 0) FROM experiments"));
      CAIRN_TRY(bool row, s.Step());
      if (row) id = s.Int(0);
    }
    id_text = std::to_string(id);
    int64_t created = experiment.creation_time ? experiment.creation_time : clock_.NowMillis();
    std::string location = experiment.artifact_location.empty()
                               ? artifact_root_ + "/" + id_text
                               : experiment.artifact_location;
    {
      CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO experiments (experiment_id, name, "
                                  "artifact_location, lifecycle_stage, creation_time, "
                                  "last_update_time) VALUES (?, ?, ?, 'active', ?, ?)"));
      s.Bind(1, id).Bind(2, experiment.name).Bind(3, location).Bind(4, created).Bind(5, created);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    for (const Tag& tag : experiment.tags) {
      CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO experiment_tags (experiment_id, key, value) "
                                  "VALUES (?, ?, ?) ON CONFLICT (experiment_id, key) "
                                  "DO UPDATE SET value = excluded.value"));
      s.Bind(1, id).Bind(2, tag.key).Bind(3, tag.value);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return id_text;
}

Result<Experiment> SqliteMetadataStore::GetExperiment(std::string_view experiment_id) {
  std::optional<Experiment> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(ExperimentRef ref, FindExperiment(c, experiment_id));
    CAIRN_TRY(out, LoadExperiment(c, ref.id));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<Experiment> SqliteMetadataStore::GetExperimentByName(std::string_view name) {
  std::optional<Experiment> out;
  Status status = Read([&](Connection& c) -> Status {
    int64_t id;
    {
      CAIRN_TRY(Stmt s, c.Prepare("SELECT experiment_id FROM experiments WHERE name = ?"));
      s.Bind(1, name);
      CAIRN_TRY(bool row, s.Step());
      if (!row) {
        return NotFound("Could not find experiment with name '" + std::string(name) + "'");
      }
      id = s.Int(0);
    }
    CAIRN_TRY(out, LoadExperiment(c, id));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Status SqliteMetadataStore::RenameExperiment(std::string_view experiment_id,
                                             std::string_view new_name, int64_t time) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(ExperimentRef ref, FindExperiment(c, experiment_id));
    if (!ref.active) {
      return InvalidArgument("Cannot rename a non-active experiment " + std::string(experiment_id));
    }
    {
      CAIRN_TRY(Stmt s, c.Prepare("SELECT experiment_id FROM experiments WHERE name = ?"));
      s.Bind(1, new_name);
      CAIRN_TRY(bool row, s.Step());
      if (row && s.Int(0) != ref.id) {
        return AlreadyExists("Experiment '" + std::string(new_name) + "' already exists.");
      }
    }
    CAIRN_TRY(Stmt s, c.Prepare("UPDATE experiments SET name = ?, last_update_time = ? "
                                "WHERE experiment_id = ?"));
    s.Bind(1, new_name).Bind(2, time ? time : clock_.NowMillis()).Bind(3, ref.id);
    return s.Run();
  });
}

Status SqliteMetadataStore::SetExperimentLifecycle(std::string_view experiment_id,
                                                   LifecycleStage stage, int64_t time) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(ExperimentRef ref, FindExperiment(c, experiment_id));
    if (ref.active == (stage == LifecycleStage::kActive)) return Status::Ok();
    {
      CAIRN_TRY(Stmt s, c.Prepare("UPDATE experiments SET lifecycle_stage = ?, "
                                  "last_update_time = ? WHERE experiment_id = ?"));
      s.Bind(1, StageText(stage)).Bind(2, time ? time : clock_.NowMillis()).Bind(3, ref.id);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    // Deleting marks the active runs as deleted with the experiment; restoring brings back
    // exactly those (runs deleted on their own stay deleted).
    CAIRN_TRY(Stmt s, c.Prepare(
                          stage == LifecycleStage::kDeleted
                              ? "UPDATE runs SET lifecycle_stage = 'deleted', "
                                "deleted_with_experiment = 1 WHERE experiment_id = ? AND "
                                "lifecycle_stage = 'active'"
                              : "UPDATE runs SET lifecycle_stage = 'active', "
                                "deleted_with_experiment = 0 WHERE experiment_id = ? AND "
                                "deleted_with_experiment = 1"));
    s.Bind(1, ref.id);
    return s.Run();
  });
}

Status SqliteMetadataStore::SetExperimentTag(std::string_view experiment_id, const Tag& tag) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(ExperimentRef ref, FindExperiment(c, experiment_id));
    if (!ref.active) {
      return InvalidArgument("The experiment " + std::string(experiment_id) +
                             " must be in the 'active' state.");
    }
    CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO experiment_tags (experiment_id, key, value) "
                                "VALUES (?, ?, ?) ON CONFLICT (experiment_id, key) "
                                "DO UPDATE SET value = excluded.value"));
    s.Bind(1, ref.id).Bind(2, tag.key).Bind(3, tag.value);
    return s.Run();
  });
}

Result<ExperimentPage> SqliteMetadataStore::SearchExperiments(const ExperimentQuery& query) {
  Sql sql;
  sql << "SELECT e.experiment_id FROM experiments e";
  int alias = 0;
  // Joins come first in the text, so their parameters must be bound first: build joins and
  // conditions in two passes over the filter.
  for (const Comparison& c : query.filter) {
    if (c.kind == EntityKind::kTag) {
      std::string a = "t" + std::to_string(alias++);
      sql << " JOIN experiment_tags " << a << " ON " << a << ".experiment_id = e.experiment_id AND "
          << a << ".key = ";
      sql.Param(c.key);
    } else if (c.kind != EntityKind::kAttribute) {
      return InvalidArgument("experiments can be filtered on attributes and tags only");
    }
  }
  sql << " WHERE 1";
  alias = 0;
  for (const Comparison& c : query.filter) {
    sql << " AND ";
    if (c.kind == EntityKind::kTag) {
      std::string a = "t" + std::to_string(alias++);
      CAIRN_RETURN_IF_ERROR(AppendStringCondition(sql, a + ".value", c));
    } else {
      auto attr = ExperimentAttribute(c.key);
      if (!attr) return InvalidArgument("Invalid attribute key '" + c.key + "'");
      if (attr->numeric) {
        CAIRN_RETURN_IF_ERROR(AppendNumberCondition(sql, attr->column, c, false));
      } else {
        CAIRN_RETURN_IF_ERROR(AppendStringCondition(sql, attr->column, c));
      }
    }
  }
  if (query.view_type == ViewType::kActiveOnly) sql << " AND e.lifecycle_stage = 'active'";
  if (query.view_type == ViewType::kDeletedOnly) sql << " AND e.lifecycle_stage = 'deleted'";
  sql << " ORDER BY ";
  for (const OrderKey& o : query.order_by) {
    if (o.kind != EntityKind::kAttribute) {
      return InvalidArgument("experiments can be ordered by attributes only");
    }
    auto attr = ExperimentAttribute(o.key);
    if (!attr) return InvalidArgument("Invalid order_by key '" + o.key + "'");
    sql << attr->column << (o.ascending ? " ASC, " : " DESC, ");
  }
  sql << "e.creation_time DESC, e.experiment_id ASC LIMIT ";
  sql.Param(std::max<int64_t>(query.max_results, 0) + 1);
  sql << " OFFSET ";
  sql.Param(std::max<int64_t>(query.offset, 0));

  ExperimentPage page;
  Status status = Read([&](Connection& c) -> Status {
    std::vector<int64_t> ids;
    {
      CAIRN_TRY(Stmt s, c.Prepare(sql.text));
      sql.BindTo(s);
      while (true) {
        CAIRN_TRY(bool row, s.Step());
        if (!row) break;
        ids.push_back(s.Int(0));
      }
    }
    if (static_cast<int64_t>(ids.size()) > query.max_results) {
      page.has_more = true;
      ids.resize(std::max<int64_t>(query.max_results, 0));
    }
    CAIRN_TRY(page.experiments, LoadExperiments(c, ids));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return page;
}

// --- runs ---------------------------------------------------------------------------------------

Result<Run> SqliteMetadataStore::CreateRun(const NewRun& run) {
  std::optional<Run> out;
  Status status = Write([&](Connection& c) -> Status {
    CAIRN_TRY(ExperimentRef exp, FindExperiment(c, run.experiment_id));
    if (!exp.active) {
      return InvalidArgument("The experiment " + run.experiment_id +
                             " must be in the 'active' state.");
    }
    std::string run_name = run.run_name;
    for (const Tag& tag : run.tags) {
      if (tag.key != kRunNameTag) continue;
      if (run_name.empty()) {
        run_name = tag.value;
      } else if (tag.value != run_name) {
        return InvalidArgument("Both 'run_name' argument and 'mlflow.runName' tag are "
                               "specified, but with different values.");
      }
    }
    {
      CAIRN_TRY(Stmt s, c.Prepare("SELECT 1 FROM runs WHERE run_uuid = ?"));
      s.Bind(1, run.run_id);
      CAIRN_TRY(bool taken, s.Step());
      if (taken) return AlreadyExists("Run '" + run.run_id + "' already exists");
    }
    int64_t run_key;
    {
      CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO runs (run_uuid, experiment_id, name, user_id, "
                                  "status, start_time, end_time, artifact_uri, lifecycle_stage) "
                                  "VALUES (?, ?, ?, ?, ?, ?, NULL, ?, 'active')"));
      s.Bind(1, run.run_id)
          .Bind(2, exp.id)
          .Bind(3, run_name)
          .Bind(4, run.user_id)
          .Bind(5, RunStatusName(run.status))
          .Bind(6, run.start_time ? run.start_time : clock_.NowMillis())
          .Bind(7, exp.artifact_location + "/" + run.run_id + "/artifacts");
      CAIRN_RETURN_IF_ERROR(s.Run());
      run_key = c.LastInsertRowid();
    }
    for (const Tag& tag : run.tags) {
      CAIRN_RETURN_IF_ERROR(UpsertRunTag(c, run_key, tag.key, tag.value));
    }
    if (!run_name.empty()) CAIRN_RETURN_IF_ERROR(UpsertRunTag(c, run_key, kRunNameTag, run_name));
    CAIRN_TRY(out, LoadRun(c, run_key));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<Run> SqliteMetadataStore::GetRun(std::string_view run_id) {
  std::optional<Run> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(RunRef ref, FindRun(c, run_id));
    CAIRN_TRY(out, LoadRun(c, ref.key));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<RunInfo> SqliteMetadataStore::UpdateRun(const RunUpdate& update) {
  std::optional<RunInfo> out;
  Status status = Write([&](Connection& c) -> Status {
    CAIRN_TRY(RunRef ref, FindActiveRun(c, update.run_id));
    if (update.status) {
      CAIRN_TRY(Stmt s, c.Prepare("UPDATE runs SET status = ? WHERE run_key = ?"));
      s.Bind(1, RunStatusName(*update.status)).Bind(2, ref.key);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    if (update.end_time) {
      CAIRN_TRY(Stmt s, c.Prepare("UPDATE runs SET end_time = ? WHERE run_key = ?"));
      s.Bind(1, *update.end_time).Bind(2, ref.key);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    if (update.run_name) {
      CAIRN_TRY(Stmt s, c.Prepare("UPDATE runs SET name = ? WHERE run_key = ?"));
      s.Bind(1, *update.run_name).Bind(2, ref.key);
      CAIRN_RETURN_IF_ERROR(s.Run());
      CAIRN_RETURN_IF_ERROR(UpsertRunTag(c, ref.key, kRunNameTag, *update.run_name));
    }
    CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kRunColumns +
                                " FROM runs WHERE run_key = ?"));
    s.Bind(1, ref.key);
    CAIRN_TRY(bool row, s.Step());
    if (!row) return Internal("run vanished");
    CAIRN_TRY(out, ReadRunInfo(s));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Status SqliteMetadataStore::SetRunLifecycle(std::string_view run_id, LifecycleStage stage) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(RunRef ref, FindRun(c, run_id));
    CAIRN_TRY(Stmt s, c.Prepare("UPDATE runs SET lifecycle_stage = ?, "
                                "deleted_with_experiment = 0 WHERE run_key = ?"));
    s.Bind(1, StageText(stage)).Bind(2, ref.key);
    return s.Run();
  });
}

Status SqliteMetadataStore::LogBatch(std::string_view run_id, const std::vector<Metric>& metrics,
                                     const std::vector<Param>& params,
                                     const std::vector<Tag>& tags) {
  // Conflicts within the batch are found before touching the database.
  for (size_t i = 0; i < params.size(); ++i) {
    for (size_t j = i + 1; j < params.size() && params.size() <= 128; ++j) {
      if (params[i].key == params[j].key && params[i].value != params[j].value) {
        return InvalidArgument("Duplicate parameter key '" + params[i].key +
                               "' with different values in one batch");
      }
    }
  }
  if (params.size() > 128) {
    std::unordered_map<std::string_view, std::string_view> seen;
    for (const Param& p : params) {
      auto [it, inserted] = seen.emplace(p.key, p.value);
      if (!inserted && it->second != p.value) {
        return InvalidArgument("Duplicate parameter key '" + p.key +
                               "' with different values in one batch");
      }
    }
  }
  // Group the metrics by key, keeping logged order within a key.
  std::vector<std::string_view> keys;
  std::vector<std::vector<uint32_t>> groups;
  {
    std::unordered_map<std::string_view, size_t> group_of;
    for (uint32_t i = 0; i < metrics.size(); ++i) {
      auto [it, inserted] = group_of.emplace(metrics[i].key, keys.size());
      if (inserted) {
        keys.push_back(metrics[i].key);
        groups.emplace_back();
      }
      groups[it->second].push_back(i);
    }
  }
  std::string block;
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(RunRef run, FindActiveRun(c, run_id));
    for (const Param& p : params) {
      CAIRN_TRY(Stmt ins, c.Prepare("INSERT INTO params (run_key, key, value) VALUES (?, ?, ?) "
                                    "ON CONFLICT (run_key, key) DO NOTHING"));
      ins.Bind(1, run.key).Bind(2, p.key).Bind(3, p.value);
      CAIRN_RETURN_IF_ERROR(ins.Run());
      if (c.Changes() == 1) continue;
      CAIRN_TRY(Stmt s, c.Prepare("SELECT value FROM params WHERE run_key = ? AND key = ?"));
      s.Bind(1, run.key).Bind(2, p.key);
      CAIRN_TRY(bool row, s.Step());
      if (row && s.TextView(0) != p.value) {
        return InvalidArgument("Changing param values is not allowed. Param with key='" + p.key +
                               "' was already logged with value='" + s.Text(0) +
                               "' for run ID='" + std::string(run_id) +
                               "'. Attempted logging new value '" + p.value + "'.");
      }
    }
    for (const Tag& t : tags) {
      CAIRN_RETURN_IF_ERROR(UpsertRunTag(c, run.key, t.key, t.value));
      if (t.key == kRunNameTag) {
        CAIRN_TRY(Stmt s, c.Prepare("UPDATE runs SET name = ? WHERE run_key = ?"));
        s.Bind(1, t.value).Bind(2, run.key);
        CAIRN_RETURN_IF_ERROR(s.Run());
      }
    }
    for (size_t g = 0; g < keys.size(); ++g) {
      const std::vector<uint32_t>& points = groups[g];
      bool have_latest = false;
      int64_t num_blocks = 0;
      int64_t best_step = 0, best_ts = 0;
      double best_value = 0;
      {
        CAIRN_TRY(Stmt s, c.Prepare("SELECT value, timestamp, step, is_nan, num_blocks "
                                    "FROM latest_metrics WHERE run_key = ? AND key = ?"));
        s.Bind(1, run.key).Bind(2, keys[g]);
        CAIRN_TRY(bool row, s.Step());
        if (row) {
          have_latest = true;
          best_value = s.Int(3) ? std::numeric_limits<double>::quiet_NaN() : s.Double(0);
          best_ts = s.Int(1);
          best_step = s.Int(2);
          num_blocks = s.Int(4);
        }
      }
      bool changed = !have_latest;
      block.resize(points.size() * kPointBytes);
      char* p = block.data();
      for (uint32_t i : points) {
        const Metric& m = metrics[i];
        PutI64(p, m.step);
        PutI64(p + 8, m.timestamp);
        std::memcpy(p + 16, &m.value, 8);
        p += kPointBytes;
        if (!have_latest ||
            PointGreater(m.step, m.timestamp, m.value, best_step, best_ts, best_value)) {
          have_latest = true;
          changed = true;
          best_step = m.step;
          best_ts = m.timestamp;
          best_value = m.value;
        }
      }
      {
        CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO metric_blocks (run_key, key, seq, count, data) "
                                    "VALUES (?, ?, ?, ?, ?)"));
        s.Bind(1, run.key)
            .Bind(2, keys[g])
            .Bind(3, num_blocks)
            .Bind(4, static_cast<int64_t>(points.size()))
            .BindBlob(5, block);
        CAIRN_RETURN_IF_ERROR(s.Run());
      }
      CAIRN_TRY(Stmt s, c.Prepare(
                            "INSERT INTO latest_metrics (run_key, key, value, timestamp, step, "
                            "is_nan, num_blocks) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1) "
                            "ON CONFLICT (run_key, key) DO UPDATE SET num_blocks = num_blocks + 1, "
                            "value = CASE WHEN ?7 THEN ?3 ELSE value END, "
                            "timestamp = CASE WHEN ?7 THEN ?4 ELSE timestamp END, "
                            "step = CASE WHEN ?7 THEN ?5 ELSE step END, "
                            "is_nan = CASE WHEN ?7 THEN ?6 ELSE is_nan END"));
      s.Bind(1, run.key).Bind(2, keys[g]);
      if (std::isnan(best_value)) {
        s.BindNull(3);
      } else {
        s.Bind(3, best_value);
      }
      s.Bind(4, best_ts).Bind(5, best_step).Bind(6, std::isnan(best_value) ? 1 : 0);
      s.Bind(7, changed ? 1 : 0);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    return Status::Ok();
  });
}

Status SqliteMetadataStore::DeleteTag(std::string_view run_id, std::string_view key) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(RunRef run, FindActiveRun(c, run_id));
    CAIRN_TRY(Stmt s, c.Prepare("DELETE FROM tags WHERE run_key = ? AND key = ?"));
    s.Bind(1, run.key).Bind(2, key);
    CAIRN_RETURN_IF_ERROR(s.Run());
    if (c.Changes() == 0) {
      return NotFound("No tag with name: " + std::string(key) + " in run with id " +
                      std::string(run_id));
    }
    return Status::Ok();
  });
}

Status SqliteMetadataStore::LogInputs(std::string_view run_id,
                                      const std::vector<DatasetInput>& inputs) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(RunRef run, FindActiveRun(c, run_id));
    for (const DatasetInput& in : inputs) {
      {
        CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO run_inputs (run_key, name, digest, source_type, "
                                    "source, schema, profile) VALUES (?, ?, ?, ?, ?, ?, ?) "
                                    "ON CONFLICT (run_key, name, digest) DO NOTHING"));
        s.Bind(1, run.key)
            .Bind(2, in.name)
            .Bind(3, in.digest)
            .Bind(4, in.source_type)
            .Bind(5, in.source)
            .Bind(6, in.schema)
            .Bind(7, in.profile);
        CAIRN_RETURN_IF_ERROR(s.Run());
      }
      if (c.Changes() == 0) continue;
      int64_t input_id = c.LastInsertRowid();
      for (const Tag& t : in.tags) {
        CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO run_input_tags (input_id, key, value) "
                                    "VALUES (?, ?, ?) ON CONFLICT (input_id, key) "
                                    "DO UPDATE SET value = excluded.value"));
        s.Bind(1, input_id).Bind(2, t.key).Bind(3, t.value);
        CAIRN_RETURN_IF_ERROR(s.Run());
      }
    }
    return Status::Ok();
  });
}

Result<MetricHistoryPage> SqliteMetadataStore::GetMetricHistory(std::string_view run_id,
                                                                std::string_view key,
                                                                int64_t offset,
                                                                int64_t max_results) {
  MetricHistoryPage page;
  int64_t limit = max_results > 0 ? max_results : std::numeric_limits<int64_t>::max();
  int64_t skip = std::max<int64_t>(offset, 0);
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(RunRef run, FindRun(c, run_id));
    CAIRN_TRY(Stmt s, c.Prepare("SELECT count, data FROM metric_blocks "
                                "WHERE run_key = ? AND key = ? ORDER BY seq"));
    s.Bind(1, run.key).Bind(2, key);
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      int64_t count = s.Int(0);
      if (skip >= count) {
        skip -= count;
        continue;
      }
      if (static_cast<int64_t>(page.metrics.size()) >= limit) {
        page.has_more = true;
        break;
      }
      std::string_view data = s.Blob(1);
      if (data.size() != static_cast<size_t>(count) * kPointBytes) {
        return DataLoss("corrupt metric block for run " + std::string(run_id));
      }
      for (int64_t i = skip; i < count; ++i) {
        if (static_cast<int64_t>(page.metrics.size()) >= limit) {
          page.has_more = true;
          break;
        }
        const char* p = data.data() + i * kPointBytes;
        page.metrics.push_back(Metric{std::string(key), GetF64(p + 16), GetI64(p + 8), GetI64(p)});
      }
      skip = 0;
      if (page.has_more) break;
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return page;
}

namespace {

const char* EntityTable(EntityKind kind) {
  switch (kind) {
    case EntityKind::kMetric: return "latest_metrics";
    case EntityKind::kParam: return "params";
    case EntityKind::kTag: return "tags";
    default: return nullptr;
  }
}

// The SQL selecting the run keys of one page of `query`, in order (LIMIT max_results + 1).
//
// The general plan lets SQLite choose (usually: drive from the most selective filter index, sort
// the matches). With `order_driven`, the first order key (a metric, param or tag) drives instead:
// its (key, value) index is walked in order and filters are probed per run, so a page is found
// after a few hundred rows when the filters are not very selective. That plan covers only runs
// that have a non-NaN value for the key; since those sort first, a full page from it is exact.
Result<Sql> RunSearchSql(const RunQuery& query, bool order_driven) {
  Sql sql;
  sql << "SELECT r.run_key FROM ";
  if (order_driven) {
    sql << EntityTable(query.order_by[0].kind) << " o0 CROSS JOIN runs r ON r.run_key = o0.run_key";
  } else {
    sql << "runs r";
  }
  const char* join = order_driven ? " CROSS JOIN " : " JOIN ";
  int alias = 0;
  for (const Comparison& c : query.filter) {
    const char* table = EntityTable(c.kind);
    if (table == nullptr) continue;
    std::string a = "f" + std::to_string(alias++);
    sql << join << table << " " << a << " ON " << a << ".run_key = r.run_key AND " << a
        << ".key = ";
    sql.Param(c.key);
  }
  for (size_t i = order_driven ? 1 : 0; i < query.order_by.size(); ++i) {
    const OrderKey& o = query.order_by[i];
    const char* table = EntityTable(o.kind);
    if (table == nullptr) continue;
    std::string a = "o" + std::to_string(i);
    sql << " LEFT JOIN " << table << " " << a << " ON " << a << ".run_key = r.run_key AND " << a
        << ".key = ";
    sql.Param(o.key);
  }
  sql << " WHERE 1";
  if (order_driven) {
    sql << " AND o0.key = ";
    sql.Param(query.order_by[0].key);
    sql << " AND o0.value IS NOT NULL";
  }
  if (!query.experiment_ids.empty()) {
    sql << " AND r.experiment_id IN (";
    bool any = false;
    for (const std::string& id : query.experiment_ids) {
      auto parsed = ParseId(id);
      if (!parsed) continue;
      if (any) sql << ", ";
      sql.Param(*parsed);
      any = true;
    }
    if (!any) sql << "NULL";
    sql << ")";
  }
  if (query.view_type == ViewType::kActiveOnly) sql << " AND r.lifecycle_stage = 'active'";
  if (query.view_type == ViewType::kDeletedOnly) sql << " AND r.lifecycle_stage = 'deleted'";
  alias = 0;
  for (const Comparison& c : query.filter) {
    sql << " AND ";
    if (c.kind == EntityKind::kAttribute) {
      auto attr = RunAttribute(c.key);
      if (!attr) return InvalidArgument("Invalid attribute key '" + c.key + "'");
      if (attr->numeric) {
        CAIRN_RETURN_IF_ERROR(AppendNumberCondition(sql, attr->column, c, false));
      } else {
        CAIRN_RETURN_IF_ERROR(AppendStringCondition(sql, attr->column, c));
      }
      continue;
    }
    std::string column = "f" + std::to_string(alias++) + ".value";
    if (c.kind == EntityKind::kMetric) {
      CAIRN_RETURN_IF_ERROR(AppendNumberCondition(sql, column, c, true));
    } else {
      CAIRN_RETURN_IF_ERROR(AppendStringCondition(sql, column, c));
    }
  }
  sql << " ORDER BY ";
  for (size_t i = 0; i < query.order_by.size(); ++i) {
    const OrderKey& o = query.order_by[i];
    const char* dir = o.ascending ? " ASC, " : " DESC, ";
    if (o.kind == EntityKind::kAttribute) {
      auto attr = RunAttribute(o.key);
      if (!attr) return InvalidArgument("Invalid order_by key '" + o.key + "'");
      sql << attr->column << " IS NULL, " << attr->column << dir;
      continue;
    }
    std::string a = "o" + std::to_string(i);
    if (i == 0 && order_driven) {
      sql << a << ".value" << dir;
    } else if (o.kind == EntityKind::kMetric) {
      // Numbers, then NaN, then runs without the metric — in both directions.
      sql << "CASE WHEN " << a << ".run_key IS NULL THEN 2 WHEN " << a << ".is_nan THEN 1 "
          << "ELSE 0 END, " << a << ".value" << dir;
    } else {
      sql << a << ".value IS NULL, " << a << ".value" << dir;
    }
  }
  sql << "r.start_time DESC, r.run_uuid ASC LIMIT ";
  sql.Param(std::max<int64_t>(query.max_results, 0) + 1);
  sql << " OFFSET ";
  sql.Param(std::max<int64_t>(query.offset, 0));
  return sql;
}

// Interrupts a statement after a budget of VM instructions (checked every 1000).
struct StepBudget {
  int64_t remaining_calls;
  static int Check(void* self) { return --static_cast<StepBudget*>(self)->remaining_calls < 0; }
};

// Budget for the order-driven attempt, in thousands of VM instructions. A page of 100 under
// filters that keep 1 run in 8 takes about 17k instructions (~2 ms); the budget grows with the
// page and gives up (falling back to the general plan) when filters keep fewer than ~1 in 25.
int64_t OrderDrivenBudget(const RunQuery& q) {
  return std::min<int64_t>(500, 20 + (q.offset + q.max_results + 1) / 4);
}

}  // namespace

Result<RunPage> SqliteMetadataStore::SearchRuns(const RunQuery& query) {
  CAIRN_TRY(Sql general, RunSearchSql(query, false));
  std::optional<Sql> order_driven;
  if (!query.order_by.empty() && query.order_by[0].kind != EntityKind::kAttribute &&
      query.offset + query.max_results < 10000) {
    CAIRN_TRY(order_driven, RunSearchSql(query, true));
  }
  RunPage page;
  auto collect = [&](Connection& c, const Sql& sql, std::vector<int64_t>& keys) -> Status {
    CAIRN_TRY(Stmt s, c.Prepare(sql.text));
    sql.BindTo(s);
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) return Status::Ok();
      keys.push_back(s.Int(0));
    }
  };
  Status status = Read([&](Connection& c) -> Status {
    std::vector<int64_t> keys;
    bool done = false;
    if (order_driven) {
      StepBudget budget{OrderDrivenBudget(query)};
      sqlite3_progress_handler(c.raw(), 1000, &StepBudget::Check, &budget);
      Status attempt = collect(c, *order_driven, keys);
      sqlite3_progress_handler(c.raw(), 0, nullptr, nullptr);
      done = attempt.ok() && static_cast<int64_t>(keys.size()) > query.max_results;
      if (!done) keys.clear();
    }
    if (!done) CAIRN_RETURN_IF_ERROR(collect(c, general, keys));
    if (static_cast<int64_t>(keys.size()) > query.max_results) {
      page.has_more = true;
      keys.resize(std::max<int64_t>(query.max_results, 0));
    }
    CAIRN_TRY(page.runs, LoadRuns(c, keys));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return page;
}

// --- artifact index -----------------------------------------------------------------------------

namespace {

// The smallest string greater than every string starting with `prefix` + '/'.
std::string SubtreeEnd(std::string_view dir) { return std::string(dir) + '0'; }  // '0' = '/' + 1

}  // namespace

Status SqliteMetadataStore::PutArtifact(const ArtifactEntry& entry) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO artifacts (path, digest, size, mtime) "
                                "VALUES (?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
                                "digest = excluded.digest, size = excluded.size, "
                                "mtime = excluded.mtime"));
    s.Bind(1, entry.path).Bind(2, entry.digest).Bind(3, entry.size).Bind(4, clock_.NowMillis());
    return s.Run();
  });
}

Result<ArtifactEntry> SqliteMetadataStore::GetArtifact(std::string_view path) {
  std::optional<ArtifactEntry> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(Stmt s, c.Prepare("SELECT digest, size FROM artifacts WHERE path = ?"));
    s.Bind(1, path);
    CAIRN_TRY(bool row, s.Step());
    if (!row) return NotFound("No artifact at '" + std::string(path) + "'");
    out = ArtifactEntry{std::string(path), false, s.Int(1), s.Text(0)};
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<std::vector<ArtifactEntry>> SqliteMetadataStore::ListArtifacts(std::string_view dir) {
  std::string prefix(dir);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  const std::string end = prefix.empty() ? std::string() : SubtreeEnd(prefix);
  if (!prefix.empty()) prefix += '/';
  std::vector<ArtifactEntry> out;
  Status status = Read([&](Connection& c) -> Status {
    // Walk the subtree in path order; on meeting a deeper path, emit its first component as a
    // directory and seek past that directory's whole subtree.
    std::string from = prefix;
    while (true) {
      CAIRN_TRY(Stmt s, c.Prepare(end.empty()
                                      ? "SELECT path, digest, size FROM artifacts "
                                        "WHERE path >= ?1 AND ?2 = '' ORDER BY path"
                                      : "SELECT path, digest, size FROM artifacts "
                                        "WHERE path >= ?1 AND path < ?2 ORDER BY path"));
      s.Bind(1, from).Bind(2, end);
      bool reseek = false;
      while (true) {
        CAIRN_TRY(bool row, s.Step());
        if (!row) break;
        std::string_view path = s.TextView(0);
        std::string_view rest = path.substr(prefix.size());
        size_t slash = rest.find('/');
        if (slash == std::string_view::npos) {
          out.push_back(ArtifactEntry{std::string(path), false, s.Int(2), s.Text(1)});
          continue;
        }
        std::string sub = prefix + std::string(rest.substr(0, slash));
        out.push_back(ArtifactEntry{sub, true, 0, ""});
        from = SubtreeEnd(sub);
        reseek = true;
        break;
      }
      if (!reseek) break;
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  std::sort(out.begin(), out.end(),
            [](const ArtifactEntry& a, const ArtifactEntry& b) { return a.path < b.path; });
  return out;
}

Status SqliteMetadataStore::DeleteArtifacts(std::string_view path) {
  std::string p(path);
  while (!p.empty() && p.back() == '/') p.pop_back();
  return Write([&](Connection& c) -> Status {
    int64_t removed = 0;
    if (p.empty()) {
      CAIRN_RETURN_IF_ERROR(c.Exec("DELETE FROM artifacts"));
      removed = c.Changes();
    } else {
      CAIRN_TRY(Stmt s, c.Prepare("DELETE FROM artifacts WHERE path = ?1 OR "
                                  "(path >= ?2 AND path < ?3)"));
      s.Bind(1, p).Bind(2, p + "/").Bind(3, SubtreeEnd(p));
      CAIRN_RETURN_IF_ERROR(s.Run());
      removed = c.Changes();
    }
    if (removed == 0) return NotFound("No artifact at '" + p + "'");
    return Status::Ok();
  });
}

// --- datasets ----------------------------------------------------------------------------------

namespace {

constexpr const char* kDatasetVersionColumns =
    "name, version, version_id, manifest_digest, profile_digest, size_bytes, row_count, "
    "description, created_by, creation_time";

DatasetVersion ReadDatasetVersion(const Stmt& s) {
  DatasetVersion v;
  v.name = s.Text(0);
  v.version = s.Int(1);
  v.version_id = s.Text(2);
  v.manifest_digest = s.Text(3);
  v.profile_digest = s.Text(4);
  v.size_bytes = s.Int(5);
  v.row_count = s.Int(6);
  v.description = s.Text(7);
  v.created_by = s.Text(8);
  v.creation_time = s.Int(9);
  return v;
}

// The dataset's latest version number, or nullopt if there is no such dataset.
Result<std::optional<int64_t>> LatestDatasetVersion(Connection& c, std::string_view name) {
  CAIRN_TRY(Stmt s, c.Prepare("SELECT latest_version FROM datasets WHERE name = ?"));
  s.Bind(1, name);
  CAIRN_TRY(bool row, s.Step());
  if (!row) return std::optional<int64_t>();
  return std::optional<int64_t>(s.Int(0));
}

Result<DatasetVersion> LoadDatasetVersion(Connection& c, std::string_view name, int64_t version) {
  CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kDatasetVersionColumns +
                              " FROM dataset_versions WHERE name = ? AND version = ?"));
  s.Bind(1, name).Bind(2, version);
  CAIRN_TRY(bool row, s.Step());
  if (!row) {
    return Internal("dataset '" + std::string(name) + "' lost its version v" +
                    std::to_string(version));
  }
  return ReadDatasetVersion(s);
}

Status DatasetNotFound(std::string_view name) {
  return NotFound("dataset '" + std::string(name) + "' does not exist");
}

}  // namespace

Result<CreatedDatasetVersion> SqliteMetadataStore::CreateDatasetVersion(const DatasetVersion& v) {
  CreatedDatasetVersion out;
  // Inside Write the single writer connection holds the transaction, so reading the latest
  // version and inserting the next one cannot interleave with another caller's.
  Status status = Write([&](Connection& c) -> Status {
    CAIRN_TRY(std::optional<int64_t> latest, LatestDatasetVersion(c, v.name));
    if (latest) {
      CAIRN_TRY(DatasetVersion current, LoadDatasetVersion(c, v.name, *latest));
      if (current.version_id == v.version_id) {
        out = {std::move(current), false};
        return Status::Ok();
      }
    }
    DatasetVersion next = v;
    next.version = latest.value_or(0) + 1;
    if (next.creation_time == 0) next.creation_time = clock_.NowMillis();
    if (latest) {
      CAIRN_TRY(Stmt s, c.Prepare("UPDATE datasets SET latest_version = ?, last_update_time = ? "
                                  "WHERE name = ?"));
      s.Bind(1, next.version).Bind(2, next.creation_time).Bind(3, next.name);
      CAIRN_RETURN_IF_ERROR(s.Run());
    } else {
      CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO datasets (name, latest_version, creation_time, "
                                  "last_update_time) VALUES (?, ?, ?, ?)"));
      s.Bind(1, next.name).Bind(2, next.version).Bind(3, next.creation_time)
          .Bind(4, next.creation_time);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    {
      CAIRN_TRY(Stmt s, c.Prepare(std::string("INSERT INTO dataset_versions (") +
                                  kDatasetVersionColumns +
                                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      s.Bind(1, next.name).Bind(2, next.version).Bind(3, next.version_id)
          .Bind(4, next.manifest_digest).Bind(5, next.profile_digest).Bind(6, next.size_bytes)
          .Bind(7, next.row_count).Bind(8, next.description).Bind(9, next.created_by)
          .Bind(10, next.creation_time);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    out = {std::move(next), true};
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

Result<DatasetVersion> SqliteMetadataStore::GetDatasetVersion(std::string_view name,
                                                              std::optional<int64_t> version) {
  std::optional<DatasetVersion> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(std::optional<int64_t> latest, LatestDatasetVersion(c, name));
    if (!latest) return DatasetNotFound(name);
    int64_t wanted = version.value_or(*latest);
    if (wanted < 1 || wanted > *latest) {
      return NotFound("dataset '" + std::string(name) + "' has no version v" +
                      std::to_string(wanted) + " (latest is v" + std::to_string(*latest) + ")");
    }
    CAIRN_TRY(out, LoadDatasetVersion(c, name, wanted));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<std::vector<DatasetSummary>> SqliteMetadataStore::ListDatasets() {
  std::vector<DatasetSummary> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(Stmt s, c.Prepare(
                          "SELECT d.name, d.latest_version, d.last_update_time, v.description, "
                          "(SELECT COUNT(*) FROM dataset_versions n WHERE n.name = d.name) "
                          "FROM datasets d JOIN dataset_versions v "
                          "ON v.name = d.name AND v.version = d.latest_version ORDER BY d.name"));
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      out.push_back(DatasetSummary{s.Text(0), s.Int(1), s.Int(4), s.Int(2), s.Text(3)});
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

Result<std::vector<DatasetVersion>> SqliteMetadataStore::ListDatasetVersions(
    std::string_view name) {
  std::vector<DatasetVersion> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(std::optional<int64_t> latest, LatestDatasetVersion(c, name));
    if (!latest) return DatasetNotFound(name);
    CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kDatasetVersionColumns +
                                " FROM dataset_versions WHERE name = ? ORDER BY version DESC"));
    s.Bind(1, name);
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadDatasetVersion(s));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

// --- model registry ----------------------------------------------------------------------------

namespace {

constexpr const char* kModelVersionColumns =
    "version, creation_time, last_updated_time, description, current_stage, source, "
    "storage_location, run_id, artifact_path, run_link, status, status_message";

struct ModelRef {
  int64_t id = 0;
  std::string name;
  int64_t last_version = 0;
};

Status ModelNotFound(std::string_view name) {
  return NotFound("Registered Model with name=" + std::string(name) + " not found");
}

Status VersionNotFound(std::string_view name, int64_t version) {
  return NotFound("Model Version (name=" + std::string(name) + ", version=" +
                  std::to_string(version) + ") not found");
}

Status ModelExists(std::string_view name) {
  return AlreadyExists("Registered Model (name=" + std::string(name) + ") already exists.");
}

Result<std::optional<ModelRef>> LookUpModel(Connection& c, std::string_view name) {
  CAIRN_TRY(Stmt s, c.Prepare("SELECT model_id, last_version FROM registered_models "
                              "WHERE name = ?"));
  s.Bind(1, name);
  CAIRN_TRY(bool row, s.Step());
  if (!row) return std::optional<ModelRef>();
  return std::optional<ModelRef>(ModelRef{s.Int(0), std::string(name), s.Int(1)});
}

Result<ModelRef> FindModel(Connection& c, std::string_view name) {
  CAIRN_TRY(std::optional<ModelRef> ref, LookUpModel(c, name));
  if (!ref) return ModelNotFound(name);
  return std::move(*ref);
}

// kNotFound unless the model has the version.
Status FindVersion(Connection& c, const ModelRef& model, int64_t version) {
  CAIRN_TRY(Stmt s, c.Prepare("SELECT 1 FROM model_versions WHERE model_id = ? AND version = ?"));
  s.Bind(1, model.id).Bind(2, version);
  CAIRN_TRY(bool row, s.Step());
  if (!row) return VersionNotFound(model.name, version);
  return Status::Ok();
}

std::string StageText(ModelStage stage) { return std::string(ModelStageName(stage)); }

Status TouchModel(Connection& c, int64_t model_id, int64_t time) {
  CAIRN_TRY(Stmt s, c.Prepare("UPDATE registered_models SET last_updated_time = ? "
                              "WHERE model_id = ?"));
  s.Bind(1, time).Bind(2, model_id);
  return s.Run();
}

// Loads one version (with tags and aliases) of a model whose name is known.
Result<ModelVersion> LoadModelVersion(Connection& c, const ModelRef& model, int64_t version) {
  ModelVersion v;
  {
    CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kModelVersionColumns +
                                " FROM model_versions WHERE model_id = ? AND version = ?"));
    s.Bind(1, model.id).Bind(2, version);
    CAIRN_TRY(bool row, s.Step());
    if (!row) return VersionNotFound(model.name, version);
    v.name = model.name;
    v.version = s.Int(0);
    v.creation_timestamp = s.Int(1);
    v.last_updated_timestamp = s.Int(2);
    v.description = s.Text(3);
    v.current_stage = ParseModelStage(s.TextView(4)).value_or(ModelStage::kNone);
    v.source = s.Text(5);
    v.storage_location = s.Text(6);
    v.run_id = s.Text(7);
    if (!s.IsNull(8)) v.artifact_path = s.Text(8);
    v.run_link = s.Text(9);
    v.status = ParseModelVersionStatus(s.TextView(10)).value_or(ModelVersionStatus::kReady);
    v.status_message = s.Text(11);
  }
  {
    CAIRN_TRY(Stmt s, c.Prepare("SELECT key, value FROM model_version_tags "
                                "WHERE model_id = ? AND version = ? ORDER BY key"));
    s.Bind(1, model.id).Bind(2, version);
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      v.tags.push_back({s.Text(0), s.Text(1)});
    }
  }
  CAIRN_TRY(Stmt s, c.Prepare("SELECT alias FROM registered_model_aliases "
                              "WHERE model_id = ? AND version = ? ORDER BY alias"));
  s.Bind(1, model.id).Bind(2, version);
  while (true) {
    CAIRN_TRY(bool row, s.Step());
    if (!row) break;
    v.aliases.push_back(s.Text(0));
  }
  return v;
}

// Loads a model (tags, aliases, latest version per stage) by id.
Result<RegisteredModel> LoadRegisteredModel(Connection& c, int64_t model_id) {
  RegisteredModel m;
  ModelRef ref;
  {
    CAIRN_TRY(Stmt s, c.Prepare("SELECT name, creation_time, last_updated_time, description, "
                                "last_version FROM registered_models WHERE model_id = ?"));
    s.Bind(1, model_id);
    CAIRN_TRY(bool row, s.Step());
    if (!row) return Internal("registered model #" + std::to_string(model_id) + " vanished");
    m.name = s.Text(0);
    m.creation_timestamp = s.Int(1);
    m.last_updated_timestamp = s.Int(2);
    m.description = s.Text(3);
    ref = ModelRef{model_id, m.name, s.Int(4)};
  }
  {
    CAIRN_TRY(Stmt s, c.Prepare("SELECT key, value FROM registered_model_tags "
                                "WHERE model_id = ? ORDER BY key"));
    s.Bind(1, model_id);
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      m.tags.push_back({s.Text(0), s.Text(1)});
    }
  }
  {
    CAIRN_TRY(Stmt s, c.Prepare("SELECT alias, version FROM registered_model_aliases "
                                "WHERE model_id = ? ORDER BY alias"));
    s.Bind(1, model_id);
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      m.aliases.push_back({s.Text(0), s.Int(1)});
    }
  }
  // MLflow keeps the latest version per stage in a dict filled in version order, so stages come
  // in the order of their lowest version.
  std::vector<std::pair<std::string, int64_t>> latest;  // stage → latest version, first-seen order
  {
    CAIRN_TRY(Stmt s, c.Prepare("SELECT version, current_stage FROM model_versions "
                                "WHERE model_id = ? ORDER BY version"));
    s.Bind(1, model_id);
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      std::string_view stage = s.TextView(1);
      auto it = std::find_if(latest.begin(), latest.end(),
                             [&](const auto& p) { return p.first == stage; });
      if (it == latest.end()) {
        latest.emplace_back(std::string(stage), s.Int(0));
      } else {
        it->second = s.Int(0);
      }
    }
  }
  for (const auto& [stage, version] : latest) {
    CAIRN_TRY(ModelVersion v, LoadModelVersion(c, ref, version));
    m.latest_versions.push_back(std::move(v));
  }
  return m;
}

std::optional<AttributeColumn> RegisteredModelAttribute(std::string_view key) {
  if (key == "name") return AttributeColumn{"m.name", false};
  if (key == "creation_timestamp") return AttributeColumn{"m.creation_time", true};
  if (key == "last_updated_timestamp") return AttributeColumn{"m.last_updated_time", true};
  return std::nullopt;
}

std::optional<AttributeColumn> ModelVersionAttribute(std::string_view key) {
  if (key == "name") return AttributeColumn{"m.name", false};
  if (key == "version_number") return AttributeColumn{"v.version", true};
  if (key == "run_id") return AttributeColumn{"v.run_id", false};
  if (key == "source_path") return AttributeColumn{"v.source", false};
  if (key == "creation_timestamp") return AttributeColumn{"v.creation_time", true};
  if (key == "last_updated_timestamp") return AttributeColumn{"v.last_updated_time", true};
  return std::nullopt;
}

// Appends the WHERE terms of a registry search: attributes through `attribute`, tags on the
// aliases t0, t1, … joined beforehand (in filter order).
template <typename AttributeOf>
Status AppendRegistryFilter(Sql& sql, const std::vector<Comparison>& filter,
                            AttributeOf attribute) {
  int alias = 0;
  for (const Comparison& c : filter) {
    sql << " AND ";
    if (c.kind == EntityKind::kTag) {
      CAIRN_RETURN_IF_ERROR(
          AppendStringCondition(sql, "t" + std::to_string(alias++) + ".value", c));
      continue;
    }
    if (c.kind != EntityKind::kAttribute) {
      return InvalidArgument("the model registry is searched by attributes and tags only");
    }
    auto attr = attribute(c.key);
    if (!attr) return InvalidArgument("Invalid attribute key '" + c.key + "' specified.");
    if (attr->numeric) {
      CAIRN_RETURN_IF_ERROR(AppendNumberCondition(sql, attr->column, c, false));
    } else {
      CAIRN_RETURN_IF_ERROR(AppendStringCondition(sql, attr->column, c));
    }
  }
  return Status::Ok();
}

template <typename AttributeOf>
Status AppendRegistryOrder(Sql& sql, const std::vector<OrderKey>& order_by,
                           AttributeOf attribute) {
  for (const OrderKey& o : order_by) {
    if (o.kind != EntityKind::kAttribute) {
      return InvalidArgument("the model registry is ordered by attributes only");
    }
    auto attr = attribute(o.key);
    if (!attr) return InvalidArgument("Invalid order_by key '" + o.key + "'");
    sql << attr->column << (o.ascending ? " ASC, " : " DESC, ");
  }
  return Status::Ok();
}

void AppendLimit(Sql& sql, int64_t max_results, int64_t offset) {
  sql << " LIMIT ";
  sql.Param(std::max<int64_t>(max_results, 0) + 1);
  sql << " OFFSET ";
  sql.Param(std::max<int64_t>(offset, 0));
}

}  // namespace

Result<RegisteredModel> SqliteMetadataStore::CreateRegisteredModel(const RegisteredModel& model) {
  std::optional<RegisteredModel> out;
  Status status = Write([&](Connection& c) -> Status {
    CAIRN_TRY(std::optional<ModelRef> existing, LookUpModel(c, model.name));
    if (existing) return ModelExists(model.name);
    int64_t created = model.creation_timestamp ? model.creation_timestamp : clock_.NowMillis();
    {
      CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO registered_models (name, creation_time, "
                                  "last_updated_time, description, last_version) "
                                  "VALUES (?, ?, ?, ?, 0)"));
      s.Bind(1, model.name).Bind(2, created).Bind(3, created).Bind(4, model.description);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    int64_t id = c.LastInsertRowid();
    for (const Tag& tag : model.tags) {
      CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO registered_model_tags (model_id, key, value) "
                                  "VALUES (?, ?, ?) ON CONFLICT (model_id, key) "
                                  "DO UPDATE SET value = excluded.value"));
      s.Bind(1, id).Bind(2, tag.key).Bind(3, tag.value);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    CAIRN_TRY(out, LoadRegisteredModel(c, id));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<RegisteredModel> SqliteMetadataStore::GetRegisteredModel(std::string_view name) {
  std::optional<RegisteredModel> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(ModelRef ref, FindModel(c, name));
    CAIRN_TRY(out, LoadRegisteredModel(c, ref.id));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<RegisteredModel> SqliteMetadataStore::UpdateRegisteredModel(std::string_view name,
                                                                   std::string_view description,
                                                                   int64_t time) {
  std::optional<RegisteredModel> out;
  Status status = Write([&](Connection& c) -> Status {
    CAIRN_TRY(ModelRef ref, FindModel(c, name));
    {
      CAIRN_TRY(Stmt s, c.Prepare("UPDATE registered_models SET description = ?, "
                                  "last_updated_time = ? WHERE model_id = ?"));
      s.Bind(1, description).Bind(2, time ? time : clock_.NowMillis()).Bind(3, ref.id);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    CAIRN_TRY(out, LoadRegisteredModel(c, ref.id));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<RegisteredModel> SqliteMetadataStore::RenameRegisteredModel(std::string_view name,
                                                                   std::string_view new_name,
                                                                   int64_t time) {
  std::optional<RegisteredModel> out;
  Status status = Write([&](Connection& c) -> Status {
    CAIRN_TRY(ModelRef ref, FindModel(c, name));
    CAIRN_TRY(std::optional<ModelRef> taken, LookUpModel(c, new_name));
    if (taken && taken->id != ref.id) return ModelExists(new_name);
    const int64_t now = time ? time : clock_.NowMillis();
    {
      CAIRN_TRY(Stmt s, c.Prepare("UPDATE registered_models SET name = ?, last_updated_time = ? "
                                  "WHERE model_id = ?"));
      s.Bind(1, new_name).Bind(2, now).Bind(3, ref.id);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    {
      CAIRN_TRY(Stmt s, c.Prepare("UPDATE model_versions SET last_updated_time = ? "
                                  "WHERE model_id = ?"));
      s.Bind(1, now).Bind(2, ref.id);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    CAIRN_TRY(out, LoadRegisteredModel(c, ref.id));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Status SqliteMetadataStore::DeleteRegisteredModel(std::string_view name) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(ModelRef ref, FindModel(c, name));
    // Children first: the foreign keys have no cascades.
    for (const char* sql : {"DELETE FROM registered_model_aliases WHERE model_id = ?",
                            "DELETE FROM model_version_tags WHERE model_id = ?",
                            "DELETE FROM model_versions WHERE model_id = ?",
                            "DELETE FROM registered_model_tags WHERE model_id = ?",
                            "DELETE FROM registered_models WHERE model_id = ?"}) {
      CAIRN_TRY(Stmt s, c.Prepare(sql));
      s.Bind(1, ref.id);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    return Status::Ok();
  });
}

Result<RegisteredModelPage> SqliteMetadataStore::SearchRegisteredModels(
    const RegisteredModelQuery& query) {
  Sql sql;
  sql << "SELECT m.model_id FROM registered_models m";
  int alias = 0;
  for (const Comparison& c : query.filter) {
    if (c.kind != EntityKind::kTag) continue;
    std::string a = "t" + std::to_string(alias++);
    sql << " JOIN registered_model_tags " << a << " ON " << a << ".model_id = m.model_id AND " << a
        << ".key = ";
    sql.Param(c.key);
  }
  sql << " WHERE 1";
  CAIRN_RETURN_IF_ERROR(AppendRegistryFilter(sql, query.filter, RegisteredModelAttribute));
  sql << " ORDER BY ";
  CAIRN_RETURN_IF_ERROR(AppendRegistryOrder(sql, query.order_by, RegisteredModelAttribute));
  sql << "m.name ASC";
  AppendLimit(sql, query.max_results, query.offset);

  RegisteredModelPage page;
  Status status = Read([&](Connection& c) -> Status {
    std::vector<int64_t> ids;
    {
      CAIRN_TRY(Stmt s, c.Prepare(sql.text));
      sql.BindTo(s);
      while (true) {
        CAIRN_TRY(bool row, s.Step());
        if (!row) break;
        ids.push_back(s.Int(0));
      }
    }
    if (static_cast<int64_t>(ids.size()) > query.max_results) {
      page.has_more = true;
      ids.resize(std::max<int64_t>(query.max_results, 0));
    }
    for (int64_t id : ids) {
      CAIRN_TRY(RegisteredModel m, LoadRegisteredModel(c, id));
      page.models.push_back(std::move(m));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return page;
}

Status SqliteMetadataStore::SetRegisteredModelTag(std::string_view name, const Tag& tag) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(ModelRef ref, FindModel(c, name));
    CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO registered_model_tags (model_id, key, value) "
                                "VALUES (?, ?, ?) ON CONFLICT (model_id, key) "
                                "DO UPDATE SET value = excluded.value"));
    s.Bind(1, ref.id).Bind(2, tag.key).Bind(3, tag.value);
    return s.Run();
  });
}

Status SqliteMetadataStore::DeleteRegisteredModelTag(std::string_view name,
                                                     std::string_view key) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(ModelRef ref, FindModel(c, name));
    CAIRN_TRY(Stmt s, c.Prepare("DELETE FROM registered_model_tags WHERE model_id = ? AND "
                                "key = ?"));
    s.Bind(1, ref.id).Bind(2, key);
    return s.Run();
  });
}

Result<ModelVersion> SqliteMetadataStore::CreateModelVersion(const ModelVersion& v) {
  std::optional<ModelVersion> out;
  // The single writer connection holds the transaction: reading last_version and inserting the
  // next one cannot interleave with another caller's.
  Status status = Write([&](Connection& c) -> Status {
    CAIRN_TRY(ModelRef ref, FindModel(c, v.name));
    const int64_t version = ref.last_version + 1;
    const int64_t created = v.creation_timestamp ? v.creation_timestamp : clock_.NowMillis();
    {
      CAIRN_TRY(Stmt s, c.Prepare("UPDATE registered_models SET last_version = ?, "
                                  "last_updated_time = ? WHERE model_id = ?"));
      s.Bind(1, version).Bind(2, created).Bind(3, ref.id);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    {
      CAIRN_TRY(Stmt s, c.Prepare(std::string("INSERT INTO model_versions (model_id, ") +
                                  kModelVersionColumns +
                                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      s.Bind(1, ref.id).Bind(2, version).Bind(3, created).Bind(4, created).Bind(5, v.description)
          .Bind(6, StageText(v.current_stage)).Bind(7, v.source).Bind(8, v.storage_location)
          .Bind(9, v.run_id);
      if (v.artifact_path) {
        s.Bind(10, *v.artifact_path);
      } else {
        s.BindNull(10);
      }
      s.Bind(11, v.run_link).Bind(12, std::string(ModelVersionStatusName(v.status)))
          .Bind(13, v.status_message);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    for (const Tag& tag : v.tags) {
      CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO model_version_tags (model_id, version, key, value) "
                                  "VALUES (?, ?, ?, ?) ON CONFLICT (model_id, version, key) "
                                  "DO UPDATE SET value = excluded.value"));
      s.Bind(1, ref.id).Bind(2, version).Bind(3, tag.key).Bind(4, tag.value);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    CAIRN_TRY(out, LoadModelVersion(c, ref, version));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<ModelVersion> SqliteMetadataStore::GetModelVersion(std::string_view name,
                                                          int64_t version) {
  std::optional<ModelVersion> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(std::optional<ModelRef> ref, LookUpModel(c, name));
    if (!ref) return VersionNotFound(name, version);
    CAIRN_TRY(out, LoadModelVersion(c, *ref, version));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<ModelVersion> SqliteMetadataStore::UpdateModelVersion(std::string_view name,
                                                             int64_t version,
                                                             std::string_view description,
                                                             int64_t time) {
  std::optional<ModelVersion> out;
  Status status = Write([&](Connection& c) -> Status {
    CAIRN_TRY(std::optional<ModelRef> ref, LookUpModel(c, name));
    if (!ref) return VersionNotFound(name, version);
    CAIRN_RETURN_IF_ERROR(FindVersion(c, *ref, version));
    {
      CAIRN_TRY(Stmt s, c.Prepare("UPDATE model_versions SET description = ?, "
                                  "last_updated_time = ? WHERE model_id = ? AND version = ?"));
      s.Bind(1, description).Bind(2, time ? time : clock_.NowMillis()).Bind(3, ref->id)
          .Bind(4, version);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    CAIRN_TRY(out, LoadModelVersion(c, *ref, version));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<ModelVersion> SqliteMetadataStore::TransitionModelVersionStage(std::string_view name,
                                                                      int64_t version,
                                                                      ModelStage stage,
                                                                      bool archive_existing,
                                                                      int64_t time) {
  std::optional<ModelVersion> out;
  Status status = Write([&](Connection& c) -> Status {
    CAIRN_TRY(std::optional<ModelRef> ref, LookUpModel(c, name));
    if (!ref) return VersionNotFound(name, version);
    CAIRN_RETURN_IF_ERROR(FindVersion(c, *ref, version));
    const int64_t now = time ? time : clock_.NowMillis();
    if (archive_existing) {
      CAIRN_TRY(Stmt s, c.Prepare("UPDATE model_versions SET current_stage = 'Archived', "
                                  "last_updated_time = ? WHERE model_id = ? AND version != ? "
                                  "AND current_stage = ?"));
      s.Bind(1, now).Bind(2, ref->id).Bind(3, version).Bind(4, StageText(stage));
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    {
      CAIRN_TRY(Stmt s, c.Prepare("UPDATE model_versions SET current_stage = ?, "
                                  "last_updated_time = ? WHERE model_id = ? AND version = ?"));
      s.Bind(1, StageText(stage)).Bind(2, now).Bind(3, ref->id).Bind(4, version);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    CAIRN_RETURN_IF_ERROR(TouchModel(c, ref->id, now));
    CAIRN_TRY(out, LoadModelVersion(c, *ref, version));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Status SqliteMetadataStore::DeleteModelVersion(std::string_view name, int64_t version,
                                               int64_t time) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(std::optional<ModelRef> ref, LookUpModel(c, name));
    if (!ref) return VersionNotFound(name, version);
    CAIRN_RETURN_IF_ERROR(FindVersion(c, *ref, version));
    for (const char* sql :
         {"DELETE FROM registered_model_aliases WHERE model_id = ? AND version = ?",
          "DELETE FROM model_version_tags WHERE model_id = ? AND version = ?",
          "DELETE FROM model_versions WHERE model_id = ? AND version = ?"}) {
      CAIRN_TRY(Stmt s, c.Prepare(sql));
      s.Bind(1, ref->id).Bind(2, version);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    return TouchModel(c, ref->id, time ? time : clock_.NowMillis());
  });
}

Result<ModelVersionPage> SqliteMetadataStore::SearchModelVersions(
    const ModelVersionQuery& query) {
  Sql sql;
  sql << "SELECT m.model_id, m.name, m.last_version, v.version FROM model_versions v "
         "JOIN registered_models m ON m.model_id = v.model_id";
  int alias = 0;
  for (const Comparison& c : query.filter) {
    if (c.kind != EntityKind::kTag) continue;
    std::string a = "t" + std::to_string(alias++);
    sql << " JOIN model_version_tags " << a << " ON " << a << ".model_id = v.model_id AND " << a
        << ".version = v.version AND " << a << ".key = ";
    sql.Param(c.key);
  }
  sql << " WHERE 1";
  CAIRN_RETURN_IF_ERROR(AppendRegistryFilter(sql, query.filter, ModelVersionAttribute));
  sql << " ORDER BY ";
  CAIRN_RETURN_IF_ERROR(AppendRegistryOrder(sql, query.order_by, ModelVersionAttribute));
  sql << "m.name ASC, v.version DESC";
  AppendLimit(sql, query.max_results, query.offset);

  ModelVersionPage page;
  Status status = Read([&](Connection& c) -> Status {
    std::vector<std::pair<ModelRef, int64_t>> keys;
    {
      CAIRN_TRY(Stmt s, c.Prepare(sql.text));
      sql.BindTo(s);
      while (true) {
        CAIRN_TRY(bool row, s.Step());
        if (!row) break;
        keys.emplace_back(ModelRef{s.Int(0), s.Text(1), s.Int(2)}, s.Int(3));
      }
    }
    if (static_cast<int64_t>(keys.size()) > query.max_results) {
      page.has_more = true;
      keys.resize(std::max<int64_t>(query.max_results, 0));
    }
    for (const auto& [ref, version] : keys) {
      CAIRN_TRY(ModelVersion v, LoadModelVersion(c, ref, version));
      page.versions.push_back(std::move(v));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return page;
}

Status SqliteMetadataStore::SetModelVersionTag(std::string_view name, int64_t version,
                                               const Tag& tag) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(std::optional<ModelRef> ref, LookUpModel(c, name));
    if (!ref) return VersionNotFound(name, version);
    CAIRN_RETURN_IF_ERROR(FindVersion(c, *ref, version));
    CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO model_version_tags (model_id, version, key, value) "
                                "VALUES (?, ?, ?, ?) ON CONFLICT (model_id, version, key) "
                                "DO UPDATE SET value = excluded.value"));
    s.Bind(1, ref->id).Bind(2, version).Bind(3, tag.key).Bind(4, tag.value);
    return s.Run();
  });
}

Status SqliteMetadataStore::DeleteModelVersionTag(std::string_view name, int64_t version,
                                                  std::string_view key) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(std::optional<ModelRef> ref, LookUpModel(c, name));
    if (!ref) return VersionNotFound(name, version);
    CAIRN_RETURN_IF_ERROR(FindVersion(c, *ref, version));
    CAIRN_TRY(Stmt s, c.Prepare("DELETE FROM model_version_tags WHERE model_id = ? AND "
                                "version = ? AND key = ?"));
    s.Bind(1, ref->id).Bind(2, version).Bind(3, key);
    return s.Run();
  });
}

Status SqliteMetadataStore::SetRegisteredModelAlias(std::string_view name, std::string_view alias,
                                                    int64_t version) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(ModelRef ref, FindModel(c, name));
    CAIRN_RETURN_IF_ERROR(FindVersion(c, ref, version));
    CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO registered_model_aliases (model_id, alias, version) "
                                "VALUES (?, ?, ?) ON CONFLICT (model_id, alias) "
                                "DO UPDATE SET version = excluded.version"));
    s.Bind(1, ref.id).Bind(2, alias).Bind(3, version);
    return s.Run();
  });
}

Status SqliteMetadataStore::DeleteRegisteredModelAlias(std::string_view name,
                                                       std::string_view alias) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(ModelRef ref, FindModel(c, name));
    CAIRN_TRY(Stmt s, c.Prepare("DELETE FROM registered_model_aliases WHERE model_id = ? AND "
                                "alias = ?"));
    s.Bind(1, ref.id).Bind(2, alias);
    return s.Run();
  });
}

Result<ModelVersion> SqliteMetadataStore::GetModelVersionByAlias(std::string_view name,
                                                                 std::string_view alias) {
  std::optional<ModelVersion> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(ModelRef ref, FindModel(c, name));
    int64_t version = 0;
    {
      CAIRN_TRY(Stmt s, c.Prepare("SELECT version FROM registered_model_aliases "
                                  "WHERE model_id = ? AND alias = ?"));
      s.Bind(1, ref.id).Bind(2, alias);
      CAIRN_TRY(bool row, s.Step());
      if (!row) return NotFound("Registered model alias " + std::string(alias) + " not found.");
      version = s.Int(0);
    }
    CAIRN_TRY(out, LoadModelVersion(c, ref, version));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

// --- endpoints and deployments -----------------------------------------------------------------

namespace {

constexpr const char* kEndpointColumns =
    "endpoint_id, name, description, sample_rate, traffic_version, creation_time, "
    "last_update_time";
constexpr const char* kDeploymentColumns =
    "name, model_uri, model_name, model_version, run_id, storage_location, threads, traffic, "
    "mirror, creation_time, last_update_time";

Status EndpointNotFound(std::string_view name) {
  return NotFound("endpoint '" + std::string(name) + "' does not exist");
}

Status DeploymentNotFound(std::string_view endpoint, std::string_view name) {
  return NotFound("deployment '" + std::string(name) + "' of endpoint '" + std::string(endpoint) +
                  "' does not exist");
}

Endpoint ReadEndpoint(const Stmt& s) {
  Endpoint e;
  e.name = s.Text(1);
  e.description = s.Text(2);
  e.sample_rate = s.Double(3);
  e.traffic_version = s.Int(4);
  e.creation_time = s.Int(5);
  e.last_update_time = s.Int(6);
  return e;
}

Deployment ReadDeployment(const Stmt& s, std::string_view endpoint) {
  Deployment d;
  d.endpoint = std::string(endpoint);
  d.name = s.Text(0);
  d.model_uri = s.Text(1);
  d.model_name = s.Text(2);
  d.model_version = s.Int(3);
  d.run_id = s.Text(4);
  d.storage_location = s.Text(5);
  d.threads = s.Int(6);
  d.traffic = s.Int(7);
  d.mirror = s.Int(8);
  d.creation_time = s.Int(9);
  d.last_update_time = s.Int(10);
  return d;
}

// The endpoint and its row id; kNotFound.
Result<std::pair<int64_t, Endpoint>> FindEndpoint(Connection& c, std::string_view name) {
  CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kEndpointColumns +
                              " FROM endpoints WHERE name = ?"));
  s.Bind(1, name);
  CAIRN_TRY(bool row, s.Step());
  if (!row) return EndpointNotFound(name);
  return std::make_pair(s.Int(0), ReadEndpoint(s));
}

Result<Deployment> LoadDeployment(Connection& c, int64_t endpoint_id, std::string_view endpoint,
                                  std::string_view name) {
  CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kDeploymentColumns +
                              " FROM deployments WHERE endpoint_id = ? AND name = ?"));
  s.Bind(1, endpoint_id).Bind(2, name);
  CAIRN_TRY(bool row, s.Step());
  if (!row) return DeploymentNotFound(endpoint, name);
  return ReadDeployment(s, endpoint);
}

}  // namespace

Result<Endpoint> SqliteMetadataStore::CreateEndpoint(const Endpoint& endpoint) {
  std::optional<Endpoint> out;
  Status status = Write([&](Connection& c) -> Status {
    {
      CAIRN_TRY(Stmt s, c.Prepare("SELECT 1 FROM endpoints WHERE name = ?"));
      s.Bind(1, endpoint.name);
      CAIRN_TRY(bool row, s.Step());
      if (row) return AlreadyExists("endpoint '" + endpoint.name + "' already exists");
    }
    Endpoint e = endpoint;
    e.traffic_version = 0;
    if (e.creation_time == 0) e.creation_time = clock_.NowMillis();
    e.last_update_time = e.creation_time;
    CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO endpoints (name, description, sample_rate, "
                                "traffic_version, creation_time, last_update_time) "
                                "VALUES (?, ?, ?, 0, ?, ?)"));
    s.Bind(1, e.name).Bind(2, e.description).Bind(3, e.sample_rate).Bind(4, e.creation_time)
        .Bind(5, e.last_update_time);
    CAIRN_RETURN_IF_ERROR(s.Run());
    out = std::move(e);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<Endpoint> SqliteMetadataStore::GetEndpoint(std::string_view name) {
  std::optional<Endpoint> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(auto found, FindEndpoint(c, name));
    out = std::move(found.second);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<std::vector<Endpoint>> SqliteMetadataStore::ListEndpoints() {
  std::vector<Endpoint> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kEndpointColumns +
                                " FROM endpoints ORDER BY name"));
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadEndpoint(s));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

Result<Endpoint> SqliteMetadataStore::UpdateEndpoint(std::string_view name,
                                                     std::string_view description,
                                                     double sample_rate, int64_t time) {
  std::optional<Endpoint> out;
  Status status = Write([&](Connection& c) -> Status {
    CAIRN_TRY(auto found, FindEndpoint(c, name));
    Endpoint e = std::move(found.second);
    e.description = std::string(description);
    e.sample_rate = sample_rate;
    e.last_update_time = time ? time : clock_.NowMillis();
    CAIRN_TRY(Stmt s, c.Prepare("UPDATE endpoints SET description = ?, sample_rate = ?, "
                                "last_update_time = ? WHERE endpoint_id = ?"));
    s.Bind(1, e.description).Bind(2, e.sample_rate).Bind(3, e.last_update_time)
        .Bind(4, found.first);
    CAIRN_RETURN_IF_ERROR(s.Run());
    out = std::move(e);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Status SqliteMetadataStore::DeleteEndpoint(std::string_view name) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(auto found, FindEndpoint(c, name));
    for (const char* sql : {"DELETE FROM deployments WHERE endpoint_id = ?",
                            "DELETE FROM endpoints WHERE endpoint_id = ?"}) {
      CAIRN_TRY(Stmt s, c.Prepare(sql));
      s.Bind(1, found.first);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    return Status::Ok();
  });
}

Result<Endpoint> SqliteMetadataStore::SetEndpointTraffic(std::string_view name,
                                                         const EndpointTraffic& traffic,
                                                         int64_t time) {
  std::optional<Endpoint> out;
  Status status = Write([&](Connection& c) -> Status {
    CAIRN_TRY(auto found, FindEndpoint(c, name));
    const int64_t id = found.first;
    Endpoint e = std::move(found.second);
    {
      CAIRN_TRY(Stmt s, c.Prepare("UPDATE deployments SET traffic = 0, mirror = 0 "
                                  "WHERE endpoint_id = ?"));
      s.Bind(1, id);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    auto set = [&](const TrafficShare& share, const char* column) -> Status {
      CAIRN_TRY(Stmt s, c.Prepare(std::string("UPDATE deployments SET ") + column +
                                  " = ? WHERE endpoint_id = ? AND name = ?"));
      s.Bind(1, share.percent).Bind(2, id).Bind(3, share.deployment);
      CAIRN_RETURN_IF_ERROR(s.Run());
      if (c.Changes() == 0) return DeploymentNotFound(name, share.deployment);
      return Status::Ok();
    };
    for (const TrafficShare& share : traffic.live) CAIRN_RETURN_IF_ERROR(set(share, "traffic"));
    for (const TrafficShare& share : traffic.mirror) CAIRN_RETURN_IF_ERROR(set(share, "mirror"));
    e.traffic_version++;
    e.last_update_time = time ? time : clock_.NowMillis();
    CAIRN_TRY(Stmt s, c.Prepare("UPDATE endpoints SET traffic_version = ?, last_update_time = ? "
                                "WHERE endpoint_id = ?"));
    s.Bind(1, e.traffic_version).Bind(2, e.last_update_time).Bind(3, id);
    CAIRN_RETURN_IF_ERROR(s.Run());
    out = std::move(e);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<Deployment> SqliteMetadataStore::CreateDeployment(const Deployment& d) {
  std::optional<Deployment> out;
  Status status = Write([&](Connection& c) -> Status {
    CAIRN_TRY(auto found, FindEndpoint(c, d.endpoint));
    {
      CAIRN_TRY(Stmt s, c.Prepare("SELECT 1 FROM deployments WHERE endpoint_id = ? AND name = ?"));
      s.Bind(1, found.first).Bind(2, d.name);
      CAIRN_TRY(bool row, s.Step());
      if (row) {
        return AlreadyExists("deployment '" + d.name + "' already exists in endpoint '" +
                             d.endpoint + "'");
      }
    }
    Deployment next = d;
    next.traffic = 0;
    next.mirror = 0;
    if (next.creation_time == 0) next.creation_time = clock_.NowMillis();
    next.last_update_time = next.creation_time;
    CAIRN_TRY(Stmt s, c.Prepare(std::string("INSERT INTO deployments (endpoint_id, ") +
                                kDeploymentColumns +
                                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?)"));
    s.Bind(1, found.first).Bind(2, next.name).Bind(3, next.model_uri).Bind(4, next.model_name)
        .Bind(5, next.model_version).Bind(6, next.run_id).Bind(7, next.storage_location)
        .Bind(8, next.threads).Bind(9, next.creation_time).Bind(10, next.last_update_time);
    CAIRN_RETURN_IF_ERROR(s.Run());
    out = std::move(next);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<Deployment> SqliteMetadataStore::GetDeployment(std::string_view endpoint,
                                                      std::string_view name) {
  std::optional<Deployment> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(auto found, FindEndpoint(c, endpoint));
    CAIRN_TRY(out, LoadDeployment(c, found.first, endpoint, name));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<std::vector<Deployment>> SqliteMetadataStore::ListDeployments(std::string_view endpoint) {
  std::vector<Deployment> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(auto found, FindEndpoint(c, endpoint));
    CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kDeploymentColumns +
                                " FROM deployments WHERE endpoint_id = ? ORDER BY name"));
    s.Bind(1, found.first);
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadDeployment(s, endpoint));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

Result<Deployment> SqliteMetadataStore::UpdateDeployment(const Deployment& d, int64_t time) {
  std::optional<Deployment> out;
  Status status = Write([&](Connection& c) -> Status {
    CAIRN_TRY(auto found, FindEndpoint(c, d.endpoint));
    CAIRN_TRY(Deployment current, LoadDeployment(c, found.first, d.endpoint, d.name));
    current.model_uri = d.model_uri;
    current.model_name = d.model_name;
    current.model_version = d.model_version;
    current.run_id = d.run_id;
    current.storage_location = d.storage_location;
    current.threads = d.threads;
    current.last_update_time = time ? time : clock_.NowMillis();
    CAIRN_TRY(Stmt s, c.Prepare("UPDATE deployments SET model_uri = ?, model_name = ?, "
                                "model_version = ?, run_id = ?, storage_location = ?, "
                                "threads = ?, last_update_time = ? "
                                "WHERE endpoint_id = ? AND name = ?"));
    s.Bind(1, current.model_uri).Bind(2, current.model_name).Bind(3, current.model_version)
        .Bind(4, current.run_id).Bind(5, current.storage_location).Bind(6, current.threads)
        .Bind(7, current.last_update_time).Bind(8, found.first).Bind(9, current.name);
    CAIRN_RETURN_IF_ERROR(s.Run());
    out = std::move(current);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Status SqliteMetadataStore::DeleteDeployment(std::string_view endpoint, std::string_view name) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(auto found, FindEndpoint(c, endpoint));
    CAIRN_TRY(Deployment d, LoadDeployment(c, found.first, endpoint, name));
    if (d.traffic > 0 || d.mirror > 0) {
      return FailedPrecondition(
          "deployment '" + d.name + "' of endpoint '" + d.endpoint + "' takes " +
          (d.traffic > 0 ? std::to_string(d.traffic) + "% of its live traffic"
                         : std::to_string(d.mirror) + "% of its requests as a mirror") +
          "; move that traffic to another deployment first");
    }
    CAIRN_TRY(Stmt s, c.Prepare("DELETE FROM deployments WHERE endpoint_id = ? AND name = ?"));
    s.Bind(1, found.first).Bind(2, name);
    return s.Run();
  });
}

// --- pipeline runs -----------------------------------------------------------------------------

namespace {

constexpr const char* kPipelineRunColumns =
    "run_key, run_id, name, file, spec, params, created_by, status, error, experiment_id, "
    "mlflow_run_id, cancel_requested, creation_time, start_time, end_time, last_update_time";
constexpr const char* kStepRunColumns =
    "step_id, position, uses, status, attempt, outputs, error, mlflow_run_id, start_time, "
    "end_time, deadline, decision, decided_by, comment, decision_time";

Status PipelineRunNotFound(std::string_view run_id) {
  return NotFound("pipeline run '" + std::string(run_id) + "' does not exist");
}

Status StepRunNotFound(std::string_view run_id, std::string_view step_id) {
  return NotFound("step '" + std::string(step_id) + "' of pipeline run '" + std::string(run_id) +
                  "' does not exist");
}

PipelineRun ReadPipelineRun(const Stmt& s) {
  PipelineRun r;
  r.run_id = s.Text(1);
  r.name = s.Text(2);
  r.file = s.Text(3);
  r.spec = s.Text(4);
  r.params = s.Text(5);
  r.created_by = s.Text(6);
  r.status = ParsePipelineRunStatus(s.TextView(7)).value_or(PipelineRunStatus::kFailed);
  r.error = s.Text(8);
  r.experiment_id = s.Text(9);
  r.mlflow_run_id = s.Text(10);
  r.cancel_requested = s.Int(11) != 0;
  r.creation_time = s.Int(12);
  r.start_time = s.Int(13);
  r.end_time = s.Int(14);
  r.last_update_time = s.Int(15);
  return r;
}

StepRun ReadStepRun(const Stmt& s, std::string_view run_id) {
  StepRun r;
  r.pipeline_run_id = std::string(run_id);
  r.step_id = s.Text(0);
  r.position = s.Int(1);
  r.uses = s.Text(2);
  r.status = ParseStepRunStatus(s.TextView(3)).value_or(StepRunStatus::kFailed);
  r.attempt = s.Int(4);
  r.outputs = s.Text(5);
  r.error = s.Text(6);
  r.mlflow_run_id = s.Text(7);
  r.start_time = s.Int(8);
  r.end_time = s.Int(9);
  r.deadline = s.Int(10);
  r.decision = s.Text(11);
  r.decided_by = s.Text(12);
  r.comment = s.Text(13);
  r.decision_time = s.Int(14);
  return r;
}

// The run's key and record (without steps); kNotFound.
Result<std::pair<int64_t, PipelineRun>> FindPipelineRun(Connection& c, std::string_view run_id) {
  CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kPipelineRunColumns +
                              " FROM pipeline_runs WHERE run_id = ?"));
  s.Bind(1, run_id);
  CAIRN_TRY(bool row, s.Step());
  if (!row) return PipelineRunNotFound(run_id);
  return std::make_pair(s.Int(0), ReadPipelineRun(s));
}

Status LoadStepRuns(Connection& c, int64_t run_key, PipelineRun& run) {
  CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kStepRunColumns +
                              " FROM step_runs WHERE run_key = ? ORDER BY position"));
  s.Bind(1, run_key);
  run.steps.clear();
  while (true) {
    CAIRN_TRY(bool row, s.Step());
    if (!row) break;
    run.steps.push_back(ReadStepRun(s, run.run_id));
  }
  return Status::Ok();
}

Result<StepRun> LoadStepRun(Connection& c, int64_t run_key, std::string_view run_id,
                            std::string_view step_id) {
  CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kStepRunColumns +
                              " FROM step_runs WHERE run_key = ? AND step_id = ?"));
  s.Bind(1, run_key).Bind(2, step_id);
  CAIRN_TRY(bool row, s.Step());
  if (!row) return StepRunNotFound(run_id, step_id);
  return ReadStepRun(s, run_id);
}

Status TouchPipelineRun(Connection& c, int64_t run_key, int64_t time) {
  CAIRN_TRY(Stmt s, c.Prepare("UPDATE pipeline_runs SET last_update_time = ? WHERE run_key = ?"));
  s.Bind(1, time).Bind(2, run_key);
  return s.Run();
}

}  // namespace

Result<PipelineRun> SqliteMetadataStore::CreatePipelineRun(const PipelineRun& run) {
  std::optional<PipelineRun> out;
  Status status = Write([&](Connection& c) -> Status {
    {
      CAIRN_TRY(Stmt s, c.Prepare("SELECT 1 FROM pipeline_runs WHERE run_id = ?"));
      s.Bind(1, run.run_id);
      CAIRN_TRY(bool row, s.Step());
      if (row) return AlreadyExists("pipeline run '" + run.run_id + "' already exists");
    }
    PipelineRun r = run;
    if (r.creation_time == 0) r.creation_time = clock_.NowMillis();
    r.last_update_time = r.creation_time;
    {
      CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO pipeline_runs (run_id, name, file, spec, params, "
                                  "created_by, status, error, experiment_id, mlflow_run_id, "
                                  "cancel_requested, creation_time, start_time, end_time, "
                                  "last_update_time) VALUES "
                                  "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      s.Bind(1, r.run_id).Bind(2, r.name).Bind(3, r.file).Bind(4, r.spec).Bind(5, r.params)
          .Bind(6, r.created_by).Bind(7, PipelineRunStatusName(r.status)).Bind(8, r.error)
          .Bind(9, r.experiment_id).Bind(10, r.mlflow_run_id)
          .Bind(11, int64_t{r.cancel_requested ? 1 : 0}).Bind(12, r.creation_time)
          .Bind(13, r.start_time).Bind(14, r.end_time).Bind(15, r.last_update_time);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    const int64_t key = c.LastInsertRowid();
    for (StepRun& step : r.steps) {
      step.pipeline_run_id = r.run_id;
      CAIRN_TRY(Stmt s, c.Prepare(std::string("INSERT INTO step_runs (run_key, ") +
                                  kStepRunColumns +
                                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      s.Bind(1, key).Bind(2, step.step_id).Bind(3, step.position).Bind(4, step.uses)
          .Bind(5, StepRunStatusName(step.status)).Bind(6, step.attempt).Bind(7, step.outputs)
          .Bind(8, step.error).Bind(9, step.mlflow_run_id).Bind(10, step.start_time)
          .Bind(11, step.end_time).Bind(12, step.deadline).Bind(13, step.decision)
          .Bind(14, step.decided_by).Bind(15, step.comment).Bind(16, step.decision_time);
      Status inserted = s.Run();
      if (!inserted.ok()) {
        return InvalidArgument("step '" + step.step_id + "' appears twice in pipeline run '" +
                               r.run_id + "'");
      }
    }
    std::sort(r.steps.begin(), r.steps.end(),
              [](const StepRun& a, const StepRun& b) { return a.position < b.position; });
    out = std::move(r);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<PipelineRun> SqliteMetadataStore::GetPipelineRun(std::string_view run_id) {
  std::optional<PipelineRun> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(auto found, FindPipelineRun(c, run_id));
    CAIRN_RETURN_IF_ERROR(LoadStepRuns(c, found.first, found.second));
    out = std::move(found.second);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<std::vector<PipelineRun>> SqliteMetadataStore::ListPipelineRuns(
    const PipelineRunQuery& query) {
  std::vector<PipelineRun> out;
  Status status = Read([&](Connection& c) -> Status {
    std::string sql = std::string("SELECT ") + kPipelineRunColumns + " FROM pipeline_runs";
    std::vector<std::string> where;
    if (!query.statuses.empty()) {
      std::string in;
      for (PipelineRunStatus st : query.statuses) {
        in += std::string(in.empty() ? "" : ", ") + "'" +
              std::string(PipelineRunStatusName(st)) + "'";
      }
      where.push_back("status IN (" + in + ")");
    }
    if (!query.name.empty()) where.push_back("name = ?");
    for (size_t i = 0; i < where.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + where[i];
    sql += " ORDER BY creation_time DESC, run_id DESC LIMIT ?";
    CAIRN_TRY(Stmt s, c.Prepare(sql));
    int next = 1;
    if (!query.name.empty()) s.Bind(next++, query.name);
    s.Bind(next, query.max_results > 0 ? query.max_results : int64_t{100});
    std::vector<int64_t> keys;
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      keys.push_back(s.Int(0));
      out.push_back(ReadPipelineRun(s));
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      CAIRN_RETURN_IF_ERROR(LoadStepRuns(c, keys[i], out[i]));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

Result<PipelineRun> SqliteMetadataStore::UpdatePipelineRun(const PipelineRunUpdate& update) {
  std::optional<PipelineRun> out;
  Status status = Write([&](Connection& c) -> Status {
    CAIRN_TRY(auto found, FindPipelineRun(c, update.run_id));
    PipelineRun r = std::move(found.second);
    if (!update.if_status.empty() &&
        std::find(update.if_status.begin(), update.if_status.end(), r.status) ==
            update.if_status.end()) {
      return FailedPrecondition("pipeline run '" + r.run_id + "' is " +
                                std::string(PipelineRunStatusName(r.status)));
    }
    if (update.status) r.status = *update.status;
    if (update.error) r.error = *update.error;
    if (update.experiment_id) r.experiment_id = *update.experiment_id;
    if (update.mlflow_run_id) r.mlflow_run_id = *update.mlflow_run_id;
    if (update.cancel_requested) r.cancel_requested = *update.cancel_requested;
    if (update.start_time) r.start_time = *update.start_time;
    if (update.end_time) r.end_time = *update.end_time;
    r.last_update_time = clock_.NowMillis();
    CAIRN_TRY(Stmt s, c.Prepare("UPDATE pipeline_runs SET status = ?, error = ?, "
                                "experiment_id = ?, mlflow_run_id = ?, cancel_requested = ?, "
                                "start_time = ?, end_time = ?, last_update_time = ? "
                                "WHERE run_key = ?"));
    s.Bind(1, PipelineRunStatusName(r.status)).Bind(2, r.error).Bind(3, r.experiment_id)
        .Bind(4, r.mlflow_run_id).Bind(5, int64_t{r.cancel_requested ? 1 : 0})
        .Bind(6, r.start_time).Bind(7, r.end_time).Bind(8, r.last_update_time)
        .Bind(9, found.first);
    CAIRN_RETURN_IF_ERROR(s.Run());
    CAIRN_RETURN_IF_ERROR(LoadStepRuns(c, found.first, r));
    out = std::move(r);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<StepRun> SqliteMetadataStore::UpdateStepRun(const StepRunUpdate& update) {
  std::optional<StepRun> out;
  Status status = Write([&](Connection& c) -> Status {
    CAIRN_TRY(auto found, FindPipelineRun(c, update.pipeline_run_id));
    CAIRN_TRY(StepRun r,
              LoadStepRun(c, found.first, update.pipeline_run_id, update.step_id));
    if (!update.if_status.empty() &&
        std::find(update.if_status.begin(), update.if_status.end(), r.status) ==
            update.if_status.end()) {
      return FailedPrecondition("step '" + r.step_id + "' of pipeline run '" +
                                r.pipeline_run_id + "' is " +
                                std::string(StepRunStatusName(r.status)));
    }
    if (update.status) r.status = *update.status;
    if (update.attempt) r.attempt = *update.attempt;
    if (update.outputs) r.outputs = *update.outputs;
    if (update.error) r.error = *update.error;
    if (update.mlflow_run_id) r.mlflow_run_id = *update.mlflow_run_id;
    if (update.start_time) r.start_time = *update.start_time;
    if (update.end_time) r.end_time = *update.end_time;
    if (update.deadline) r.deadline = *update.deadline;
    if (update.decision) r.decision = *update.decision;
    if (update.decided_by) r.decided_by = *update.decided_by;
    if (update.comment) r.comment = *update.comment;
    if (update.decision_time) r.decision_time = *update.decision_time;
    CAIRN_TRY(Stmt s, c.Prepare("UPDATE step_runs SET status = ?, attempt = ?, outputs = ?, "
                                "error = ?, mlflow_run_id = ?, start_time = ?, end_time = ?, "
                                "deadline = ?, decision = ?, decided_by = ?, comment = ?, "
                                "decision_time = ? WHERE run_key = ? AND step_id = ?"));
    s.Bind(1, StepRunStatusName(r.status)).Bind(2, r.attempt).Bind(3, r.outputs)
        .Bind(4, r.error).Bind(5, r.mlflow_run_id).Bind(6, r.start_time).Bind(7, r.end_time)
        .Bind(8, r.deadline).Bind(9, r.decision).Bind(10, r.decided_by).Bind(11, r.comment)
        .Bind(12, r.decision_time).Bind(13, found.first).Bind(14, r.step_id);
    CAIRN_RETURN_IF_ERROR(s.Run());
    CAIRN_RETURN_IF_ERROR(TouchPipelineRun(c, found.first, clock_.NowMillis()));
    out = std::move(r);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Status SqliteMetadataStore::AppendStepLog(std::string_view run_id, std::string_view step_id,
                                          std::string_view text) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(auto found, FindPipelineRun(c, run_id));
    CAIRN_RETURN_IF_ERROR(LoadStepRun(c, found.first, run_id, step_id).status());
    CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO step_logs (run_key, step_id, log) VALUES (?, ?, ?) "
                                "ON CONFLICT (run_key, step_id) DO UPDATE SET log = log || "
                                "excluded.log"));
    s.Bind(1, found.first).Bind(2, step_id).Bind(3, text);
    return s.Run();
  });
}

Result<std::string> SqliteMetadataStore::GetStepLog(std::string_view run_id,
                                                    std::string_view step_id) {
  std::string out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(auto found, FindPipelineRun(c, run_id));
    CAIRN_RETURN_IF_ERROR(LoadStepRun(c, found.first, run_id, step_id).status());
    CAIRN_TRY(Stmt s, c.Prepare("SELECT log FROM step_logs WHERE run_key = ? AND step_id = ?"));
    s.Bind(1, found.first).Bind(2, step_id);
    CAIRN_TRY(bool row, s.Step());
    if (row) out = s.Text(0);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

// --- triggers ----------------------------------------------------------------------------------

namespace {

constexpr const char* kDefinitionColumns =
    "d.name, d.revision, d.spec, d.file, d.created_by, d.creation_time, d.last_update_time, "
    "(SELECT COUNT(*) FROM triggers t WHERE t.pipeline = d.name)";
constexpr const char* kTriggerColumns =
    "trigger_id, pipeline, position, kind, condition, enabled, state, last_fired_time, "
    "last_run_id, last_reason, held_time, held_reason, creation_time, last_update_time";
constexpr const char* kFiringColumns =
    "firing_id, trigger_id, pipeline, kind, time, reason, context, run_id, user, error";

Status DefinitionNotFound(std::string_view name) {
  return NotFound("pipeline '" + std::string(name) + "' does not exist");
}

Status TriggerNotFound(std::string_view id) {
  return NotFound("trigger '" + std::string(id) + "' does not exist");
}

PipelineDefinition ReadDefinition(const Stmt& s) {
  PipelineDefinition d;
  d.name = s.Text(0);
  d.revision = s.Int(1);
  d.spec = s.Text(2);
  d.file = s.Text(3);
  d.created_by = s.Text(4);
  d.creation_time = s.Int(5);
  d.last_update_time = s.Int(6);
  d.trigger_count = s.Int(7);
  return d;
}

TriggerRecord ReadTrigger(const Stmt& s) {
  TriggerRecord t;
  t.trigger_id = s.Text(0);
  t.pipeline = s.Text(1);
  t.position = s.Int(2);
  t.kind = s.Text(3);
  t.condition = s.Text(4);
  t.enabled = s.Int(5) != 0;
  t.state = s.Text(6);
  t.last_fired_time = s.Int(7);
  t.last_run_id = s.Text(8);
  t.last_reason = s.Text(9);
  t.held_time = s.Int(10);
  t.held_reason = s.Text(11);
  t.creation_time = s.Int(12);
  t.last_update_time = s.Int(13);
  return t;
}

TriggerFiring ReadFiring(const Stmt& s) {
  TriggerFiring f;
  f.firing_id = s.Int(0);
  f.trigger_id = s.Text(1);
  f.pipeline = s.Text(2);
  f.kind = s.Text(3);
  f.time = s.Int(4);
  f.reason = s.Text(5);
  f.context = s.Text(6);
  f.run_id = s.Text(7);
  f.user = s.Text(8);
  f.error = s.Text(9);
  return f;
}

Result<std::optional<PipelineDefinition>> FindDefinition(Connection& c, std::string_view name) {
  CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kDefinitionColumns +
                              " FROM pipeline_definitions d WHERE d.name = ?"));
  s.Bind(1, name);
  CAIRN_TRY(bool row, s.Step());
  if (!row) return std::optional<PipelineDefinition>();
  return std::optional<PipelineDefinition>(ReadDefinition(s));
}

Result<TriggerRecord> FindTrigger(Connection& c, std::string_view id) {
  CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kTriggerColumns +
                              " FROM triggers WHERE trigger_id = ?"));
  s.Bind(1, id);
  CAIRN_TRY(bool row, s.Step());
  if (!row) return TriggerNotFound(id);
  return ReadTrigger(s);
}

Status ApplyTriggerUpdate(Connection& c, const TriggerUpdate& u, int64_t now) {
  CAIRN_TRY(TriggerRecord t, FindTrigger(c, u.trigger_id));
  if (u.enabled) t.enabled = *u.enabled;
  if (u.state) t.state = *u.state;
  if (u.last_fired_time) t.last_fired_time = *u.last_fired_time;
  if (u.last_run_id) t.last_run_id = *u.last_run_id;
  if (u.last_reason) t.last_reason = *u.last_reason;
  if (u.held_time) t.held_time = *u.held_time;
  if (u.held_reason) t.held_reason = *u.held_reason;
  CAIRN_TRY(Stmt s, c.Prepare("UPDATE triggers SET enabled = ?, state = ?, last_fired_time = ?, "
                              "last_run_id = ?, last_reason = ?, held_time = ?, held_reason = ?, "
                              "last_update_time = ? WHERE trigger_id = ?"));
  s.Bind(1, int64_t{t.enabled ? 1 : 0}).Bind(2, t.state).Bind(3, t.last_fired_time)
      .Bind(4, t.last_run_id).Bind(5, t.last_reason).Bind(6, t.held_time).Bind(7, t.held_reason)
      .Bind(8, now).Bind(9, t.trigger_id);
  return s.Run();
}

}  // namespace

Result<PipelineDefinition> SqliteMetadataStore::PutPipelineDefinition(
    const PipelineDefinition& def, const std::vector<TriggerRecord>& triggers) {
  std::optional<PipelineDefinition> out;
  Status status = Write([&](Connection& c) -> Status {
    const int64_t now = def.last_update_time ? def.last_update_time : clock_.NowMillis();
    CAIRN_TRY(auto previous, FindDefinition(c, def.name));
    {
      CAIRN_TRY(Stmt s, c.Prepare("INSERT OR REPLACE INTO pipeline_definitions (name, revision, "
                                  "spec, file, created_by, creation_time, last_update_time) "
                                  "VALUES (?, ?, ?, ?, ?, ?, ?)"));
      s.Bind(1, def.name).Bind(2, previous ? previous->revision + 1 : int64_t{1})
          .Bind(3, def.spec).Bind(4, def.file).Bind(5, def.created_by)
          .Bind(6, previous ? previous->creation_time : now).Bind(7, now);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    // Triggers of this pipeline that are not in the new list go, with their firings.
    std::set<std::string> keep;
    for (const TriggerRecord& t : triggers) keep.insert(t.trigger_id);
    std::vector<std::string> gone;
    {
      CAIRN_TRY(Stmt s, c.Prepare("SELECT trigger_id FROM triggers WHERE pipeline = ?"));
      s.Bind(1, def.name);
      while (true) {
        CAIRN_TRY(bool row, s.Step());
        if (!row) break;
        if (!keep.contains(s.Text(0))) gone.push_back(s.Text(0));
      }
    }
    for (const std::string& id : gone) {
      for (const char* sql : {"DELETE FROM trigger_firings WHERE trigger_id = ?",
                              "DELETE FROM triggers WHERE trigger_id = ?"}) {
        CAIRN_TRY(Stmt s, c.Prepare(sql));
        s.Bind(1, id);
        CAIRN_RETURN_IF_ERROR(s.Run());
      }
    }
    for (const TriggerRecord& t : triggers) {
      int64_t created = now;
      {
        CAIRN_TRY(Stmt s, c.Prepare("SELECT pipeline, creation_time FROM triggers "
                                    "WHERE trigger_id = ?"));
        s.Bind(1, t.trigger_id);
        CAIRN_TRY(bool row, s.Step());
        if (row && s.Text(0) != def.name) {
          return AlreadyExists("trigger '" + t.trigger_id + "' belongs to pipeline '" +
                               s.Text(0) + "'");
        }
        if (row) created = s.Int(1);
      }
      CAIRN_TRY(Stmt s, c.Prepare(std::string("INSERT OR REPLACE INTO triggers (") +
                                  kTriggerColumns +
                                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      s.Bind(1, t.trigger_id).Bind(2, def.name).Bind(3, t.position).Bind(4, t.kind)
          .Bind(5, t.condition).Bind(6, int64_t{t.enabled ? 1 : 0}).Bind(7, t.state)
          .Bind(8, t.last_fired_time).Bind(9, t.last_run_id).Bind(10, t.last_reason)
          .Bind(11, t.held_time).Bind(12, t.held_reason).Bind(13, created).Bind(14, now);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    CAIRN_TRY(auto stored, FindDefinition(c, def.name));
    out = std::move(*stored);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<PipelineDefinition> SqliteMetadataStore::GetPipelineDefinition(std::string_view name) {
  std::optional<PipelineDefinition> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(out, FindDefinition(c, name));
    if (!out) return DefinitionNotFound(name);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<std::vector<PipelineDefinition>> SqliteMetadataStore::ListPipelineDefinitions() {
  std::vector<PipelineDefinition> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kDefinitionColumns +
                                " FROM pipeline_definitions d ORDER BY d.name"));
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadDefinition(s));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

Status SqliteMetadataStore::DeletePipelineDefinition(std::string_view name) {
  return Write([&](Connection& c) -> Status {
    for (const char* sql :
         {"DELETE FROM trigger_firings WHERE trigger_id IN "
          "(SELECT trigger_id FROM triggers WHERE pipeline = ?)",
          "DELETE FROM triggers WHERE pipeline = ?",
          "DELETE FROM pipeline_definitions WHERE name = ?"}) {
      CAIRN_TRY(Stmt s, c.Prepare(sql));
      s.Bind(1, name);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    if (c.Changes() == 0) return DefinitionNotFound(name);
    return Status::Ok();
  });
}

Result<std::vector<TriggerRecord>> SqliteMetadataStore::ListTriggers(std::string_view pipeline) {
  std::vector<TriggerRecord> out;
  Status status = Read([&](Connection& c) -> Status {
    std::string sql = std::string("SELECT ") + kTriggerColumns + " FROM triggers";
    if (!pipeline.empty()) sql += " WHERE pipeline = ?";
    sql += " ORDER BY pipeline, position";
    CAIRN_TRY(Stmt s, c.Prepare(sql));
    if (!pipeline.empty()) s.Bind(1, pipeline);
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadTrigger(s));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

Result<TriggerRecord> SqliteMetadataStore::GetTrigger(std::string_view trigger_id) {
  std::optional<TriggerRecord> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(out, FindTrigger(c, trigger_id));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<TriggerRecord> SqliteMetadataStore::UpdateTrigger(const TriggerUpdate& update) {
  std::optional<TriggerRecord> out;
  Status status = Write([&](Connection& c) -> Status {
    CAIRN_RETURN_IF_ERROR(ApplyTriggerUpdate(c, update, clock_.NowMillis()));
    CAIRN_TRY(out, FindTrigger(c, update.trigger_id));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<TriggerFiring> SqliteMetadataStore::RecordTriggerFiring(const TriggerFiring& firing,
                                                               const TriggerUpdate& update) {
  std::optional<TriggerFiring> out;
  Status status = Write([&](Connection& c) -> Status {
    const int64_t now = clock_.NowMillis();
    CAIRN_RETURN_IF_ERROR(FindTrigger(c, firing.trigger_id).status());
    TriggerFiring f = firing;
    if (f.time == 0) f.time = now;
    CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO trigger_firings (trigger_id, pipeline, kind, time, "
                                "reason, context, run_id, user, error) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    s.Bind(1, f.trigger_id).Bind(2, f.pipeline).Bind(3, f.kind).Bind(4, f.time)
        .Bind(5, f.reason).Bind(6, f.context).Bind(7, f.run_id).Bind(8, f.user).Bind(9, f.error);
    CAIRN_RETURN_IF_ERROR(s.Run());
    f.firing_id = c.LastInsertRowid();
    TriggerUpdate u = update;
    u.trigger_id = firing.trigger_id;
    CAIRN_RETURN_IF_ERROR(ApplyTriggerUpdate(c, u, now));
    out = std::move(f);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<std::vector<TriggerFiring>> SqliteMetadataStore::ListTriggerFirings(
    std::string_view trigger_id, int64_t max_results) {
  std::vector<TriggerFiring> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_RETURN_IF_ERROR(FindTrigger(c, trigger_id).status());
    CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kFiringColumns +
                                " FROM trigger_firings WHERE trigger_id = ? "
                                "ORDER BY firing_id DESC LIMIT ?"));
    s.Bind(1, trigger_id).Bind(2, max_results > 0 ? max_results : int64_t{100});
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadFiring(s));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

// --- jobs ------------------------------------------------------------------------------------

namespace {

constexpr const char* kJobColumns =
    "job_id, name, spec_json, compute, state, executor_handle, run_id, experiment_id, "
    "code_digest, creation_time, start_time, end_time, exit_code, message";

JobRecord ReadJob(const Stmt& s) {
  JobRecord j;
  j.job_id = s.Text(0);
  j.name = s.Text(1);
  j.spec_json = s.Text(2);
  j.compute = s.Text(3);
  j.state = s.Text(4);
  j.executor_handle = s.Text(5);
  j.run_id = s.Text(6);
  j.experiment_id = s.Text(7);
  j.code_digest = s.Text(8);
  j.creation_time = s.Int(9);
  j.start_time = s.Int(10);
  j.end_time = s.Int(11);
  if (!s.IsNull(12)) j.exit_code = s.Int(12);
  j.message = s.Text(13);
  return j;
}

Status JobNotFound(std::string_view job_id) {
  return NotFound("job '" + std::string(job_id) + "' does not exist");
}

}  // namespace

Status SqliteMetadataStore::CreateJob(const JobRecord& job) {
  return Write([&](Connection& c) -> Status {
    {
      CAIRN_TRY(Stmt s, c.Prepare("SELECT 1 FROM jobs WHERE job_id = ?"));
      s.Bind(1, job.job_id);
      CAIRN_TRY(bool row, s.Step());
      if (row) return AlreadyExists("job '" + job.job_id + "' already exists");
    }
    CAIRN_TRY(Stmt s, c.Prepare(std::string("INSERT INTO jobs (") + kJobColumns +
                                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    s.Bind(1, job.job_id).Bind(2, job.name).Bind(3, job.spec_json).Bind(4, job.compute)
        .Bind(5, job.state).Bind(6, job.executor_handle).Bind(7, job.run_id)
        .Bind(8, job.experiment_id).Bind(9, job.code_digest)
        .Bind(10, job.creation_time ? job.creation_time : clock_.NowMillis())
        .Bind(11, job.start_time).Bind(12, job.end_time);
    if (job.exit_code) {
      s.Bind(13, *job.exit_code);
    } else {
      s.BindNull(13);
    }
    s.Bind(14, job.message);
    return s.Run();
  });
}

Result<JobRecord> SqliteMetadataStore::GetJob(std::string_view job_id) {
  std::optional<JobRecord> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kJobColumns +
                                " FROM jobs WHERE job_id = ?"));
    s.Bind(1, job_id);
    CAIRN_TRY(bool row, s.Step());
    if (!row) return JobNotFound(job_id);
    out = ReadJob(s);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Status SqliteMetadataStore::UpdateJob(const JobRecord& job) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(Stmt s, c.Prepare("UPDATE jobs SET compute = ?, state = ?, executor_handle = ?, "
                                "run_id = ?, experiment_id = ?, code_digest = ?, start_time = ?, "
                                "end_time = ?, exit_code = ?, message = ? WHERE job_id = ?"));
    s.Bind(1, job.compute).Bind(2, job.state).Bind(3, job.executor_handle).Bind(4, job.run_id)
        .Bind(5, job.experiment_id).Bind(6, job.code_digest).Bind(7, job.start_time)
        .Bind(8, job.end_time);
    if (job.exit_code) {
      s.Bind(9, *job.exit_code);
    } else {
      s.BindNull(9);
    }
    s.Bind(10, job.message).Bind(11, job.job_id);
    CAIRN_RETURN_IF_ERROR(s.Run());
    if (c.Changes() == 0) return JobNotFound(job.job_id);
    return Status::Ok();
  });
}

Result<std::vector<JobRecord>> SqliteMetadataStore::ListJobs(const JobQuery& query) {
  std::vector<JobRecord> out;
  Status status = Read([&](Connection& c) -> Status {
    std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs";
    if (!query.states.empty()) {
      sql += " WHERE state IN (";
      for (size_t i = 0; i < query.states.size(); ++i) sql += i ? ", ?" : "?";
      sql += ")";
    }
    sql += " ORDER BY creation_time DESC, job_id DESC LIMIT ?";
    CAIRN_TRY(Stmt s, c.Prepare(sql));
    int i = 1;
    for (const auto& state : query.states) s.Bind(i++, state);
    s.Bind(i, query.max_results > 0 ? query.max_results : int64_t(100));
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadJob(s));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

// --- monitoring ------------------------------------------------------------------------------

namespace {

constexpr const char* kMonitorReportColumns =
    "report_id, endpoint, creation_time, since, until, drift_share, dataset_drift, report_json";

MonitorReportRecord ReadMonitorReport(const Stmt& s) {
  MonitorReportRecord r;
  r.report_id = s.Text(0);
  r.endpoint = s.Text(1);
  r.creation_time = s.Int(2);
  r.since = s.Int(3);
  r.until = s.Int(4);
  r.drift_share = s.Double(5);
  r.dataset_drift = s.Int(6) != 0;
  r.report_json = s.Text(7);
  return r;
}

}  // namespace

Status SqliteMetadataStore::PutMonitorConfig(const MonitorConfigRecord& config) {
  return Write([&](Connection& c) -> Status {
    CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO monitor_configs (endpoint, config_json, "
                                "last_update_time) VALUES (?, ?, ?) ON CONFLICT (endpoint) DO "
                                "UPDATE SET config_json = excluded.config_json, "
                                "last_update_time = excluded.last_update_time"));
    s.Bind(1, config.endpoint)
        .Bind(2, config.config_json)
        .Bind(3, config.last_update_time ? config.last_update_time : clock_.NowMillis());
    return s.Run();
  });
}

Result<MonitorConfigRecord> SqliteMetadataStore::GetMonitorConfig(std::string_view endpoint) {
  std::optional<MonitorConfigRecord> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(Stmt s, c.Prepare("SELECT endpoint, config_json, last_update_time FROM "
                                "monitor_configs WHERE endpoint = ?"));
    s.Bind(1, endpoint);
    CAIRN_TRY(bool row, s.Step());
    if (!row) {
      return NotFound("no monitor configuration for endpoint '" + std::string(endpoint) + "'");
    }
    out = MonitorConfigRecord{s.Text(0), s.Text(1), s.Int(2)};
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<std::vector<MonitorConfigRecord>> SqliteMetadataStore::ListMonitorConfigs() {
  std::vector<MonitorConfigRecord> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(Stmt s, c.Prepare("SELECT endpoint, config_json, last_update_time FROM "
                                "monitor_configs ORDER BY endpoint"));
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      out.push_back(MonitorConfigRecord{s.Text(0), s.Text(1), s.Int(2)});
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

Status SqliteMetadataStore::CreateMonitorReport(const MonitorReportRecord& report) {
  return Write([&](Connection& c) -> Status {
    {
      CAIRN_TRY(Stmt s, c.Prepare("SELECT 1 FROM monitor_reports WHERE endpoint = ? AND "
                                  "report_id = ?"));
      s.Bind(1, report.endpoint).Bind(2, report.report_id);
      CAIRN_TRY(bool row, s.Step());
      if (row) {
        return AlreadyExists("monitor report '" + report.report_id + "' already exists");
      }
    }
    CAIRN_TRY(Stmt s, c.Prepare(std::string("INSERT INTO monitor_reports (") +
                                kMonitorReportColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    s.Bind(1, report.report_id)
        .Bind(2, report.endpoint)
        .Bind(3, report.creation_time ? report.creation_time : clock_.NowMillis())
        .Bind(4, report.since)
        .Bind(5, report.until)
        .Bind(6, report.drift_share)
        .Bind(7, int64_t(report.dataset_drift ? 1 : 0))
        .Bind(8, report.report_json);
    return s.Run();
  });
}

Result<MonitorReportRecord> SqliteMetadataStore::GetMonitorReport(std::string_view endpoint,
                                                                  std::string_view report_id) {
  std::optional<MonitorReportRecord> out;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(Stmt s, c.Prepare(std::string("SELECT ") + kMonitorReportColumns +
                                " FROM monitor_reports WHERE endpoint = ? AND report_id = ?"));
    s.Bind(1, endpoint).Bind(2, report_id);
    CAIRN_TRY(bool row, s.Step());
    if (!row) {
      return NotFound("monitor report '" + std::string(report_id) + "' of endpoint '" +
                      std::string(endpoint) + "' does not exist");
    }
    out = ReadMonitorReport(s);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*out);
}

Result<std::vector<MonitorReportRecord>> SqliteMetadataStore::ListMonitorReports(
    const MonitorReportQuery& query) {
  std::vector<MonitorReportRecord> out;
  Status status = Read([&](Connection& c) -> Status {
    std::string sql = std::string("SELECT ") + kMonitorReportColumns +
                      " FROM monitor_reports WHERE endpoint = ?";
    if (!query.before_id.empty()) {
      sql += " AND (creation_time < ? OR (creation_time = ? AND report_id < ?))";
    }
    sql += " ORDER BY creation_time DESC, report_id DESC LIMIT ?";
    CAIRN_TRY(Stmt s, c.Prepare(sql));
    int i = 1;
    s.Bind(i++, query.endpoint);
    if (!query.before_id.empty()) {
      s.Bind(2, query.before_time).Bind(3, query.before_time).Bind(4, query.before_id);
      i = 5;
    }
    s.Bind(i, query.max_results > 0 ? query.max_results : int64_t(100));
    while (true) {
      CAIRN_TRY(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadMonitorReport(s));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

Result<int64_t> SqliteMetadataStore::PutFeedbackLabels(const std::vector<FeedbackLabel>& labels) {
  if (labels.empty()) return int64_t(0);
  const int64_t now = clock_.NowMillis();
  Status status = Write([&](Connection& c) -> Status {
    for (const FeedbackLabel& label : labels) {
      // Prepared once (the connection caches it); each Stmt resets it when it goes.
      CAIRN_TRY(Stmt s, c.Prepare("INSERT INTO feedback_labels (endpoint, request_id, "
                                  "label_json, time) VALUES (?, ?, ?, ?) ON CONFLICT (endpoint, "
                                  "request_id) DO UPDATE SET label_json = excluded.label_json, "
                                  "time = excluded.time"));
      s.Bind(1, label.endpoint)
          .Bind(2, label.request_id)
          .Bind(3, label.label_json)
          .Bind(4, label.time ? label.time : now);
      CAIRN_RETURN_IF_ERROR(s.Run());
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return static_cast<int64_t>(labels.size());
}

Result<std::vector<FeedbackLabel>> SqliteMetadataStore::GetFeedbackLabels(
    std::string_view endpoint, const std::vector<std::string>& request_ids) {
  std::vector<FeedbackLabel> out;
  constexpr size_t kBatch = 500;  // well under SQLite's bound-parameter limit
  Status status = Read([&](Connection& c) -> Status {
    for (size_t begin = 0; begin < request_ids.size(); begin += kBatch) {
      const size_t end = std::min(request_ids.size(), begin + kBatch);
      std::string sql =
          "SELECT endpoint, request_id, label_json, time FROM feedback_labels WHERE endpoint = ? "
          "AND request_id IN (";
      for (size_t i = begin; i < end; ++i) sql += i == begin ? "?" : ", ?";
      sql += ")";
      CAIRN_TRY(Stmt s, c.Prepare(sql));
      int p = 1;
      s.Bind(p++, endpoint);
      for (size_t i = begin; i < end; ++i) s.Bind(p++, request_ids[i]);
      while (true) {
        CAIRN_TRY(bool row, s.Step());
        if (!row) break;
        out.push_back(FeedbackLabel{s.Text(0), s.Text(1), s.Text(2), s.Int(3)});
      }
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

Result<int64_t> SqliteMetadataStore::CountFeedbackLabels(std::string_view endpoint) {
  int64_t count = 0;
  Status status = Read([&](Connection& c) -> Status {
    CAIRN_TRY(Stmt s, c.Prepare("SELECT COUNT(*) FROM feedback_labels WHERE endpoint = ?"));
    s.Bind(1, endpoint);
    CAIRN_TRY(bool row, s.Step());
    if (row) count = s.Int(0);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return count;
}

// --- end monitoring ---------------------------------------------------------------------------

}  // namespace cairn::store
