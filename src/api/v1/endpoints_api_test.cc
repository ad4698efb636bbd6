// /api/v1/endpoints and /endpoints/{name}/… through the router, without a socket.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/v1/endpoint_json.h"
#include "api/v1/endpoint_routes.h"
#include "core/ids.h"
#include "endpoints/testing/fake_model_provider.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace cairn::api::v1 {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class EndpointsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-ep-api-" + NewUuidHex());
    fs::create_directories(dir_);
    store_ =
        std::move(store::SqliteMetadataStore::Open((dir_ / "meta.db").string(), clock_)).value();
    monitoring::PredictionLogOptions log_options;
    log_options.dir = (dir_ / "predictions").string();
    log_ = std::move(monitoring::PredictionLog::Open(log_options, clock_)).value();
    service_ = std::make_unique<endpoints::EndpointService>(*store_, provider_, log_.get(), clock_);
    RegisterEndpointRoutes(router_, *service_);
    RegisterEndpointScoringRoutes(router_, *service_);
  }
  void TearDown() override {
    service_.reset();
    log_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  http::HttpResponse Call(const std::string& method, const std::string& target,
                          const std::string& body = "", http::Headers headers = {}) {
    http::HttpRequest req;
    req.method = method;
    req.target = target;
    size_t q = target.find('?');
    req.path = http::PercentDecode(target.substr(0, q));
    req.query = q == std::string::npos ? "" : target.substr(q + 1);
    req.body = body;
    req.headers = std::move(headers);
    return router_.Dispatch(req);
  }
  json CallJson(const std::string& method, const std::string& target, const std::string& body,
                int expect_status, http::Headers headers = {}) {
    http::HttpResponse r = Call(method, target, body, std::move(headers));
    EXPECT_EQ(r.status, expect_status) << method << " " << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }
  // The MLflow-style error of a call that must fail.
  void ExpectError(const std::string& method, const std::string& target, const std::string& body,
                   int status, const std::string& code, const std::string& needle) {
    json e = CallJson(method, target, body, status);
    EXPECT_EQ(e["error_code"], code) << e;
    EXPECT_NE(e["message"].get<std::string>().find(needle), std::string::npos)
        << needle << " not in " << e;
  }
  void MakeChurn() {
    CallJson("POST", "/api/v1/endpoints", R"({"name": "churn", "description": "d"})", 200);
    CallJson("POST", "/api/v1/endpoints/churn/deployments",
             R"({"name": "blue", "model": "models:/churn/1"})", 200);
    CallJson("POST", "/api/v1/endpoints/churn/deployments",
             R"({"name": "green", "model": "models:/churn/2", "threads": 2})", 200);
  }

  fs::path dir_;
  FakeClock clock_;
  endpoints::testing::FakeProvider provider_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<monitoring::PredictionLog> log_;
  std::unique_ptr<endpoints::EndpointService> service_;
  http::Router router_;
};

