// The monitor's views of the workspace: the endpoints (their served models, as the MLmodel files
// describe them, and their prediction logs) and the datasets (version profiles as baselines).
// The composition root hands these to MonitorService.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "datasets/dataset_service.h"
#include "endpoints/endpoint_service.h"
#include "endpoints/model_provider.h"
#include "monitoring/monitor_service.h"

namespace cairn::monitoring {

// Thread-safe. A model's description is read once per storage location (model files never
// change in place) from its MLmodel in the model cache.
class WorkspaceEndpointCatalog : public EndpointCatalog {
 public:
  WorkspaceEndpointCatalog(endpoints::EndpointService& endpoints,
                           endpoints::WorkspaceModelProvider& models);

  Result<std::vector<std::string>> ListEndpoints() override;
  Status CheckEndpoint(std::string_view endpoint) override;
  Result<std::vector<ServedModel>> ServedModels(std::string_view endpoint) override;
  Result<PredictionPage> Predictions(const PredictionQuery& query) override;

 private:
  Result<ServedModel> Describe(const store::Deployment& deployment);

  endpoints::EndpointService& endpoints_;
  endpoints::WorkspaceModelProvider& models_;
  std::mutex mu_;
  std::map<std::string, ServedModel> described_;  // by storage location
};

class DatasetBaselines : public BaselineSource {
 public:
  explicit DatasetBaselines(datasets::DatasetService& datasets) : datasets_(datasets) {}
  Result<BaselineProfile> Profile(std::string_view name, std::optional<int64_t> version,
                                  const std::vector<std::string>& columns) override;

 private:
  datasets::DatasetService& datasets_;
};

// ServedModel's model fields (task, target, classes, input columns, dataset) from an MLmodel.
void DescribeFromMlModel(const ml::MlModel& mlmodel, ServedModel& model);

}  // namespace cairn::monitoring
