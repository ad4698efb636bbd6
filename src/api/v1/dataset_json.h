// The wire format of /api/v1/datasets and /api/v1/blobs: request bodies -> service requests
// (kInvalidArgument naming the field), service results -> JSON, and the blob pack framing.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "datasets/dataset_types.h"
#include "store/records.h"

namespace cairn::api::v1 {

// A version in a path or query: "latest" (nullopt), "N" or "vN" with N ≥ 1. kInvalidArgument
// naming `field` otherwise.
Result<std::optional<int64_t>> ParseVersion(std::string_view text, std::string_view field);

// POST /api/v1/datasets/{name}/versions:
//   {"description"?: string, "created_by"?: string,
//    "files": [{"manifest": <data::SerializeManifest text>, "profile"?: <data::ToJson profile>}]}
Result<datasets::NewVersionRequest> ParseNewVersion(std::string_view body, std::string_view name);

// POST /api/v1/blobs/missing: {"digests": [hex, …]}.
Result<std::vector<std::string>> ParseDigestList(std::string_view body);

// POST /api/v1/blobs: the body is a pack of chunks,
//   "cairn-pack 1\n" then, per chunk, "<sha256 hex> <size>\n" followed by exactly size bytes.
// The entries point into `body`. kInvalidArgument naming the entry when the framing is wrong.
Result<std::vector<datasets::BlobPackEntry>> ParseBlobPack(std::string_view body);

nlohmann::json ToJson(const store::DatasetVersion& v);
nlohmann::json ToJson(const store::DatasetSummary& s);
nlohmann::json ToJson(const datasets::VersionFile& f);
nlohmann::json ToJson(const datasets::VersionDiff& d);

// Dumps without ever throwing (invalid UTF-8 is replaced).
std::string Dump(const nlohmann::json& j);

}  // namespace cairn::api::v1
