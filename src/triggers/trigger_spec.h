// A pipeline's `triggers`: validating them (with the field each problem is in), deriving the
// stored triggers (readable ids, normalized conditions) and describing a condition in words.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace cairn::triggers {

// One problem, at `path` ("triggers[1].drift.threshold"; indexes from 0).
struct TriggerProblem {
  std::string path;
  std::string message;
};

// Validates `triggers` as PipelineSpec keeps them (a JSON list of one-key objects; YAML scalars
// arrive as strings, JSON numbers are accepted too):
//   schedule: "CRON"                                   (cron.h)
//   drift:    {endpoint, threshold, column?, statistic?}  threshold ≥ 0 (≤ 1 for the share);
//             statistic one of score, p_value, statistic, psi, and only with column
//   metric:   {endpoint, name, below, window?, min_count?}  name one of kMetricNames; window a
//             duration (30m, 1h, 7d; default 1h); min_count ≥ 1 (default 50)
//   dataset:  NAME or {name: NAME}
// Every problem is reported, not just the first.
std::vector<TriggerProblem> ValidateTriggers(const nlohmann::json& triggers);

// The live metrics a metric trigger may name.
extern const char* const kMetricNames[];

// A trigger as stored: id "<pipeline>/<kind>" ("<kind>-2", "-3" … for further ones of a kind)
// and its condition normalized (numbers as numbers, defaults filled in, dataset as {name}).
struct TriggerDef {
  std::string id;
  std::string kind;
  int64_t position = 0;
  nlohmann::json condition;
};

// kInvalidArgument listing the problems (one per line, "triggers[0].schedule: …") when
// ValidateTriggers finds any.
Result<std::vector<TriggerDef>> DeriveTriggers(std::string_view pipeline,
                                               const nlohmann::json& triggers);

// The condition in words: "0 3 * * * (UTC)", "churn: drift share ≥ 0.5", "churn: column tenure
// score < 0.05", "churn: auc < 0.7 over 1h (≥ 50 labels)", "new version of dataset churn".
std::string DescribeCondition(std::string_view kind, const nlohmann::json& condition);

// Whether a drift statistic is a p-value (fires when below the threshold) rather than a
// distance (fires when at or above it): `statistic` "p_value", or "score" of a ks, chi2 or z test.
bool IsPValue(std::string_view statistic, std::string_view test);

// "30s", "15m", "1h", "7d" (or a bare number of seconds) → ms; kInvalidArgument otherwise.
Result<int64_t> ParseDuration(std::string_view text);
// 3600000 → "1h".
std::string FormatDuration(int64_t ms);

}  // namespace cairn::triggers
