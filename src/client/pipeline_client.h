// PipelineClient: the C++ client of /api/v1/pipelines (start runs, list, show, cancel, approve,
// reject, step logs). Every request carries the acting user in x-cairn-user.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/mlflow_json.h"
#include "client/transport.h"
#include "core/result.h"
#include "store/pipeline_records.h"

namespace cairn::client {

struct StartPipelineRequest {
  std::string yaml;
  std::string file;  // as named in errors
  std::map<std::string, std::string> params;
};

// Each call is one HTTP exchange; server errors come back as Status (PERMISSION_DENIED →
// kPermissionDenied, …). Not thread-safe: one client per thread.
class PipelineClient {
 public:
  // `user` is sent as x-cairn-user with every request (see ResolveUser).
  static Result<std::unique_ptr<PipelineClient>> Connect(std::string_view tracking_uri,
                                                         std::string user);
  PipelineClient(std::unique_ptr<Transport> transport, std::string user);

  Result<store::PipelineRun> Start(const StartPipelineRequest& req);
  // Newest first; `statuses` empty: any.
  Result<std::vector<store::PipelineRun>> List(const std::vector<std::string>& statuses = {},
                                               std::string_view name = {},
                                               int64_t max_results = 100);
  // The run with its steps and its file's text (in spec).
  Result<store::PipelineRun> Get(std::string_view run_id);
  Result<store::PipelineRun> Cancel(std::string_view run_id);
  Result<store::StepRun> Approve(std::string_view run_id, std::string_view step,
                                 std::string_view comment);
  Result<store::StepRun> Reject(std::string_view run_id, std::string_view step,
                                std::string_view comment);
  Result<std::string> StepLog(std::string_view run_id, std::string_view step);

  const std::string& user() const { return user_; }

 private:
  Result<Json> Call(std::string_view method, const std::string& target, const Json* body);

  std::unique_ptr<Transport> transport_;
  std::string user_;
};

// Who acts: `flag` when set, else $CAIRN_USER, else the login name.
std::string ResolveUser(const std::string& flag);

// Records from the API's JSON (see api/v1/pipeline_routes.h).
Result<store::PipelineRun> PipelineRunFromJson(const Json& j);
Result<store::StepRun> StepRunFromJson(const Json& j, const std::string& run_id);

}  // namespace cairn::client
