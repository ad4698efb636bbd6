#include "monitoring/workspace_sources.h"

#include <fstream>
#include <sstream>

#include "ml/model_dir.h"

namespace cairn::monitoring {

void DescribeFromMlModel(const ml::MlModel& mlmodel, ServedModel& model) {
  model.dataset = mlmodel.dataset;
  if (mlmodel.preprocessing) {
    const ml::Preprocessing& p = *mlmodel.preprocessing;
    model.task = p.target.task;
    model.target = p.target.name;
    model.classes = p.target.classes;
    model.input_columns = p.FeatureNames();
  } else if (mlmodel.inputs) {
    for (const ml::ColumnSpec& c : *mlmodel.inputs) {
      if (!c.name.empty()) model.input_columns.push_back(c.name);
    }
  }
}

WorkspaceEndpointCatalog::WorkspaceEndpointCatalog(endpoints::EndpointService& endpoints,
                                                   endpoints::WorkspaceModelProvider& models)
    : endpoints_(endpoints), models_(models) {}

Result<std::vector<std::string>> WorkspaceEndpointCatalog::ListEndpoints() {
  CAIRN_TRY(auto views, endpoints_.ListEndpoints());
  std::vector<std::string> out;
  for (const auto& v : views) out.push_back(v.endpoint.name);
  return out;
}

Status WorkspaceEndpointCatalog::CheckEndpoint(std::string_view endpoint) {
  return endpoints_.GetEndpoint(endpoint).status();
}

Result<ServedModel> WorkspaceEndpointCatalog::Describe(const store::Deployment& d) {
  {
    std::lock_guard lock(mu_);
    if (auto it = described_.find(d.storage_location); it != described_.end()) return it->second;
  }
  ServedModel model;
  endpoints::ModelSource source{d.model_uri, d.model_name, d.model_version, d.run_id,
                                d.storage_location};
  CAIRN_TRY(std::string dir, models_.Materialize(source));
  std::ifstream in(dir + "/MLmodel", std::ios::binary);
  if (!in) return NotFound("model " + d.model_uri + ": no MLmodel file");
  std::stringstream text;
  text << in.rdbuf();
  CAIRN_TRY(ml::MlModel mlmodel, ml::ParseMlModel(text.str()));
  DescribeFromMlModel(mlmodel, model);
  std::lock_guard lock(mu_);
  described_[d.storage_location] = model;
  return model;
}

Result<std::vector<ServedModel>> WorkspaceEndpointCatalog::ServedModels(std::string_view endpoint) {
  CAIRN_TRY(endpoints::EndpointView view, endpoints_.GetEndpoint(endpoint));
  std::vector<ServedModel> out;
  for (const endpoints::DeploymentView& dv : view.deployments) {
    const store::Deployment& d = dv.deployment;
    ServedModel model;
    auto described = Describe(d);
    if (described.ok()) model = *described;  // else: known by name only (no task, no dataset)
    model.deployment = d.name;
    model.model_uri = d.model_uri;
    model.model_version =
        d.model_name.empty() ? "" : d.model_name + "/" + std::to_string(d.model_version);
    model.traffic = d.traffic;
    out.push_back(std::move(model));
  }
  return out;
}

Result<PredictionPage> WorkspaceEndpointCatalog::Predictions(const PredictionQuery& query) {
  return endpoints_.Predictions(query);
}

Result<BaselineProfile> DatasetBaselines::Profile(std::string_view name,
                                                  std::optional<int64_t> version,
                                                  const std::vector<std::string>& columns) {
  CAIRN_TRY(datasets::VersionDetails details, datasets_.GetVersion(name, version));
  CAIRN_TRY(std::vector<datasets::FileProfile> profiles,
            datasets_.GetProfiles(name, details.version.version));
  if (profiles.empty()) {
    return FailedPrecondition("dataset " + std::string(name) + "@v" +
                              std::to_string(details.version.version) +
                              " has no profiled file to compare with");
  }
  size_t best = 0;
  int best_hits = -1;
  for (size_t i = 0; i < profiles.size(); ++i) {
    int hits = 0;
    for (const std::string& c : columns) hits += profiles[i].profile.Find(c) != nullptr;
    if (hits > best_hits) best_hits = hits, best = i;
  }
  BaselineProfile out;
  out.dataset = std::string(name);
  out.version = details.version.version;
  out.file = profiles[best].path;
  out.profile = std::move(profiles[best].profile);
  return out;
}

}  // namespace cairn::monitoring
