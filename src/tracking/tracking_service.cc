#include "tracking/tracking_service.h"

#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <unordered_map>

#include "core/base64.h"
#include "core/ids.h"
#include "tracking/search_filter.h"

namespace cairn::tracking {

namespace {

constexpr std::string_view kRunNameTag = "mlflow.runName";
constexpr std::string_view kUserTag = "mlflow.user";
constexpr std::string_view kLoggedModelsTag = "mlflow.log-model.history";

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ' ' || c == '/';
}

// MLflow rejects keys that do not normalize to themselves as a relative path.
bool IsNormalizedRelativePath(std::string_view key) {
  if (key.front() == '/' || key.back() == '/') return false;
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    start = end + 1;
  }
  return true;
}

Status CheckValueLength(std::string_view what, std::string_view key, std::string_view value,
                        size_t limit) {
  if (value.size() > limit) {
    return InvalidArgument(std::string(what) + " value '" + std::string(value.substr(0, 100)) +
                           (value.size() > 100 ? "…" : "") + "' for key '" + std::string(key) +
                           "' had length " + std::to_string(value.size()) +
                           ", which exceeded length limit of " + std::to_string(limit));
  }
  return Status::Ok();
}

Status CheckMaxResults(int64_t max_results) {
  if (max_results < 1 || max_results > kMaxSearchResults) {
    return InvalidArgument("Invalid value " + std::to_string(max_results) +
                           " for parameter 'max_results' supplied. It must be at most " +
                           std::to_string(kMaxSearchResults) + " and at least 1.");
  }
  return Status::Ok();
}

Status CheckRunId(std::string_view run_id) {
  if (run_id.empty()) {
    return InvalidArgument("Missing value for required parameter 'run_id'.");
  }
  return Status::Ok();
}

Status CheckExperimentName(std::string_view name) {
  if (name.empty()) {
    return InvalidArgument("Invalid experiment name: ''. Experiment name must not be empty.");
  }
  if (name.size() > kMaxExperimentNameLength) {
    return InvalidArgument("Experiment name exceeds the maximum length of " +
                           std::to_string(kMaxExperimentNameLength) + " characters.");
  }
  return Status::Ok();
}

// The parts run and experiment searches share: filter, order_by, view, limit and page token.
template <typename Request, typename ParseFilter, typename ParseOrderBy, typename Query>
Status FillSearchQuery(const Request& request, ParseFilter parse_filter,
                       ParseOrderBy parse_order_by, Query& query) {
  CAIRN_RETURN_IF_ERROR(CheckMaxResults(request.max_results));
  CAIRN_TRY(query.filter, parse_filter(request.filter));
  for (const auto& clause : request.order_by) {
    CAIRN_TRY(auto key, parse_order_by(clause));
    query.order_by.push_back(std::move(key));
  }
  query.view_type = request.view_type;
  query.max_results = request.max_results;
  CAIRN_TRY(query.offset, DecodePageToken(request.page_token));
  return Status::Ok();
}

template <typename Query>
std::string NextPageToken(const Query& query, bool has_more) {
  return has_more ? EncodePageToken(query.offset + query.max_results) : std::string();
}

}  // namespace

Status ValidateKey(std::string_view what, std::string_view key) {
  if (key.empty()) {
    return InvalidArgument("Missing value for required parameter '" + std::string(what) + " key'.");
  }
  if (key.size() > kMaxKeyLength) {
    return InvalidArgument(std::string(what) + " key '" + std::string(key.substr(0, 100)) +
                           "…' had length " + std::to_string(key.size()) +
                           ", which exceeded length limit of " + std::to_string(kMaxKeyLength));
  }
  for (char c : key) {
    if (!IsNameChar(c)) {
      return InvalidArgument("Invalid " + std::string(what) + " name: '" + std::string(key) +
                             "'. Names may only contain alphanumerics, underscores (_), dashes "
                             "(-), periods (.), spaces ( ), and slashes (/).");
    }
  }
  if (!IsNormalizedRelativePath(key)) {
    return InvalidArgument("Invalid " + std::string(what) + " name: '" + std::string(key) +
                           "'. Names cannot resolve to a different path when normalized, nor "
                           "be absolute.");
  }
  return Status::Ok();
}

