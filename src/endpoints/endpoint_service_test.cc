#include "endpoints/endpoint_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/ids.h"
#include "endpoints/testing/fake_model_provider.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace cairn::endpoints {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::FakeModel;
using testing::FakeProvider;

class EndpointServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_endpoints_" + NewUuidHex());
    fs::create_directories(dir_);
    auto store = store::SqliteMetadataStore::Open((dir_ / "metadata.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    monitoring::PredictionLogOptions log_options;
    log_options.dir = (dir_ / "predictions").string();
    auto log = monitoring::PredictionLog::Open(log_options, clock_);
    ASSERT_TRUE(log.ok());
    log_ = std::move(*log);
    service_ = std::make_unique<EndpointService>(*store_, provider_, log_.get(), clock_);
  }
  void TearDown() override {
    service_.reset();
    log_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // churn with blue = churn/1 and green = churn/2.
  void MakeChurn() {
    ASSERT_TRUE(service_->CreateEndpoint({"churn", "", std::nullopt}).ok());
    ASSERT_TRUE(service_->CreateDeployment({"churn", "blue", "models:/churn/1", 0}).ok());
    ASSERT_TRUE(service_->CreateDeployment({"churn", "green", "models:/churn/2", 0}).ok());
  }
  Status Traffic(std::vector<store::TrafficShare> live,
                 std::optional<std::vector<store::TrafficShare>> mirror = std::nullopt) {
    return service_->SetTraffic({"churn", std::move(live), std::move(mirror)}).status();
  }

  static http::HttpRequest Request(std::string body = "{}", http::Headers headers = {}) {
    http::HttpRequest req;
    req.method = "POST";
    req.path = "/endpoints/churn/invocations";
    req.body = std::move(body);
    req.headers = std::move(headers);
    return req;
  }
  // The label the answering model put in its predictions, and the deployment header.
  std::pair<std::string, std::string> Answer(const http::HttpRequest& req) {
    auto res = service_->Score("churn", serving::Protocol::kMlflow, req);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    if (!res.ok()) return {};
    EXPECT_EQ(res->status, 200) << res->body;
    json body = json::parse(res->body, nullptr, false);
    return {body["predictions"][0].get<std::string>(),
            std::string(res->Header("x-cairn-deployment"))};
  }

  fs::path dir_;
  FakeClock clock_;
  FakeProvider provider_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<monitoring::PredictionLog> log_;
  std::unique_ptr<EndpointService> service_;
};

TEST_F(EndpointServiceTest, CreateEndpointsAndDeploymentsWithCleanErrors) {
  auto created = service_->CreateEndpoint({"churn", "scores churn", 0.5});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->endpoint.sample_rate, 0.5);
  EXPECT_EQ(service_->CreateEndpoint({"churn", "", std::nullopt}).status().code(),
            StatusCode::kAlreadyExists);
  auto bad = service_->CreateEndpoint({"no spaces", "", std::nullopt});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("name: 'no spaces'"), std::string::npos);
  EXPECT_EQ(service_->CreateEndpoint({"../etc", "", std::nullopt}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->CreateEndpoint({std::string(64, 'a'), "", std::nullopt}).status().code(),
            StatusCode::kInvalidArgument);
  auto rate = service_->CreateEndpoint({"other", "", 1.5});
  EXPECT_NE(rate.status().message().find("sample_rate"), std::string::npos);

  auto blue = service_->CreateDeployment({"churn", "blue", "models:/churn/1", 2});
  ASSERT_TRUE(blue.ok()) << blue.status().ToString();
  EXPECT_TRUE(blue->ready);
  EXPECT_EQ(blue->model, "fake churn/1");
  EXPECT_EQ(blue->deployment.model_name, "churn");
  EXPECT_EQ(blue->deployment.model_version, 1);
  EXPECT_EQ(blue->deployment.threads, 2);
  EXPECT_EQ(blue->deployment.traffic, 0);

  EXPECT_EQ(service_->CreateDeployment({"churn", "blue", "models:/churn/1", 0}).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(service_->CreateDeployment({"nope", "blue", "models:/churn/1", 0}).status().code(),
            StatusCode::kNotFound);
  provider_.missing.insert("ghost");
  auto unknown_model = service_->CreateDeployment({"churn", "g", "models:/ghost/1", 0});
  EXPECT_EQ(unknown_model.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown_model.status().message().find("ghost"), std::string::npos);
  provider_.broken.insert("churn/9");
  EXPECT_EQ(service_->CreateDeployment({"churn", "g", "models:/churn/9", 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->CreateDeployment({"churn", "g", "", 0}).status().code(),
            StatusCode::kInvalidArgument);
  auto threads = service_->CreateDeployment({"churn", "g", "models:/churn/1", -1});
  EXPECT_NE(threads.status().message().find("threads"), std::string::npos);
  // None of the failures left a deployment behind.
  auto list = service_->ListDeployments("churn");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
}

TEST_F(EndpointServiceTest, TrafficRulesAndPartialChanges) {
  MakeChurn();
  // No traffic yet: scoring is unavailable, naming a deployment works.
  auto none = service_->Score("churn", serving::Protocol::kMlflow, Request());
  EXPECT_EQ(none.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(none.status().message().find("takes no traffic"), std::string::npos);
  EXPECT_EQ(Answer(Request("{}", {{"x-cairn-deployment", "green"}})).second, "green");
  EXPECT_EQ(service_->Ready("churn").code(), StatusCode::kUnavailable);

  EXPECT_EQ(Traffic({{"blue", 90}, {"green", 5}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Traffic({{"blue", 90}, {"purple", 10}}).code(), StatusCode::kNotFound);
  ASSERT_TRUE(Traffic({{"blue", 100}}, std::vector<store::TrafficShare>{{"green", 20}}).ok());
  EXPECT_TRUE(service_->Ready("churn").ok());
  // A deployment takes live or mirrored traffic, not both; nothing changes on refusal.
  Status both = Traffic({{"blue", 90}, {"green", 10}});
  EXPECT_EQ(both.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(both.message().find("one or the other"), std::string::npos);
  auto view = service_->GetEndpoint("churn");
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->endpoint.traffic_version, 1);
  EXPECT_EQ(view->deployments[0].deployment.traffic, 100);  // blue
  EXPECT_EQ(view->deployments[1].deployment.mirror, 20);    // green
  // Changing only the mirror keeps the live split, and the other way round.
  ASSERT_TRUE(
      service_->SetTraffic({"churn", std::nullopt, std::vector<store::TrafficShare>{}}).ok());
  ASSERT_TRUE(Traffic({{"blue", 50}, {"green", 50}}).ok());
  view = service_->GetEndpoint("churn");
  EXPECT_EQ(view->deployments[0].deployment.traffic, 50);
  EXPECT_EQ(view->deployments[1].deployment.mirror, 0);
  EXPECT_EQ(view->endpoint.traffic_version, 3);

  // A deployment taking traffic cannot be deleted; the endpoint can (with its deployments).
  EXPECT_EQ(service_->DeleteDeployment("churn", "blue").code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Traffic({{"green", 100}}).ok());
  EXPECT_TRUE(service_->DeleteDeployment("churn", "blue").ok());
  EXPECT_EQ(service_
                ->Score("churn", serving::Protocol::kMlflow,
                        Request("{}", {{"x-cairn-deployment", "blue"}}))
                .status()
                .code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(service_->DeleteEndpoint("churn").ok());
  EXPECT_EQ(service_->Score("churn", serving::Protocol::kMlflow, Request()).status().code(),
            StatusCode::kNotFound);
}

TEST_F(EndpointServiceTest, RandomSplitFollowsTheWeights) {
  MakeChurn();
  ASSERT_TRUE(Traffic({{"blue", 80}, {"green", 20}}).ok());
  std::map<std::string, int> by;
  constexpr int kRequests = 5000;
  for (int i = 0; i < kRequests; ++i) {
    auto [label, deployment] = Answer(Request());
    by[deployment]++;
    EXPECT_EQ(label, deployment == "blue" ? "churn/1" : "churn/2");
  }
  EXPECT_NEAR(by["blue"], kRequests * 0.8, kRequests * 0.03);
  EXPECT_NEAR(by["green"], kRequests * 0.2, kRequests * 0.03);
}

TEST_F(EndpointServiceTest, RouteKeysAreStickyAndSpreadLikeTheWeights) {
  MakeChurn();
  ASSERT_TRUE(Traffic({{"blue", 70}, {"green", 30}}).ok());
  std::map<std::string, int> by;
  constexpr int kKeys = 3000;
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = "customer-" + std::to_string(i);
    const std::string first = Answer(Request("{}", {{"x-cairn-route-key", key}})).second;
    for (int again = 0; again < 3; ++again) {
      ASSERT_EQ(Answer(Request("{}", {{"x-cairn-route-key", key}})).second, first) << key;
    }
    by[first]++;
  }
  EXPECT_NEAR(by["blue"], kKeys * 0.7, kKeys * 0.03);
  EXPECT_NEAR(by["green"], kKeys * 0.3, kKeys * 0.03);
}

TEST_F(EndpointServiceTest, NamedDeploymentsAnswerAndUnknownOnesAreNotFound) {
  MakeChurn();
  ASSERT_TRUE(Traffic({{"blue", 100}}, std::vector<store::TrafficShare>{{"green", 50}}).ok());
  EXPECT_EQ(Answer(Request("{}", {{"x-cairn-deployment", "green"}})),
            std::make_pair(std::string("churn/2"), std::string("green")));
  auto unknown = service_->Score("churn", serving::Protocol::kMlflow,
                                 Request("{}", {{"x-cairn-deployment", "purple"}}));
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("'purple'"), std::string::npos);
  // Named requests are not mirrored.
  for (int i = 0; i < 50; ++i) Answer(Request("{}", {{"x-cairn-deployment", "blue"}}));
  service_->WaitForMirrors();
  EXPECT_EQ(provider_.Loaded("churn/2")->scored_.load(), 1);  // the one named request above
}

TEST_F(EndpointServiceTest, MirroredCopiesAreScoredAndLoggedButNeverAnswer) {
  MakeChurn();
  ASSERT_TRUE(Traffic({{"blue", 100}}, std::vector<store::TrafficShare>{{"green", 50}}).ok());
  constexpr int kRequests = 400;
  for (int i = 0; i < kRequests; ++i) {
    auto [label, deployment] =
        Answer(Request("{}", {{"x-request-id", "req-" + std::to_string(i)}}));
    ASSERT_EQ(deployment, "blue");
    ASSERT_EQ(label, "churn/1");
  }
  service_->WaitForMirrors();
  const int mirrored = provider_.Loaded("churn/2")->scored_.load();
  EXPECT_NEAR(mirrored, kRequests / 2, kRequests * 0.1);

  monitoring::PredictionQuery q;
  q.endpoint = "churn";
  q.limit = 10000;
  auto page = service_->Predictions(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  std::set<std::string> live_ids;
  int shadow = 0;
  for (const auto& r : page->records) {
    if (!r.mirrored) {
      EXPECT_EQ(r.deployment, "blue");
      EXPECT_EQ(r.model_version, "churn/1");
      live_ids.insert(r.request_id);
    }
  }
  for (const auto& r : page->records) {
    if (!r.mirrored) continue;
    ++shadow;
    EXPECT_EQ(r.deployment, "green");
    EXPECT_EQ(r.outputs, R"(["churn/2"])");
    EXPECT_TRUE(live_ids.contains(r.request_id)) << r.request_id;  // logged beside the live one
  }
  EXPECT_EQ(live_ids.size(), size_t(kRequests));
  EXPECT_EQ(shadow, mirrored);
  std::string metrics = service_->RenderMetrics();
  EXPECT_NE(metrics.find("cairn_endpoint_requests_total{endpoint=\"churn\",deployment=\"green\","
                         "traffic=\"mirror\",status=\"200\"} " +
                         std::to_string(mirrored)),
            std::string::npos)
      << metrics;
}

TEST_F(EndpointServiceTest, RequestIdsAreEchoedOrMadeAndSamplingFollowsTheRate) {
  ASSERT_TRUE(service_->CreateEndpoint({"churn", "", 0.0}).ok());
  ASSERT_TRUE(service_->CreateDeployment({"churn", "blue", "models:/churn/1", 0}).ok());
  ASSERT_TRUE(Traffic({{"blue", 100}}).ok());
  http::HttpRequest req = Request();
  req.request_id = "client-id-1";
  auto res = service_->Score("churn", serving::Protocol::kMlflow, req);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->Header("x-request-id"), "client-id-1");
  auto fresh = service_->Score("churn", serving::Protocol::kMlflow, Request());
  EXPECT_EQ(fresh->Header("x-request-id").size(), 32u);
  monitoring::PredictionQuery q;
  q.endpoint = "churn";
  EXPECT_TRUE(service_->Predictions(q)->records.empty());  // sample rate 0

  ASSERT_TRUE(service_->UpdateEndpoint({"churn", std::nullopt, 0.25}).ok());
  for (int i = 0; i < 2000; ++i) Answer(Request());
  q.limit = 10000;
  EXPECT_NEAR(double(service_->Predictions(q)->records.size()), 500, 100);
  // A rejected request is logged with its status and no outputs.
  ASSERT_TRUE(service_->UpdateEndpoint({"churn", std::nullopt, 1.0}).ok());
  auto rejected = service_->Score("churn", serving::Protocol::kMlflow, Request("bad"));
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ(rejected->status, 400);
  EXPECT_EQ(rejected->Header("x-cairn-deployment"), "blue");
  q.request_id = std::string(rejected->Header("x-request-id"));
  auto logged = service_->Predictions(q);
  ASSERT_EQ(logged->records.size(), 1u);
  EXPECT_EQ(logged->records[0].status, 400);
  EXPECT_TRUE(logged->records[0].outputs.empty());
  q.endpoint = "nope";
  EXPECT_EQ(service_->Predictions(q).status().code(), StatusCode::kNotFound);
}

TEST_F(EndpointServiceTest, SwapsAndTrafficChangesUnderLoadDropNothing) {
  MakeChurn();
  ASSERT_TRUE(Traffic({{"blue", 100}}).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> done{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&] {
      while (!stop.load()) {
        auto res = service_->Score("churn", serving::Protocol::kMlflow, Request());
        if (!res.ok() || res->status != 200) failures++;
        done++;
      }
    });
  }
  auto progress = [&] {  // waits until the clients have scored some more
    const int target = done.load() + 200;
    while (done.load() < target) std::this_thread::yield();
  };
  for (int green : {0, 10, 50, 100, 50, 0}) {
    ASSERT_TRUE(Traffic(green == 0     ? std::vector<store::TrafficShare>{{"blue", 100}}
                        : green == 100 ? std::vector<store::TrafficShare>{{"green", 100}}
                                       : std::vector<store::TrafficShare>{{"blue", 100 - green},
                                                                          {"green", green}})
                    .ok());
    progress();
  }
  for (int v = 3; v < 6; ++v) {
    auto swapped =
        service_->UpdateDeployment({"churn", "blue", "models:/churn/" + std::to_string(v), {}});
    ASSERT_TRUE(swapped.ok()) << swapped.status().ToString();
    progress();
  }
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Answer(Request()).first, "churn/5");
  auto blue = service_->GetDeployment("churn", "blue");
  EXPECT_EQ(blue->deployment.model_uri, "models:/churn/5");
  EXPECT_EQ(blue->deployment.model_version, 5);
}

TEST_F(EndpointServiceTest, ThreadsBoundConcurrentScoringPerDeployment) {
  provider_.hold_us = 200;
  ASSERT_TRUE(service_->CreateEndpoint({"churn", "", std::nullopt}).ok());
  ASSERT_TRUE(service_->CreateDeployment({"churn", "blue", "models:/churn/1", 1}).ok());
  ASSERT_TRUE(Traffic({{"blue", 100}}).ok());
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < 25; ++i) Answer(Request());
    });
  }
  for (auto& c : clients) c.join();
  auto model = provider_.Loaded("churn/1");
  EXPECT_EQ(model->scored_.load(), 100);
  EXPECT_EQ(model->max_active_.load(), 1);
  // Raising the limit keeps the loaded model (no reload).
  ASSERT_TRUE(service_->UpdateDeployment({"churn", "blue", std::nullopt, 4}).ok());
  EXPECT_EQ(provider_.Loaded("churn/1"), model);
  EXPECT_EQ(Answer(Request()).first, "churn/1");
  EXPECT_EQ(service_->GetDeployment("churn", "blue")->deployment.threads, 4);
}

