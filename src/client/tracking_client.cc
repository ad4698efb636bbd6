#include "client/tracking_client.h"

#include <utility>

#include "client/uri.h"

namespace cairn::client {
namespace {

const http::Headers& JsonHeaders() {
  static const http::Headers kHeaders = {{"content-type", "application/json"}};
  return kHeaders;
}


bool IsSuccess(int status) { return status >= 200 && status < 300; }

std::string Str(std::string_view s) { return std::string(s); }

}  // namespace

TrackingClient::TrackingClient(std::unique_ptr<Transport> transport, const Clock& clock)
    : transport_(std::move(transport)), clock_(clock) {}

Result<Json> TrackingClient::Call(std::string_view method, std::string_view endpoint,
                                  const Json* body, std::string_view query) {
  std::string target = std::string(kMlflowApiPrefix) + "/" + std::string(endpoint) + Str(query);
  CAIRN_TRY(http::ClientResponse resp,
            body == nullptr ? transport_->Send(method, target, {}, {})
                            : transport_->Send(method, target, wire::Dump(*body), JsonHeaders()));
  if (!IsSuccess(resp.status)) return StatusFromHttpError(resp.status, resp.body);
  if (resp.body.empty()) return Json::object();
  return ParseResponseBody(resp.body, "the answer to " + std::string(endpoint));
}

Status TrackingClient::PostStatus(std::string_view endpoint, const Json& body) {
  auto r = Post(endpoint, body);
  return r.ok() ? Status::Ok() : r.status();
}

// --- Experiments -------------------------------------------------------------------------------

Result<std::string> TrackingClient::CreateExperiment(std::string_view name,
                                                     std::string_view artifact_location,
                                                     const std::vector<Tag>& tags) {
  Json body = {{"name", name}};
  if (!artifact_location.empty()) body["artifact_location"] = artifact_location;
  if (!tags.empty()) body["tags"] = wire::TagsToJson(tags);
  CAIRN_TRY(Json j, Post("experiments/create", body));
  auto id = j.find("experiment_id");
  if (id == j.end()) return Internal("malformed response from server: no experiment_id");
  if (id->is_string()) return id->get<std::string>();
  if (id->is_number_integer()) return std::to_string(id->get<int64_t>());
  return Internal("malformed response from server: experiment_id is not a string");
}

Result<Experiment> TrackingClient::GetExperiment(std::string_view experiment_id) {
  CAIRN_TRY(Json j, Get("experiments/get", QueryString({{"experiment_id", Str(experiment_id)}})));
  auto e = j.find("experiment");
  if (e == j.end()) return Internal("malformed response from server: no experiment");
  return FromResponse(wire::ExperimentFromJson(*e));
}

Result<Experiment> TrackingClient::GetExperimentByName(std::string_view name) {
  CAIRN_TRY(Json j, Get("experiments/get-by-name", QueryString({{"experiment_name", Str(name)}})));
  auto e = j.find("experiment");
  if (e == j.end()) return Internal("malformed response from server: no experiment");
  return FromResponse(wire::ExperimentFromJson(*e));
}

Result<Experiment> TrackingClient::GetExperimentByNameOrId(std::string_view name_or_id) {
  if (name_or_id.empty()) return InvalidArgument("experiment name or id is empty");
  auto by_name = GetExperimentByName(name_or_id);
  if (by_name.ok() || by_name.status().code() != StatusCode::kNotFound) return by_name;
  auto by_id = GetExperiment(name_or_id);
  if (by_id.ok()) return by_id;
  StatusCode code = by_id.status().code();
  if (code == StatusCode::kNotFound || code == StatusCode::kInvalidArgument) {
    return NotFound("no experiment named or with id '" + Str(name_or_id) + "'");
  }
  return by_id.status();
}

Result<ExperimentsPage> TrackingClient::SearchExperiments(const SearchExperimentsRequest& req) {
  CAIRN_TRY(Json j, Post("experiments/search", SearchExperimentsBody(req)));
  return ExperimentsPageFromJson(j);
}

Result<std::vector<Experiment>> TrackingClient::SearchAllExperiments(SearchExperimentsRequest req,
                                                                     size_t limit) {
  std::vector<Experiment> out;
  while (true) {
    if (limit > 0) {
      req.max_results =
          std::min<int64_t>(req.max_results, static_cast<int64_t>(limit - out.size()));
    }
    CAIRN_TRY(ExperimentsPage page, SearchExperiments(req));
    for (Experiment& e : page.experiments) out.push_back(std::move(e));
    if (page.next_page_token.empty() || (limit > 0 && out.size() >= limit)) break;
    req.page_token = std::move(page.next_page_token);
  }
  return out;
}

Status TrackingClient::RenameExperiment(std::string_view experiment_id, std::string_view new_name) {
  return PostStatus("experiments/update",
                    {{"experiment_id", experiment_id}, {"new_name", new_name}});
}

Status TrackingClient::DeleteExperiment(std::string_view experiment_id) {
  return PostStatus("experiments/delete", {{"experiment_id", experiment_id}});
}

Status TrackingClient::RestoreExperiment(std::string_view experiment_id) {
  return PostStatus("experiments/restore", {{"experiment_id", experiment_id}});
}

Status TrackingClient::SetExperimentTag(std::string_view experiment_id, std::string_view key,
                                        std::string_view value) {
  return PostStatus("experiments/set-experiment-tag",
                    {{"experiment_id", experiment_id}, {"key", key}, {"value", value}});
}

// --- Runs --------------------------------------------------------------------------------------

Result<Run> TrackingClient::CreateRun(const CreateRunRequest& req) {
  CAIRN_TRY(Json j, Post("runs/create", CreateRunBody(req, clock_.NowMillis())));
  auto run = j.find("run");
  if (run == j.end()) return Internal("malformed response from server: no run");
  return FromResponse(wire::RunFromJson(*run));
}

Result<Run> TrackingClient::GetRun(std::string_view run_id) {
  CAIRN_TRY(Json j, Get("runs/get", QueryString({{"run_id", Str(run_id)}})));
  auto run = j.find("run");
  if (run == j.end()) return Internal("malformed response from server: no run");
  return FromResponse(wire::RunFromJson(*run));
}

Result<RunInfo> TrackingClient::UpdateRun(const RunUpdate& update) {
  Json body = {{"run_id", update.run_id}, {"run_uuid", update.run_id}};
  if (update.status) body["status"] = store::RunStatusName(*update.status);
  if (update.end_time) body["end_time"] = *update.end_time;
  if (update.run_name) body["run_name"] = *update.run_name;
  CAIRN_TRY(Json j, Post("runs/update", body));
  auto info = j.find("run_info");
  if (info == j.end()) return Internal("malformed response from server: no run_info");
  return FromResponse(wire::RunInfoFromJson(*info));
}

Status TrackingClient::DeleteRun(std::string_view run_id) {
  return PostStatus("runs/delete", {{"run_id", run_id}});
}

Status TrackingClient::RestoreRun(std::string_view run_id) {
  return PostStatus("runs/restore", {{"run_id", run_id}});
}

Status TrackingClient::LogMetric(std::string_view run_id, const Metric& metric) {
  return PostStatus("runs/log-metric",
                    {{"run_id", run_id},
                     {"run_uuid", run_id},
                     {"key", metric.key},
                     {"value", wire::DoubleToJson(metric.value)},
                     {"timestamp", metric.timestamp != 0 ? metric.timestamp : clock_.NowMillis()},
                     {"step", metric.step}});
}

Status TrackingClient::LogParam(std::string_view run_id, std::string_view key,
                                std::string_view value) {
  return PostStatus("runs/log-parameter",
                    {{"run_id", run_id}, {"run_uuid", run_id}, {"key", key}, {"value", value}});
}

Status TrackingClient::SetTag(std::string_view run_id, std::string_view key,
                              std::string_view value) {
  return PostStatus("runs/set-tag",
                    {{"run_id", run_id}, {"run_uuid", run_id}, {"key", key}, {"value", value}});
}

Status TrackingClient::DeleteTag(std::string_view run_id, std::string_view key) {
  return PostStatus("runs/delete-tag", {{"run_id", run_id}, {"key", key}});
}

Status TrackingClient::LogBatch(std::string_view run_id, const std::vector<Metric>& metrics,
                                const std::vector<Param>& params, const std::vector<Tag>& tags) {
  int64_t now = clock_.NowMillis();
  Json m = Json::array();
  for (const Metric& metric : metrics) {
    Json j = wire::ToJson(metric);
    if (metric.timestamp == 0) j["timestamp"] = now;
    m.push_back(std::move(j));
  }
  Json p = Json::array();
  for (const Param& param : params) p.push_back(wire::ToJson(param));
  Json t = Json::array();
  for (const Tag& tag : tags) t.push_back(wire::ToJson(tag));
  return PostStatus("runs/log-batch", {{"run_id", run_id},
                                       {"metrics", std::move(m)},
                                       {"params", std::move(p)},
                                       {"tags", std::move(t)}});
}

Status TrackingClient::LogInputs(std::string_view run_id,
                                 const std::vector<DatasetInput>& datasets) {
  Json arr = Json::array();
  for (const DatasetInput& d : datasets) arr.push_back(wire::ToJson(d));
  return PostStatus("runs/log-inputs", {{"run_id", run_id}, {"datasets", std::move(arr)}});
}

Status TrackingClient::LogModel(std::string_view run_id, const Json& model) {
  return PostStatus("runs/log-model", {{"run_id", run_id}, {"model_json", model.dump()}});
}

Result<RunsPage> TrackingClient::SearchRuns(const SearchRunsRequest& req) {
  CAIRN_TRY(Json j, Post("runs/search", SearchRunsBody(req)));
  return RunsPageFromJson(j);
}

Result<std::vector<Run>> TrackingClient::SearchAllRuns(SearchRunsRequest req, size_t limit) {
  std::vector<Run> out;
  while (true) {
    if (limit > 0) {
      req.max_results =
          std::min<int64_t>(req.max_results, static_cast<int64_t>(limit - out.size()));
    }
    CAIRN_TRY(RunsPage page, SearchRuns(req));
    for (Run& r : page.runs) out.push_back(std::move(r));
    if (page.next_page_token.empty() || (limit > 0 && out.size() >= limit)) break;
    req.page_token = std::move(page.next_page_token);
  }
  return out;
}

Result<MetricHistoryPage> TrackingClient::GetMetricHistory(std::string_view run_id,
                                                           std::string_view key,
                                                           int64_t max_results,
                                                           std::string_view page_token) {
  CAIRN_TRY(Json j, Get("metrics/get-history",
                        QueryString({{"run_id", Str(run_id)},
                                     {"metric_key", Str(key)},
                                     {"max_results", max_results > 0 ? std::to_string(max_results)
                                                                     : std::string()},
                                     {"page_token", Str(page_token)}})));
  return MetricHistoryPageFromJson(j);
}

Result<std::vector<Metric>> TrackingClient::GetFullMetricHistory(std::string_view run_id,
                                                                 std::string_view key) {
  std::vector<Metric> out;
  std::string token;
  while (true) {
    CAIRN_TRY(MetricHistoryPage page, GetMetricHistory(run_id, key, 0, token));
    for (Metric& m : page.metrics) out.push_back(std::move(m));
    if (page.next_page_token.empty()) break;
    token = std::move(page.next_page_token);
  }
  return out;
}

// --- Artifacts ---------------------------------------------------------------------------------

Result<ArtifactListing> TrackingClient::ListArtifacts(std::string_view run_id,
                                                      std::string_view path,
                                                      std::string_view page_token) {
  CAIRN_TRY(Json j, Get("artifacts/list", QueryString({{"run_id", Str(run_id)},
                                                       {"path", Str(path)},
                                                       {"page_token", Str(page_token)}})));
  return ArtifactListingFromJson(j);
}

Result<std::vector<FileInfo>> TrackingClient::ListAllArtifacts(std::string_view run_id,
                                                               std::string_view path) {
  std::vector<FileInfo> out;
  std::string token;
  while (true) {
    CAIRN_TRY(ArtifactListing page, ListArtifacts(run_id, path, token));
    for (FileInfo& f : page.files) out.push_back(std::move(f));
    if (page.next_page_token.empty()) break;
    token = std::move(page.next_page_token);
  }
  return out;
}

Status TrackingClient::ProxyUpload(std::string_view proxy_path, const std::string& local_file) {
  CAIRN_TRY(std::string rel, NormalizeArtifactPath(proxy_path));
  std::string target = std::string(kArtifactProxyPrefix) + "/" + EncodePathSegments(rel);
  CAIRN_TRY(http::ClientResponse resp, transport_->SendFile("PUT", target, local_file));
  if (!IsSuccess(resp.status)) return StatusFromHttpError(resp.status, resp.body);
  return Status::Ok();
}

Status TrackingClient::ProxyDownload(std::string_view proxy_path, const std::string& local_file) {
  CAIRN_TRY(std::string rel, NormalizeArtifactPath(proxy_path));
  std::string target = std::string(kArtifactProxyPrefix) + "/" + EncodePathSegments(rel);
  CAIRN_TRY(http::ClientResponse resp, transport_->Download(target, local_file));
  if (!IsSuccess(resp.status)) return StatusFromHttpError(resp.status, resp.body);
  return Status::Ok();
}

Result<std::vector<FileInfo>> TrackingClient::ProxyList(std::string_view proxy_path) {
  CAIRN_TRY(std::string rel, NormalizeArtifactPath(proxy_path));
  std::string target = std::string(kArtifactProxyPrefix) + QueryString({{"path", rel}});
  CAIRN_TRY(http::ClientResponse resp, transport_->Send("GET", target, {}, {}));
  if (!IsSuccess(resp.status)) return StatusFromHttpError(resp.status, resp.body);
  if (resp.body.empty()) return std::vector<FileInfo>();
  CAIRN_TRY(Json j, ParseResponseBody(resp.body, "the artifact listing"));
  CAIRN_TRY(ArtifactListing listing, ArtifactListingFromJson(j));
  return std::move(listing.files);
}

Status TrackingClient::ProxyDelete(std::string_view proxy_path) {
  CAIRN_TRY(std::string rel, NormalizeArtifactPath(proxy_path));
  std::string target = std::string(kArtifactProxyPrefix) + "/" + EncodePathSegments(rel);
  CAIRN_TRY(http::ClientResponse resp, transport_->Send("DELETE", target, {}, {}));
  if (!IsSuccess(resp.status)) return StatusFromHttpError(resp.status, resp.body);
  return Status::Ok();
}

Status TrackingClient::UploadRunArtifact(const RunInfo& run, const std::string& local_file,
                                         std::string_view artifact_path) {
  CAIRN_TRY(std::string root, ArtifactProxyRoot(run.artifact_uri));
  CAIRN_TRY(std::string rel, NormalizeArtifactPath(artifact_path));
  if (rel.empty()) return InvalidArgument("an artifact file needs a path");
  return ProxyUpload(JoinArtifactPath(root, rel), local_file);
}

Status TrackingClient::DownloadRunArtifact(const RunInfo& run, std::string_view artifact_path,
                                           const std::string& local_file) {
  CAIRN_TRY(std::string root, ArtifactProxyRoot(run.artifact_uri));
  CAIRN_TRY(std::string rel, NormalizeArtifactPath(artifact_path));
  if (rel.empty()) return InvalidArgument("an artifact file needs a path");
  return ProxyDownload(JoinArtifactPath(root, rel), local_file);
}

}  // namespace cairn::client
