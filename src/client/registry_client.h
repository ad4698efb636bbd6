// RegistryClient: a typed C++ client of MLflow's model registry REST calls (as served by
// `cairn server` or MLflow's own server), models:/ URI resolution, and the download of a model
// version's directory through the artifact proxy.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/mlflow_json.h"
#include "client/transport.h"
#include "client/types.h"
#include "core/result.h"
#include "store/records.h"

namespace cairn::client {

using store::ModelAlias;
using store::ModelStage;
using store::ModelVersion;
using store::RegisteredModel;

struct SearchRegisteredModelsRequest {
  std::string filter;  // "name LIKE '%churn%'"
  int64_t max_results = 100;
  std::vector<std::string> order_by;
  std::string page_token;
};

struct RegisteredModelsPage {
  std::vector<RegisteredModel> models;
  std::string next_page_token;  // empty on the last page
};

struct SearchModelVersionsRequest {
  std::string filter;  // "name = 'churn'"
  int64_t max_results = 1000;
  std::vector<std::string> order_by;
  std::string page_token;
};

struct ModelVersionsPage {
  std::vector<ModelVersion> versions;
  std::string next_page_token;
};

struct CreateModelVersionRequest {
  std::string name;
  std::string source;  // runs:/RUN/PATH, the run's artifact URI + path, models:/…, s3://…
  std::string run_id;
  std::vector<Tag> tags;
  std::string run_link;
  std::string description;
};

// Each call is one HTTP exchange (the search-all and download helpers make several). Server
// errors come back as Status (RESOURCE_DOES_NOT_EXIST → kNotFound, RESOURCE_ALREADY_EXISTS →
// kAlreadyExists, INVALID_PARAMETER_VALUE → kInvalidArgument); an unreachable server is
// kUnavailable. Not thread-safe: use one client per thread.
class RegistryClient {
 public:
  // Connects to the server at `tracking_uri` ("http://host:port", see ResolveTrackingUri).
  static Result<std::unique_ptr<RegistryClient>> Connect(std::string_view tracking_uri);
  explicit RegistryClient(std::unique_ptr<Transport> transport);

  // --- Registered models ---------------------------------------------------------------------
  Result<RegisteredModel> CreateRegisteredModel(std::string_view name,
                                                const std::vector<Tag>& tags = {},
                                                std::string_view description = {});
  Result<RegisteredModel> GetRegisteredModel(std::string_view name);
  Result<RegisteredModel> UpdateRegisteredModel(std::string_view name,
                                                std::string_view description);
  Result<RegisteredModel> RenameRegisteredModel(std::string_view name, std::string_view new_name);
  Status DeleteRegisteredModel(std::string_view name);
  Result<RegisteredModelsPage> SearchRegisteredModels(const SearchRegisteredModelsRequest& req);
  // Follows page tokens until `limit` models (0: no limit) or the last page.
  Result<std::vector<RegisteredModel>> SearchAllRegisteredModels(
      SearchRegisteredModelsRequest req, size_t limit = 0);
  Status SetRegisteredModelTag(std::string_view name, std::string_view key,
                               std::string_view value);
  Status DeleteRegisteredModelTag(std::string_view name, std::string_view key);
  // The latest version per stage (stages: none means all).
  Result<std::vector<ModelVersion>> GetLatestVersions(std::string_view name,
                                                      const std::vector<std::string>& stages = {});

  // --- Model versions ------------------------------------------------------------------------
  Result<ModelVersion> CreateModelVersion(const CreateModelVersionRequest& req);
  Result<ModelVersion> GetModelVersion(std::string_view name, int64_t version);
  Result<ModelVersion> UpdateModelVersion(std::string_view name, int64_t version,
                                          std::string_view description);
  Result<ModelVersion> TransitionModelVersionStage(std::string_view name, int64_t version,
                                                   std::string_view stage,
                                                   bool archive_existing_versions);
  Status DeleteModelVersion(std::string_view name, int64_t version);
  Result<ModelVersionsPage> SearchModelVersions(const SearchModelVersionsRequest& req);
  Result<std::vector<ModelVersion>> SearchAllModelVersions(SearchModelVersionsRequest req,
                                                           size_t limit = 0);
  Status SetModelVersionTag(std::string_view name, int64_t version, std::string_view key,
                            std::string_view value);
  Status DeleteModelVersionTag(std::string_view name, int64_t version, std::string_view key);
  // Where the version's files are ("mlflow-artifacts:/0/<run>/artifacts/model").
  Result<std::string> GetModelVersionDownloadUri(std::string_view name, int64_t version);

  // --- Aliases -------------------------------------------------------------------------------
  Status SetRegisteredModelAlias(std::string_view name, std::string_view alias, int64_t version);
  Status DeleteRegisteredModelAlias(std::string_view name, std::string_view alias);
  Result<ModelVersion> GetModelVersionByAlias(std::string_view name, std::string_view alias);

  // --- Model URIs and model directories ------------------------------------------------------
  // The version a model URI names: models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/latest
  // (highest version), models:/NAME/STAGE (latest in that stage). A bare NAME means
  // models:/NAME/latest. kNotFound naming what is missing; kInvalidArgument for a malformed URI.
  Result<ModelVersion> ResolveModelUri(std::string_view uri);
  // Downloads the version's model directory (everything under its download URI, which must be
  // served by the artifact proxy: mlflow-artifacts:/…) into `dest_dir`, keeping relative paths
  // ("dest/MLmodel", "dest/model.ubj"). Each file is written under a temporary name and renamed
  // when complete. Returns the local files written, sorted. kNotFound if nothing is there.
  Result<std::vector<std::string>> DownloadModelVersion(const ModelVersion& version,
                                                        const std::string& dest_dir);
  // ResolveModelUri, then DownloadModelVersion; returns the version downloaded.
  Result<ModelVersion> DownloadModel(std::string_view model_uri, const std::string& dest_dir);

 private:
  Result<Json> Call(std::string_view method, std::string_view endpoint, const Json* body,
                    std::string_view query = {});
  Result<Json> Get(std::string_view endpoint, std::string_view query) {
    return Call("GET", endpoint, nullptr, query);
  }
  Status CallStatus(std::string_view method, std::string_view endpoint, const Json& body);
  Result<std::vector<FileInfo>> ProxyList(const std::string& dir);
  Status ProxyDownload(const std::string& path, const std::string& local_file);

  std::unique_ptr<Transport> transport_;
};

// The display form of a version: "churn/3" (for messages and tables).
std::string VersionLabel(const ModelVersion& version);

}  // namespace cairn::client
