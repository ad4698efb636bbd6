#include "registry/registry_service.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

#include "tracking/search_filter.h"
#include "tracking/tracking_service.h"
#include "wire/model_uri.h"

namespace cairn::registry {

namespace {

constexpr std::string_view kStageNames = "None, Staging, Production, Archived";
constexpr std::string_view kArtifactsScheme = "mlflow-artifacts:";

Status MissingField(std::string_view name) {
  return InvalidArgument("Missing value for required parameter '" + std::string(name) + "'.");
}

Status TooLong(std::string_view what, size_t limit) {
  return InvalidArgument("'" + std::string(what) + "' exceeds the maximum length of " +
                         std::to_string(limit) + " characters");
}

Result<store::ModelStage> StageOf(std::string_view stage) {
  auto parsed = store::ParseModelStage(stage);
  if (!parsed) {
    return InvalidArgument("Invalid Model Version stage: " + std::string(stage) +
                           ". Value must be one of " + std::string(kStageNames) + ".");
  }
  return *parsed;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// "s3:", "mlflow-artifacts:", "runs:" …: the URI scheme, or "" for a plain path.
std::string_view SchemeOf(std::string_view uri) {
  size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon < 2) return {};  // "C:\…" is a path, not a scheme
  for (size_t i = 0; i < colon; ++i) {
    char c = uri[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool ok = alpha || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    if (!ok) return {};
  }
  return uri.substr(0, colon);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes until nothing changes (as MLflow unquotes a source repeatedly).
std::string FullyDecoded(std::string_view text) {
  std::string cur(text);
  for (int round = 0; round < 8; ++round) {
    std::string next;
    next.reserve(cur.size());
    for (size_t i = 0; i < cur.size(); ++i) {
      if (cur[i] == '%' && i + 2 < cur.size()) {
        int hi = HexValue(cur[i + 1]), lo = HexValue(cur[i + 2]);
        if (hi >= 0 && lo >= 0) {
          next += static_cast<char>(hi * 16 + lo);
          i += 2;
          continue;
        }
      }
      next += cur[i] == '+' ? ' ' : cur[i];
    }
    if (next == cur) break;
    cur = std::move(next);
  }
  return cur;
}

// MLflow refuses sources that climb out of where they point (a security check).
Status CheckNoRelativeReferences(std::string_view source) {
  std::string decoded = FullyDecoded(source);
  bool bad = decoded.find('\0') != std::string::npos;
  size_t start = 0;
  while (!bad && start <= decoded.size()) {
    size_t end = decoded.find_first_of("/\\", start);
    if (end == std::string::npos) end = decoded.size();
    std::string_view seg(decoded.data() + start, end - start);
    if (seg == "..") bad = true;
    start = end + 1;
  }
  if (bad) {
    return InvalidArgument("Invalid model version source: '" + std::string(source) +
                           "'. If supplying a source as an http, https, local file path, ftp, "
                           "objectstore, or mlflow-artifacts uri, an absolute path must be "
                           "provided without relative path references present. Please provide "
                           "an absolute path.");
  }
  return Status::Ok();
}

// "mlflow-artifacts://host:port/0/r/artifacts" → "mlflow-artifacts:/0/r/artifacts": the proxy's
// location does not depend on the server that answered.
std::string CanonicalArtifactsUri(std::string_view uri) {
  if (!StartsWith(uri, kArtifactsScheme)) return std::string(uri);
  std::string_view rest = uri.substr(kArtifactsScheme.size());
  if (StartsWith(rest, "//")) {
    size_t slash = rest.find('/', 2);
    rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  }
  std::string out(kArtifactsScheme);
  if (!StartsWith(rest, "/")) out += '/';
  out += rest;
  return out;
}

std::string JoinUri(std::string_view root, std::string_view path) {
  std::string out(root);
  if (path.empty()) return out;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out + "/" + std::string(path);
}

// The path of `location` inside `root` ("" for the root itself); nullopt when outside.
std::optional<std::string> PathUnder(std::string_view location, std::string_view root) {
  std::string r(root);
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  std::string loc(location);
  while (loc.size() > r.size() && loc.back() == '/') loc.pop_back();
  if (loc == r) return std::string();
  if (loc.size() > r.size() && StartsWith(loc, r) && loc[r.size()] == '/') {
    std::string rest = loc.substr(r.size() + 1);
    while (!rest.empty() && rest.front() == '/') rest.erase(rest.begin());
    return rest;
  }
  return std::nullopt;
}

// The run id inside "mlflow-artifacts:/<exp>/<run>/artifacts[/…]", if the URI has that shape.
std::string RunIdInArtifactsUri(std::string_view uri) {
  std::string_view rest = uri.substr(kArtifactsScheme.size());
  while (StartsWith(rest, "/")) rest.remove_prefix(1);
  size_t first = rest.find('/');
  if (first == std::string_view::npos) return {};
  std::string_view after = rest.substr(first + 1);
  size_t second = after.find('/');
  if (second == std::string_view::npos) return {};
  std::string_view run = after.substr(0, second);
  std::string_view tail = after.substr(second + 1);
  if (!StartsWith(tail, "artifacts") || (tail.size() > 9 && tail[9] != '/')) return {};
  return std::string(run);
}

std::string NextPageToken(int64_t offset, int64_t max_results, bool has_more) {
  return has_more ? tracking::EncodePageToken(offset + max_results) : std::string();
}

Status CheckNotEmpty(std::string_view value, std::string_view field) {
  if (value.empty()) return MissingField(field);
  return Status::Ok();
}

}  // namespace

// --- validation -----------------------------------------------------------------------------

Status ValidateModelName(std::string_view name, std::string_view field) {
  if (name.empty()) return MissingField(field);
  if (name.size() > kMaxModelNameLength) return TooLong(field, kMaxModelNameLength);
  for (char c : name) {
    if (c == '/' || c == '\\' || c == '%' || c == '@' || static_cast<unsigned char>(c) < 0x20 ||
        c == 0x7f) {
      return InvalidArgument("Invalid registered model name: '" + std::string(name) +
                             "'. Names may not contain '/', '\\', '%', '@' or control characters "
                             "(they could not be named in a models:/ URI).");
    }
  }
  return Status::Ok();
}

Status ValidateAlias(std::string_view alias) {
  if (alias.empty()) return InvalidArgument("Registered model alias name cannot be empty.");
  for (char c : alias) {
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-';
    if (!word) {
      return InvalidArgument("Invalid alias name: '" + std::string(alias) +
                             "'. Names may only contain alphanumerics, underscores (_), and "
                             "dashes (-).");
    }
  }
  if (alias.size() > kMaxAliasLength) {
    return TooLong("Registered model alias name", kMaxAliasLength);
  }
  std::string lower(alias);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (lower == "latest") {
    return InvalidArgument("'latest' alias name (case insensitive) is reserved.");
  }
  if (lower.size() >= 2 && lower[0] == 'v' &&
      std::all_of(lower.begin() + 1, lower.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return InvalidArgument("Version alias name '" + std::string(alias) + "' is reserved.");
  }
  return Status::Ok();
}

Status ValidateRegistryTag(const store::Tag& tag) {
  if (tag.key.empty()) return MissingField("key");
  CAIRN_RETURN_IF_ERROR(tracking::ValidateKey("tag", tag.key));
  if (tag.value.size() > kMaxRegistryTagValueLength) {
    return TooLong("value", kMaxRegistryTagValueLength);
  }
  return Status::Ok();
}

Result<int64_t> ParseVersion(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgument("Parameter 'version' must be an integer, got '" +
                           std::string(text.substr(0, 100)) + "'.");
  }
  return v;
}

// --- registered models ----------------------------------------------------------------------

Result<store::RegisteredModel> RegistryService::CreateRegisteredModel(
    std::string_view name, std::vector<store::Tag> tags, std::string_view description) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  for (const store::Tag& tag : tags) CAIRN_RETURN_IF_ERROR(ValidateRegistryTag(tag));
  store::RegisteredModel model;
  model.name = std::string(name);
  model.tags = std::move(tags);
  model.description = std::string(description);
  model.creation_timestamp = clock_.NowMillis();
  return store_.CreateRegisteredModel(model);
}

Result<store::RegisteredModel> RegistryService::GetRegisteredModel(std::string_view name) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  return store_.GetRegisteredModel(name);
}

Result<store::RegisteredModel> RegistryService::UpdateRegisteredModel(
    std::string_view name, std::string_view description) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  return store_.UpdateRegisteredModel(name, description, clock_.NowMillis());
}