Status ValidateLogBatch(const LogBatchRequest& request) {
  CAIRN_RETURN_IF_ERROR(CheckRunId(request.run_id));
  if (request.metrics.size() > kMaxMetricsPerBatch) {
    return InvalidArgument("A batch logging request can contain at most " +
                           std::to_string(kMaxMetricsPerBatch) + " metrics. Got " +
                           std::to_string(request.metrics.size()) + " metrics.");
  }
  if (request.params.size() > kMaxParamsPerBatch) {
    return InvalidArgument("A batch logging request can contain at most " +
                           std::to_string(kMaxParamsPerBatch) + " params. Got " +
                           std::to_string(request.params.size()) + " params.");
  }
  if (request.tags.size() > kMaxTagsPerBatch) {
    return InvalidArgument("A batch logging request can contain at most " +
                           std::to_string(kMaxTagsPerBatch) + " tags. Got " +
                           std::to_string(request.tags.size()) + " tags.");
  }
  size_t total = request.metrics.size() + request.params.size() + request.tags.size();
  if (total > kMaxEntitiesPerBatch) {
    return InvalidArgument("A batch logging request can contain at most " +
                           std::to_string(kMaxEntitiesPerBatch) +
                           " total metrics, params and tags. Got " + std::to_string(total) + ".");
  }
  // Keys repeat across the metrics of a batch (10 keys × 100 steps): validate each once.
  std::string_view last_key;
  for (const auto& m : request.metrics) {
    if (m.key == last_key) continue;
    CAIRN_RETURN_IF_ERROR(ValidateKey("metric", m.key));
    last_key = m.key;
  }
  for (const auto& p : request.params) {
    CAIRN_RETURN_IF_ERROR(ValidateKey("param", p.key));
    CAIRN_RETURN_IF_ERROR(CheckValueLength("Param", p.key, p.value, kMaxParamValueLength));
  }
  for (const auto& t : request.tags) {
    CAIRN_RETURN_IF_ERROR(ValidateKey("tag", t.key));
    CAIRN_RETURN_IF_ERROR(CheckValueLength("Tag", t.key, t.value, kMaxTagValueLength));
  }
  return Status::Ok();
}

std::string GenerateRunName() {
  static const char* kAdjectives[] = {
      "amber",  "bold",   "brave",  "bright", "calm",  "clever", "crisp",  "eager",
      "gentle", "golden", "honest", "jolly",  "keen",  "lively", "lucid",  "merry",
      "nimble", "polite", "quick",  "quiet",  "rapid", "shiny",  "silent", "steady",
      "sunny",  "swift",  "tidy",   "upbeat", "vivid", "wise",   "witty",  "zesty"};
  static const char* kNouns[] = {"badger", "bear",  "crane",  "deer",  "dove",  "eagle", "falcon",
                                 "finch",  "fox",   "gecko",  "hare",  "heron", "ibis",  "koala",
                                 "lark",   "lynx",  "marten", "mole",  "moth",  "newt",  "otter",
                                 "owl",    "panda", "raven",  "robin", "seal",  "shrew", "stork",
                                 "swan",   "tern",  "vole",   "wren"};
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::string(kAdjectives[rng() % std::size(kAdjectives)]) + "-" +
         kNouns[rng() % std::size(kNouns)] + "-" + std::to_string(rng() % 1000);
}

std::string EncodePageToken(int64_t offset) {
  return Base64Encode(nlohmann::json{{"offset", offset}}.dump());
}

