// DatasetClient: the C++ client of /api/v1/datasets. Snapshots run the snapshot pass here, where
// the files are (the server may be remote), and upload only the chunks the server lacks; reads
// verify every chunk and file against its SHA-256.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/mlflow_json.h"
#include "client/transport.h"
#include "core/result.h"
#include "data/chunker.h"
#include "data/profile.h"
#include "data/profile_diff.h"
#include "store/records.h"

namespace cairn::client {

// A dataset version as users name it: "NAME" or "NAME@latest" (the latest), "NAME@v3" or
// "NAME@3".
struct DatasetRef {
  std::string name;
  std::optional<int64_t> version;  // nullopt: the latest
};
// kInvalidArgument naming `text` for anything else (an empty name, "@", "@v0", "@x").
Result<DatasetRef> ParseDatasetRef(std::string_view text);
// "NAME@vN", or "NAME@latest".
std::string FormatDatasetRef(const DatasetRef& ref);

struct DatasetFile {
  std::string path;  // '/'-separated, relative to the version's root
  uint64_t size = 0;
  std::string sha256;
  std::string manifest_digest;
  int64_t rows = -1;  // profiled CSV files only
};

struct DatasetFileProfile {
  std::string path;
  data::DatasetProfile profile;
};

struct DatasetVersionInfo {
  store::DatasetVersion version;
  std::vector<DatasetFile> files;              // by path
  std::vector<DatasetFileProfile> profiles;    // when asked for
};

struct DatasetFileDiff {
  std::string path;       // "" when removed
  std::string from_path;  // "" when added
  std::string change;     // "added" | "removed" | "changed" | "unchanged"
  std::optional<DatasetFile> from;
  std::optional<DatasetFile> to;
  std::optional<data::ProfileDiff> profile;
};

struct DatasetDiff {
  store::DatasetVersion from;
  store::DatasetVersion to;
  std::vector<DatasetFileDiff> files;
};

// Where a snapshot is, for a progress bar. Called on the snapshotting thread.
struct SnapshotProgressInfo {
  uint64_t bytes_done = 0;   // of all files
  uint64_t bytes_total = 0;
  size_t files_done = 0;
  size_t files_total = 0;
  std::string current;  // the relative path being read
};
using SnapshotProgressFn = std::function<void(const SnapshotProgressInfo&)>;

struct SnapshotOptions {
  std::string description;
  std::string created_by;  // "" : $USER
  // Chunks are uploaded in batches of at most this many bytes or chunks: one "which are
  // missing?" exchange and one pack upload per batch, while the pass goes on with the next.
  size_t batch_bytes = 8u << 20;
  size_t batch_chunks = 4096;
  unsigned threads = 0;  // hashing threads; 0: one per core
};

struct SnapshotResult {
  store::DatasetVersion version;
  bool created = false;          // false: same content as the latest version, which this is
  int64_t files = 0;
  int64_t total_bytes = 0;       // of the files
  int64_t chunks = 0;            // chunk references (with repeats)
  int64_t uploaded_bytes = 0;    // chunk bytes sent (those the server lacked)
  int64_t stored_chunk_bytes = 0;     // chunk bytes the server reports it newly stored
  int64_t stored_metadata_bytes = 0;  // manifest and profile bytes it newly stored
};

struct RestoreResult {
  std::vector<std::string> written;    // local paths written
  std::vector<std::string> unchanged;  // local paths that already held the right bytes
  int64_t bytes = 0;                   // bytes downloaded
};

// Each call is one or a few HTTP exchanges; server errors come back as Status (MLflow error
// codes → canonical codes). Not thread-safe: one client per thread.
class DatasetClient {
 public:
  static Result<std::unique_ptr<DatasetClient>> Connect(std::string_view tracking_uri);
  explicit DatasetClient(std::unique_ptr<Transport> transport);
  ~DatasetClient();

  // Makes the next version of dataset `name` from the file or folder at `path`. A folder's
  // regular files are taken recursively, at their '/'-separated paths relative to it; a file
  // alone is recorded under its file name. Symbolic links are followed (a link is recorded at
  // its own path, holding what it points to); a link cycle is an error. Each file is cut the
  // way its previous version was (same path, or the single file of one-file versions), so
  // unchanged regions deduplicate; CSV files are profiled in the same pass. Errors name the
  // culprit: a missing path (kNotFound), an empty file ("empty file: <path>"), a CSV that does
  // not parse (file, line and column), a non-UTF-8 name; no version is made then.
  Result<SnapshotResult> Snapshot(std::string_view name, const std::string& path,
                                  const SnapshotOptions& options = {},
                                  const SnapshotProgressFn& progress = {});

  Result<std::vector<store::DatasetSummary>> List();
  // Newest first. kNotFound naming the dataset.
  Result<std::vector<store::DatasetVersion>> Versions(std::string_view name);
  // The version `ref` names (kNotFound naming the dataset or version).
  Result<store::DatasetVersion> Resolve(const DatasetRef& ref);
  // The version with its files, and its profiles when `include_profiles`.
  Result<DatasetVersionInfo> Get(const DatasetRef& ref, bool include_profiles = true);
  Result<DatasetDiff> Diff(std::string_view name, int64_t from, int64_t to);

  // The bytes of one file of the version, each chunk and the whole checked against the
  // manifest's SHA-256s (kDataLoss naming the file otherwise).
  Result<std::string> ReadFile(const DatasetRef& ref, std::string_view path);
  // Writes every file of the version under `dir` (created if needed) at its relative path.
  // Each file is downloaded to a temporary name beside its target, checked chunk by chunk and
  // whole against the manifest, then renamed into place: a target is either the version's
  // bytes or untouched. A target that already holds the right bytes is left as is.
  Result<RestoreResult> Restore(const DatasetRef& ref, const std::string& dir);

 private:
  struct Uploader;
  Result<Json> Call(std::string_view method, const std::string& target, std::string_view body,
                    std::string_view content_type = "application/json");
  Result<data::FileManifest> FetchManifest(const store::DatasetVersion& version,
                                           std::string_view path);
  std::string VersionTarget(const store::DatasetVersion& version) const;

  std::unique_ptr<Transport> transport_;
};

}  // namespace cairn::client
