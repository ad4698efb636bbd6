// SlurmExecutor: runs jobs on a Slurm cluster — `sbatch` of a generated batch script, state from
// `scontrol show job`, the real exit status from the file the script writes, `scancel` to stop.
// Needs no accounting (slurmdbd): the controller must keep finished jobs visible for a while
// (slurm.conf MinJobAge, default 300 s); a job it no longer knows is judged by its exit-code file.
// The job's work folder, log and exit-code paths must be on a filesystem the compute nodes share.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "compute/executor.h"

namespace cairn::compute {

struct SlurmConfig {
  std::string slurm_conf;  // SLURM_CONF for every Slurm command; "": the system's default
  std::string partition;   // "": the cluster's default partition
  // Appended to every `sbatch` call, before the script (e.g. "--account=ml", "--qos=high").
  std::vector<std::string> extra_sbatch_args;
  // Where sbatch, scontrol and scancel are; "": found through PATH.
  std::string bin_dir;
  // A Slurm command that takes longer fails with kUnavailable (the controller is unreachable).
  std::chrono::milliseconds command_timeout{60'000};
};

// What the batch script's exit-code file holds: the command's exit status on the first line and,
// when the job's own timeout ended it, "timeout" on the second.
inline constexpr std::string_view kTimeoutMarker = "timeout";
// Jobs past the timeout get this long after SIGTERM before SIGKILL.
inline constexpr int kTimeoutKillAfterSeconds = 10;

// Thread-safe: it holds only its configuration; Slurm keeps the state.
class SlurmExecutor final : public Executor {
 public:
  explicit SlurmExecutor(SlurmConfig config);

  std::string_view name() const override { return "slurm"; }
  // Slurm keeps its own queue: the job service submits everything and Slurm schedules it.
  int FreeSlots() const override { return kManySlots; }
  // Writes `cairn-slurm-job.sh` in job.work_dir (see BatchScript) and submits it; returns the
  // Slurm job id. Relative paths are taken from this process's working folder. kInvalidArgument for a job the script cannot express (a bad variable name, a
  // path with a newline or double quote); kUnavailable when the controller does not answer;
  // kFailedPrecondition when sbatch refuses the job (its message quoted).
  Result<std::string> Launch(const JobLaunch& job) override;
  // kPending/kRunning while Slurm has it queued or running (the message says why it waits);
  // at the end the exit-code file decides succeeded/failed/timed out, and Slurm's own verdicts
  // (CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, …) are reported as such. A job Slurm no
  // longer knows and that left no exit-code file is kLost. kUnavailable when the controller does
  // not answer; kInvalidArgument for a handle that is not a Slurm job id.
  Result<JobObservation> Observe(const JobLaunch& job, const std::string& handle) override;
  // `scancel`; a job that already ended or that Slurm forgot is not an error.
  Status Cancel(const JobLaunch& job, const std::string& handle) override;

  // `scontrol ping`: OK when the controller answers, else kUnavailable with Slurm's words.
  Status Ping() const;

  // The batch script for `job`: #SBATCH options (name cairn-<id>, output/error paths, chdir,
  // cpus-per-task, --mem in MB rounded up, --time in minutes rounded up plus one so the
  // script's own, exact timeout fires first), `export` of the job's environment, then the command
  // under `/bin/sh -c` (under `timeout` when the job has one), and the exit-code file written
  // atomically.
  static Result<std::string> BatchScript(const JobLaunch& job);

  static constexpr int kManySlots = 1 << 20;
  static constexpr std::string_view kScriptName = "cairn-slurm-job.sh";

 private:
  SlurmConfig config_;
};

}  // namespace cairn::compute