Result<store::RegisteredModel> RegistryService::RenameRegisteredModel(std::string_view name,
                                                                      std::string_view new_name) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  CAIRN_RETURN_IF_ERROR(ValidateModelName(new_name, "new_name"));
  return store_.RenameRegisteredModel(name, new_name, clock_.NowMillis());
}

Status RegistryService::DeleteRegisteredModel(std::string_view name) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  return store_.DeleteRegisteredModel(name);
}

Result<RegisteredModelsPage> RegistryService::SearchRegisteredModels(
    const SearchRegisteredModelsRequest& req) {
  if (req.max_results < 1) {
    return InvalidArgument(
        "Invalid value for max_results. It must be a positive integer, but got " +
        std::to_string(req.max_results));
  }
  if (req.max_results > kMaxRegisteredModelsPerPage) {
    return InvalidArgument("Invalid value for request parameter max_results. It must be at most " +
                           std::to_string(kMaxRegisteredModelsPerPage) + ", but got value " +
                           std::to_string(req.max_results));
  }
  store::RegisteredModelQuery query;
  CAIRN_TRY(query.filter, tracking::ParseRegisteredModelFilter(req.filter));
  for (const std::string& clause : req.order_by) {
    CAIRN_TRY(store::OrderKey key, tracking::ParseRegisteredModelOrderBy(clause));
    query.order_by.push_back(std::move(key));
  }
  CAIRN_TRY(query.offset, tracking::DecodePageToken(req.page_token));
  query.max_results = req.max_results;
  CAIRN_TRY(store::RegisteredModelPage page, store_.SearchRegisteredModels(query));
  return RegisteredModelsPage{std::move(page.models),
                              NextPageToken(query.offset, query.max_results, page.has_more)};
}

