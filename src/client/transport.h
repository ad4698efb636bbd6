// Transport: the three HTTP exchanges the tracking client needs, behind an interface so the client
// can be tested with canned answers.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "http/client.h"

namespace cairn::client {

class Transport {
 public:
  virtual ~Transport() = default;
  // A request with an in-memory body. kUnavailable when the server cannot be reached.
  virtual Result<http::ClientResponse> Send(std::string_view method, std::string_view target,
                                            std::string_view body,
                                            const http::Headers& headers) = 0;
  // A request whose body is the file at `path`, streamed from disk.
  virtual Result<http::ClientResponse> SendFile(std::string_view method, std::string_view target,
                                                const std::string& path) = 0;
  // A GET whose 2xx body is streamed into the file at `path` (the response body is then empty).
  virtual Result<http::ClientResponse> Download(std::string_view target,
                                                const std::string& path) = 0;
};

// The real transport: an http::HttpClient to `base_url` ("http://host:port[/prefix]").
Result<std::unique_ptr<Transport>> ConnectHttp(std::string_view base_url);

}  // namespace cairn::client
