// Compares a candidate and a baseline model on the same rows of a dataset version — only rows
// neither model trained on — and logs an evaluation run: what `cairn models compare` and the
// pipelines' model.compare step both do, over the client library.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "client/dataset_client.h"
#include "client/registry_client.h"
#include "client/tracking_client.h"
#include "core/result.h"

namespace cairn::workflows {

struct CompareRequest {
  std::string candidate;  // models:/NAME/VERSION, models:/NAME@ALIAS, runs:/RUN/PATH or a dir
  std::string baseline;
  std::string data;    // NAME[@VERSION]
  std::string file;    // the CSV of a multi-file version
  std::string target;  // default: the model's
  std::string metric;  // default: auc, accuracy or rmse by task
  double min_improvement = 0.002;
  std::string experiment = "model-comparisons";
  std::string command_line;
  std::string source_name = "cairn models compare";
  std::vector<store::Tag> extra_tags;  // e.g. mlflow.parentRunId
  std::string user;                    // the run's user; empty: none given
  // Names the inputs in errors: "--candidate" (CLI) or "with.candidate" (pipelines).
  std::string field_prefix = "--";
};

struct ComparedModel {
  std::string role;      // "candidate" | "baseline"
  std::string uri;
  std::string resolved;  // "models:/churn/2", or the URI itself
  std::string run_id;
  std::optional<std::string> trained_on;  // NAME@vN, when its run records it
  std::map<std::string, double> metrics;
};

struct CompareOutcome {
  ComparedModel candidate;
  ComparedModel baseline;
  std::string data;  // NAME@vN
  int64_t rows_total = 0;
  int64_t rows_kept = 0;
  int64_t rows_evaluated = 0;
  std::string metric;
  double improvement = 0;  // positive: the candidate is better
  double min_improvement = 0;
  bool better = false;
  std::string run_id;  // the evaluation run
  std::vector<std::string> warnings;
};

// Metrics where a smaller value is the better one.
bool LowerIsBetter(const std::string& metric);

Result<CompareOutcome> CompareModels(client::TrackingClient& tracking,
                                     client::RegistryClient& registry,
                                     client::DatasetClient& datasets,
                                     const CompareRequest& request);

}  // namespace cairn::workflows
