// Router: a table of routes (method + path template) dispatched without any socket.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/http_types.h"

namespace cairn::http {

using Handler = std::function<HttpResponse(HttpRequest&)>;
// Makes the sink a streaming route's body is written to; null means "refuse" (the server answers
// 400 with the request untouched). Called once the headers are read.
using BodySinkFactory = std::function<std::shared_ptr<BodySink>(const HttpRequest& headers_only)>;

inline constexpr size_t kDefaultMaxBodyBytes = 1 << 20;

struct RouteOptions {
  size_t max_body_bytes = kDefaultMaxBodyBytes;  // larger bodies are answered 413
  BodySinkFactory body_sink_factory;             // set: the body streams into a sink, not memory
};

struct Route {
  std::string method;
  std::string pattern;  // "/a/{name}/b", a trailing "{rest...}" captures the remaining path
  Handler handler;
  RouteOptions options;
};

class Router {
 public:
  // Patterns are matched segment by segment: literal segments first, then "{param}".
  void Add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});

  // The route for `method` and decoded `path`, filling `params`; null when none matches.
  // `path_exists` tells (when non-null) whether another method would have matched (405 vs 404).
  const Route* Match(std::string_view method, std::string_view path,
                     std::vector<std::pair<std::string, std::string>>* params,
                     bool* path_exists = nullptr) const;

  // Matches and calls the handler; answers 404/405 JSON errors itself. Fills req.route and
  // req.path_params. Exceptions from a handler become a 500 JSON error.
  HttpResponse Dispatch(HttpRequest& req) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace cairn::http