Status RegistryService::SetRegisteredModelTag(std::string_view name, store::Tag tag) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  CAIRN_RETURN_IF_ERROR(ValidateRegistryTag(tag));
  return store_.SetRegisteredModelTag(name, tag);
}

Status RegistryService::DeleteRegisteredModelTag(std::string_view name, std::string_view key) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  CAIRN_RETURN_IF_ERROR(ValidateRegistryTag({std::string(key), ""}));
  return store_.DeleteRegisteredModelTag(name, key);
}

Result<std::vector<store::ModelVersion>> RegistryService::GetLatestVersions(
    std::string_view name, const std::vector<std::string>& stages) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  std::vector<store::ModelStage> wanted;
  for (const std::string& s : stages) {
    CAIRN_TRY(store::ModelStage stage, StageOf(s));
    wanted.push_back(stage);
  }
  CAIRN_TRY(store::RegisteredModel model, store_.GetRegisteredModel(name));
  std::vector<store::ModelVersion> out;
  for (store::ModelVersion& v : model.latest_versions) {
    if (wanted.empty() ||
        std::find(wanted.begin(), wanted.end(), v.current_stage) != wanted.end()) {
      out.push_back(std::move(v));
    }
  }
  return out;
}

// --- model versions -------------------------------------------------------------------------

Result<RegistryService::ResolvedSource> RegistryService::ResolveSource(std::string_view source,
                                                                      std::string_view run_id) {
  CAIRN_RETURN_IF_ERROR(CheckNoRelativeReferences(source));
  ResolvedSource out;
  out.run_id = std::string(run_id);
  std::optional<store::Run> run;
  if (!run_id.empty()) {
    CAIRN_TRY(run, store_.GetRun(run_id));
  }

  const std::string_view scheme = SchemeOf(source);
  if (scheme == "runs") {
    CAIRN_TRY(wire::RunsUri uri, wire::ParseRunsUri(source));
    if (!run_id.empty() && uri.run_id != run_id) {
      return InvalidArgument("run_id '" + std::string(run_id) + "' is not the run of source '" +
                             std::string(source) + "'");
    }
    if (!run) {
      CAIRN_TRY(run, store_.GetRun(uri.run_id));
    }
    out.run_id = uri.run_id;
    out.storage_location = JoinUri(run->info.artifact_uri, uri.artifact_path);
    out.artifact_path = uri.artifact_path;
    return out;
  }
  if (scheme == "models") {
    CAIRN_TRY(store::ModelVersion from, ResolveModelUri(source));
    out.storage_location = from.storage_location;
    if (out.run_id.empty()) {
      out.run_id = from.run_id;
      out.artifact_path = from.artifact_path;
      return out;
    }
  } else {
    out.storage_location = CanonicalArtifactsUri(source);
  }

  // A location under a run's artifact root records that run and the path inside it.
  if (!run && out.run_id.empty() && scheme == "mlflow-artifacts") {
    std::string candidate = RunIdInArtifactsUri(out.storage_location);
    if (!candidate.empty()) {
      auto found = store_.GetRun(candidate);
      if (found.ok()) {
        run = std::move(found).value();
        out.run_id = candidate;
      }
    }
  }
  if (run) {
    out.artifact_path =
        PathUnder(out.storage_location, CanonicalArtifactsUri(run->info.artifact_uri));
  }
  const bool local = scheme.empty() || scheme == "file";
  if (local && !out.artifact_path) {
    return InvalidArgument("Invalid model version source: '" + std::string(source) +
                           "'. To use a local path as a model version source, the run_id request "
                           "parameter has to be specified and the local path has to be contained "
                           "within the artifact directory of the run specified by the run_id.");
  }
  return out;
}

