// ModelProvider: how a deployment's model URI becomes a model ready to score — resolved once
// (what the deployment records, pinned), loaded whenever the server (re)starts or swaps it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/result.h"
#include "serving/scoring_model.h"

namespace cairn::store {
class MetadataStore;
}
namespace cairn::registry {
class RegistryService;
}
namespace cairn::tracking {
class ArtifactService;
}

namespace cairn::endpoints {

// What a model URI resolved to.
struct ModelSource {
  std::string uri;               // as given
  std::string model_name;        // registered model; "" for runs:/ and artifact URIs
  int64_t model_version = 0;     // 0 for runs:/ and artifact URIs
  std::string run_id;            // may be empty
  std::string storage_location;  // where the files are (mlflow-artifacts:/…)
};

// Thread-safe.
class ModelProvider {
 public:
  virtual ~ModelProvider() = default;
  // models:/NAME/VERSION, models:/NAME@ALIAS (and /latest, /STAGE), runs:/RUN_ID/PATH or an
  // mlflow-artifacts:/ URI → the version, run and files it names now. kInvalidArgument for
  // another form ("model: …"), kNotFound for a model, version, alias or run that is not there.
  virtual Result<ModelSource> Resolve(std::string_view uri) = 0;
  // The model at `source.storage_location`, fully loaded. kNotFound when there are no files,
  // kInvalidArgument naming the file and field when they are not a model Cairn can score.
  virtual Result<std::shared_ptr<const serving::ScoringModel>> Load(const ModelSource& source) = 0;
};

// The workspace's own models: resolved through the registry and the run store, their files
// copied from the blob store into DATA/model-cache/<key>/ (written under a temporary name and
// renamed, so a directory there is always complete) and loaded with serving::LoadScoringModel.
// The key is the SHA-256 of the directory's listing (paths and content digests): a model's files
// are fetched once, shared by deployments of the same version, and fetched anew when they change.
class WorkspaceModelProvider : public ModelProvider {
 public:
  WorkspaceModelProvider(store::MetadataStore& store, registry::RegistryService& registry,
                         tracking::ArtifactService& artifacts, std::string cache_dir);

  Result<ModelSource> Resolve(std::string_view uri) override;
  Result<std::shared_ptr<const serving::ScoringModel>> Load(const ModelSource& source) override;

  // The local directory holding `source`'s files (fetching them if needed).
  Result<std::string> Materialize(const ModelSource& source);

 private:
  store::MetadataStore& store_;
  registry::RegistryService& registry_;
  tracking::ArtifactService& artifacts_;
  const std::string cache_dir_;
  std::mutex fetch_mu_;  // one fetch at a time: two deployments of one model fetch it once
};

}  // namespace cairn::endpoints
