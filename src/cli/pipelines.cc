// cairn pipelines validate | run | list | show | logs | cancel | approve | reject
//                 | create | definitions | delete (stored pipelines, their triggers: triggers.cc)
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "cli/command.h"
#include "cli/output.h"
#include "client/pipeline_client.h"
#include "client/trigger_client.h"
#include "core/clock.h"
#include "pipelines/spec.h"
#include "pipelines/step.h"

namespace cairn::cli {

// triggers.cc
nlohmann::json TriggerJson(const store::TriggerRecord& t);
std::string RenderTriggerTable(const std::vector<store::TriggerRecord>& list);

namespace {

using client::Json;
using client::PipelineClient;
using store::PipelineRun;
using store::StepRun;

struct PipelineOptions {
  std::string user;  // --user: who acts (approvals, who started a run)
};

Result<std::unique_ptr<PipelineClient>> Connect(Session& s, const PipelineOptions& p) {
  return PipelineClient::Connect(s.tracking_uri(), client::ResolveUser(p.user));
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read pipeline file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Duration(int64_t start, int64_t end) {
  if (start <= 0) return "-";
  const int64_t stop = end > 0 ? end : SystemClock::Instance().NowMillis();
  return FormatDuration(stop - start);
}

std::string StepInfo(const StepRun& s) {
  std::string info;
  Json outputs = Json::parse(s.outputs, nullptr, false);
  if (outputs.is_object()) {
    for (const auto& [k, v] : outputs.items()) {
      info += (info.empty() ? "" : " ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    }
  }
  if (!s.error.empty()) info = s.error + (info.empty() ? "" : "  " + info);
  if (s.status == store::StepRunStatus::kWaiting) {
    info = "waiting for approval" +
           (s.deadline > 0 ? " until " + FormatTimestamp(s.deadline) : std::string());
  }
  if (!s.decided_by.empty()) {
    info = s.decision + " by " + s.decided_by + (s.comment.empty() ? "" : ": " + s.comment);
  }
  return OneLine(info);
}

Json RunJson(const PipelineRun& r, bool with_spec) {
  Json steps = Json::array();
  for (const StepRun& s : r.steps) {
    Json j = {{"step_id", s.step_id},
              {"uses", s.uses},
              {"status", std::string(store::StepRunStatusName(s.status))},
              {"attempt", s.attempt},
              {"outputs", Json::parse(s.outputs, nullptr, false)},
              {"error", s.error},
              {"mlflow_run_id", s.mlflow_run_id},
              {"start_time", s.start_time},
              {"end_time", s.end_time}};
    if (s.uses == "gate.approval") {
      j["decision"] = s.decision;
      j["decided_by"] = s.decided_by;
      j["comment"] = s.comment;
      j["deadline"] = s.deadline;
    }
    steps.push_back(std::move(j));
  }
  Json j = {{"run_id", r.run_id},
            {"name", r.name},
            {"file", r.file},
            {"status", std::string(store::PipelineRunStatusName(r.status))},
            {"params", Json::parse(r.params, nullptr, false)},
            {"created_by", r.created_by},
            {"error", r.error},
            {"mlflow_run_id", r.mlflow_run_id},
            {"experiment_id", r.experiment_id},
            {"creation_time", r.creation_time},
            {"start_time", r.start_time},
            {"end_time", r.end_time},
            {"steps", std::move(steps)}};
  if (with_spec) j["spec"] = r.spec;
  return j;
}

void PrintRun(Session& s, const PipelineRun& r) {
  if (s.json()) {
    s.out() << RenderJson(RunJson(r, false));
    return;
  }
  std::vector<std::pair<std::string, std::string>> kv = {
      {"run", r.run_id},
      {"pipeline", r.name + "  (" + r.file + ")"},
      {"status", std::string(store::PipelineRunStatusName(r.status))},
      {"started by", r.created_by},
      {"created", FormatTimestamp(r.creation_time)},
      {"duration", Duration(r.start_time, r.end_time)}};
  Json params = Json::parse(r.params, nullptr, false);
  if (params.is_object() && !params.empty()) {
    std::string text;
    for (const auto& [k, v] : params.items()) {
      text += (text.empty() ? "" : " ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    }
    kv.push_back({"params", text});
  }
  if (!r.mlflow_run_id.empty()) {
    kv.push_back({"mlflow run", r.mlflow_run_id + " (experiment " + r.experiment_id + ")"});
  }
  if (!r.error.empty()) kv.push_back({"error", r.error});
  s.out() << RenderKeyValues(kv) << "\n";
  Table table({"STEP", "USES", "STATUS", "DURATION", "RUN", "OUTPUTS / INFO"});
  table.SetMaxWidth(5, 100);
  for (const StepRun& step : r.steps) {
    std::string status(store::StepRunStatusName(step.status));
    if (step.attempt > 1) status += " (attempt " + std::to_string(step.attempt) + ")";
    table.AddRow({step.step_id, step.uses, status, Duration(step.start_time, step.end_time),
                  step.mlflow_run_id.empty() ? "-" : step.mlflow_run_id.substr(0, 8),
                  StepInfo(step)});
  }
  s.out() << table.Render();
}

// --- validate ------------------------------------------------------------------------------------

Status Validate(Session& s, const PipelineOptions&, const std::string& file) {
  CAIRN_TRY(std::string yaml, ReadFile(file));
  const pipelines::StepTable table = pipelines::BuiltinStepTypes();
  pipelines::ParsedPipeline parsed = pipelines::ParsePipeline(yaml, file, table);
  if (s.json()) {
    Json errors = Json::array();
    for (const auto& e : parsed.errors) {
      errors.push_back({{"file", e.file}, {"line", e.line}, {"step", e.step},
                        {"message", e.message}});
    }
    s.out() << RenderJson({{"file", file},
                           {"valid", parsed.errors.empty()},
                           {"name", parsed.spec.name},
                           {"steps", parsed.spec.steps.size()},
                           {"errors", errors}});
  } else if (parsed.errors.empty()) {
    s.out() << file << ": pipeline '" << parsed.spec.name << "' is valid ("
            << parsed.spec.steps.size() << " steps)\n";
  }
  if (parsed.errors.empty()) return Status();
  if (!s.json()) {
    for (const auto& e : parsed.errors) std::cerr << e.ToString() << "\n";
  }
  return InvalidArgument(file + ": " + std::to_string(parsed.errors.size()) +
                         (parsed.errors.size() == 1 ? " problem" : " problems"));
}

// --- run -------------------------------------------------------------------------------------------

struct RunOptions {
  std::string file;
  std::vector<std::string> params;
  bool wait = false;
};

Status FollowRun(Session& s, const PipelineOptions& p, const RunOptions& o, PipelineRun run);

// A stored pipeline's name, not a file: no such file, and nothing that looks like a path.
bool IsStoredName(const std::string& arg) {
  std::error_code ec;
  if (std::filesystem::exists(arg, ec)) return false;
  if (arg.find('/') != std::string::npos) return false;
  const std::string ext = std::filesystem::path(arg).extension().string();
  return ext != ".yaml" && ext != ".yml";
}

Status RunPipeline(Session& s, const PipelineOptions& p, const RunOptions& o) {
  std::map<std::string, std::string> params;
  for (const std::string& pair : o.params) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("--param '" + pair + "': expected KEY=VALUE");
    }
    params[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  if (IsStoredName(o.file)) {
    CAIRN_TRY(auto triggers, client::TriggerClient::Connect(s.tracking_uri(),
                                                            client::ResolveUser(p.user)));
    CAIRN_TRY(PipelineRun run, triggers->RunDefinition(o.file, params));
    return FollowRun(s, p, o, run);
  }
  CAIRN_TRY(std::string yaml, ReadFile(o.file));
  client::StartPipelineRequest req;
  req.yaml = std::move(yaml);
  // Absolute, so that the server finds the files a step names relative to the pipeline file.
  std::error_code absolute_error;
  const std::filesystem::path absolute = std::filesystem::absolute(o.file, absolute_error);
  req.file = absolute_error ? o.file : absolute.lexically_normal().string();
  req.params = params;
  CAIRN_TRY(auto client, Connect(s, p));
  CAIRN_TRY(PipelineRun run, client->Start(req));
  return FollowRun(s, p, o, run);
}

// Prints the started run, or (--wait) follows it until it ends.
Status FollowRun(Session& s, const PipelineOptions& p, const RunOptions& o, PipelineRun run) {
  CAIRN_TRY(auto client, Connect(s, p));
  if (!o.wait) {
    if (s.json()) {
      s.out() << RenderJson(RunJson(run, false));
    } else {
      s.out() << "started pipeline run " << run.run_id << " (" << run.name << ")\n"
              << "follow it with: cairn pipelines show " << run.run_id << "\n";
    }
    return Status();
  }
  // Follows the run, printing each step's transitions on stderr, until it ends.
  std::map<std::string, store::StepRunStatus> seen;
  std::cerr << "pipeline run " << run.run_id << " (" << run.name << ")\n";
  while (true) {
    CAIRN_TRY(run, client->Get(run.run_id));
    for (const StepRun& step : run.steps) {
      auto it = seen.find(step.step_id);
      if (it != seen.end() && it->second == step.status) continue;
      if (it == seen.end() && step.status == store::StepRunStatus::kQueued) {
        seen[step.step_id] = step.status;
        continue;
      }
      seen[step.step_id] = step.status;
      std::cerr << "  " << step.step_id << ": " << store::StepRunStatusName(step.status);
      if (step.status == store::StepRunStatus::kWaiting) {
        std::cerr << " (cairn pipelines approve " << run.run_id << " " << step.step_id << ")";
      } else if (!step.error.empty()) {
        std::cerr << " — " << OneLine(step.error);
      }
      std::cerr << "\n";
    }
    if (store::IsTerminal(run.status)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  PrintRun(s, run);
  if (run.status != store::PipelineRunStatus::kSucceeded) {
    return FailedPrecondition("pipeline run " + run.run_id + " " +
                              std::string(store::PipelineRunStatusName(run.status)) +
                              (run.error.empty() ? "" : ": " + run.error));
  }
  return Status();
}

// --- list, show, logs, cancel, approve, reject --------------------------------------------------

struct ListOptions {
  std::vector<std::string> status;
  std::string name;
  int64_t max_results = 50;
};

Status List(Session& s, const PipelineOptions& p, const ListOptions& o) {
  CAIRN_TRY(auto client, Connect(s, p));
  CAIRN_TRY(auto runs, client->List(o.status, o.name, o.max_results));
  if (s.json()) {
    Json out = Json::array();
    for (const auto& r : runs) out.push_back(RunJson(r, false));
    s.out() << RenderJson({{"runs", out}});
    return Status();
  }
  Table table({"RUN", "PIPELINE", "STATUS", "STEPS", "STARTED BY", "CREATED", "DURATION"});
  for (const auto& r : runs) {
    int done = 0;
    for (const auto& st : r.steps) done += store::IsTerminal(st.status) ? 1 : 0;
    std::string status(store::PipelineRunStatusName(r.status));
    for (const auto& st : r.steps) {
      if (st.status == store::StepRunStatus::kWaiting) status += " (waiting: " + st.step_id + ")";
    }
    table.AddRow({r.run_id, r.name, status,
                  std::to_string(done) + "/" + std::to_string(r.steps.size()), r.created_by,
                  FormatTimestamp(r.creation_time), Duration(r.start_time, r.end_time)});
  }
  s.out() << table.Render();
  if (table.rows() == 0) s.out() << "(no pipeline runs)\n";
  return Status();
}

Status Show(Session& s, const PipelineOptions& p, const std::string& id) {
  CAIRN_TRY(auto client, Connect(s, p));
  CAIRN_TRY(PipelineRun run, client->Get(id));
  PrintRun(s, run);
  return Status();
}

struct LogsOptions {
  std::string run;
  std::string step;
};

Status Logs(Session& s, const PipelineOptions& p, const LogsOptions& o) {
  CAIRN_TRY(auto client, Connect(s, p));
  std::vector<std::string> steps;
  if (!o.step.empty()) {
    steps.push_back(o.step);
  } else {
    CAIRN_TRY(PipelineRun run, client->Get(o.run));
    for (const auto& st : run.steps) steps.push_back(st.step_id);
  }
  Json all = Json::object();
  for (const std::string& step : steps) {
    CAIRN_TRY(std::string log, client->StepLog(o.run, step));
    if (s.json()) {
      all[step] = log;
    } else if (o.step.empty()) {
      if (log.empty()) continue;
      s.out() << "== " << step << " ==\n" << log;
    } else {
      s.out() << log;
    }
  }
  if (s.json()) s.out() << RenderJson({{"run_id", o.run}, {"logs", all}});
  return Status();
}

Status Cancel(Session& s, const PipelineOptions& p, const std::string& id) {
  CAIRN_TRY(auto client, Connect(s, p));
  CAIRN_TRY(PipelineRun run, client->Cancel(id));
  if (s.json()) {
    s.out() << RenderJson(RunJson(run, false));
  } else {
    s.out() << "cancelling pipeline run " << run.run_id << "\n";
  }
  return Status();
}

struct DecideOptions {
  std::string run;
  std::string step;
  std::string comment;
};

Status Decide(Session& s, const PipelineOptions& p, const DecideOptions& o, bool approve) {
  CAIRN_TRY(auto client, Connect(s, p));
  CAIRN_TRY(StepRun step, approve ? client->Approve(o.run, o.step, o.comment)
                                  : client->Reject(o.run, o.step, o.comment));
  if (s.json()) {
    s.out() << RenderJson({{"run_id", o.run},
                           {"step_id", step.step_id},
                           {"decision", step.decision},
                           {"decided_by", step.decided_by},
                           {"comment", step.comment},
                           {"decision_time", step.decision_time}});
  } else {
    s.out() << step.step_id << " of pipeline run " << o.run << ": " << step.decision << " by "
            << step.decided_by << "\n";
  }
  return Status();
}

// --- stored pipelines: create, definitions, delete -------------------------------------------

Status Create(Session& s, const PipelineOptions& p, const std::string& file) {
  CAIRN_TRY(std::string yaml, ReadFile(file));
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(file, ec);
  CAIRN_TRY(auto client, client::TriggerClient::Connect(s.tracking_uri(),
                                                        client::ResolveUser(p.user)));
  CAIRN_TRY(auto stored, client->CreateDefinition(
                             yaml, ec ? file : absolute.lexically_normal().string()));
  const store::PipelineDefinition& d = stored.definition;
  if (s.json()) {
    Json triggers = Json::array();
    for (const auto& t : stored.triggers) triggers.push_back(TriggerJson(t));
    s.out() << RenderJson({{"name", d.name},
                           {"revision", d.revision},
                           {"file", d.file},
                           {"created_by", d.created_by},
                           {"last_update_time", d.last_update_time},
                           {"triggers", triggers}});
    return Status();
  }
  s.out() << "stored pipeline '" << d.name << "' revision " << d.revision << " with "
          << stored.triggers.size() << (stored.triggers.size() == 1 ? " trigger" : " triggers")
          << "\n";
  if (!stored.triggers.empty()) s.out() << RenderTriggerTable(stored.triggers);
  s.out() << "run it with: cairn pipelines run " << d.name << "\n";
  return Status();
}

Status Definitions(Session& s, const PipelineOptions& p) {
  CAIRN_TRY(auto client, client::TriggerClient::Connect(s.tracking_uri(),
                                                        client::ResolveUser(p.user)));
  CAIRN_TRY(auto defs, client->ListDefinitions());
  if (s.json()) {
    Json out = Json::array();
    for (const auto& d : defs) {
      out.push_back({{"name", d.name},
                     {"revision", d.revision},
                     {"file", d.file},
                     {"created_by", d.created_by},
                     {"trigger_count", d.trigger_count},
                     {"creation_time", d.creation_time},
                     {"last_update_time", d.last_update_time}});
    }
    s.out() << RenderJson({{"definitions", out}});
    return Status();
  }
  Table table({"PIPELINE", "REVISION", "TRIGGERS", "UPDATED", "BY", "FILE"});
  for (const auto& d : defs) {
    table.AddRow({d.name, std::to_string(d.revision), std::to_string(d.trigger_count),
                  FormatTimestamp(d.last_update_time), d.created_by, d.file});
  }
  s.out() << table.Render();
  if (defs.empty()) s.out() << "(no stored pipelines; store one with: cairn pipelines create FILE)\n";
  return Status();
}

Status Delete(Session& s, const PipelineOptions& p, const std::string& name) {
  CAIRN_TRY(auto client, client::TriggerClient::Connect(s.tracking_uri(),
                                                        client::ResolveUser(p.user)));
  CAIRN_RETURN_IF_ERROR(client->DeleteDefinition(name));
  if (s.json()) {
    s.out() << RenderJson({{"name", name}, {"deleted", true}});
  } else {
    s.out() << "deleted pipeline '" << name << "' and its triggers\n";
  }
  return Status();
}

}  // namespace

void AddPipelinesCommands(CLI::App& app, GlobalOptions& g) {
  CLI::App* noun = app.add_subcommand(
      "pipelines", "Declarative pipelines: validate, run, follow, approve or reject gates");
  noun->require_subcommand(1);
  auto p = std::make_shared<PipelineOptions>();
  noun->add_option("--user", p->user,
                   "Who acts (approvals, starting runs); default: $CAIRN_USER, else the login "
                   "name")
      ->configurable(false);

  auto validate = std::make_shared<std::string>();
  CLI::App* v = noun->add_subcommand(
      "validate", "Check a pipeline file (step types, needs, references, inputs, if) offline");
  v->add_option("file", *validate, "Pipeline YAML file")->required();
  v->callback([&g, p, validate] {
    SetCommand(g, [p, validate](Session& s) { return Validate(s, *p, *validate); });
  });

  auto run = std::make_shared<RunOptions>();
  CLI::App* r = noun->add_subcommand("run", "Start a run of a pipeline file or a stored pipeline");
  r->add_option("pipeline", run->file,
                "Pipeline YAML file, or the name of a stored pipeline (cairn pipelines create)")
      ->required();
  r->add_option("--param", run->params, "KEY=VALUE for a declared parameter (repeatable)");
  r->add_flag("--wait", run->wait, "Follow the run until it ends; exit 1 unless it succeeded");
  r->callback([&g, p, run] {
    SetCommand(g, [p, run](Session& s) { return RunPipeline(s, *p, *run); });
  });

  auto create = std::make_shared<std::string>();
  CLI::App* cr = noun->add_subcommand(
      "create", "Store a pipeline file on the server under its name (again: a new revision); "
                "its triggers start watching");
  cr->add_option("file", *create, "Pipeline YAML file")->required();
  cr->callback([&g, p, create] {
    SetCommand(g, [p, create](Session& s) { return Create(s, *p, *create); });
  });
  CLI::App* defs = noun->add_subcommand("definitions", "List the stored pipelines");
  defs->callback([&g, p] { SetCommand(g, [p](Session& s) { return Definitions(s, *p); }); });
  auto del = std::make_shared<std::string>();
  CLI::App* dl = noun->add_subcommand("delete", "Delete a stored pipeline and its triggers");
  dl->add_option("name", *del, "Stored pipeline name")->required();
  dl->callback([&g, p, del] {
    SetCommand(g, [p, del](Session& s) { return Delete(s, *p, *del); });
  });

  auto list = std::make_shared<ListOptions>();
  CLI::App* l = noun->add_subcommand("list", "List pipeline runs, newest first");
  l->add_option("--status", list->status,
                "Only runs with this status: queued, running, succeeded, failed, cancelled");
  l->add_option("--name", list->name, "Only runs of this pipeline");
  l->add_option("--max-results", list->max_results, "At most this many (default 50)")
      ->check(CLI::Range(1, 1000));
  l->callback([&g, p, list] {
    SetCommand(g, [p, list](Session& s) { return List(s, *p, *list); });
  });

  auto show = std::make_shared<std::string>();
  CLI::App* sh = noun->add_subcommand("show", "Show a run and its steps: status, duration, "
                                              "outputs");
  sh->add_option("run", *show, "Pipeline run id")->required();
  sh->callback([&g, p, show] {
    SetCommand(g, [p, show](Session& s) { return Show(s, *p, *show); });
  });

  auto logs = std::make_shared<LogsOptions>();
  CLI::App* lg = noun->add_subcommand("logs", "Print the logs of a run's steps");
  lg->add_option("run", logs->run, "Pipeline run id")->required();
  lg->add_option("step", logs->step, "Only this step");
  lg->callback([&g, p, logs] {
    SetCommand(g, [p, logs](Session& s) { return Logs(s, *p, *logs); });
  });

  auto cancel = std::make_shared<std::string>();
  CLI::App* c = noun->add_subcommand("cancel", "Cancel a run");
  c->add_option("run", *cancel, "Pipeline run id")->required();
  c->callback([&g, p, cancel] {
    SetCommand(g, [p, cancel](Session& s) { return Cancel(s, *p, *cancel); });
  });

  for (bool approve : {true, false}) {
    auto decide = std::make_shared<DecideOptions>();
    CLI::App* d = noun->add_subcommand(approve ? "approve" : "reject",
                                       approve ? "Approve a waiting gate.approval step"
                                               : "Reject a waiting gate.approval step (the run "
                                                 "fails)");
    d->add_option("run", decide->run, "Pipeline run id")->required();
    d->add_option("step", decide->step, "The gate's step id")->required();
    d->add_option("--comment,-m", decide->comment, "Why");
    d->callback([&g, p, decide, approve] {
      SetCommand(g, [p, decide, approve](Session& s) { return Decide(s, *p, *decide, approve); });
    });
  }
}

}  // namespace cairn::cli
