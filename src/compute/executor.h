// Executor: where a job's process runs (the local machine or a Slurm cluster). The job service
// prepares everything (work folder, expanded command, environment) and persists the job; an
// executor only starts, watches and stops the process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace cairn::compute {

// Everything an executor needs to run one job attempt. Paths are absolute.
struct JobLaunch {
  std::string job_id;
  std::string work_dir;  // the job's fresh folder: code and inputs already materialized
  std::string command;   // run as `/bin/sh -c COMMAND` in work_dir (expansions already done)
  // Added to the process's environment (MLFLOW_TRACKING_URI, MLFLOW_RUN_ID, CAIRN_*, the
  // spec's environment.vars).
  std::vector<std::pair<std::string, std::string>> env;
  int cpus = 0;              // 0: not limited
  int64_t memory_bytes = 0;  // 0: not limited
  int64_t timeout_ms = 0;    // 0: none; past it the whole process group is killed
  std::string stdout_path;   // where stdout and stderr go (created by the executor)
  std::string stderr_path;
  // The script writes the command's exit status here when it ends, so the outcome can be read
  // after a server restart (and on Slurm, without accounting).
  std::string exit_code_path;
};

enum class JobPhase { kPending, kRunning, kSucceeded, kFailed, kCancelled, kTimedOut, kLost };

struct JobObservation {
  JobPhase phase = JobPhase::kPending;
  std::optional<int> exit_code;  // when it ended by itself
  std::string message;           // why (e.g. "killed by signal 9", "slurm: NODE_FAIL")
};

// Thread-safe.
class Executor {
 public:
  virtual ~Executor() = default;
  // "local" or "slurm": what a job spec's `compute` names.
  virtual std::string_view name() const = 0;
  // Jobs it would start now on top of those running (the job service keeps the rest queued);
  // a cluster scheduler with its own queue may say "many".
  virtual int FreeSlots() const = 0;
  // Starts the job; returns a handle (a process group id, a Slurm job id) that the job service
  // stores with the job so that a restarted server can watch it again.
  virtual Result<std::string> Launch(const JobLaunch& job) = 0;
  // Where the job is now. Cheap enough to call every second per running job.
  virtual Result<JobObservation> Observe(const JobLaunch& job, const std::string& handle) = 0;
  // Ends the job's whole process group (or scancel); idempotent.
  virtual Status Cancel(const JobLaunch& job, const std::string& handle) = 0;
};

}  // namespace cairn::compute
