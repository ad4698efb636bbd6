// Stored pipeline definitions, their retraining triggers and the triggers' firings, as the
// metadata store keeps them. The trigger service owns the JSON formats (condition, state,
// context); the store keeps them as given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cairn::store {

// A pipeline file the server keeps, by the spec's name. Each Put makes a new revision.
struct PipelineDefinition {
  std::string name;
  int64_t revision = 0;  // 1, 2, … assigned by the store
  std::string spec;      // the YAML text
  std::string file;      // the file it came from, as the client named it (steps resolve paths)
  std::string created_by;  // who stored this revision
  int64_t creation_time = 0;     // of revision 1, ms since the epoch
  int64_t last_update_time = 0;  // of this revision
  int64_t trigger_count = 0;     // filled on read
  bool operator==(const PipelineDefinition&) const = default;
};

// One trigger of a stored pipeline. Its id is readable: "<pipeline>/<kind>", "<pipeline>/<kind>-2"
// for the second of a kind.
struct TriggerRecord {
  std::string trigger_id;
  std::string pipeline;
  int64_t position = 0;      // its place in the file's triggers list
  std::string kind;          // "schedule" | "drift" | "metric" | "dataset"
  std::string condition;     // JSON: the trigger as written (normalized)
  bool enabled = true;
  std::string state = "{}";  // JSON: what the service remembers between evaluations
  int64_t last_fired_time = 0;  // 0: never fired
  std::string last_run_id;
  std::string last_reason;
  // The last time the trigger's condition held while a run it started was still in flight.
  int64_t held_time = 0;
  std::string held_reason;
  int64_t creation_time = 0;
  int64_t last_update_time = 0;
  bool operator==(const TriggerRecord&) const = default;
};

// Fields that are set are written (and last_update_time).
struct TriggerUpdate {
  std::string trigger_id;
  std::optional<bool> enabled;
  std::optional<std::string> state;
  std::optional<int64_t> last_fired_time;
  std::optional<std::string> last_run_id;
  std::optional<std::string> last_reason;
  std::optional<int64_t> held_time;
  std::optional<std::string> held_reason;
};

// One time a trigger fired: why, with which context, and the run it started (or why it could
// not start one).
struct TriggerFiring {
  int64_t firing_id = 0;  // assigned by the store, increasing
  std::string trigger_id;
  std::string pipeline;
  std::string kind;
  int64_t time = 0;         // ms since the epoch
  std::string reason;       // in words: "drift share 0.63 ≥ 0.5 in report R"
  std::string context = "{}";  // JSON object of strings: the parameters offered to the run
  std::string run_id;       // empty when the run could not start
  std::string user;         // "trigger:<trigger id>"
  std::string error;        // why the run could not start
  bool operator==(const TriggerFiring&) const = default;
};

}  // namespace cairn::store
