// cairn runs list | get | search | compare | delete
#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/output.h"
#include "cli/views.h"
#include "wire/mlflow_entities.h"

namespace cairn::cli {
namespace {

using client::Json;

struct SearchOptions {
  std::vector<std::string> experiments;  // names or ids; none: every active experiment
  std::string filter;
  std::vector<std::string> order_by;
  int64_t max_results = 1000;
  std::string view = "active";
};

// The ids of the experiments named (by name or id), and every experiment's name by id.
Status ResolveExperiments(client::TrackingClient& c, const std::vector<std::string>& names_or_ids,
                          std::vector<std::string>& ids, ExperimentNames& names) {
  if (names_or_ids.empty()) {
    CAIRN_TRY(std::vector<client::Experiment> all,
              c.SearchAllExperiments(client::SearchExperimentsRequest{}));
    for (const auto& e : all) {
      ids.push_back(e.experiment_id);
      names[e.experiment_id] = e.name;
    }
    return Status::Ok();
  }
  for (const std::string& n : names_or_ids) {
    CAIRN_TRY(client::Experiment e, c.GetExperimentByNameOrId(n));
    if (names.emplace(e.experiment_id, e.name).second) ids.push_back(e.experiment_id);
  }
  return Status::Ok();
}

Status Search(Session& s, const SearchOptions& o) {
  CAIRN_TRY(client::TrackingClient * c, s.Client());
  client::SearchRunsRequest req;
  ExperimentNames names;
  CAIRN_RETURN_IF_ERROR(ResolveExperiments(*c, o.experiments, req.experiment_ids, names));
  req.filter = o.filter;
  req.order_by = o.order_by;
  req.run_view_type = o.view == "all"       ? client::ViewType::kAll
                      : o.view == "deleted" ? client::ViewType::kDeletedOnly
                                            : client::ViewType::kActiveOnly;
  req.max_results = std::min<int64_t>(o.max_results, 1000);
  std::vector<client::Run> runs;
  if (!req.experiment_ids.empty()) {
    CAIRN_TRY(runs, c->SearchAllRuns(req, static_cast<size_t>(o.max_results)));
  }
  if (s.json()) {
    Json arr = Json::array();
    for (const auto& r : runs) arr.push_back(wire::ToJson(r));
    s.out() << RenderJson(arr);
    return Status::Ok();
  }
  std::vector<std::string> clauses = o.order_by;
  clauses.push_back(o.filter);
  NamedKeys keys = KeysNamedIn(clauses);
  RunsTableOptions table;
  table.show_stage = req.run_view_type != client::ViewType::kActiveOnly;
  table.metric_columns = keys.metrics;
  table.param_columns = keys.params;
  s.out() << RunsTable(runs, names, table);
  return Status::Ok();
}

Status Get(Session& s, const std::string& run_id) {
  CAIRN_TRY(client::TrackingClient * c, s.Client());
  CAIRN_TRY(client::Run run, c->GetRun(run_id));
  if (s.json()) {
    s.out() << RenderJson(wire::ToJson(run));
    return Status::Ok();
  }
  auto experiment = c->GetExperiment(run.info.experiment_id);  // only for its name
  s.out() << RunDetails(run, experiment.ok() ? experiment->name : "");
  return Status::Ok();
}

Status Compare(Session& s, const std::vector<std::string>& run_ids) {
  CAIRN_TRY(client::TrackingClient * c, s.Client());
  std::vector<client::Run> runs;
  for (const std::string& id : run_ids) {
    CAIRN_TRY(client::Run run, c->GetRun(id));
    runs.push_back(std::move(run));
  }
  if (s.json()) {
    Json arr = Json::array();
    for (const auto& r : runs) arr.push_back(wire::ToJson(r));
    s.out() << RenderJson(arr);
  } else {
    s.out() << CompareTable(runs);
  }
  return Status::Ok();
}

Status Delete(Session& s, const std::string& run_id) {
  CAIRN_TRY(client::TrackingClient * c, s.Client());
  CAIRN_RETURN_IF_ERROR(c->DeleteRun(run_id));
  if (s.json()) {
    s.out() << RenderJson({{"run_id", run_id}});
  } else {
    s.out() << "Deleted run " << run_id << "\n";
  }
  return Status::Ok();
}

void AddExperimentOption(CLI::App* sub, SearchOptions& o) {
  sub->add_option("--experiment,-e", o.experiments,
                  "Experiment name or id (repeatable; default: every active experiment)");
}

}  // namespace

void AddRunsCommands(CLI::App& app, GlobalOptions& g) {
  CLI::App* noun = app.add_subcommand("runs", "List, search, inspect, compare and delete runs");
  noun->require_subcommand(1);

  auto list = std::make_shared<SearchOptions>();
  CLI::App* l = noun->add_subcommand("list", "List the active runs of experiments");
  AddExperimentOption(l, *list);
  l->callback([&g, list] { SetCommand(g, [list](Session& s) { return Search(s, *list); }); });

  auto get_id = std::make_shared<std::string>();
  CLI::App* gt = noun->add_subcommand("get", "Show a run: info, params, metrics, tags, inputs");
  gt->add_option("run_id", *get_id, "Run id")->required();
  gt->callback([&g, get_id] { SetCommand(g, [get_id](Session& s) { return Get(s, *get_id); }); });

  auto search = std::make_shared<SearchOptions>();
  CLI::App* se = noun->add_subcommand("search", "Search runs with MLflow's filter grammar");
  AddExperimentOption(se, *search);
  se->add_option("--filter", search->filter, "e.g. \"metrics.auc > 0.9 and params.depth = '6'\"");
  se->add_option("--order-by", search->order_by, "e.g. \"metrics.auc DESC\" (repeatable)");
  se->add_option("--max-results", search->max_results, "At most this many runs (default 1000)")
      ->check(CLI::PositiveNumber);
  se->add_option("--view", search->view, "active (default), deleted or all")
      ->check(CLI::IsMember({"active", "deleted", "all"}));
  se->callback(
      [&g, search] { SetCommand(g, [search](Session& s) { return Search(s, *search); }); });

  auto compare_ids = std::make_shared<std::vector<std::string>>();
  CLI::App* cmp = noun->add_subcommand(
      "compare", "Params and latest metrics of runs side by side (differing rows marked *)");
  cmp->add_option("run_ids", *compare_ids, "Two or more run ids")->required()->expected(-2);
  cmp->callback([&g, compare_ids] {
    SetCommand(g, [compare_ids](Session& s) { return Compare(s, *compare_ids); });
  });

  auto delete_id = std::make_shared<std::string>();
  CLI::App* d = noun->add_subcommand("delete", "Delete a run (it can be restored)");
  d->add_option("run_id", *delete_id, "Run id")->required();
  d->callback([&g, delete_id] {
    SetCommand(g, [delete_id](Session& s) { return Delete(s, *delete_id); });
  });
}

}  // namespace cairn::cli
