// RequestFields: a request's parameters — from the JSON body (POST/PATCH/DELETE) or the query
// string (GET) — read with protobuf's JSON leniency (64-bit integers as numbers or strings;
// doubles as numbers, numeric strings, "NaN", "Infinity", "-Infinity").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "http/http_types.h"
#include "store/records.h"

namespace cairn::api::mlflow {

class RequestFields {
 public:
  // kInvalidArgument for a body that is not a JSON object.
  static Result<RequestFields> FromRequest(const http::HttpRequest& request);
  static Result<RequestFields> FromJson(std::string_view body);

  bool Has(std::string_view name) const;
  // Missing or null fields are std::nullopt; a field of the wrong type is kInvalidArgument.
  Result<std::optional<std::string>> String(std::string_view name) const;
  Result<std::string> RequiredString(std::string_view name) const;
  // The first present of several names (run_id, then the deprecated run_uuid).
  Result<std::string> RequiredStringOf(std::string_view name, std::string_view alias) const;
  Result<std::optional<int64_t>> Int64(std::string_view name) const;
  Result<std::optional<double>> Double(std::string_view name) const;
  Result<std::vector<std::string>> StringList(std::string_view name) const;
  Result<std::vector<store::Tag>> Tags(std::string_view name) const;
  const nlohmann::json& body() const { return json_; }

 private:
  explicit RequestFields(nlohmann::json json) : json_(std::move(json)) {}
  const nlohmann::json* Find(std::string_view name) const;
  nlohmann::json json_;
};

// Errors shared with the fast log-batch parser.
Status InvalidField(std::string_view name, std::string_view value, std::string_view expected);
Status MissingField(std::string_view name);

}  // namespace cairn::api::mlflow