Result<store::ModelVersion> RegistryService::CreateModelVersion(CreateModelVersionRequest req) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(req.name, "name"));
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(req.source, "source"));
  for (const store::Tag& tag : req.tags) CAIRN_RETURN_IF_ERROR(ValidateRegistryTag(tag));
  // The model's existence is checked first: its absence is the likelier mistake.
  CAIRN_RETURN_IF_ERROR(store_.GetRegisteredModel(req.name).status());
  CAIRN_TRY(ResolvedSource resolved, ResolveSource(req.source, req.run_id));
  store::ModelVersion v;
  v.name = std::move(req.name);
  v.source = std::move(req.source);
  v.storage_location = std::move(resolved.storage_location);
  v.run_id = std::move(resolved.run_id);
  v.artifact_path = std::move(resolved.artifact_path);
  v.run_link = std::move(req.run_link);
  v.description = std::move(req.description);
  v.tags = std::move(req.tags);
  v.status = store::ModelVersionStatus::kReady;
  v.creation_timestamp = clock_.NowMillis();
  return store_.CreateModelVersion(v);
}

Result<store::ModelVersion> RegistryService::GetModelVersion(std::string_view name,
                                                             int64_t version) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  return store_.GetModelVersion(name, version);
}

Result<store::ModelVersion> RegistryService::UpdateModelVersion(std::string_view name,
                                                                int64_t version,
                                                                std::string_view description) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  return store_.UpdateModelVersion(name, version, description, clock_.NowMillis());
}

Result<store::ModelVersion> RegistryService::TransitionModelVersionStage(std::string_view name,
                                                                         int64_t version,
                                                                         std::string_view stage,
                                                                         bool archive_existing) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  if (stage.empty()) return MissingField("stage");
  CAIRN_TRY(store::ModelStage target, StageOf(stage));
  if (archive_existing && target != store::ModelStage::kStaging &&
      target != store::ModelStage::kProduction) {
    return InvalidArgument(
        "Model version transition cannot archive existing model versions because '" +
        std::string(stage) + "' is not an Active stage. Valid stages are Staging, Production");
  }
  return store_.TransitionModelVersionStage(name, version, target, archive_existing,
                                            clock_.NowMillis());
}

Status RegistryService::DeleteModelVersion(std::string_view name, int64_t version) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  return store_.DeleteModelVersion(name, version, clock_.NowMillis());
}

Result<ModelVersionsPage> RegistryService::SearchModelVersions(
    const SearchModelVersionsRequest& req) {
  if (req.max_results < 1) {
    return InvalidArgument(
        "Invalid value for max_results. It must be a positive integer, but got " +
        std::to_string(req.max_results));
  }
  if (req.max_results > kMaxModelVersionsPerPage) {
    return InvalidArgument("Invalid value for request parameter max_results. It must be at most " +
                           std::to_string(kMaxModelVersionsPerPage) + ", but got value " +
                           std::to_string(req.max_results));
  }
  store::ModelVersionQuery query;
  CAIRN_TRY(query.filter, tracking::ParseModelVersionFilter(req.filter));
  for (const std::string& clause : req.order_by) {
    CAIRN_TRY(store::OrderKey key, tracking::ParseModelVersionOrderBy(clause));
    query.order_by.push_back(std::move(key));
  }
  CAIRN_TRY(query.offset, tracking::DecodePageToken(req.page_token));
  query.max_results = req.max_results;
  CAIRN_TRY(store::ModelVersionPage page, store_.SearchModelVersions(query));
  return ModelVersionsPage{std::move(page.versions),
                           NextPageToken(query.offset, query.max_results, page.has_more)};
}

