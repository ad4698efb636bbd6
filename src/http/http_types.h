// Transport-free HTTP request and response types: what handlers see and return.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::http {

using Headers = std::vector<std::pair<std::string, std::string>>;  // names lowercased

// Receives a streamed request body chunk by chunk (for routes that accept large bodies).
class BodySink {
 public:
  virtual ~BodySink() = default;
  // Called for each chunk in order; a false return aborts the upload (the server answers 500).
  virtual bool Write(std::string_view chunk) = 0;
};

struct HttpRequest {
  std::string method;  // upper case: "GET", "POST", …
  std::string target;  // as received: path and query
  std::string path;    // percent-decoded path, without the query
  std::string query;   // raw query string (without '?')
  Headers headers;
  std::string body;    // the whole body, unless the route streams it into `body_sink`
  std::shared_ptr<BodySink> body_sink;  // set for streaming routes: already holds the whole body
  std::vector<std::pair<std::string, std::string>> path_params;  // filled by the router
  std::string route;       // the matched route template, e.g. "/api/v1/datasets/{name}"
  std::string request_id;  // x-request-id: the client's own, or a fresh one

  std::string_view Header(std::string_view name) const;  // "" if absent; name is case-insensitive
  std::string_view PathParam(std::string_view name) const;  // "" if absent
  // First value of a query parameter, percent-decoded.
  std::optional<std::string> QueryParam(std::string_view name) const;
  // All values of a repeated query parameter, percent-decoded.
  std::vector<std::string> QueryParams(std::string_view name) const;
  // Every (name, value) pair of the query in order, percent-decoded.
  std::vector<std::pair<std::string, std::string>> QueryPairs() const;
};

// A streamed response body: each call fills `chunk` and returns true, or returns false at the end.
using BodyProducer = std::function<bool(std::string& chunk)>;

struct HttpResponse {
  int status = 200;
  Headers headers;
  std::string body;
  std::string body_file;      // when set, the server streams this file as the body
  BodyProducer body_producer;  // when set, the server streams its chunks (chunked encoding)

  void SetHeader(std::string name, std::string value);
  std::string_view Header(std::string_view name) const;
};

HttpResponse JsonResponse(int status, std::string json_body);
HttpResponse TextResponse(int status, std::string body, std::string content_type = "text/plain");
// {"error_code": code, "message": message} with the given status.
HttpResponse JsonError(int status, std::string_view error_code, std::string_view message);

std::string PercentDecode(std::string_view s, bool plus_as_space = false);
std::string PercentEncode(std::string_view s, bool keep_slash = false);

}  // namespace cairn::http
