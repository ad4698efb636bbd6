// The endpoints' monitoring API through the router, without a socket, over the real monitor
// service with fake endpoints and datasets.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/v1/monitor_routes.h"
#include "core/ids.h"
#include "data/profile.h"
#include "monitoring/testing/fake_sources.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace cairn::api::v1 {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kNow = 1700000000000;

class MonitorApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-monitor-api-" + NewUuidHex());
    fs::create_directories(dir_);
    store_ =
        std::move(store::SqliteMetadataStore::Open((dir_ / "meta.db").string(), clock_)).value();
    std::string csv = "x,y\n";
    for (int i = 0; i < 100; ++i) csv += std::to_string(i) + "," + std::to_string(i % 2) + "\n";
    baselines_.profiles_["base"] = std::move(data::ProfileCsv(csv)).value();
    monitoring::ServedModel model;
    model.deployment = "blue";
    model.model_uri = "models:/m/1";
    model.model_version = "m/1";
    model.traffic = 100;
    model.task = ml::Task::kBinary;
    model.target = "y";
    model.input_columns = {"x"};
    model.classes = {"0", "1"};
    model.dataset = ml::DatasetRef{"base", "v1", ""};
    catalog_.models_["churn"] = {model};
    for (int i = 0; i < 100; ++i) {
      monitoring::PredictionRecord r;
      r.time = kNow - 30 * 60 * 1000 + i;
      r.request_id = "r" + std::to_string(i);
      r.endpoint = "churn";
      r.model_version = "m/1";
      r.status = 200;
      r.inputs = json{{"columns", {"x"}}, {"data", {{i + 1000}}}}.dump();
      r.outputs = json::array({i < 50 ? 0.2 : 0.8}).dump();
      catalog_.records_.push_back(r);
    }
    service_ = std::make_unique<monitoring::MonitorService>(*store_, catalog_, baselines_, clock_);
    RegisterMonitorRoutes(router_, *service_);
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  json CallJson(const std::string& method, const std::string& target, const std::string& body,
                int expect_status) {
    http::HttpRequest req;
    req.method = method;
    req.target = target;
    size_t q = target.find('?');
    req.path = http::PercentDecode(target.substr(0, q));
    req.query = q == std::string::npos ? "" : target.substr(q + 1);
    req.body = body;
    http::HttpResponse r = router_.Dispatch(req);
    EXPECT_EQ(r.status, expect_status) << method << " " << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }
  void ExpectError(const std::string& method, const std::string& target, const std::string& body,
                   int status, const std::string& code, const std::string& needle) {
    json j = CallJson(method, target, body, status);
    EXPECT_EQ(j.value("error_code", ""), code) << j.dump();
    EXPECT_NE(j.value("message", "").find(needle), std::string::npos) << j.dump();
  }

  fs::path dir_;
  FakeClock clock_{kNow};
  std::unique_ptr<store::SqliteMetadataStore> store_;
  monitoring::testing::FakeCatalog catalog_;
  monitoring::testing::FakeBaselines baselines_;
  std::unique_ptr<monitoring::MonitorService> service_;
  http::Router router_;
};

TEST_F(MonitorApiTest, FeedbackThenLiveMetrics) {
  json labels = json::array();
  for (int i = 0; i < 100; ++i) {
    labels.push_back({{"request_id", "r" + std::to_string(i)}, {"label", i < 60 ? 0 : 1}});
  }
  json out =
      CallJson("POST", "/api/v1/endpoints/churn/feedback", json{{"labels", labels}}.dump(), 200);
  EXPECT_EQ(out["stored"], 100);
  out = CallJson("GET", "/api/v1/endpoints/churn/monitor/metrics?window=1h", "", 200);
  EXPECT_EQ(out["live"]["matched"], 100);
  // rows 50..59 are predicted positive (0.8) but labelled 0: 90 of 100 right.
  EXPECT_DOUBLE_EQ(out["live"]["metrics"]["accuracy"].get<double>(), 0.9);
  EXPECT_DOUBLE_EQ(out["live"]["metrics"]["positive_rate"].get<double>(), 0.5);
  out = CallJson("GET",
                 "/api/v1/endpoints/churn/monitor/metrics?since=" + std::to_string(kNow - 1000) +
                     "&until=" + std::to_string(kNow),
                 "", 200);
  EXPECT_EQ(out["live"]["requests"], 0);

  ExpectError("POST", "/api/v1/endpoints/churn/feedback",
              R"({"labels": [{"request_id": "a", "label": 1}, {"request_id": "", "label": 1}]})",
              400, "INVALID_PARAMETER_VALUE", "labels[1].request_id");
  ExpectError("POST", "/api/v1/endpoints/churn/feedback", R"({"lables": []})", 400,
              "INVALID_PARAMETER_VALUE", "lables: unknown field");
  ExpectError("POST", "/api/v1/endpoints/churn/feedback", "not json", 400,
              "INVALID_PARAMETER_VALUE", "not valid JSON");
  ExpectError("POST", "/api/v1/endpoints/nope/feedback", json{{"labels", labels}}.dump(), 404,
              "RESOURCE_DOES_NOT_EXIST", "nope");
  ExpectError("GET", "/api/v1/endpoints/churn/monitor/metrics?window=forever", "", 400,
              "INVALID_PARAMETER_VALUE", "window:");
}

