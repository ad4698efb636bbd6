// JobService: the user's own commands run reproducibly on a compute target. It persists jobs,
// gives each one an MLflow run with its lineage, queues them until their executor has a free
// slot, prepares a fresh work folder (code snapshot and inputs materialized, references
// expanded), watches them, and on the end stores logs and outputs as run artifacts and sets the
// run's status. Knows nothing of HTTP.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "blob/blob_store.h"
#include "compute/executor.h"
#include "core/clock.h"
#include "core/result.h"
#include "datasets/dataset_service.h"
#include "jobs/job_spec.h"
#include "store/metadata_store.h"
#include "tracking/artifact_service.h"
#include "tracking/tracking_service.h"

namespace cairn::jobs {

enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled, kTimedOut, kLost };
std::string_view JobStateName(JobState state);  // "queued", "running", …, "timed_out", "lost"
Result<JobState> ParseJobState(std::string_view name);
bool IsTerminal(JobState state);

struct SubmitJobRequest {
  JobSpec spec;           // path inputs' values name their place in the code snapshot
                          // ("inputs/NAME/…"); dataset inputs are resolved here
  std::string code_json;  // the code snapshot (SerializeCodeSnapshot); "" : none
  std::string user;
  std::string source_name;  // mlflow.source.name: the job file, as the client names it
};

struct Job {
  store::JobRecord record;
  JobSpec spec;
  JobState state = JobState::kQueued;
};

struct LogChunk {
  std::string data;
  int64_t next_offset = 0;
  bool complete = false;  // the job has ended and `next_offset` is the log's end
};

struct JobServiceOptions {
  std::string data_dir;  // jobs live under DATA_DIR/jobs/<id>
  // How often the scheduler looks at running jobs (it also wakes on submit and cancel).
  std::chrono::milliseconds poll_interval{250};
  int64_t max_log_chunk_bytes = 1 << 20;
  // How long a running job's executor may stay unreachable (Observe answering kUnavailable: the
  // Slurm controller restarting, a network blip) before the job is given up as lost. Until then
  // the job stays running, its message says why it is not being watched, and every pass retries.
  std::chrono::milliseconds unreachable_grace{std::chrono::minutes(10)};
};

// Thread-safe.
class JobService {
 public:
  // Executors by name ("local", "slurm"); they and the services must outlive this.
  JobService(store::MetadataStore& store, blob::BlobStore& blobs,
             tracking::TrackingService& tracking, tracking::ArtifactService& artifacts,
             datasets::DatasetService& datasets,
             std::map<std::string, compute::Executor*> executors, const Clock& clock,
             JobServiceOptions options);
  ~JobService();  // Stop()

  // Takes up the jobs of an earlier server process — queued ones stay queued, running ones are
  // re-attached through their executor handle (or finished from what the executor reports) —
  // and starts the scheduler. `tracking_uri` is this server's URL, given to jobs.
  Status Start(std::string tracking_uri);
  // Stops the scheduler; running jobs keep running (a restart re-attaches them).
  void Stop();

  // Validates the spec (compute known, every path input in the code snapshot, every chunk of
  // the snapshot present), resolves dataset inputs to versions, stores the code snapshot,
  // creates the job's run in `spec.experiment` (created if needed) with its lineage tags, and
  // queues the job. kInvalidArgument / kNotFound / kFailedPrecondition naming the culprit.
  Result<Job> Submit(SubmitJobRequest request);
  Result<Job> Get(std::string_view job_id);
  // Newest first.
  Result<std::vector<Job>> List(const store::JobQuery& query);
  // A queued job ends at once; a running one is asked to stop (its state follows when the
  // executor reports it). kFailedPrecondition when the job has already ended.
  Result<Job> Cancel(std::string_view job_id);
  // Up to max_bytes (0: the service's limit) of the job's "stdout" or "stderr" from `offset`.
  Result<LogChunk> ReadLog(std::string_view job_id, std::string_view stream, int64_t offset,
                           int64_t max_bytes = 0);

  // Blocks until the job is in one of `states` (any terminal state when empty) and returns it;
  // kUnavailable when `timeout` passes first. For tests and in-process callers (no polling).
  Result<Job> WaitForState(std::string_view job_id, std::vector<JobState> states,
                           std::chrono::milliseconds timeout);

  // Where a job's files are: DATA/jobs/<id>.
  std::string JobDir(std::string_view job_id) const;

 private:
  struct Active {
    store::JobRecord record;
    JobSpec spec;
    bool cancel_requested = false;
    // Clock millis of the first failed Observe of the current unreachable stretch.
    std::optional<int64_t> unreachable_since;
  };

  void SchedulerLoop();
  // One pass: observe running jobs, launch queued ones. mu_ not held.
  void Tick();
  Status LaunchJob(Active& job);  // prepares and starts; updates job.record
  Status PrepareWorkDir(const Active& job, compute::JobLaunch& launch);
  compute::JobLaunch LaunchOf(const Active& job) const;
  // Records the end: outputs and logs as artifacts, run status, job record.
  void FinishJob(Active& job, JobState state, std::optional<int> exit_code,
                 const std::string& message);
  Status Persist(const store::JobRecord& record);
  Result<Job> ToJob(const store::JobRecord& record) const;

  store::MetadataStore& store_;
  blob::BlobStore& blobs_;
  tracking::TrackingService& tracking_;
  tracking::ArtifactService& artifacts_;
  datasets::DatasetService& datasets_;
  std::map<std::string, compute::Executor*> executors_;
  const Clock& clock_;
  const JobServiceOptions options_;
  std::string tracking_uri_;

  std::mutex mu_;
  std::condition_variable cv_;            // wakes the scheduler (submit, cancel, stop)
  std::condition_variable changed_cv_;    // a job changed state
  std::map<std::string, Active> active_;  // queued and running jobs, by id
  bool stopping_ = false;
  bool wake_ = false;
  std::thread scheduler_;
  // Serializes passes of the scheduler with Cancel's executor calls.
  std::mutex tick_mu_;
};

}  // namespace cairn::jobs
