// libFuzzer target: scoring requests — MLflow /invocations JSON and CSV, Open Inference
// Protocol v2 infer JSON — through the standalone scoring routes of a real model (trained at
// start-up on a small table with integer, float, boolean, categorical and optional columns).
// The first byte picks the route and content type, the rest is the body. A crash, a sanitizer
// report or a 5xx answer is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/ids.h"
#include "data/csv_reader.h"
#include "ml/model_dir.h"
#include "ml/trainer.h"
#include "serving/request_parser.h"
#include "serving/scoring_routes.h"

namespace {

using namespace cairn;

constexpr std::string_view kTable =
    "churn,tenure,charges,contract,paperless,note\n"
    "Yes,1,29.85,Month-to-month,true,a\n"
    "No,34,56.95,One year,false,\n"
    "Yes,2,53.85,Month-to-month,true,b\n"
    "No,45,42.3,One year,false,a\n"
    "Yes,2,70.7,Month-to-month,true,\n"
    "No,8,99.65,Two year,false,c\n"
    "Yes,22,89.1,Month-to-month,true,a\n"
    "No,10,29.75,Two year,false,b\n"
    "Yes,28,104.8,Month-to-month,true,\n"
    "No,62,56.15,One year,false,c\n"
    "Yes,13,49.95,Month-to-month,true,a\n"
    "No,16,18.95,Two year,false,\n";

struct Service {
  Service() {
    auto table = data::LoadCsv(kTable);
    ml::TrainOptions options;
    options.target = "churn";
    options.num_boost_round = 5;
    options.early_stopping_rounds = 0;
    options.validation_fraction = 0.25;
    options.shap_rows = 0;
    auto result = ml::Train(*table, options);
    if (!result.ok()) {
      std::fprintf(stderr, "training the fuzz model failed: %s\n",
                   result.status().ToString().c_str());
      std::abort();
    }
    dir = std::filesystem::temp_directory_path() / ("cairn-fuzz-scoring-" + NewUuidHex());
    auto files = ml::RenderModelDirectory(*result, {});
    if (!files.ok() || !ml::WriteModelFiles(dir.string(), *files).ok()) std::abort();
    auto loaded = serving::LoadScoringModel(dir.string());
    if (!loaded.ok()) {
      std::fprintf(stderr, "loading the fuzz model failed: %s\n",
                   loaded.status().ToString().c_str());
      std::abort();
    }
    model = *loaded;
    std::filesystem::remove_all(dir);
    serving::ScoringRouteOptions route_options;
    route_options.names.model_name = "m";
    route_options.names.model_version = "1";
    serving::RegisterScoringRoutes(router, model, route_options, stats, nullptr);
    schema = std::make_unique<serving::InputSchema>(std::vector<serving::InputColumn>{
        {"a", ml::FeatureKind::kNumeric, true, false},
        {"b", ml::FeatureKind::kBoolean, false, true},
        {"c", ml::FeatureKind::kCategorical, false, false}});
  }

  std::filesystem::path dir;
  std::shared_ptr<const serving::ScoringModel> model;
  http::Router router;
  serving::ScoringStats stats;
  std::unique_ptr<serving::InputSchema> schema;
  serving::RequestParser parser;
};

struct Target {
  const char* path;
  const char* content_type;
};

constexpr Target kTargets[] = {
    {"/invocations", "application/json"},
    {"/invocations", "text/csv"},
    {"/invocations?predict=labels", "application/json"},
    {"/v2/models/m/infer", "application/json"},
    {"/v2/models/m/versions/1/infer", "application/json"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Service* service = new Service();  // shared by all inputs, like a long-lived server
  if (size == 0) return 0;
  const Target& target = kTargets[data[0] % std::size(kTargets)];
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);

  // The parsers alone, against a second schema (an optional boolean column, an integral one).
  (void)service->parser.ParseMlflowJson(*service->schema, body);
  (void)service->parser.ParseCsv(*service->schema, body);
  (void)service->parser.ParseV2Json(*service->schema, body);

  http::HttpRequest req;
  req.method = "POST";
  req.target = target.path;
  const std::string_view path(target.path);
  req.path = std::string(path.substr(0, path.find('?')));
  if (path.find('?') != std::string_view::npos) req.query = std::string(path.substr(path.find('?') + 1));
  req.headers.emplace_back("content-type", target.content_type);
  req.body = std::move(body);
  req.request_id = "fuzz";
  http::HttpResponse response = service->router.Dispatch(req);
  if (response.status >= 500) {
    std::fprintf(stderr, "5xx for POST %s: %s\n", target.path, response.body.c_str());
    std::abort();
  }
  return 0;
}
