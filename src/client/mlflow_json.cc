#include "client/mlflow_json.h"

#include <utility>

namespace cairn::client {
namespace {

Status Malformed(std::string what) {
  return Internal("malformed response from server: " + std::move(what));
}

}  // namespace

Result<Json> ParseResponseBody(std::string_view body, std::string_view what) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Malformed(std::string(what) + " is not JSON");
  if (!j.is_object()) return Malformed(std::string(what) + " is not a JSON object");
  return j;
}

Result<ExperimentsPage> ExperimentsPageFromJson(const Json& j) {
  ExperimentsPage page;
  CAIRN_TRY(page.experiments,
            FromResponse(wire::ListField<Experiment>(j, "experiments", wire::ExperimentFromJson)));
  CAIRN_TRY(page.next_page_token, FromResponse(wire::StringField(j, "next_page_token")));
  return page;
}

Result<RunsPage> RunsPageFromJson(const Json& j) {
  RunsPage page;
  CAIRN_TRY(page.runs, FromResponse(wire::ListField<Run>(j, "runs", wire::RunFromJson)));
  CAIRN_TRY(page.next_page_token, FromResponse(wire::StringField(j, "next_page_token")));
  return page;
}

Result<MetricHistoryPage> MetricHistoryPageFromJson(const Json& j) {
  MetricHistoryPage page;
  CAIRN_TRY(page.metrics,
            FromResponse(wire::ListField<Metric>(j, "metrics", wire::MetricFromJson)));
  CAIRN_TRY(page.next_page_token, FromResponse(wire::StringField(j, "next_page_token")));
  return page;
}

Result<ArtifactListing> ArtifactListingFromJson(const Json& j) {
  ArtifactListing listing;
  CAIRN_TRY(listing.root_uri, FromResponse(wire::StringField(j, "root_uri")));
  CAIRN_TRY(listing.files,
            FromResponse(wire::ListField<FileInfo>(j, "files", wire::FileInfoFromJson)));
  CAIRN_TRY(listing.next_page_token, FromResponse(wire::StringField(j, "next_page_token")));
  return listing;
}

std::string_view ViewTypeName(ViewType v) {
  switch (v) {
    case ViewType::kActiveOnly:
      return "ACTIVE_ONLY";
    case ViewType::kDeletedOnly:
      return "DELETED_ONLY";
    case ViewType::kAll:
      return "ALL";
  }
  return "ACTIVE_ONLY";
}

Json SearchExperimentsBody(const SearchExperimentsRequest& req) {
  Json j = {{"max_results", req.max_results}, {"view_type", ViewTypeName(req.view_type)}};
  if (!req.page_token.empty()) j["page_token"] = req.page_token;
  if (!req.filter.empty()) j["filter"] = req.filter;
  if (!req.order_by.empty()) j["order_by"] = req.order_by;
  return j;
}

Json SearchRunsBody(const SearchRunsRequest& req) {
  Json j = {{"experiment_ids", req.experiment_ids},
            {"run_view_type", ViewTypeName(req.run_view_type)},
            {"max_results", req.max_results}};
  if (!req.filter.empty()) j["filter"] = req.filter;
  if (!req.order_by.empty()) j["order_by"] = req.order_by;
  if (!req.page_token.empty()) j["page_token"] = req.page_token;
  return j;
}

Json CreateRunBody(const CreateRunRequest& req, int64_t now_ms) {
  Json j = {{"experiment_id", req.experiment_id}, {"start_time", req.start_time.value_or(now_ms)}};
  if (!req.run_name.empty()) j["run_name"] = req.run_name;
  if (!req.user_id.empty()) j["user_id"] = req.user_id;
  if (!req.tags.empty()) j["tags"] = wire::TagsToJson(req.tags);
  return j;
}

Status StatusFromHttpError(int http_status, std::string_view body) {
  std::string error_code;
  std::string message;
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && j.is_object()) {
    if (auto c = j.find("error_code"); c != j.end() && c->is_string()) error_code = *c;
    if (auto m = j.find("message"); m != j.end() && m->is_string()) message = *m;
  }
  if (message.empty()) {
    std::string_view snippet = body.substr(0, 200);
    while (!snippet.empty() &&
           (snippet.back() == '\n' || snippet.back() == '\r' || snippet.back() == ' ')) {
      snippet.remove_suffix(1);
    }
    message = "HTTP " + std::to_string(http_status);
    if (!snippet.empty() && error_code.empty()) message += ": " + std::string(snippet);
    if (!error_code.empty()) message += " " + error_code;
  }
  if (http_status == 413) return ResourceExhausted(std::move(message));
  if (error_code == "RESOURCE_DOES_NOT_EXIST") return NotFound(std::move(message));
  if (error_code == "RESOURCE_ALREADY_EXISTS") return AlreadyExists(std::move(message));
  if (error_code == "INVALID_PARAMETER_VALUE" || error_code == "BAD_REQUEST" ||
      error_code == "INVALID_STATE") {
    return InvalidArgument(std::move(message));
  }
  if (error_code == "PERMISSION_DENIED") {
    return {StatusCode::kPermissionDenied, std::move(message)};
  }
  if (error_code == "UNAUTHENTICATED") return {StatusCode::kUnauthenticated, std::move(message)};
  if (error_code.empty()) {  // not an MLflow error body: fall back on the HTTP status
    if (http_status == 404) return NotFound(std::move(message));
    if (http_status == 401) return {StatusCode::kUnauthenticated, std::move(message)};
    if (http_status == 403) return {StatusCode::kPermissionDenied, std::move(message)};
    if (http_status == 503) return Unavailable(std::move(message));
  }
  return Internal(std::move(message));
}

Result<Json> CallJson(Transport& transport, std::string_view method, const std::string& target,
                      std::string_view body, std::string_view content_type,
                      http::Headers headers) {
  if (!body.empty()) headers.emplace_back("content-type", std::string(content_type));
  CAIRN_TRY(http::ClientResponse r, transport.Send(method, target, body, headers));
  if (r.status < 200 || r.status >= 300) return StatusFromHttpError(r.status, r.body);
  return ParseResponseBody(r.body, target);
}

Result<Json> CallJson(Transport& transport, std::string_view method, const std::string& target,
                      const Json* body, http::Headers headers) {
  return CallJson(transport, method, target, body != nullptr ? wire::Dump(*body) : std::string(),
                  "application/json", std::move(headers));
}

}  // namespace cairn::client