TEST_F(EndpointsApiTest, CreateShowTrafficScoreAndDelete) {
  json created = CallJson("POST", "/api/v1/endpoints",
                          R"({"name": "churn", "description": "churn", "sample_rate": 1})", 200);
  EXPECT_EQ(created["endpoint"]["name"], "churn");
  EXPECT_EQ(created["endpoint"]["scoring_path"], "/endpoints/churn/invocations");
  json blue = CallJson("POST", "/api/v1/endpoints/churn/deployments",
                       R"({"name": "blue", "model": "models:/churn/1", "threads": 4})", 200);
  EXPECT_EQ(blue["deployment"]["state"], "ready");
  EXPECT_EQ(blue["deployment"]["model_version"], 1);
  EXPECT_EQ(blue["deployment"]["threads"], 4);
  CallJson("POST", "/api/v1/endpoints/churn/deployments",
           R"({"name": "green", "model": "models:/churn/2"})", 200);

  json traffic = CallJson("PUT", "/api/v1/endpoints/churn/traffic",
                          R"({"traffic": {"blue": 100}, "mirror": {"green": 20}})", 200);
  EXPECT_EQ(traffic["endpoint"]["traffic"], json({{"blue", 100}}));
  EXPECT_EQ(traffic["endpoint"]["mirror"], json({{"green", 20}}));
  EXPECT_EQ(traffic["endpoint"]["traffic_version"], 1);

  json shown = CallJson("GET", "/api/v1/endpoints/churn", "", 200);
  ASSERT_EQ(shown["endpoint"]["deployments"].size(), 2u);
  EXPECT_EQ(shown["endpoint"]["deployments"][1]["mirror"], 20);
  EXPECT_EQ(CallJson("GET", "/api/v1/endpoints", "", 200)["endpoints"].size(), 1u);
  EXPECT_EQ(CallJson("GET", "/api/v1/endpoints/churn/deployments", "", 200)["deployments"].size(),
            2u);

  // MLflow scoring: the answer names the deployment and echoes the request id.
  http::HttpResponse scored =
      Call("POST", "/endpoints/churn/invocations", "{}", {{"x-request-id", "abc-1"}});
  ASSERT_EQ(scored.status, 200) << scored.body;
  EXPECT_EQ(scored.Header("x-cairn-deployment"), "blue");
  EXPECT_EQ(scored.Header("x-request-id"), "abc-1");
  EXPECT_EQ(json::parse(scored.body)["predictions"][0], "churn/1");
  // v2: the model name in the path is the endpoint's.
  http::HttpResponse v2 = Call("POST", "/endpoints/churn/v2/models/churn/infer", "{}");
  EXPECT_EQ(v2.status, 200);
  json meta = CallJson("GET", "/endpoints/churn/v2/models/churn", "", 200);
  EXPECT_EQ(meta["name"], "churn");
  EXPECT_EQ(CallJson("GET", "/endpoints/churn/v2/models/churn/ready", "", 200)["ready"], true);
  EXPECT_EQ(Call("GET", "/endpoints/churn/ping").status, 200);

  json predictions =
      CallJson("GET", "/api/v1/endpoints/churn/predictions?request_id=abc-1&mirrored=false", "",
               200);
  ASSERT_EQ(predictions["predictions"].size(), 1u);
  EXPECT_EQ(predictions["predictions"][0]["deployment"], "blue");
  EXPECT_EQ(predictions["predictions"][0]["outputs"], json::array({"churn/1"}));
  EXPECT_EQ(predictions["predictions"][0]["inputs"]["columns"], json::array({"x"}));

  // Swap blue's model, move the traffic, delete green, then the endpoint.
  json swapped = CallJson("PATCH", "/api/v1/endpoints/churn/deployments/blue",
                          R"({"model": "models:/churn/3"})", 200);
  EXPECT_EQ(swapped["deployment"]["model_uri"], "models:/churn/3");
  EXPECT_EQ(json::parse(Call("POST", "/endpoints/churn/invocations", "{}").body)["predictions"][0],
            "churn/3");
  CallJson("PUT", "/api/v1/endpoints/churn/traffic", R"({"mirror": {}})", 200);
  CallJson("DELETE", "/api/v1/endpoints/churn/deployments/green", "", 200);
  json patched = CallJson("PATCH", "/api/v1/endpoints/churn", R"({"sample_rate": 0.5})", 200);
  EXPECT_EQ(patched["endpoint"]["sample_rate"], 0.5);
  EXPECT_EQ(patched["endpoint"]["description"], "churn");
  CallJson("DELETE", "/api/v1/endpoints/churn", "", 200);
  EXPECT_EQ(CallJson("GET", "/api/v1/endpoints", "", 200)["endpoints"].size(), 0u);
}

