// The snapshot pass over one file: cut into content-defined chunks, hash them and the whole
// file, and profile it when it is a CSV — reading the bytes once, on all cores.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "core/result.h"
#include "data/chunker.h"
#include "data/profile.h"

namespace cairn::data {

struct SnapshotFileOptions {
  // The chunker options of this file's previous snapshot, if any (ChunkerOptionsForResnapshot
  // keeps them so unchanged regions deduplicate); otherwise ChunkerOptionsForSize.
  std::optional<ChunkerOptions> previous_chunker;
  // Profile the file when it is a CSV (IsCsvPath).
  bool profile_csv = true;
  ProfileOptions profile;
  // The chunk pipeline and the profile each run on this many threads (0: one per core); the OS
  // shares the cores between them. The result does not depend on it.
  unsigned threads = 0;
};

// Bytes of the file processed so far (cut, hashed and profiled), and its size. Called from the
// caller's thread, often enough for a progress bar (at least every ~16 MB), and once at the end.
using SnapshotProgress = std::function<void(uint64_t bytes_done, uint64_t bytes_total)>;

struct FileSnapshot {
  FileManifest manifest;                  // manifest.path is the given relative path
  std::optional<DatasetProfile> profile;  // set for CSV files when profiling was asked
};

// True for the files a snapshot profiles: names ending in ".csv", any case.
bool IsCsvPath(const std::filesystem::path& path);

// Snapshots the file at `file`, recorded under `relative_path` ('/'-separated). Each chunk is
// handed to `consume` in file order, on the caller's thread (to store or upload it); a non-OK
// status from it stops the pass (and the profile) and is returned. A CSV that does not parse
// is an error naming the file, line and column (kInvalidArgument), and stops the chunks from
// being consumed once the profile has found it; an unreadable file kNotFound/kInternal.
// The profile (ProfileCsv) runs beside the chunk pipeline over the same mapped bytes.
Result<FileSnapshot> SnapshotFile(const std::filesystem::path& file,
                                  const std::string& relative_path,
                                  const SnapshotFileOptions& options, const ChunkConsumer& consume,
                                  const SnapshotProgress& progress = {});

}  // namespace cairn::data
