// Records of the job service: one row per job (its spec, where it runs, how it ended).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cairn::store {

// A job as the job service persists it. The store keeps the fields as given; the job service
// owns their meaning (states, spec format).
struct JobRecord {
  std::string job_id;
  std::string name;
  std::string spec_json;        // the job spec as JSON, inputs resolved
  std::string compute;          // the executor's name: "local" | "slurm"
  std::string state;            // "queued" | "running" | "succeeded" | "failed" | …
  std::string executor_handle;  // what the executor returned at launch ("" before)
  std::string run_id;           // the MLflow run the job owns
  std::string experiment_id;
  std::string code_digest;    // the code snapshot ("" : none)
  int64_t creation_time = 0;  // ms since the epoch
  int64_t start_time = 0;     // 0: not started
  int64_t end_time = 0;       // 0: not ended
  std::optional<int64_t> exit_code;
  std::string message;  // why it ended as it did, or what it waits for
  bool operator==(const JobRecord&) const = default;
};

struct JobQuery {
  std::vector<std::string> states;  // empty: any
  int64_t max_results = 100;
};

}  // namespace cairn::store
