// Request and response types of the registry service (what the API layer parses wire formats
// into), and Cairn's approval state of a model version.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/records.h"

namespace cairn::registry {

struct CreateModelVersionRequest {
  std::string name;
  // runs:/RUN_ID/PATH, models:/NAME/VERSION (or @ALIAS, /STAGE, /latest), mlflow-artifacts:/…, a
  // run's artifact URI + path, or any remote URI (s3://…). Local paths and file: URIs only inside
  // the artifact root of `run_id` (as MLflow).
  std::string source;
  std::string run_id;  // empty: taken from a runs:/ or models:/ source when there is one
  std::vector<store::Tag> tags;
  std::string run_link;
  std::string description;
};

struct SearchRegisteredModelsRequest {
  std::string filter;  // "name LIKE '%churn%' AND tags.team = 'growth'"
  int64_t max_results = 100;
  std::vector<std::string> order_by;  // "name", "last_updated_timestamp DESC", …
  std::string page_token;
};

struct RegisteredModelsPage {
  std::vector<store::RegisteredModel> models;
  std::string next_page_token;  // empty on the last page
};

struct SearchModelVersionsRequest {
  std::string filter;  // "name = 'churn' AND run_id IN ('a', 'b')", "source_path LIKE 'runs:/%'"
  int64_t max_results = 10000;
  std::vector<std::string> order_by;  // "version_number DESC", …
  std::string page_token;
};

struct ModelVersionsPage {
  std::vector<store::ModelVersion> versions;
  std::string next_page_token;
};

// MLflow's limits.
inline constexpr int64_t kMaxRegisteredModelsPerPage = 1000;
inline constexpr int64_t kMaxModelVersionsPerPage = 200000;
inline constexpr size_t kMaxModelNameLength = 256;
inline constexpr size_t kMaxRegistryTagValueLength = 5000;
inline constexpr size_t kMaxAliasLength = 255;

// Cairn's approval of a model version, kept in the version's tags (cairn.approval.state, .by,
// .time, .comment) so MLflow clients see and keep it. A version without them is pending.
enum class ApprovalState { kPending, kApproved, kRejected };
std::string_view ApprovalStateName(ApprovalState state);  // "pending" | "approved" | "rejected"
std::optional<ApprovalState> ParseApprovalState(std::string_view name);

inline constexpr std::string_view kApprovalStateTag = "cairn.approval.state";
inline constexpr std::string_view kApprovalByTag = "cairn.approval.by";
inline constexpr std::string_view kApprovalTimeTag = "cairn.approval.time";
inline constexpr std::string_view kApprovalCommentTag = "cairn.approval.comment";

struct Approval {
  ApprovalState state = ApprovalState::kPending;
  std::string by;        // who decided; empty while pending
  int64_t time = 0;      // when (ms since the epoch); 0 while pending
  std::string comment;
};

// The approval recorded in `version`'s tags (pending when there is none).
Approval ApprovalOf(const store::ModelVersion& version);

}  // namespace cairn::registry
