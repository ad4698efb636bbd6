// Golden API conversations: a JSON file of request/expected-response steps, replayed through any
// transport (the router without a socket, or the real binary over HTTP).
//
// A step: {"name", "method", "path", "body"?, "status", "expect"?, "capture"?}
//  - "${var}" in path and body strings is replaced by a captured value;
//  - "expect" is matched as a subset: objects need the listed keys (extra keys are fine), arrays
//    match element by element and in length; "$any", "$string", "$number", "$absent" (key must
//    be missing) and "${var}" are placeholders;
//  - "capture": {"var": "dotted.path.in.response"} stores a value for later steps.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace cairn::testing {

struct GoldenReply {
  int status = 0;
  std::string body;
};

using GoldenTransport =
    std::function<GoldenReply(const std::string& method, const std::string& target,
                              const std::string& body)>;

// Runs every step of the file; returns one message per mismatch (empty: all matched).
std::vector<std::string> RunGoldenFile(const std::string& path, const GoldenTransport& transport);

}  // namespace cairn::testing