Result<int64_t> DecodePageToken(std::string_view token) {
  if (token.empty()) return int64_t{0};
  auto bad = InvalidArgument("Invalid page token, could not base64-decode");
  auto text = Base64Decode(token);
  if (!text) return bad;
  auto json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("offset") || !json["offset"].is_number_integer() ||
      json["offset"].get<int64_t>() < 0) {
    return InvalidArgument("Invalid page token, parsed value=" + *text);
  }
  return json["offset"].get<int64_t>();
}

// --- experiments -------------------------------------------------------------------------------

Result<std::string> TrackingService::CreateExperiment(std::string_view name,
                                                      std::string_view artifact_location,
                                                      std::vector<store::Tag> tags) {
  CAIRN_RETURN_IF_ERROR(CheckExperimentName(name));
  for (const auto& t : tags) {
    CAIRN_RETURN_IF_ERROR(ValidateKey("tag", t.key));
    CAIRN_RETURN_IF_ERROR(CheckValueLength("Tag", t.key, t.value, kMaxTagValueLength));
  }
  store::NewExperiment experiment{std::string(name), std::string(artifact_location),
                                  std::move(tags), clock_.NowMillis()};
  auto id = store_.CreateExperiment(experiment);
  if (!id.ok() && id.status().code() == StatusCode::kAlreadyExists) {
    return AlreadyExists("Experiment '" + std::string(name) + "' already exists.");
  }
  return id;
}

Result<store::Experiment> TrackingService::GetExperiment(std::string_view experiment_id) {
  if (experiment_id.empty()) {
    return InvalidArgument("Missing value for required parameter 'experiment_id'.");
  }
  return store_.GetExperiment(experiment_id);
}

Result<store::Experiment> TrackingService::GetExperimentByName(std::string_view name) {
  if (name.empty()) {
    return InvalidArgument("Missing value for required parameter 'experiment_name'.");
  }
  auto experiment = store_.GetExperimentByName(name);
  if (!experiment.ok() && experiment.status().code() == StatusCode::kNotFound) {
    return NotFound("Could not find experiment with name '" + std::string(name) + "'");
  }
  return experiment;
}

Result<SearchExperimentsResponse> TrackingService::SearchExperiments(
    const SearchExperimentsRequest& request) {
  store::ExperimentQuery query;
  CAIRN_RETURN_IF_ERROR(
      FillSearchQuery(request, ParseExperimentFilter, ParseExperimentOrderBy, query));
  CAIRN_TRY(auto page, store_.SearchExperiments(query));
  return SearchExperimentsResponse{std::move(page.experiments),
                                   NextPageToken(query, page.has_more)};
}

Status TrackingService::RenameExperiment(std::string_view experiment_id,
                                         std::string_view new_name) {
  CAIRN_RETURN_IF_ERROR(CheckExperimentName(new_name));
  return store_.RenameExperiment(experiment_id, new_name, clock_.NowMillis());
}

Status TrackingService::DeleteExperiment(std::string_view experiment_id) {
  if (experiment_id == "0") {
    return InvalidArgument(
        "Cannot delete the default experiment '0'. This is an internally "
        "reserved experiment.");
  }
  return store_.SetExperimentLifecycle(experiment_id, store::LifecycleStage::kDeleted,
                                       clock_.NowMillis());
}

Status TrackingService::RestoreExperiment(std::string_view experiment_id) {
  return store_.SetExperimentLifecycle(experiment_id, store::LifecycleStage::kActive,
                                       clock_.NowMillis());
}

Status TrackingService::SetExperimentTag(std::string_view experiment_id, store::Tag tag) {
  CAIRN_RETURN_IF_ERROR(ValidateKey("tag", tag.key));
  CAIRN_RETURN_IF_ERROR(CheckValueLength("Tag", tag.key, tag.value, kMaxTagValueLength));
  return store_.SetExperimentTag(experiment_id, tag);
}

// --- runs --------------------------------------------------------------------------------------