Status RegistryService::SetModelVersionTag(std::string_view name, int64_t version,
                                           store::Tag tag) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  CAIRN_RETURN_IF_ERROR(ValidateRegistryTag(tag));
  return store_.SetModelVersionTag(name, version, tag);
}

Status RegistryService::DeleteModelVersionTag(std::string_view name, int64_t version,
                                              std::string_view key) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  CAIRN_RETURN_IF_ERROR(ValidateRegistryTag({std::string(key), ""}));
  return store_.DeleteModelVersionTag(name, version, key);
}

Result<std::string> RegistryService::GetModelVersionDownloadUri(std::string_view name,
                                                                int64_t version) {
  CAIRN_TRY(store::ModelVersion v, GetModelVersion(name, version));
  return v.storage_location.empty() ? v.source : v.storage_location;
}

// --- aliases --------------------------------------------------------------------------------

Status RegistryService::SetRegisteredModelAlias(std::string_view name, std::string_view alias,
                                                int64_t version) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  CAIRN_RETURN_IF_ERROR(ValidateAlias(alias));
  return store_.SetRegisteredModelAlias(name, alias, version);
}

Status RegistryService::DeleteRegisteredModelAlias(std::string_view name,
                                                   std::string_view alias) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  CAIRN_RETURN_IF_ERROR(ValidateAlias(alias));
  return store_.DeleteRegisteredModelAlias(name, alias);
}

Result<store::ModelVersion> RegistryService::GetModelVersionByAlias(std::string_view name,
                                                                    std::string_view alias) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  CAIRN_RETURN_IF_ERROR(ValidateAlias(alias));
  return store_.GetModelVersionByAlias(name, alias);
}

Result<store::ModelVersion> RegistryService::ResolveModelUri(std::string_view uri) {
  CAIRN_TRY(wire::ModelUri parsed, wire::ParseModelUri(uri));
  if (parsed.version) return store_.GetModelVersion(parsed.name, *parsed.version);
  if (!parsed.alias.empty()) return GetModelVersionByAlias(parsed.name, parsed.alias);
  std::optional<store::ModelStage> stage;
  if (!parsed.latest) {
    CAIRN_TRY(stage, StageOf(parsed.stage));
  }
  CAIRN_TRY(store::RegisteredModel model, store_.GetRegisteredModel(parsed.name));
  const store::ModelVersion* best = nullptr;
  for (const store::ModelVersion& v : model.latest_versions) {
    if (stage && v.current_stage != *stage) continue;
    if (best == nullptr || v.version > best->version) best = &v;
  }
  if (best == nullptr) {
    if (stage) {
      return NotFound("Registered model '" + parsed.name + "' has no version in stage '" +
                      std::string(store::ModelStageName(*stage)) + "'");
    }
    return NotFound("Registered model '" + parsed.name + "' has no versions");
  }
  return *best;
}

// --- approval -------------------------------------------------------------------------------

Result<store::ModelVersion> RegistryService::SetApproval(std::string_view name, int64_t version,
                                                         ApprovalState state,
                                                         std::string_view by,
                                                         std::string_view comment) {
  CAIRN_RETURN_IF_ERROR(CheckNotEmpty(name, "name"));
  CAIRN_RETURN_IF_ERROR(store_.GetModelVersion(name, version).status());
  if (state == ApprovalState::kPending) {
    for (std::string_view key :
         {kApprovalStateTag, kApprovalByTag, kApprovalTimeTag, kApprovalCommentTag}) {
      CAIRN_RETURN_IF_ERROR(store_.DeleteModelVersionTag(name, version, key));
    }
    return store_.GetModelVersion(name, version);
  }
  if (by.empty()) return MissingField("by");
  const std::vector<store::Tag> tags = {
      {std::string(kApprovalStateTag), std::string(ApprovalStateName(state))},
      {std::string(kApprovalByTag), std::string(by)},
      {std::string(kApprovalTimeTag), std::to_string(clock_.NowMillis())},
      {std::string(kApprovalCommentTag), std::string(comment)},
  };
  for (const store::Tag& tag : tags) CAIRN_RETURN_IF_ERROR(ValidateRegistryTag(tag));
  for (const store::Tag& tag : tags) {
    CAIRN_RETURN_IF_ERROR(store_.SetModelVersionTag(name, version, tag));
  }
  return store_.GetModelVersion(name, version);
}

}  // namespace cairn::registry
