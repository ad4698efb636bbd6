// The MLflow REST API 2.0 wire format on the client side: JSON <-> client types, request bodies,
// and error bodies -> Status. Pure functions; nothing here throws.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "client/types.h"
#include "core/result.h"

namespace cairn::client {

using Json = nlohmann::json;

// A double given as a number or as "NaN", "Infinity", "-Infinity" (also "Inf", "-Inf", "inf" …).
Result<double> ParseDouble(const Json& j);
// An int64 given as a number or as a decimal string.
Result<int64_t> ParseInt64(const Json& j);
// A double as MLflow writes it: a number, or "NaN" / "Infinity" / "-Infinity".
Json DoubleToJson(double v);

// Parses a response body; kInternal naming `what` when it is not a JSON object.
Result<Json> ParseResponseBody(std::string_view body, std::string_view what);

// Entities from JSON. Fields MLflow omits when unset (protobuf JSON) default to empty or zero;
// fields of the wrong type are kInternal ("malformed response").
Result<Experiment> ExperimentFromJson(const Json& j);
Result<RunInfo> RunInfoFromJson(const Json& j);
Result<Run> RunFromJson(const Json& j);
Result<Metric> MetricFromJson(const Json& j);
Result<FileInfo> FileInfoFromJson(const Json& j);
Result<ExperimentsPage> ExperimentsPageFromJson(const Json& j);
Result<RunsPage> RunsPageFromJson(const Json& j);
Result<MetricHistoryPage> MetricHistoryPageFromJson(const Json& j);
Result<ArtifactListing> ArtifactListingFromJson(const Json& j);

// Entities to JSON, in MLflow's shapes (what `--output json` prints).
Json ToJson(const Tag& t);
Json ToJson(const Param& p);
Json ToJson(const Metric& m);
Json ToJson(const Experiment& e);
Json ToJson(const RunInfo& info);
Json ToJson(const DatasetInput& d);
Json ToJson(const Run& r);
Json ToJson(const FileInfo& f);

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