TEST_F(EndpointServiceTest, ARestartReloadsEveryDeploymentAsRecorded) {
  MakeChurn();
  ASSERT_TRUE(Traffic({{"blue", 60}, {"green", 40}}).ok());
  service_.reset();
  provider_.broken.insert("churn/2");  // green's model no longer loads
  service_ = std::make_unique<EndpointService>(*store_, provider_, log_.get(), clock_);
  auto problems = service_->LoadAll();
  ASSERT_TRUE(problems.ok());
  ASSERT_EQ(problems->size(), 1u);
  EXPECT_NE((*problems)[0].find("deployment 'green'"), std::string::npos);
  EXPECT_EQ(Answer(Request("{}", {{"x-cairn-deployment", "blue"}})).first, "churn/1");
  auto green = service_->Score("churn", serving::Protocol::kMlflow,
                               Request("{}", {{"x-cairn-deployment", "green"}}));
  EXPECT_EQ(green.status().code(), StatusCode::kUnavailable);
  auto view = service_->GetDeployment("churn", "green");
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(view->ready);
  EXPECT_NE(view->error.find("no flavor"), std::string::npos);
  EXPECT_EQ(service_->Ready("churn").code(), StatusCode::kUnavailable);
  // Updating the failed deployment to a model that loads brings it back.
  ASSERT_TRUE(service_->UpdateDeployment({"churn", "green", "models:/churn/3", {}}).ok());
  EXPECT_TRUE(service_->Ready("churn").ok());
  EXPECT_EQ(Answer(Request("{}", {{"x-cairn-deployment", "green"}})).first, "churn/3");
}

