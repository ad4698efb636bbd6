// ArtifactService: run artifacts behind MLflow's artifact proxy. Bytes live in the blob store
// under their digest; the metadata store maps each artifact path to its digest.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "blob/blob_store.h"
#include "core/clock.h"
#include "core/result.h"
#include "store/metadata_store.h"

namespace cairn::tracking {

// An upload in progress: bytes stream into a temporary blob while they are hashed.
class ArtifactUpload {
 public:
  ArtifactUpload(store::MetadataStore& store, std::unique_ptr<blob::BlobWriter> writer,
                 std::string path)
      : store_(store), writer_(std::move(writer)), path_(std::move(path)) {}
  Status Write(std::string_view chunk) { return writer_->Write(chunk); }
  // Commits the blob, then points the path at it. Returns the stored entry.
  Result<store::ArtifactEntry> Finish();
  const std::string& path() const { return path_; }

 private:
  store::MetadataStore& store_;
  std::unique_ptr<blob::BlobWriter> writer_;
  std::string path_;
};

struct ArtifactDownload {
  store::ArtifactEntry entry;
  std::unique_ptr<blob::BlobReader> reader;
};

struct RunArtifactListing {
  std::string root_uri;
  std::vector<store::ArtifactEntry> files;  // paths relative to the run's artifact root
};

// Thread-safe.
class ArtifactService {
 public:
  ArtifactService(store::MetadataStore& store, blob::BlobStore& blobs)
      : store_(store), blobs_(blobs) {}

  // Paths are relative to the proxy root ("0/<run_id>/artifacts/model/MLmodel").
  Result<std::unique_ptr<ArtifactUpload>> BeginUpload(std::string_view path);
  Result<ArtifactDownload> Open(std::string_view path);
  // Direct children of `dir`, with paths relative to `dir` (as MLflow's proxy lists them).
  Result<std::vector<store::ArtifactEntry>> List(std::string_view dir);
  Status Delete(std::string_view path);
  // MLflow's artifacts/list: children of `path` under the run's artifact root.
  Result<RunArtifactListing> ListRunArtifacts(std::string_view run_id, std::string_view path);

 private:
  store::MetadataStore& store_;
  blob::BlobStore& blobs_;
};

// kInvalidArgument unless `path` is a relative path that stays inside its root: no NUL bytes,
// backslashes, empty, "." or ".." segments, and no leading '/'. `allow_empty` admits the root.
Status ValidateArtifactPath(std::string_view path, bool allow_empty = false);

// "mlflow-artifacts:/0/abc/artifacts" → "0/abc/artifacts"; kInvalidArgument for other schemes.
Result<std::string> ProxyPathOfUri(std::string_view artifact_uri);

}  // namespace cairn::tracking
