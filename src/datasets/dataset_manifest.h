// The root manifest of a dataset version (its files) and the profile index (its files'
// profiles): the two blobs a version record points at.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "datasets/dataset_types.h"

namespace cairn::datasets {

// The canonical text of a version's file list; its SHA-256 is the version id, so every byte is
// fixed by the content (files sorted by path, bytewise):
//   cairn-dataset-manifest 1
//   file <manifest sha256> <size> <file sha256> <path, with '%', control bytes and DEL as %XX>
// Profiles are not part of it: the id names the bytes, whatever profiler described them.
// Expects `files` sorted by path with valid paths.
std::string SerializeRootManifest(const std::vector<VersionFile>& files);
// Parses exactly what SerializeRootManifest writes (rows and profile digests left unset);
// kInvalidArgument otherwise.
Result<std::vector<VersionFile>> ParseRootManifest(std::string_view text);

// The profile index, JSON: {"format": 1, "files": [{"path", "rows", "profile_digest"}, …]},
// one entry per profiled file, sorted by path.
std::string SerializeProfileIndex(const std::vector<VersionFile>& files);
// Fills `rows` and `profile_digest` of the listed files. kInvalidArgument if it does not parse
// or names a file not in `files`.
Status ApplyProfileIndex(std::string_view json_text, std::vector<VersionFile>& files);

}  // namespace cairn::datasets
