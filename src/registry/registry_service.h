// RegistryService: MLflow's model registry (registered models, versions, stages, tags, aliases)
// with MLflow's validation and messages, over a MetadataStore; plus Cairn's approval state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "registry/registry_types.h"
#include "store/metadata_store.h"

namespace cairn::registry {

// Thread-safe (as the store is). Validation failures are kInvalidArgument naming the field;
// unknown models, versions and aliases kNotFound; taken names kAlreadyExists.
class RegistryService {
 public:
  RegistryService(store::MetadataStore& store, const Clock& clock)
      : store_(store), clock_(clock) {}

  // --- registered models ---
  Result<store::RegisteredModel> CreateRegisteredModel(std::string_view name,
                                                       std::vector<store::Tag> tags,
                                                       std::string_view description);
  Result<store::RegisteredModel> GetRegisteredModel(std::string_view name);
  // Sets the description ("" clears it, as MLflow does when the field is absent).
  Result<store::RegisteredModel> UpdateRegisteredModel(std::string_view name,
                                                       std::string_view description);
  Result<store::RegisteredModel> RenameRegisteredModel(std::string_view name,
                                                       std::string_view new_name);
  Status DeleteRegisteredModel(std::string_view name);
  Result<RegisteredModelsPage> SearchRegisteredModels(const SearchRegisteredModelsRequest& req);
  Status SetRegisteredModelTag(std::string_view name, store::Tag tag);
  Status DeleteRegisteredModelTag(std::string_view name, std::string_view key);
  // The latest version of each of `stages` (case-insensitive names; none: every stage) that has
  // one, in the model's latest_versions order.
  Result<std::vector<store::ModelVersion>> GetLatestVersions(
      std::string_view name, const std::vector<std::string>& stages);

  // --- model versions ---
  // Registers the next version. The source is kept as given and resolved to where the files are
  // (storage_location, the download URI): runs:/RUN/PATH → the run's artifact URI + PATH;
  // models:/… → that version's location; anything else as given. When the location lies under a
  // run's artifact root, the version records that run and the path inside it. A run_id that names
  // no run is kNotFound; local paths outside the run's artifact root are kInvalidArgument.
  Result<store::ModelVersion> CreateModelVersion(CreateModelVersionRequest req);
  Result<store::ModelVersion> GetModelVersion(std::string_view name, int64_t version);
  Result<store::ModelVersion> UpdateModelVersion(std::string_view name, int64_t version,
                                                 std::string_view description);
  // `stage`: None, Staging, Production or Archived (any case). archive_existing is allowed only
  // for Staging and Production: the model's other versions in that stage become Archived.
  Result<store::ModelVersion> TransitionModelVersionStage(std::string_view name, int64_t version,
                                                          std::string_view stage,
                                                          bool archive_existing);
  Status DeleteModelVersion(std::string_view name, int64_t version);
  Result<ModelVersionsPage> SearchModelVersions(const SearchModelVersionsRequest& req);
  Status SetModelVersionTag(std::string_view name, int64_t version, store::Tag tag);
  Status DeleteModelVersionTag(std::string_view name, int64_t version, std::string_view key);
  // Where the version's files are (mlflow-artifacts:/… for runs of this workspace).
  Result<std::string> GetModelVersionDownloadUri(std::string_view name, int64_t version);

  // --- aliases ---
  Status SetRegisteredModelAlias(std::string_view name, std::string_view alias, int64_t version);
  // Removing an alias that is not set is fine (as MLflow); an unknown model is kNotFound.
  Status DeleteRegisteredModelAlias(std::string_view name, std::string_view alias);
  Result<store::ModelVersion> GetModelVersionByAlias(std::string_view name,
                                                     std::string_view alias);

  // The version a models:/ URI names: /VERSION, @ALIAS, /latest (highest number) or /STAGE (the
  // latest version in that stage). kNotFound naming what is missing.
  Result<store::ModelVersion> ResolveModelUri(std::string_view uri);

  // --- Cairn: approval ---
  // Records an approval decision (approved / rejected, or back to pending) by `by` now, in the
  // version's cairn.approval.* tags. `by` is required for a decision.
  Result<store::ModelVersion> SetApproval(std::string_view name, int64_t version,
                                          ApprovalState state, std::string_view by,
                                          std::string_view comment);

 private:
  struct ResolvedSource {
    std::string storage_location;
    std::string run_id;
    std::optional<std::string> artifact_path;
  };
  Result<ResolvedSource> ResolveSource(std::string_view source, std::string_view run_id);

  store::MetadataStore& store_;
  const Clock& clock_;
};

// Validation shared with the API layer and tests. Messages follow MLflow's.
Status ValidateModelName(std::string_view name, std::string_view field = "name");
Status ValidateAlias(std::string_view alias);
Status ValidateRegistryTag(const store::Tag& tag);
// A model version number given as text ("3"); "Parameter 'version' must be an integer, got 'x'."
Result<int64_t> ParseVersion(std::string_view text);

}  // namespace cairn::registry
