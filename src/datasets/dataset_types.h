// Request and response types of the DatasetService, and the rules for dataset names and paths.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "data/chunker.h"
#include "data/profile.h"
#include "data/profile_diff.h"
#include "store/records.h"

namespace cairn::datasets {

// kInvalidArgument naming the name unless it matches [A-Za-z0-9][A-Za-z0-9._-]{0,127}.
Status ValidateDatasetName(std::string_view name);
// A file's path inside a dataset: relative, '/'-separated, normalized (no empty, "." or ".."
// segments, no leading or trailing '/'), valid UTF-8 without control characters, at most 4096
// bytes. kInvalidArgument naming the path otherwise.
Status ValidateDatasetPath(std::string_view path);

// One chunk of a blob pack: bytes and the SHA-256 the client says they have.
struct BlobPackEntry {
  std::string digest;
  std::string_view bytes;  // points into the request body
};

struct BlobPackResult {
  int64_t chunks = 0;        // entries received
  int64_t stored = 0;        // entries the blob store did not have before
  int64_t stored_bytes = 0;  // their bytes
};

// One file of a new version, as the snapshot pass described it.
struct NewFile {
  data::FileManifest manifest;
  std::optional<data::DatasetProfile> profile;  // CSV files
};

struct NewVersionRequest {
  std::string name;
  std::string description;
  std::string created_by;
  std::vector<NewFile> files;
};

struct CreatedVersion {
  store::DatasetVersion version;
  bool created = false;      // false: the content equals the latest version, which is returned
  int64_t stored_bytes = 0;  // manifest and profile bytes this call added to the blob store
};

// One file of a version: what the version's root manifest lists, plus its profile's place.
struct VersionFile {
  std::string path;
  uint64_t size = 0;
  std::string sha256;           // of the whole file
  std::string manifest_digest;  // blob digest of the file's manifest (SerializeManifest)
  int64_t rows = -1;            // profiled CSV files only
  std::string profile_digest;   // blob digest of the manifest of the file's profile JSON (stored
                                // in content-defined chunks); "" when none

  bool operator==(const VersionFile&) const = default;
};

struct VersionDetails {
  store::DatasetVersion version;
  std::vector<VersionFile> files;  // sorted by path
};

struct FileProfile {
  std::string path;
  data::DatasetProfile profile;
};

enum class FileChange { kAdded, kRemoved, kChanged, kUnchanged };
std::string_view FileChangeName(FileChange change);  // "added" | "removed" | …

struct FileDiff {
  std::string path;       // the `to` path ("" when removed)
  std::string from_path;  // the `from` path ("" when added); differs from `path` when the single
                          // file of a one-file dataset was renamed
  FileChange change = FileChange::kUnchanged;
  std::optional<VersionFile> from;
  std::optional<VersionFile> to;
  std::optional<data::ProfileDiff> profile;  // changed files profiled on both sides
};

struct VersionDiff {
  store::DatasetVersion from;
  store::DatasetVersion to;
  std::vector<FileDiff> files;  // by path
};

}  // namespace cairn::datasets
