// JobClient: the C++ client of /api/v1/jobs. Submitting snapshots the job's code folder (its
// .gitignore rules respected, .git/ skipped) and the local files it names as inputs here, where
// they are, as content-addressed chunks; only the chunks the server lacks are uploaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/transport.h"
#include "core/result.h"
#include "jobs/code_snapshot.h"
#include "jobs/job_spec.h"
#include "store/job_records.h"

namespace cairn::client {

struct JobInfo {
  store::JobRecord record;
  jobs::JobSpec spec;
  std::string
      state;  // "queued", "running", "succeeded", "failed", "cancelled", "timed_out", "lost"
  bool terminal() const { return state != "queued" && state != "running"; }
};

struct JobSubmitOptions {
  std::optional<std::string> compute;  // overrides the spec's
  std::vector<std::string> params;     // "NAME=VALUE": inputs set or overridden
  std::string user;                    // "" : $USER
};

struct JobSubmitResult {
  JobInfo job;
  int64_t files = 0;           // in the code snapshot
  int64_t bytes = 0;           // their size
  int64_t uploaded_bytes = 0;  // chunk bytes the server lacked
};

struct JobLogChunk {
  std::string data;
  int64_t next_offset = 0;
  bool complete = false;
};

// Collects the files of a code folder (and path inputs) into a snapshot, chunking each file.
// `chunk` receives every chunk's digest and bytes (to upload). Exposed for tests.
struct CodeSnapshotBuilder {
  using ChunkSink = std::function<Status(const std::string& digest, std::string_view bytes)>;
  // Adds the files of `folder` under `prefix` ("code" or "inputs/NAME"), skipping what its
  // .gitignore files (at any depth) ignore and .git/. kNotFound when `folder` does not exist.
  Status AddFolder(const std::string& folder, const std::string& prefix, bool use_gitignore);
  // Adds one file as PREFIX/<its file name>; returns that path.
  Result<std::string> AddFile(const std::string& file, const std::string& prefix);

  ChunkSink sink;
  jobs::CodeSnapshot snapshot;
  int64_t bytes = 0;
};

// Each call is one or a few HTTP exchanges; server errors come back as Status. Not thread-safe.
class JobClient {
 public:
  static Result<std::unique_ptr<JobClient>> Connect(std::string_view tracking_uri);
  explicit JobClient(std::unique_ptr<Transport> transport);
  ~JobClient();

  // Reads and validates the job file, applies the options, snapshots `code` and path inputs
  // (relative to the job file's folder), uploads what the server lacks and submits.
  Result<JobSubmitResult> Submit(const std::string& job_file, const JobSubmitOptions& options);
  // The same for a spec already parsed; paths are relative to `base_dir`.
  Result<JobSubmitResult> SubmitSpec(jobs::JobSpec spec, const std::string& base_dir,
                                     const std::string& source_name, const std::string& user);

  Result<JobInfo> Get(std::string_view job_id);
  Result<std::vector<JobInfo>> List(const std::vector<std::string>& states, int64_t max_results);
  Result<JobInfo> Cancel(std::string_view job_id);
  Result<JobLogChunk> ReadLog(std::string_view job_id, std::string_view stream, int64_t offset);
  // Streams the log to `sink` from `offset` until the job has ended and the log is read to its
  // end, asking again every `poll` while nothing new came.
  Status FollowLog(std::string_view job_id, std::string_view stream,
                   const std::function<void(std::string_view)>& sink,
                   std::chrono::milliseconds poll = std::chrono::milliseconds(500));
  // Asks every `poll` until the job has ended; returns it then.
  Result<JobInfo> Wait(std::string_view job_id,
                       std::chrono::milliseconds poll = std::chrono::milliseconds(500));

 private:
  Result<nlohmann::json> Call(std::string_view method, const std::string& target,
                              std::string_view body, std::string_view content_type);
  Status UploadChunks(std::vector<std::pair<std::string, std::string>>& batch, int64_t& uploaded);

  std::unique_ptr<Transport> transport_;
};

}  // namespace cairn::client