Result<store::Run> TrackingService::CreateRun(CreateRunRequest request) {
  store::NewRun run;
  run.run_id = NewUuidHex();
  run.experiment_id = request.experiment_id.empty() ? "0" : request.experiment_id;
  run.user_id = request.user_id;
  run.start_time = request.start_time.value_or(clock_.NowMillis());
  for (const auto& t : request.tags) {
    CAIRN_RETURN_IF_ERROR(ValidateKey("tag", t.key));
    CAIRN_RETURN_IF_ERROR(CheckValueLength("Tag", t.key, t.value, kMaxTagValueLength));
  }
  // As MLflow: the run name comes from run_name, else the mlflow.runName tag, else is generated.
  std::string tag_name;
  for (const auto& t : request.tags) {
    if (t.key == kRunNameTag) tag_name = t.value;
  }
  if (!request.run_name.empty() && !tag_name.empty() && request.run_name != tag_name) {
    return InvalidArgument(
        "Both 'run_name' argument and 'mlflow.runName' tag are specified, but "
        "with different values (run_name='" +
        request.run_name + "', mlflow.runName='" + tag_name + "').");
  }
  run.run_name = !request.run_name.empty() ? request.run_name
                 : !tag_name.empty()       ? tag_name
                                           : GenerateRunName();
  run.tags = std::move(request.tags);
  if (tag_name.empty()) run.tags.push_back({std::string(kRunNameTag), run.run_name});
  bool has_user_tag = false;
  for (const auto& t : run.tags) has_user_tag |= t.key == kUserTag;
  if (!has_user_tag && !run.user_id.empty())
    run.tags.push_back({std::string(kUserTag), run.user_id});
  return store_.CreateRun(run);
}

Result<store::Run> TrackingService::GetRun(std::string_view run_id) {
  CAIRN_RETURN_IF_ERROR(CheckRunId(run_id));
  return store_.GetRun(run_id);
}

Result<store::RunInfo> TrackingService::UpdateRun(store::RunUpdate update) {
  CAIRN_RETURN_IF_ERROR(CheckRunId(update.run_id));
  if (update.run_name && update.run_name->empty()) update.run_name.reset();
  return store_.UpdateRun(update);
}

Status TrackingService::DeleteRun(std::string_view run_id) {
  CAIRN_RETURN_IF_ERROR(CheckRunId(run_id));
  return store_.SetRunLifecycle(run_id, store::LifecycleStage::kDeleted);
}

Status TrackingService::RestoreRun(std::string_view run_id) {
  CAIRN_RETURN_IF_ERROR(CheckRunId(run_id));
  return store_.SetRunLifecycle(run_id, store::LifecycleStage::kActive);
}

Status TrackingService::LogBatch(const LogBatchRequest& request) {
  CAIRN_RETURN_IF_ERROR(ValidateLogBatch(request));
  if (request.metrics.empty() && request.params.empty() && request.tags.empty()) {
    // Still answer NOT_FOUND for an unknown run, as MLflow does.
    return store_.GetRun(request.run_id).status();
  }
  return store_.LogBatch(request.run_id, request.metrics, request.params, request.tags);
}

Status TrackingService::LogMetric(std::string_view run_id, store::Metric metric) {
  CAIRN_RETURN_IF_ERROR(CheckRunId(run_id));
  CAIRN_RETURN_IF_ERROR(ValidateKey("metric", metric.key));
  return store_.LogBatch(run_id, {std::move(metric)}, {}, {});
}

Status TrackingService::LogParam(std::string_view run_id, store::Param param) {
  LogBatchRequest request{std::string(run_id), {}, {std::move(param)}, {}};
  return LogBatch(request);
}