TEST_F(EndpointsApiTest, BadManagementInputIsAClean4xx) {
  ExpectError("POST", "/api/v1/endpoints", "{nope", 400, "INVALID_PARAMETER_VALUE",
              "expected a JSON object");
  ExpectError("POST", "/api/v1/endpoints", R"({"description": "x"})", 400,
              "INVALID_PARAMETER_VALUE", "name: required");
  ExpectError("POST", "/api/v1/endpoints", R"({"name": "a", "nmae": "b"})", 400,
              "INVALID_PARAMETER_VALUE", "unknown field 'nmae'");
  ExpectError("POST", "/api/v1/endpoints", R"({"name": "a/b"})", 400, "INVALID_PARAMETER_VALUE",
              "name: 'a/b'");
  ExpectError("POST", "/api/v1/endpoints", R"({"name": "a", "sample_rate": "all"})", 400,
              "INVALID_PARAMETER_VALUE", "sample_rate: expected a number");
  MakeChurn();
  ExpectError("POST", "/api/v1/endpoints", R"({"name": "churn"})", 400, "RESOURCE_ALREADY_EXISTS",
              "churn");
  ExpectError("GET", "/api/v1/endpoints/nope", "", 404, "RESOURCE_DOES_NOT_EXIST",
              "endpoint 'nope' does not exist");
  ExpectError("POST", "/api/v1/endpoints/nope/deployments",
              R"({"name": "blue", "model": "models:/churn/1"})", 404, "RESOURCE_DOES_NOT_EXIST",
              "endpoint 'nope'");
  ExpectError("POST", "/api/v1/endpoints/churn/deployments", R"({"name": "red"})", 400,
              "INVALID_PARAMETER_VALUE", "model: required");
  provider_.missing.insert("ghost");
  ExpectError("POST", "/api/v1/endpoints/churn/deployments",
              R"({"name": "red", "model": "models:/ghost/1"})", 404, "RESOURCE_DOES_NOT_EXIST",
              "ghost");
  ExpectError("POST", "/api/v1/endpoints/churn/deployments",
              R"({"name": "red", "model": "models:/churn/1", "threads": 1.5})", 400,
              "INVALID_PARAMETER_VALUE", "threads: expected a whole number");
  ExpectError("GET", "/api/v1/endpoints/churn/deployments/red", "", 404, "RESOURCE_DOES_NOT_EXIST",
              "deployment 'red' of endpoint 'churn'");

  ExpectError("PUT", "/api/v1/endpoints/churn/traffic", R"({"traffic": {"blue": 90, "green": 5}})",
              400, "INVALID_PARAMETER_VALUE", "sum to 95");
  ExpectError("PUT", "/api/v1/endpoints/churn/traffic", R"({"traffic": {"blue": 100, "red": 0}})",
              404, "RESOURCE_DOES_NOT_EXIST", "'red'");
  ExpectError("PUT", "/api/v1/endpoints/churn/traffic",
              R"({"traffic": {"blue": 90, "green": 10}, "mirror": {"green": 10}})", 400,
              "INVALID_PARAMETER_VALUE", "one or the other");
  ExpectError("PUT", "/api/v1/endpoints/churn/traffic",
              R"({"traffic": {"blue": 100}, "mirror": {"green": 80}})", 400,
              "INVALID_PARAMETER_VALUE", "at most 50");
  ExpectError("PUT", "/api/v1/endpoints/churn/traffic", R"({"traffic": {"blue": "all"}})", 400,
              "INVALID_PARAMETER_VALUE", "traffic.blue: expected a whole percent");
  ExpectError("PUT", "/api/v1/endpoints/churn/traffic", R"({"traffic": [100]})", 400,
              "INVALID_PARAMETER_VALUE", "traffic: expected an object");
  ExpectError("PUT", "/api/v1/endpoints/churn/traffic", "{}", 400, "INVALID_PARAMETER_VALUE",
              "traffic: required");
  CallJson("PUT", "/api/v1/endpoints/churn/traffic", R"({"traffic": {"blue": 100}})", 200);
  ExpectError("DELETE", "/api/v1/endpoints/churn/deployments/blue", "", 400, "INVALID_STATE",
              "takes 100% of its live traffic");
  ExpectError("PATCH", "/api/v1/endpoints/churn/deployments/blue", "{}", 400,
              "INVALID_PARAMETER_VALUE", "model or threads: required");

  ExpectError("GET", "/api/v1/endpoints/churn/predictions?since=yesterday", "", 400,
              "INVALID_PARAMETER_VALUE", "since:");
  ExpectError("GET", "/api/v1/endpoints/churn/predictions?limit=0", "", 400,
              "INVALID_PARAMETER_VALUE", "limit:");
  ExpectError("GET", "/api/v1/endpoints/churn/predictions?sinse=1", "", 400,
              "INVALID_PARAMETER_VALUE", "unknown query parameter 'sinse'");
  ExpectError("GET", "/api/v1/endpoints/churn/predictions?page_token=zz", "", 400,
              "INVALID_PARAMETER_VALUE", "page_token");
  ExpectError("GET", "/api/v1/endpoints/nope/predictions", "", 404, "RESOURCE_DOES_NOT_EXIST",
              "nope");
}