TEST_F(EndpointServiceTest, MetricsCountRequestsByDeploymentAndStatus) {
  MakeChurn();
  ASSERT_TRUE(Traffic({{"blue", 100}}).ok());
  for (int i = 0; i < 3; ++i) Answer(Request());
  ASSERT_TRUE(service_->Score("churn", serving::Protocol::kMlflow, Request("bad")).ok());
  std::string m = service_->RenderMetrics();
  for (const std::string line : {
           "cairn_endpoint_requests_total{endpoint=\"churn\",deployment=\"blue\",traffic=\"live\","
           "status=\"200\"} 3",
           "cairn_endpoint_requests_total{endpoint=\"churn\",deployment=\"blue\",traffic=\"live\","
           "status=\"400\"} 1",
           "cairn_endpoint_predictions_total{endpoint=\"churn\",deployment=\"blue\",traffic="
           "\"live\"} 3",
           "cairn_endpoint_request_duration_seconds_count{endpoint=\"churn\",deployment=\"blue\","
           "traffic=\"live\"} 4",
           "cairn_endpoint_traffic_percent{endpoint=\"churn\",deployment=\"blue\",traffic="
           "\"live\"} 100",
           "cairn_endpoint_deployment_ready{endpoint=\"churn\",deployment=\"green\"} 1",
           "# TYPE cairn_endpoint_request_duration_seconds histogram",
       }) {
    EXPECT_NE(m.find(line), std::string::npos) << line << "\n" << m;
  }
}

TEST_F(EndpointServiceTest, V2MetadataAnswersWithTheEndpointsName) {
  MakeChurn();
  ASSERT_TRUE(Traffic({{"green", 100}}).ok());
  auto meta = service_->ModelMetadata("churn", Request());
  ASSERT_TRUE(meta.ok());
  json j = json::parse(*meta);
  EXPECT_EQ(j["name"], "churn");
  EXPECT_EQ(j["versions"][0], "2");
  EXPECT_EQ(j["label"], "churn/2");
}

}  // namespace
}  // namespace cairn::endpoints
