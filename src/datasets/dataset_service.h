// DatasetService: immutable, numbered versions of named datasets over the metadata store (the
// index) and the blob store (chunks, file manifests, root manifests, profiles). One service
// shared by every front end; knows nothing of HTTP.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blob/blob_store.h"
#include "core/clock.h"
#include "core/result.h"
#include "datasets/dataset_types.h"
#include "store/metadata_store.h"

namespace cairn::datasets {

// Streams one file of a version, checking each chunk against its digest as it is read and the
// whole file against its SHA-256 at the end. Not thread-safe.
class DatasetFileReader {
 public:
  virtual ~DatasetFileReader() = default;
  virtual uint64_t size() const = 0;
  virtual const std::string& sha256() const = 0;
  // Replaces `bytes` with the next chunk of the file; empty at the end. kDataLoss naming the
  // file when a chunk or the file's digest does not match (the bytes read so far are then not
  // the file).
  virtual Status Read(std::string& bytes) = 0;
};

// Thread-safe (the stores are).
class DatasetService {
 public:
  DatasetService(store::MetadataStore& store, blob::BlobStore& blobs, const Clock& clock);

  // --- Chunk upload ----------------------------------------------------------------------------
  // The digests the blob store lacks, each once, in the order given. kInvalidArgument naming
  // the first entry that is not a lower-case SHA-256 hex digest.
  Result<std::vector<std::string>> MissingBlobs(const std::vector<std::string>& digests);
  // Hashes every chunk and checks it against its declared digest first: a mismatch is
  // kInvalidArgument naming the chunk, and then nothing is stored. Then stores the chunks the
  // blob store lacks, under the SHA-256 computed here, in one blob batch (one durability barrier
  // for the pack). Durable when it returns.
  Result<BlobPackResult> PutBlobs(const std::vector<BlobPackEntry>& chunks);

  // --- Versions --------------------------------------------------------------------------------
  // Records the next version of `request.name` from file manifests whose chunks are already in
  // the blob store: validates the name, paths (unique) and manifests (an empty file is
  // kInvalidArgument "empty file: <path>"), checks every chunk is present (kFailedPrecondition
  // naming the file and chunk otherwise), stores each file manifest, the root manifest (its
  // digest is the version id) and the profiles, then the version record. Content equal to the
  // latest version's returns that version with created=false. Nothing is recorded on error
  // (blobs already written are unreferenced, content-addressed and harmless).
  Result<CreatedVersion> CreateVersion(const NewVersionRequest& request);
  // Calls `listener` after each new version is recorded (not for content equal to the latest),
  // on the thread that created it (dataset triggers are told at once). Add listeners before the
  // service is shared; they must not call back into CreateVersion.
  void AddVersionListener(std::function<void(const store::DatasetVersion&)> listener);

  // Every dataset, by name.
  Result<std::vector<store::DatasetSummary>> ListDatasets();
  // Versions of `name`, newest first. kNotFound naming the dataset.
  Result<std::vector<store::DatasetVersion>> ListVersions(std::string_view name);
  // Version `version` of `name` (nullopt: the latest) with its files. kNotFound naming the
  // dataset or the version.
  Result<VersionDetails> GetVersion(std::string_view name, std::optional<int64_t> version);
  // The profiles of a version's profiled files (all, or the one at `path`: kNotFound naming it
  // when it is not a file of the version, kFailedPrecondition when it has no profile).
  Result<std::vector<FileProfile>> GetProfiles(std::string_view name,
                                               std::optional<int64_t> version,
                                               std::optional<std::string> path = std::nullopt);
  // The manifest of the file at `path` (kNotFound naming the path).
  Result<data::FileManifest> GetFileManifest(std::string_view name, std::optional<int64_t> version,
                                             std::string_view path);
  // The bytes of the file at `path`, verified as they stream (kNotFound naming the path).
  Result<std::unique_ptr<DatasetFileReader>> OpenFile(std::string_view name,
                                                      std::optional<int64_t> version,
                                                      std::string_view path);
  // What changed from version `from` to version `to` of `name`: files added, removed and
  // changed, and for changed CSV files profiled on both sides, the profile diff. When each side
  // has exactly one file, those two are compared whatever their paths.
  Result<VersionDiff> Diff(std::string_view name, std::optional<int64_t> from,
                           std::optional<int64_t> to);

 private:
  // Stages `bytes` in `batch` under the SHA-256 computed here; returns it.
  Result<std::string> Stage(blob::BlobBatch& batch, std::string_view bytes);
  // Stages `bytes` cut into content-defined chunks, and their manifest; returns the manifest's
  // digest. Profiles are stored so: consecutive versions' profiles share most of their bytes
  // (the reservoir samples, ~90 % of a profile, change little when rows are appended).
  Result<std::string> StageChunked(blob::BlobBatch& batch, std::string_view bytes);
  // Reads back what StageChunked stored, verified; kDataLoss naming `what` otherwise.
  Result<std::string> ReadChunked(std::string_view manifest_digest, const std::string& what);
  Result<std::vector<VersionFile>> FilesOf(const store::DatasetVersion& version);
  Result<data::DatasetProfile> LoadProfile(const VersionFile& file);

  store::MetadataStore& store_;
  blob::BlobStore& blobs_;
  const Clock& clock_;
  std::vector<std::function<void(const store::DatasetVersion&)>> version_listeners_;
};

}  // namespace cairn::datasets
