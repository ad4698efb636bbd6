// How the CLI shows tracking entities as tables: pure functions from records to text, so they can
// be tested without a server.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cli/output.h"
#include "client/types.h"

namespace cairn::cli {

// experiment id -> name, for the EXPERIMENT column.
using ExperimentNames = std::map<std::string, std::string>;

std::string ExperimentsTable(const std::vector<client::Experiment>& experiments);
std::string ExperimentDetails(const client::Experiment& experiment);

struct RunsTableOptions {
  bool show_stage = false;                  // a STAGE column (deleted views)
  std::vector<std::string> metric_columns;  // extra columns, e.g. from the filter and order-by
  std::vector<std::string> param_columns;
};
std::string RunsTable(const std::vector<client::Run>& runs, const ExperimentNames& names,
                      const RunsTableOptions& options = {});
std::string RunDetails(const client::Run& run, std::string_view experiment_name);

// Params and latest metrics of several runs side by side, one column per run; rows whose values
// differ between runs are marked with '*' in the first column.
std::string CompareTable(const std::vector<client::Run>& runs);

std::string ArtifactsTable(const std::vector<client::FileInfo>& files);

// The metric and param keys a search filter or order-by clause names ("metrics.auc > 0.9" ->
// metric "auc"), in order of appearance, without duplicates. Quoted keys ("metrics.`f1 score`",
// metrics."a b") are understood.
struct NamedKeys {
  std::vector<std::string> metrics;
  std::vector<std::string> params;
};
NamedKeys KeysNamedIn(const std::vector<std::string>& clauses);

}  // namespace cairn::cli
