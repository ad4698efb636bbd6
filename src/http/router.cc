#include "http/router.h"

#include <exception>
#include <string_view>
#include <utility>

namespace cairn::http {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

// Splits "a/b/c" one segment at a time; `done` once the last segment has been taken.
class SegmentReader {
 public:
  explicit SegmentReader(std::string_view s) : rest_(s) {
    if (!rest_.empty() && rest_.front() == '/') rest_.remove_prefix(1);
  }
  bool done() const { return done_; }
  std::string_view remaining() const { return done_ ? std::string_view() : rest_; }
  std::string_view Next() {
    size_t slash = rest_.find('/');
    std::string_view segment = rest_.substr(0, slash);
    if (slash == std::string_view::npos) {
      done_ = true;
      rest_ = {};
    } else {
      rest_.remove_prefix(slash + 1);
    }
    return segment;
  }

 private:
  std::string_view rest_;
  bool done_ = false;
};

bool IsParam(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

bool IsRestParam(std::string_view segment) {
  return IsParam(segment) && segment.size() > 5 && segment.substr(segment.size() - 4) == "...}";
}

// Matches `path` against `pattern`. `rank` gets one character per pattern segment ('2' literal,
// '1' parameter, '0' rest) so that comparing ranks as strings prefers earlier literal segments.
bool MatchPattern(std::string_view pattern, std::string_view path, Params* params,
                  std::string* rank) {
  SegmentReader pat(pattern);
  SegmentReader in(path);
  while (!pat.done()) {
    std::string_view segment = pat.Next();
    if (IsRestParam(segment)) {
      if (!pat.done()) return false;  // "{x...}" is only meaningful last
      params->emplace_back(std::string(segment.substr(1, segment.size() - 5)),
                           std::string(in.remaining()));
      rank->push_back('0');
      return true;
    }
    if (in.done()) return false;
    std::string_view value = in.Next();
    if (IsParam(segment)) {
      if (value.empty()) return false;
      params->emplace_back(std::string(segment.substr(1, segment.size() - 2)), std::string(value));
      rank->push_back('1');
    } else {
      if (segment != value) return false;
      rank->push_back('2');
    }
  }
  return in.done();
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  routes_.push_back(
      Route{std::move(method), std::move(pattern), std::move(handler), std::move(options)});
}

const Route* Router::Match(std::string_view method, std::string_view path,
                           std::vector<std::pair<std::string, std::string>>* params,
                           bool* path_exists) const {
  const Route* best = nullptr;
  std::string best_rank;
  Params best_params;
  bool exists = false;
  Params candidate_params;
  std::string candidate_rank;
  for (const Route& route : routes_) {
    candidate_params.clear();
    candidate_rank.clear();
    if (!MatchPattern(route.pattern, path, &candidate_params, &candidate_rank)) continue;
    if (route.method != method) {
      exists = true;
      continue;
    }
    if (best == nullptr || candidate_rank > best_rank) {
      best = &route;
      best_rank.swap(candidate_rank);
      best_params.swap(candidate_params);
    }
  }
  if (path_exists != nullptr) *path_exists = exists;
  if (best != nullptr && params != nullptr) *params = std::move(best_params);
  return best;
}

HttpResponse Router::Dispatch(HttpRequest& req) const {
  bool path_exists = false;
  std::vector<std::pair<std::string, std::string>> params;
  const Route* route = Match(req.method, req.path, &params, &path_exists);
  if (route == nullptr) {
    if (path_exists) {
      return JsonError(405, "BAD_REQUEST",
                       "method " + req.method + " is not allowed for " + req.path);
    }
    return JsonError(404, "ENDPOINT_NOT_FOUND", "no endpoint " + req.method + " " + req.path);
  }
  req.route = route->pattern;
  req.path_params = std::move(params);
  try {
    return route->handler(req);
  } catch (const std::exception& e) {
    return JsonError(500, "INTERNAL_ERROR", std::string("internal error: ") + e.what());
  } catch (...) {
    return JsonError(500, "INTERNAL_ERROR", "internal error");
  }
}

}  // namespace cairn::http
