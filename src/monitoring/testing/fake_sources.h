// Fakes of the monitor's views of the workspace, for tests: endpoints with hand-made served
// models and prediction records, datasets with hand-made profiles.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "monitoring/monitor_service.h"

namespace cairn::monitoring::testing {

// Endpoints as the monitor sees them, with hand-made prediction records.
class FakeCatalog : public EndpointCatalog {
 public:
  Result<std::vector<std::string>> ListEndpoints() override {
    std::vector<std::string> out;
    for (const auto& [name, models] : models_) out.push_back(name);
    return out;
  }
  Status CheckEndpoint(std::string_view endpoint) override {
    if (!models_.contains(std::string(endpoint))) {
      return NotFound("endpoint '" + std::string(endpoint) + "' does not exist");
    }
    return Status::Ok();
  }
  Result<std::vector<ServedModel>> ServedModels(std::string_view endpoint) override {
    CAIRN_RETURN_IF_ERROR(CheckEndpoint(endpoint));
    return models_.at(std::string(endpoint));
  }
  // Pages of 7, to exercise the monitor's paging.
  Result<PredictionPage> Predictions(const PredictionQuery& q) override {
    CAIRN_RETURN_IF_ERROR(CheckEndpoint(q.endpoint));
    std::vector<PredictionRecord> matching;
    for (const PredictionRecord& r : records_) {
      if (r.endpoint != q.endpoint || r.time < q.since || r.time >= q.until) continue;
      if (q.mirrored >= 0 && r.mirrored != (q.mirrored == 1)) continue;
      matching.push_back(r);
    }
    const size_t start = q.page_token.empty() ? 0 : std::stoul(q.page_token);
    PredictionPage page;
    for (size_t i = start; i < matching.size() && i < start + 7; ++i) {
      page.records.push_back(matching[i]);
    }
    if (start + 7 < matching.size()) page.next_page_token = std::to_string(start + 7);
    return page;
  }

  std::map<std::string, std::vector<ServedModel>> models_;
  std::vector<PredictionRecord> records_;
};

class FakeBaselines : public BaselineSource {
 public:
  Result<BaselineProfile> Profile(std::string_view name, std::optional<int64_t> version,
                                  const std::vector<std::string>&) override {
    asked_.push_back(std::string(name) + "@" + (version ? std::to_string(*version) : "latest"));
    auto it = profiles_.find(std::string(name));
    if (it == profiles_.end())
      return NotFound("dataset '" + std::string(name) + "' does not exist");
    return BaselineProfile{std::string(name), version.value_or(7), "data.csv", it->second};
  }
  std::map<std::string, data::DatasetProfile> profiles_;
  std::vector<std::string> asked_;
};

}  // namespace cairn::monitoring::testing