Status TrackingService::SetTag(std::string_view run_id, store::Tag tag) {
  LogBatchRequest request{std::string(run_id), {}, {}, {std::move(tag)}};
  CAIRN_RETURN_IF_ERROR(ValidateLogBatch(request));
  const store::Tag& t = request.tags.front();
  if (t.key == kRunNameTag) {
    // Renaming through the tag keeps the run's name in step, as MLflow does.
    store::RunUpdate update;
    update.run_id = request.run_id;
    update.run_name = t.value;
    return store_.UpdateRun(update).status();
  }
  return store_.LogBatch(request.run_id, {}, {}, request.tags);
}

Status TrackingService::DeleteTag(std::string_view run_id, std::string_view key) {
  CAIRN_RETURN_IF_ERROR(CheckRunId(run_id));
  if (key.empty()) return InvalidArgument("Missing value for required parameter 'key'.");
  return store_.DeleteTag(run_id, key);
}

Status TrackingService::LogInputs(std::string_view run_id,
                                  const std::vector<store::DatasetInput>& inputs) {
  CAIRN_RETURN_IF_ERROR(CheckRunId(run_id));
  for (const auto& input : inputs) {
    if (input.name.empty()) return InvalidArgument("Missing value for required parameter 'name'.");
    if (input.digest.empty()) {
      return InvalidArgument("Missing value for required parameter 'digest'.");
    }
  }
  return store_.LogInputs(run_id, inputs);
}

Status TrackingService::LogModel(std::string_view run_id, std::string_view model_json) {
  CAIRN_RETURN_IF_ERROR(CheckRunId(run_id));
  auto model = nlohmann::json::parse(model_json, nullptr, /*allow_exceptions=*/false);
  if (!model.is_object()) {
    return InvalidArgument("Malformed model info. 'model_json' must be a JSON object: " +
                           std::string(model_json.substr(0, 200)));
  }
  for (const char* field : {"artifact_path", "flavors"}) {
    if (!model.contains(field)) {
      return InvalidArgument(std::string("Model json is missing mandatory fields: ['") + field +
                             "']");
    }
  }
  CAIRN_TRY(auto run, store_.GetRun(run_id));
  nlohmann::json history = nlohmann::json::array();
  for (const auto& t : run.tags) {
    if (t.key == kLoggedModelsTag) {
      auto parsed = nlohmann::json::parse(t.value, nullptr, false);
      if (parsed.is_array()) history = std::move(parsed);
    }
  }
  history.push_back(std::move(model));
  return store_.LogBatch(run_id, {}, {}, {{std::string(kLoggedModelsTag), history.dump()}});
}

Result<MetricHistoryResponse> TrackingService::GetMetricHistory(
    const MetricHistoryRequest& request) {
  CAIRN_RETURN_IF_ERROR(CheckRunId(request.run_id));
  if (request.metric_key.empty()) {
    return InvalidArgument("Missing value for required parameter 'metric_key'.");
  }
  if (request.max_results && *request.max_results < 1) {
    return InvalidArgument("Invalid value " + std::to_string(*request.max_results) +
                           " for parameter 'max_results' supplied. It must be at least 1.");
  }
  CAIRN_TRY(int64_t offset, DecodePageToken(request.page_token));
  int64_t limit = request.max_results.value_or(std::numeric_limits<int64_t>::max() / 2);
  CAIRN_TRY(auto page, store_.GetMetricHistory(request.run_id, request.metric_key, offset, limit));
  MetricHistoryResponse response;
  response.metrics = std::move(page.metrics);
  if (page.has_more) response.next_page_token = EncodePageToken(offset + limit);
  return response;
}

Result<SearchRunsResponse> TrackingService::SearchRuns(const SearchRunsRequest& request) {
  store::RunQuery query;
  query.experiment_ids = request.experiment_ids;
  CAIRN_RETURN_IF_ERROR(FillSearchQuery(request, ParseRunFilter, ParseRunOrderBy, query));
  CAIRN_TRY(auto page, store_.SearchRuns(query));
  return SearchRunsResponse{std::move(page.runs), NextPageToken(query, page.has_more)};
}

}  // namespace cairn::tracking