TEST_F(MonitorApiTest, ConfigureComputeListAndGetReports) {
  json out = CallJson("GET", "/api/v1/endpoints/churn/monitor", "", 200);
  EXPECT_EQ(out["config"]["configured"], false);
  EXPECT_EQ(out["config"]["interval"], "1h");
  EXPECT_FALSE(out.contains("latest_report"));
  EXPECT_EQ(out["feedback_labels"], 0);

  out = CallJson("PUT", "/api/v1/endpoints/churn/monitor",
                 R"({"interval": "10m", "thresholds": {"p_value": 0.01}})", 200);
  EXPECT_EQ(out["config"]["interval_ms"], 600000);
  EXPECT_DOUBLE_EQ(out["config"]["thresholds"]["p_value"].get<double>(), 0.01);
  ExpectError("PUT", "/api/v1/endpoints/churn/monitor", R"({"window": "-1h"})", 400,
              "INVALID_PARAMETER_VALUE", "window:");
  ExpectError("PUT", "/api/v1/endpoints/churn/monitor", R"({"thresholds": {"psi": "high"}})", 400,
              "INVALID_PARAMETER_VALUE", "thresholds.psi");
  ExpectError("PUT", "/api/v1/endpoints/nope/monitor", "{}", 404, "RESOURCE_DOES_NOT_EXIST",
              "nope");

  json first = CallJson("POST", "/api/v1/endpoints/churn/monitor/reports", R"({"window": "1h"})",
                        200)["report"];
  EXPECT_EQ(first["since"], kNow - 3600 * 1000);
  EXPECT_EQ(first["until"], kNow);
  EXPECT_EQ(first["baseline"], "base@v1");
  ASSERT_EQ(first["columns"].size(), 1u);
  EXPECT_EQ(first["columns"][0]["column"], "x");
  EXPECT_EQ(first["columns"][0]["drifted"], true);  // 1000+ against 0..99
  EXPECT_DOUBLE_EQ(first["columns"][0]["quality"]["out_of_range_rate"].get<double>(), 1.0);
  EXPECT_EQ(first["summary"]["dataset_drift"], true);
  clock_.Advance(1000);
  json second =
      CallJson("POST", "/api/v1/endpoints/churn/monitor/reports",
               json{{"since", "2023-11-14T21:43:00Z"}, {"until", kNow}}.dump(), 200)["report"];
  EXPECT_EQ(second["since"], 1699998180000);

  out = CallJson("GET", "/api/v1/endpoints/churn/monitor/reports?limit=1", "", 200);
  ASSERT_EQ(out["reports"].size(), 1u);
  EXPECT_EQ(out["reports"][0]["report_id"], second["report_id"]);
  ASSERT_TRUE(out.contains("next_page_token"));
  out = CallJson("GET",
                 "/api/v1/endpoints/churn/monitor/reports?limit=1&page_token=" +
                     out["next_page_token"].get<std::string>(),
                 "", 200);
  ASSERT_EQ(out["reports"].size(), 1u);
  EXPECT_EQ(out["reports"][0]["report_id"], first["report_id"]);
  EXPECT_FALSE(out.contains("next_page_token"));

  out = CallJson("GET",
                 "/api/v1/endpoints/churn/monitor/reports/" + first["report_id"].get<std::string>(),
                 "", 200);
  EXPECT_EQ(out["report"], first);
  out = CallJson("GET", "/api/v1/endpoints/churn/monitor", "", 200);
  EXPECT_EQ(out["latest_report"]["report_id"], second["report_id"]);

  ExpectError("GET", "/api/v1/endpoints/churn/monitor/reports/nope", "", 404,
              "RESOURCE_DOES_NOT_EXIST", "nope");
  ExpectError("POST", "/api/v1/endpoints/churn/monitor/reports", R"({"window": "1 hour"})", 400,
              "INVALID_PARAMETER_VALUE", "window:");
  ExpectError("POST", "/api/v1/endpoints/churn/monitor/reports",
              R"({"since": 2000, "until": 1000})", 400, "INVALID_PARAMETER_VALUE", "until");
  ExpectError("POST", "/api/v1/endpoints/churn/monitor/reports", R"({"since": "yesterday"})", 400,
              "INVALID_PARAMETER_VALUE", "since:");
  ExpectError("POST", "/api/v1/endpoints/churn/monitor/reports", R"({"window": "1h", "since": 5})",
              400, "INVALID_PARAMETER_VALUE", "not both");
  ExpectError("POST", "/api/v1/endpoints/nope/monitor/reports", "{}", 404,
              "RESOURCE_DOES_NOT_EXIST", "nope");
  ExpectError("GET", "/api/v1/endpoints/churn/monitor/reports?limit=0", "", 400,
              "INVALID_PARAMETER_VALUE", "limit");
  ExpectError("GET", "/api/v1/endpoints/churn/monitor/reports?page_token=zz", "", 400,
              "INVALID_PARAMETER_VALUE", "page_token");
}

}  // namespace
}  // namespace cairn::api::v1
