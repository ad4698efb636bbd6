#include "client/registry_client.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "client/mlflow_json.h"
#include "client/uri.h"
#include "wire/mlflow_registry.h"
#include "wire/model_uri.h"

namespace cairn::client {
namespace {

namespace fs = std::filesystem;

const http::Headers& JsonHeaders() {
  static const http::Headers kHeaders = {{"content-type", "application/json"}};
  return kHeaders;
}

bool IsSuccess(int status) { return status >= 200 && status < 300; }
std::string Str(std::string_view s) { return std::string(s); }

Result<const Json*> Member(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_object()) {
    return Internal(std::string("malformed response from server: no ") + key);
  }
  return &*it;
}

Result<RegisteredModel> ModelIn(const Json& j) {
  CAIRN_TRY(const Json* m, Member(j, "registered_model"));
  return FromResponse(wire::RegisteredModelFromJson(*m));
}

Result<ModelVersion> VersionIn(const Json& j) {
  CAIRN_TRY(const Json* v, Member(j, "model_version"));
  return FromResponse(wire::ModelVersionFromJson(*v));
}

Result<std::vector<ModelVersion>> VersionsIn(const Json& j) {
  return FromResponse(
      wire::ListField<ModelVersion>(j, "model_versions", wire::ModelVersionFromJson));
}

std::string Version(int64_t v) { return std::to_string(v); }

std::string BaseName(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

Status FsError(std::string_view what, const fs::path& path, const std::error_code& ec) {
  return Internal(std::string(what) + " " + path.string() + ": " + ec.message());
}

const ModelVersion* Highest(const std::vector<ModelVersion>& versions) {
  const ModelVersion* best = nullptr;
  for (const ModelVersion& v : versions) {
    if (best == nullptr || v.version > best->version) best = &v;
  }
  return best;
}

}  // namespace

std::string VersionLabel(const ModelVersion& version) {
  return version.name + "/" + std::to_string(version.version);
}

RegistryClient::RegistryClient(std::unique_ptr<Transport> transport)
    : transport_(std::move(transport)) {}

Result<std::unique_ptr<RegistryClient>> RegistryClient::Connect(std::string_view tracking_uri) {
  CAIRN_TRY(std::unique_ptr<Transport> transport, ConnectHttp(tracking_uri));
  return std::make_unique<RegistryClient>(std::move(transport));
}

Result<Json> RegistryClient::Call(std::string_view method, std::string_view endpoint,
                                  const Json* body, std::string_view query) {
  std::string target = std::string(kMlflowApiPrefix) + "/" + Str(endpoint) + Str(query);
  CAIRN_TRY(http::ClientResponse resp,
            body == nullptr ? transport_->Send(method, target, {}, {})
                            : transport_->Send(method, target, wire::Dump(*body), JsonHeaders()));
  if (!IsSuccess(resp.status)) return StatusFromHttpError(resp.status, resp.body);
  if (resp.body.empty()) return Json::object();
  return ParseResponseBody(resp.body, "the answer to " + Str(endpoint));
}

Status RegistryClient::CallStatus(std::string_view method, std::string_view endpoint,
                                  const Json& body) {
  auto r = Call(method, endpoint, &body);
  return r.ok() ? Status::Ok() : r.status();
}

// --- Registered models -------------------------------------------------------------------------

Result<RegisteredModel> RegistryClient::CreateRegisteredModel(std::string_view name,
                                                              const std::vector<Tag>& tags,
                                                              std::string_view description) {
  Json body = {{"name", name}};
  if (!tags.empty()) body["tags"] = wire::TagsToJson(tags);
  if (!description.empty()) body["description"] = description;
  CAIRN_TRY(Json j, Call("POST", "registered-models/create", &body));
  return ModelIn(j);
}

Result<RegisteredModel> RegistryClient::GetRegisteredModel(std::string_view name) {
  CAIRN_TRY(Json j, Get("registered-models/get", QueryString({{"name", Str(name)}})));
  return ModelIn(j);
}

Result<RegisteredModel> RegistryClient::UpdateRegisteredModel(std::string_view name,
                                                              std::string_view description) {
  Json body = {{"name", name}, {"description", description}};
  CAIRN_TRY(Json j, Call("PATCH", "registered-models/update", &body));
  return ModelIn(j);
}

Result<RegisteredModel> RegistryClient::RenameRegisteredModel(std::string_view name,
                                                              std::string_view new_name) {
  Json body = {{"name", name}, {"new_name", new_name}};
  CAIRN_TRY(Json j, Call("POST", "registered-models/rename", &body));
  return ModelIn(j);
}

Status RegistryClient::DeleteRegisteredModel(std::string_view name) {
  return CallStatus("DELETE", "registered-models/delete", {{"name", name}});
}

Result<RegisteredModelsPage> RegistryClient::SearchRegisteredModels(
    const SearchRegisteredModelsRequest& req) {
  std::vector<std::pair<std::string, std::string>> params = {
      {"filter", req.filter},
      {"max_results", std::to_string(req.max_results)},
      {"page_token", req.page_token}};
  for (const std::string& o : req.order_by) params.emplace_back("order_by", o);
  CAIRN_TRY(Json j, Get("registered-models/search", QueryString(params)));
  RegisteredModelsPage page;
  CAIRN_TRY(page.models, FromResponse(wire::ListField<RegisteredModel>(
                             j, "registered_models", wire::RegisteredModelFromJson)));
  CAIRN_TRY(page.next_page_token, FromResponse(wire::StringField(j, "next_page_token")));
  return page;
}

Result<std::vector<RegisteredModel>> RegistryClient::SearchAllRegisteredModels(
    SearchRegisteredModelsRequest req, size_t limit) {
  std::vector<RegisteredModel> all;
  while (true) {
    CAIRN_TRY(RegisteredModelsPage page, SearchRegisteredModels(req));
    for (auto& m : page.models) {
      if (limit != 0 && all.size() >= limit) return all;
      all.push_back(std::move(m));
    }
    if (page.next_page_token.empty() || page.next_page_token == req.page_token) return all;
    req.page_token = std::move(page.next_page_token);
  }
}

Status RegistryClient::SetRegisteredModelTag(std::string_view name, std::string_view key,
                                             std::string_view value) {
  return CallStatus("POST", "registered-models/set-tag",
                    {{"name", name}, {"key", key}, {"value", value}});
}

Status RegistryClient::DeleteRegisteredModelTag(std::string_view name, std::string_view key) {
  return CallStatus("DELETE", "registered-models/delete-tag", {{"name", name}, {"key", key}});
}

Result<std::vector<ModelVersion>> RegistryClient::GetLatestVersions(
    std::string_view name, const std::vector<std::string>& stages) {
  Json body = {{"name", name}};
  if (!stages.empty()) body["stages"] = stages;
  CAIRN_TRY(Json j, Call("POST", "registered-models/get-latest-versions", &body));
  return VersionsIn(j);
}

// --- Model versions ----------------------------------------------------------------------------

Result<ModelVersion> RegistryClient::CreateModelVersion(const CreateModelVersionRequest& req) {
  Json body = {{"name", req.name}, {"source", req.source}};
  if (!req.run_id.empty()) body["run_id"] = req.run_id;
  if (!req.tags.empty()) body["tags"] = wire::TagsToJson(req.tags);
  if (!req.run_link.empty()) body["run_link"] = req.run_link;
  if (!req.description.empty()) body["description"] = req.description;
  CAIRN_TRY(Json j, Call("POST", "model-versions/create", &body));
  return VersionIn(j);
}

Result<ModelVersion> RegistryClient::GetModelVersion(std::string_view name, int64_t version) {
  CAIRN_TRY(Json j, Get("model-versions/get",
                        QueryString({{"name", Str(name)}, {"version", Version(version)}})));
  return VersionIn(j);
}

Result<ModelVersion> RegistryClient::UpdateModelVersion(std::string_view name, int64_t version,
                                                        std::string_view description) {
  Json body = {{"name", name}, {"version", Version(version)}, {"description", description}};
  CAIRN_TRY(Json j, Call("PATCH", "model-versions/update", &body));
  return VersionIn(j);
}

Result<ModelVersion> RegistryClient::TransitionModelVersionStage(std::string_view name,
                                                                 int64_t version,
                                                                 std::string_view stage,
                                                                 bool archive_existing_versions) {
  Json body = {{"name", name},
               {"version", Version(version)},
               {"stage", stage},
               {"archive_existing_versions", archive_existing_versions}};
  CAIRN_TRY(Json j, Call("POST", "model-versions/transition-stage", &body));
  return VersionIn(j);
}

Status RegistryClient::DeleteModelVersion(std::string_view name, int64_t version) {
  return CallStatus("DELETE", "model-versions/delete",
                    {{"name", name}, {"version", Version(version)}});
}

Result<ModelVersionsPage> RegistryClient::SearchModelVersions(
    const SearchModelVersionsRequest& req) {
  std::vector<std::pair<std::string, std::string>> params = {
      {"filter", req.filter},
      {"max_results", std::to_string(req.max_results)},
      {"page_token", req.page_token}};
  for (const std::string& o : req.order_by) params.emplace_back("order_by", o);
  CAIRN_TRY(Json j, Get("model-versions/search", QueryString(params)));
  ModelVersionsPage page;
  CAIRN_TRY(page.versions, VersionsIn(j));
  CAIRN_TRY(page.next_page_token, FromResponse(wire::StringField(j, "next_page_token")));
  return page;
}

Result<std::vector<ModelVersion>> RegistryClient::SearchAllModelVersions(
    SearchModelVersionsRequest req, size_t limit) {
  std::vector<ModelVersion> all;
  while (true) {
    CAIRN_TRY(ModelVersionsPage page, SearchModelVersions(req));
    for (auto& v : page.versions) {
      if (limit != 0 && all.size() >= limit) return all;
      all.push_back(std::move(v));
    }
    if (page.next_page_token.empty() || page.next_page_token == req.page_token) return all;
    req.page_token = std::move(page.next_page_token);
  }
}

Status RegistryClient::SetModelVersionTag(std::string_view name, int64_t version,
                                          std::string_view key, std::string_view value) {
  return CallStatus("POST", "model-versions/set-tag",
                    {{"name", name}, {"version", Version(version)}, {"key", key},
                     {"value", value}});
}

Status RegistryClient::DeleteModelVersionTag(std::string_view name, int64_t version,
                                             std::string_view key) {
  return CallStatus("DELETE", "model-versions/delete-tag",
                    {{"name", name}, {"version", Version(version)}, {"key", key}});
}

Result<std::string> RegistryClient::GetModelVersionDownloadUri(std::string_view name,
                                                               int64_t version) {
  CAIRN_TRY(Json j, Get("model-versions/get-download-uri",
                        QueryString({{"name", Str(name)}, {"version", Version(version)}})));
  CAIRN_TRY(std::string uri, FromResponse(wire::StringField(j, "artifact_uri")));
  if (uri.empty()) return Internal("malformed response from server: no artifact_uri");
  return uri;
}

// --- Aliases -----------------------------------------------------------------------------------

Status RegistryClient::SetRegisteredModelAlias(std::string_view name, std::string_view alias,
                                               int64_t version) {
  return CallStatus("POST", "registered-models/alias",
                    {{"name", name}, {"alias", alias}, {"version", Version(version)}});
}

Status RegistryClient::DeleteRegisteredModelAlias(std::string_view name, std::string_view alias) {
  return CallStatus("DELETE", "registered-models/alias", {{"name", name}, {"alias", alias}});
}

Result<ModelVersion> RegistryClient::GetModelVersionByAlias(std::string_view name,
                                                            std::string_view alias) {
  CAIRN_TRY(Json j, Get("registered-models/alias",
                        QueryString({{"name", Str(name)}, {"alias", Str(alias)}})));
  return VersionIn(j);
}

// --- Model URIs and model directories ----------------------------------------------------------

Result<ModelVersion> RegistryClient::ResolveModelUri(std::string_view uri) {
  if (uri.empty()) return InvalidArgument("no model named: give NAME or a models:/ URI");
  std::string text = wire::IsModelUri(uri) ? Str(uri) : "models:/" + Str(uri) + "/latest";
  CAIRN_TRY(wire::ModelUri parsed, wire::ParseModelUri(text));
  if (parsed.version) return GetModelVersion(parsed.name, *parsed.version);
  if (!parsed.alias.empty()) return GetModelVersionByAlias(parsed.name, parsed.alias);
  std::vector<std::string> stages;
  if (!parsed.latest) stages.push_back(parsed.stage);
  CAIRN_TRY(std::vector<ModelVersion> latest, GetLatestVersions(parsed.name, stages));
  const ModelVersion* best = Highest(latest);
  if (best == nullptr) {
    if (parsed.latest) return NotFound("registered model '" + parsed.name + "' has no versions");
    return NotFound("registered model '" + parsed.name + "' has no version in stage '" +
                    parsed.stage + "'");
  }
  return *best;
}

Result<std::vector<FileInfo>> RegistryClient::ProxyList(const std::string& dir) {
  std::string target = std::string(kArtifactProxyPrefix) + QueryString({{"path", dir}});
  CAIRN_TRY(http::ClientResponse resp, transport_->Send("GET", target, {}, {}));
  if (!IsSuccess(resp.status)) return StatusFromHttpError(resp.status, resp.body);
  if (resp.body.empty()) return std::vector<FileInfo>();
  CAIRN_TRY(Json j, ParseResponseBody(resp.body, "the artifact listing"));
  CAIRN_TRY(ArtifactListing listing, ArtifactListingFromJson(j));
  return std::move(listing.files);
}

Status RegistryClient::ProxyDownload(const std::string& path, const std::string& local_file) {
  std::string target = std::string(kArtifactProxyPrefix) + "/" + EncodePathSegments(path);
  CAIRN_TRY(http::ClientResponse resp, transport_->Download(target, local_file));
  if (!IsSuccess(resp.status)) return StatusFromHttpError(resp.status, resp.body);
  return Status::Ok();
}

Result<std::vector<std::string>> RegistryClient::DownloadModelVersion(
    const ModelVersion& version, const std::string& dest_dir) {
  CAIRN_TRY(std::string uri, GetModelVersionDownloadUri(version.name, version.version));
  auto root = ArtifactProxyRoot(uri);
  if (!root.ok()) {
    return FailedPrecondition("model version " + VersionLabel(version) + " is stored at '" + uri +
                              "', which this server's artifact proxy does not serve");
  }
  std::error_code ec;
  fs::create_directories(dest_dir, ec);
  if (ec) return FsError("cannot create directory", dest_dir, ec);

  std::vector<std::string> written;
  // Downloads proxy path `from` to `to` under a temporary name, renamed once complete.
  auto fetch = [&](const std::string& from, const fs::path& to) -> Status {
    std::error_code err;
    fs::create_directories(to.parent_path(), err);
    if (err) return FsError("cannot create directory", to.parent_path(), err);
    fs::path part = to;
    part += ".part";
    Status s = ProxyDownload(from, part.string());
    if (!s.ok()) {
      fs::remove(part, err);
      return s;
    }
    fs::rename(part, to, err);
    if (err) return FsError("cannot write", to, err);
    written.push_back(to.string());
    return Status::Ok();
  };

  std::vector<std::string> pending = {""};  // directories relative to the model root
  bool root_listed_empty = false;
  while (!pending.empty()) {
    std::string rel = std::move(pending.back());
    pending.pop_back();
    CAIRN_TRY(std::vector<FileInfo> entries, ProxyList(JoinArtifactPath(*root, rel)));
    if (rel.empty() && entries.empty()) root_listed_empty = true;
    for (const FileInfo& f : entries) {
      std::string name = BaseName(f.path);
      if (name.empty() || name == "." || name == "..") {
        return Internal("malformed response from server: artifact listing holds '" + f.path + "'");
      }
      std::string child = JoinArtifactPath(rel, name);
      if (f.is_dir) {
        pending.push_back(child);
      } else {
        CAIRN_RETURN_IF_ERROR(fetch(JoinArtifactPath(*root, child), fs::path(dest_dir) / child));
      }
    }
  }
  if (root_listed_empty) {
    // The location may be a single file rather than a directory.
    Status single = fetch(*root, fs::path(dest_dir) / BaseName(*root));
    if (single.code() == StatusCode::kNotFound) {
      return NotFound("model version " + VersionLabel(version) + " has no files at " + uri);
    }
    CAIRN_RETURN_IF_ERROR(single);
  }
  std::sort(written.begin(), written.end());
  return written;
}

Result<ModelVersion> RegistryClient::DownloadModel(std::string_view model_uri,
                                                   const std::string& dest_dir) {
  CAIRN_TRY(ModelVersion version, ResolveModelUri(model_uri));
  CAIRN_RETURN_IF_ERROR(DownloadModelVersion(version, dest_dir).status());
  return version;
}

}  // namespace cairn::client
