// The client's side of the MLflow REST API 2.0 wire format: response pages, request bodies and
// error bodies -> Status. The entities' JSON is wire/mlflow_entities.h. Nothing here throws.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "client/transport.h"
#include "client/types.h"
#include "core/result.h"
#include "wire/mlflow_entities.h"

namespace cairn::client {

using Json = nlohmann::json;

// Parses a response body; kInternal naming `what` when it is not a JSON object.
Result<Json> ParseResponseBody(std::string_view body, std::string_view what);

// One exchange with the workspace's JSON APIs: `body` (sent with `content_type` when not empty)
// and `headers`; a non-2xx answer becomes the Status its error body names
// (StatusFromHttpError), a 2xx one its JSON object (ParseResponseBody naming `target`).
Result<Json> CallJson(Transport& transport, std::string_view method, const std::string& target,
                      std::string_view body, std::string_view content_type,
                      http::Headers headers = {});
// The same with a JSON body (nullptr: none).
Result<Json> CallJson(Transport& transport, std::string_view method, const std::string& target,
                      const Json* body, http::Headers headers = {});

// What a wire parser made of a response: its errors become kInternal ("malformed response from
// server: …"), since the server sent that JSON.
template <typename T>
Result<T> FromResponse(Result<T> parsed) {
  if (parsed.ok()) return parsed;
  return Internal("malformed response from server: " + parsed.status().message());
}

// Response pages; fields MLflow omits when unset default to empty.
Result<ExperimentsPage> ExperimentsPageFromJson(const Json& j);
Result<RunsPage> RunsPageFromJson(const Json& j);
Result<MetricHistoryPage> MetricHistoryPageFromJson(const Json& j);
Result<ArtifactListing> ArtifactListingFromJson(const Json& j);

// Request bodies.
Json SearchExperimentsBody(const SearchExperimentsRequest& req);
Json SearchRunsBody(const SearchRunsRequest& req);
Json CreateRunBody(const CreateRunRequest& req, int64_t now_ms);
std::string_view ViewTypeName(ViewType v);  // "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL"

// A non-2xx answer as a Status: the MLflow error_code picks the code (RESOURCE_DOES_NOT_EXIST ->
// kNotFound, RESOURCE_ALREADY_EXISTS -> kAlreadyExists, INVALID_PARAMETER_VALUE / BAD_REQUEST /
// INVALID_STATE -> kInvalidArgument, …), 413 is kResourceExhausted, anything else kInternal; the
// message is the server's.
Status StatusFromHttpError(int http_status, std::string_view body);

}  // namespace cairn::client
