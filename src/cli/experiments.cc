// cairn experiments create | list | get | delete | restore
#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/output.h"
#include "cli/views.h"
#include "wire/mlflow_entities.h"

namespace cairn::cli {
namespace {

using client::Json;

// "K=V" -> Tag; CLI11 has checked the '='.
client::Tag ParseTag(const std::string& kv) {
  size_t eq = kv.find('=');
  return {kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1)};
}

struct CreateOptions {
  std::string name;
  std::string artifact_location;
  std::vector<std::string> tags;
};

Status Create(Session& s, const CreateOptions& o) {
  CAIRN_TRY(client::TrackingClient * c, s.Client());
  std::vector<client::Tag> tags;
  for (const auto& kv : o.tags) tags.push_back(ParseTag(kv));
  CAIRN_TRY(std::string id, c->CreateExperiment(o.name, o.artifact_location, tags));
  if (s.json()) {
    s.out() << RenderJson({{"experiment_id", id}});
  } else {
    s.out() << "Created experiment '" << o.name << "' with id " << id << "\n";
  }
  return Status::Ok();
}

struct ListOptions {
  bool all = false;
  bool deleted = false;
  std::string filter;
};

Status List(Session& s, const ListOptions& o) {
  CAIRN_TRY(client::TrackingClient * c, s.Client());
  client::SearchExperimentsRequest req;
  req.filter = o.filter;
  req.view_type = o.all       ? client::ViewType::kAll
                  : o.deleted ? client::ViewType::kDeletedOnly
                              : client::ViewType::kActiveOnly;
  CAIRN_TRY(std::vector<client::Experiment> experiments, c->SearchAllExperiments(req));
  if (s.json()) {
    Json arr = Json::array();
    for (const auto& e : experiments) arr.push_back(wire::ToJson(e));
    s.out() << RenderJson(arr);
  } else {
    s.out() << ExperimentsTable(experiments);
  }
  return Status::Ok();
}

Status Get(Session& s, const std::string& name_or_id) {
  CAIRN_TRY(client::TrackingClient * c, s.Client());
  CAIRN_TRY(client::Experiment e, c->GetExperimentByNameOrId(name_or_id));
  s.out() << (s.json() ? RenderJson(wire::ToJson(e)) : ExperimentDetails(e));
  return Status::Ok();
}

Status SetStage(Session& s, const std::string& name_or_id, bool restore) {
  CAIRN_TRY(client::TrackingClient * c, s.Client());
  CAIRN_TRY(client::Experiment e, c->GetExperimentByNameOrId(name_or_id));
  CAIRN_RETURN_IF_ERROR(restore ? c->RestoreExperiment(e.experiment_id)
                                : c->DeleteExperiment(e.experiment_id));
  if (s.json()) {
    s.out() << RenderJson({{"experiment_id", e.experiment_id}});
  } else {
    s.out() << (restore ? "Restored" : "Deleted") << " experiment '" << e.name << "' (id "
            << e.experiment_id << ")\n";
  }
  return Status::Ok();
}

}  // namespace

void AddExperimentsCommands(CLI::App& app, GlobalOptions& g) {
  CLI::App* noun =
      app.add_subcommand("experiments", "Create, list, inspect and delete experiments");
  noun->require_subcommand(1);

  auto create = std::make_shared<CreateOptions>();
  CLI::App* c = noun->add_subcommand("create", "Create an experiment");
  c->add_option("name", create->name, "Experiment name")->required();
  c->add_option("--artifact-location", create->artifact_location,
                "Where the experiment's artifacts go (default: the server's artifact root)");
  c->add_option("--tag", create->tags, "A tag KEY=VALUE (repeatable)")
      ->check(CLI::Validator(
          [](std::string& v) {
            return v.find('=') == std::string::npos ? "expected KEY=VALUE" : "";
          },
          "KEY=VALUE"));
  c->callback([&g, create] { SetCommand(g, [create](Session& s) { return Create(s, *create); }); });

  auto list = std::make_shared<ListOptions>();
  CLI::App* l = noun->add_subcommand("list", "List experiments (active ones by default)");
  auto* all = l->add_flag("--all", list->all, "Active and deleted experiments");
  auto* deleted = l->add_flag("--deleted", list->deleted, "Deleted experiments only");
  all->excludes(deleted);
  l->add_option("--filter", list->filter, "Search filter, e.g. \"name LIKE 'churn%'\"");
  l->callback([&g, list] { SetCommand(g, [list](Session& s) { return List(s, *list); }); });

  auto get_name = std::make_shared<std::string>();
  CLI::App* gt = noun->add_subcommand("get", "Show an experiment");
  gt->add_option("experiment", *get_name, "Experiment name or id")->required();
  gt->callback(
      [&g, get_name] { SetCommand(g, [get_name](Session& s) { return Get(s, *get_name); }); });

  for (bool restore : {false, true}) {
    auto name = std::make_shared<std::string>();
    CLI::App* sub = noun->add_subcommand(
        restore ? "restore" : "delete",
        restore ? "Restore a deleted experiment" : "Delete an experiment (it can be restored)");
    sub->add_option("experiment", *name, "Experiment name or id")->required();
    sub->callback([&g, name, restore] {
      SetCommand(g, [name, restore](Session& s) { return SetStage(s, *name, restore); });
    });
  }
}

}  // namespace cairn::cli
