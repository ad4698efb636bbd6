#include "api/v1/dataset_json.h"

#include <charconv>

#include "data/chunker.h"
#include "data/profile.h"
#include "data/profile_diff.h"

namespace cairn::api::v1 {

namespace {

using nlohmann::json;

constexpr std::string_view kPackHeader = "cairn-pack 1\n";

bool ParsePositive(std::string_view s, int64_t& out) {
  if (s.empty() || s[0] == '0' || s.size() > 18) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out > 0;
}

Result<json> ParseObject(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("request body: not a JSON object");
  }
  return j;
}

Result<std::string> OptionalString(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return InvalidArgument(std::string(field) + ": expected a string");
  return it->get<std::string>();
}

}  // namespace

Result<std::optional<int64_t>> ParseVersion(std::string_view text, std::string_view field) {
  if (text == "latest") return std::optional<int64_t>();
  std::string_view digits = text;
  if (!digits.empty() && (digits[0] == 'v' || digits[0] == 'V')) digits.remove_prefix(1);
  int64_t n = 0;
  if (!ParsePositive(digits, n)) {
    return InvalidArgument(std::string(field) + " '" + std::string(text.substr(0, 40)) +
                           "': expected a version number (3 or v3) or 'latest'");
  }
  return std::optional<int64_t>(n);
}

Result<datasets::NewVersionRequest> ParseNewVersion(std::string_view body,
                                                    std::string_view name) {
  CAIRN_TRY(json j, ParseObject(body));
  datasets::NewVersionRequest request;
  request.name = std::string(name);
  CAIRN_TRY(request.description, OptionalString(j, "description"));
  CAIRN_TRY(request.created_by, OptionalString(j, "created_by"));
  auto files = j.find("files");
  if (files == j.end() || !files->is_array()) {
    return InvalidArgument("files: required, an array of {manifest, profile}");
  }
  for (size_t i = 0; i < files->size(); ++i) {
    const json& f = (*files)[i];
    const std::string field = "files[" + std::to_string(i) + "]";
    if (!f.is_object()) return InvalidArgument(field + ": expected an object");
    auto manifest = f.find("manifest");
    if (manifest == f.end() || !manifest->is_string()) {
      return InvalidArgument(field + ".manifest: required, the manifest text");
    }
    Result<data::FileManifest> parsed = data::ParseManifest(manifest->get_ref<const std::string&>());
    if (!parsed.ok()) {
      return InvalidArgument(field + ".manifest: " + parsed.status().message());
    }
    datasets::NewFile file;
    file.manifest = std::move(parsed).value();
    auto profile = f.find("profile");
    if (profile != f.end() && !profile->is_null()) {
      Result<data::DatasetProfile> p = data::ProfileFromJson(*profile);
      if (!p.ok()) {
        return InvalidArgument(field + ".profile (" + file.manifest.path +
                               "): " + p.status().message());
      }
      file.profile = std::move(p).value();
    }
    request.files.push_back(std::move(file));
  }
  return request;
}

Result<std::vector<std::string>> ParseDigestList(std::string_view body) {
  CAIRN_TRY(json j, ParseObject(body));
  auto digests = j.find("digests");
  if (digests == j.end() || !digests->is_array()) {
    return InvalidArgument("digests: required, an array of SHA-256 hex strings");
  }
  std::vector<std::string> out;
  out.reserve(digests->size());
  for (size_t i = 0; i < digests->size(); ++i) {
    if (!(*digests)[i].is_string()) {
      return InvalidArgument("digests[" + std::to_string(i) + "]: expected a string");
    }
    out.push_back((*digests)[i].get<std::string>());
  }
  return out;
}

Result<std::vector<datasets::BlobPackEntry>> ParseBlobPack(std::string_view body) {
  if (body.substr(0, kPackHeader.size()) != kPackHeader) {
    return InvalidArgument("blob pack: the body must start with 'cairn-pack 1'");
  }
  body.remove_prefix(kPackHeader.size());
  std::vector<datasets::BlobPackEntry> entries;
  while (!body.empty()) {
    const std::string entry = "blob pack entry " + std::to_string(entries.size());
    size_t nl = body.find('\n');
    if (nl == std::string_view::npos || nl > 64 + 1 + 20) {
      return InvalidArgument(entry + ": expected '<sha256> <size>' and a newline");
    }
    std::string_view line = body.substr(0, nl);
    size_t sp = line.find(' ');
    int64_t size = 0;
    if (sp != 64 || !ParsePositive(line.substr(sp + 1), size)) {
      return InvalidArgument(entry + ": expected '<sha256> <size>', got '" +
                             std::string(line.substr(0, 100)) + "'");
    }
    body.remove_prefix(nl + 1);
    if (uint64_t(size) > body.size()) {
      return InvalidArgument(entry + ": declares " + std::to_string(size) + " bytes, only " +
                             std::to_string(body.size()) + " follow");
    }
    entries.push_back({std::string(line.substr(0, 64)), body.substr(0, size_t(size))});
    body.remove_prefix(size_t(size));
  }
  return entries;
}

json ToJson(const store::DatasetVersion& v) {
  return {{"name", v.name},
          {"version", v.version},
          {"version_id", v.version_id},
          {"manifest_digest", v.manifest_digest},
          {"profile_digest", v.profile_digest},
          {"size_bytes", v.size_bytes},
          {"row_count", v.row_count},
          {"description", v.description},
          {"created_by", v.created_by},
          {"creation_time", v.creation_time}};
}

json ToJson(const store::DatasetSummary& s) {
  return {{"name", s.name},
          {"latest_version", s.latest_version},
          {"version_count", s.version_count},
          {"last_update_time", s.last_update_time},
          {"description", s.description}};
}

json ToJson(const datasets::VersionFile& f) {
  json j = {{"path", f.path},
            {"size", f.size},
            {"sha256", f.sha256},
            {"manifest_digest", f.manifest_digest}};
  if (f.rows >= 0) j["rows"] = f.rows;
  if (!f.profile_digest.empty()) j["profile_digest"] = f.profile_digest;
  return j;
}

json ToJson(const datasets::VersionDiff& d) {
  json files = json::array();
  for (const auto& f : d.files) {
    json j = {{"path", f.path},
              {"from_path", f.from_path},
              {"change", datasets::FileChangeName(f.change)},
              {"from", f.from ? ToJson(*f.from) : json(nullptr)},
              {"to", f.to ? ToJson(*f.to) : json(nullptr)}};
    if (f.profile) j["profile_diff"] = data::ToJson(*f.profile);
    files.push_back(std::move(j));
  }
  return {{"name", d.to.name},
          {"from", ToJson(d.from)},
          {"to", ToJson(d.to)},
          {"files", std::move(files)}};
}

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace cairn::api::v1
