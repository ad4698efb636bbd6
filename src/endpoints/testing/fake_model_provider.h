// Test doubles of the endpoint service's model provider: fake models that answer with their
// label and count what they score, so tests check routing without real models.
#pragma once

#include <atomic>
#include <charconv>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "endpoints/model_provider.h"

namespace cairn::endpoints::testing {

// A stand-in for a scoring model: answers {"predictions": ["<label>"]} (one row), 400 for the
// body "bad", and counts what it scored. Tests the service's routing, not scoring.
class FakeModel : public serving::ScoringModel {
 public:
  explicit FakeModel(std::string label) : label_(std::move(label)) {}
  serving::ScoringOutcome Score(serving::Protocol, const http::HttpRequest& request,
                                const serving::ScoringOptions& options) const override {
    const int now = ++active_;
    int seen = max_active_.load();
    while (now > seen && !max_active_.compare_exchange_weak(seen, now)) {
    }
    if (hold_us_ > 0) std::this_thread::sleep_for(std::chrono::microseconds(hold_us_));
    scored_++;
    serving::ScoringOutcome out;
    if (request.body == "bad") {
      out.response = http::JsonError(400, "BAD_REQUEST", "column 'x' is missing");
    } else {
      out.response = http::JsonResponse(200, nlohmann::json{{"predictions", {label_}}}.dump());
      out.rows = 1;
      if (options.capture) {
        out.inputs_json = R"({"columns":["x"],"data":[[1]]})";
        out.outputs_json = nlohmann::json::array({label_}).dump();
      }
    }
    --active_;
    return out;
  }
  std::string MetadataV2Json(const serving::ScoringOptions& options) const override {
    return nlohmann::json{
        {"name", options.model_name}, {"versions", {options.model_version}}, {"label", label_}}
        .dump();
  }
  std::string Description() const override { return "fake " + label_; }

  std::string label_;
  int hold_us_ = 0;  // makes overlapping calls likely (concurrency limit test)
  mutable std::atomic<int> scored_{0};
  mutable std::atomic<int> active_{0};
  mutable std::atomic<int> max_active_{0};
};

// models:/NAME/N resolves to version N of NAME; each load makes a new FakeModel labelled
// "NAME/N". Names in `missing` do not exist; versions in `broken` fail to load.
class FakeProvider : public ModelProvider {
 public:
  Result<ModelSource> Resolve(std::string_view uri) override {
    constexpr std::string_view kPrefix = "models:/";
    if (!uri.starts_with(kPrefix)) return InvalidArgument("model: not a model URI");
    std::string rest(uri.substr(kPrefix.size()));
    size_t slash = rest.find('/');
    if (slash == std::string::npos) return InvalidArgument("model: no version");
    ModelSource s;
    s.uri = std::string(uri);
    s.model_name = rest.substr(0, slash);
    const std::string version = rest.substr(slash + 1);
    const auto [end, ec] =
        std::from_chars(version.data(), version.data() + version.size(), s.model_version);
    if (ec != std::errc() || end != version.data() + version.size() || s.model_version < 1) {
      return InvalidArgument("model: bad version '" + version + "'");
    }
    s.storage_location = "mlflow-artifacts:/fake/" + rest;
    std::lock_guard lock(mu_);
    if (missing.contains(s.model_name)) {
      return NotFound("Registered Model with name=" + s.model_name + " not found");
    }
    return s;
  }
  Result<std::shared_ptr<const serving::ScoringModel>> Load(const ModelSource& s) override {
    const std::string label = s.model_name + "/" + std::to_string(s.model_version);
    std::lock_guard lock(mu_);
    if (broken.contains(label)) return InvalidArgument("MLmodel: no flavor Cairn can score");
    auto model = std::make_shared<FakeModel>(label);
    model->hold_us_ = hold_us;
    loaded[label] = model;
    return std::shared_ptr<const serving::ScoringModel>(model);
  }
  std::shared_ptr<FakeModel> Loaded(const std::string& label) {
    std::lock_guard lock(mu_);
    return loaded[label];
  }

  std::mutex mu_;
  std::set<std::string> missing;
  std::set<std::string> broken;
  std::map<std::string, std::shared_ptr<FakeModel>> loaded;
  int hold_us = 0;
};

}  // namespace cairn::endpoints::testing