TEST_F(EndpointsApiTest, BadScoringRequestsAnswerInTheProtocolsShape) {
  MakeChurn();
  // No traffic yet.
  ExpectError("POST", "/endpoints/churn/invocations", "{}", 503, "TEMPORARILY_UNAVAILABLE",
              "takes no traffic");
  EXPECT_EQ(Call("GET", "/endpoints/churn/ping").status, 503);
  EXPECT_EQ(CallJson("GET", "/endpoints/churn/v2/health/ready", "", 503)["ready"], false);
  ExpectError("POST", "/endpoints/nope/invocations", "{}", 404, "RESOURCE_DOES_NOT_EXIST",
              "endpoint 'nope'");
  json v2 = CallJson("POST", "/endpoints/nope/v2/models/nope/infer", "{}", 404);
  EXPECT_NE(v2["error"].get<std::string>().find("endpoint 'nope'"), std::string::npos) << v2;
  CallJson("PUT", "/api/v1/endpoints/churn/traffic", R"({"traffic": {"blue": 100}})", 200);
  json other = CallJson("POST", "/endpoints/churn/v2/models/blue/infer", "{}", 404);
  EXPECT_NE(other["error"].get<std::string>().find("serves its models as 'churn'"),
            std::string::npos);
  json named = CallJson("POST", "/endpoints/churn/invocations", "{}", 404,
                        {{"x-cairn-deployment", "purple"}});
  EXPECT_EQ(named["error_code"], "RESOURCE_DOES_NOT_EXIST");
  EXPECT_NE(named["message"].get<std::string>().find("deployment 'purple'"), std::string::npos);
  // A request the model rejects keeps the model's answer, with the deployment named.
  http::HttpResponse rejected = Call("POST", "/endpoints/churn/invocations", "bad");
  EXPECT_EQ(rejected.status, 400);
  EXPECT_EQ(rejected.Header("x-cairn-deployment"), "blue");
}

TEST(ParseTimeParamTest, MillisAndRfc3339) {
  EXPECT_EQ(*ParseTimeParam("1700000000123", "since"), 1700000000123);
  EXPECT_EQ(*ParseTimeParam("2023-11-14T22:13:20Z", "since"), 1700000000000);
  EXPECT_EQ(*ParseTimeParam("2023-11-14T22:13:20.5Z", "since"), 1700000000500);
  EXPECT_EQ(*ParseTimeParam("2023-11-15T00:13:20+02:00", "since"), 1700000000000);
  for (const char* bad : {"", "yesterday", "2023-11-14", "2023-13-14T22:13:20Z",
                          "2023-11-14T22:13:20", "2023-11-14T22:13:20Zjunk", "-5"}) {
    auto r = ParseTimeParam(bad, "since");
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace cairn::api::v1
