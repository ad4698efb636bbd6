// HttpClient: a small keep-alive HTTP/1.1 client (one connection; not thread-safe: one per thread).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "http/http_types.h"

namespace cairn::http {

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;
  std::string_view Header(std::string_view name) const;
};

class HttpClient {
 public:
  // base_url: "http://host:port" (an optional path prefix is kept and prepended to targets).
  static Result<std::unique_ptr<HttpClient>> Create(std::string_view base_url,
                                                    int64_t timeout_ms = 30000);
  ~HttpClient();

  // Sends one request; `target` is the path and query ("/api/2.0/mlflow/runs/get?run_id=…").
  // Reconnects once if a kept-alive connection was closed by the server. kUnavailable when the
  // server cannot be reached.
  Result<ClientResponse> Send(std::string_view method, std::string_view target,
                              std::string_view body = {}, const Headers& headers = {});
  // Uploads the file at `path` as the body, streamed from disk.
  Result<ClientResponse> SendFile(std::string_view method, std::string_view target,
                                  const std::string& path, const Headers& headers = {});
  // Downloads the body of a GET into the file at `path`, streamed to disk. The response's
  // `body` is empty on success (2xx); on an error status it holds the error body instead.
  Result<ClientResponse> Download(std::string_view target, const std::string& path,
                                  const Headers& headers = {});

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::http
