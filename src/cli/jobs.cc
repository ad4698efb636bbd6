// cairn jobs submit | list | show | logs | cancel
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/command.h"
#include "cli/output.h"
#include "client/job_client.h"

namespace cairn::cli {
namespace {

using client::JobClient;
using client::JobInfo;
using nlohmann::json;

Result<std::unique_ptr<JobClient>> Connect(Session& s) {
  return JobClient::Connect(s.tracking_uri());
}

std::string Or(const std::string& s) { return s.empty() ? "-" : s; }

std::optional<int64_t> Duration(const store::JobRecord& r) {
  if (r.start_time == 0) return std::nullopt;
  return (r.end_time ? r.end_time : r.start_time) - r.start_time;
}

json ToJson(const JobInfo& j) {
  const store::JobRecord& r = j.record;
  return {{"id", r.job_id},
          {"name", r.name},
          {"state", j.state},
          {"compute", r.compute},
          {"run_id", r.run_id},
          {"experiment_id", r.experiment_id},
          {"code_digest", r.code_digest},
          {"executor_handle", r.executor_handle},
          {"creation_time", r.creation_time},
          {"start_time", r.start_time},
          {"end_time", r.end_time},
          {"exit_code", r.exit_code ? json(*r.exit_code) : json(nullptr)},
          {"message", r.message},
          {"spec", jobs::ToJson(j.spec)}};
}

void PrintJob(Session& s, const JobInfo& j) {
  if (s.json()) {
    s.out() << RenderJson(ToJson(j));
    return;
  }
  const store::JobRecord& r = j.record;
  std::vector<std::pair<std::string, std::string>> kv = {
      {"id", r.job_id},
      {"name", r.name},
      {"state", j.state},
      {"compute", r.compute},
      {"run", r.run_id},
      {"experiment", r.experiment_id},
      {"command", OneLine(j.spec.command)},
      {"code", Or(r.code_digest)},
      {"created", FormatTimestamp(r.creation_time)},
      {"started", FormatTimestamp(r.start_time)},
      {"ended", FormatTimestamp(r.end_time)},
      {"duration", FormatDuration(Duration(r))},
      {"exit code", r.exit_code ? std::to_string(*r.exit_code) : "-"},
  };
  if (!r.message.empty()) kv.push_back({"message", OneLine(r.message)});
  for (const auto& [name, in] : j.spec.inputs) {
    kv.push_back({"input " + name, std::string(jobs::InputKindName(in.kind)) + " " + in.value});
  }
  for (const auto& [name, out] : j.spec.outputs) {
    kv.push_back({"output " + name, std::string(jobs::OutputTypeName(out.type)) +
                                        " (artifacts: outputs/" + name + ")"});
  }
  s.out() << RenderKeyValues(kv);
}

// A job that ended otherwise than succeeding is a failure of the command that waited for it.
Status Outcome(const JobInfo& j) {
  if (j.state == "succeeded") return Status::Ok();
  std::string why = j.record.message.empty() ? "" : ": " + j.record.message;
  return Internal("job " + j.record.job_id + " " + j.state + why);
}

struct SubmitOptions {
  std::string file;
  std::string compute;
  std::vector<std::string> params;
  bool wait = false;
  bool stream = false;
};

Status Submit(Session& s, const SubmitOptions& o) {
  CAIRN_TRY(auto c, Connect(s));
  client::JobSubmitOptions options;
  if (!o.compute.empty()) options.compute = o.compute;
  options.params = o.params;
  CAIRN_TRY(auto result, c->Submit(o.file, options));
  JobInfo job = result.job;
  if (!s.json()) {
    std::cerr << "submitted job " << job.record.job_id << " (run " << job.record.run_id << ", "
              << result.files << " files, " << FormatBytes(result.bytes) << ", "
              << FormatBytes(result.uploaded_bytes) << " uploaded)\n";
  }
  if (o.stream) {
    CAIRN_RETURN_IF_ERROR(c->FollowLog(job.record.job_id, "stdout",
                                       [&](std::string_view d) { s.out() << d << std::flush; }));
  }
  if (o.wait || o.stream) {
    CAIRN_TRY(job, c->Wait(job.record.job_id));
  }
  if (s.json() || o.wait || o.stream) {
    if (!o.stream || s.json()) PrintJob(s, job);
  } else {
    s.out() << job.record.job_id << "\n";
  }
  if (o.wait || o.stream) return Outcome(job);
  return Status::Ok();
}

struct ListOptions {
  std::vector<std::string> states;
  int64_t max_results = 50;
};

Status List(Session& s, const ListOptions& o) {
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(auto jobs, c->List(o.states, o.max_results));
  if (s.json()) {
    json arr = json::array();
    for (const auto& j : jobs) arr.push_back(ToJson(j));
    s.out() << RenderJson(json{{"jobs", arr}});
    return Status::Ok();
  }
  Table t({"ID", "NAME", "STATE", "COMPUTE", "EXIT", "CREATED", "DURATION", "RUN"});
  for (const auto& j : jobs) {
    const store::JobRecord& r = j.record;
    t.AddRow({r.job_id, r.name, j.state, r.compute,
              r.exit_code ? std::to_string(*r.exit_code) : "-", FormatTimestamp(r.creation_time),
              FormatDuration(Duration(r)), r.run_id});
  }
  s.out() << t.Render();
  return Status::Ok();
}

Status Show(Session& s, const std::string& id) {
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(auto job, c->Get(id));
  PrintJob(s, job);
  return Status::Ok();
}

struct LogsOptions {
  std::string id;
  std::string stream = "stdout";
  bool follow = false;
};

Status Logs(Session& s, const LogsOptions& o) {
  CAIRN_TRY(auto c, Connect(s));
  if (o.follow) {
    return c->FollowLog(o.id, o.stream, [&](std::string_view d) { s.out() << d << std::flush; });
  }
  int64_t offset = 0;
  while (true) {
    CAIRN_TRY(auto chunk, c->ReadLog(o.id, o.stream, offset));
    s.out() << chunk.data;
    if (chunk.data.empty() || chunk.complete) break;
    offset = chunk.next_offset;
  }
  return Status::Ok();
}

Status Cancel(Session& s, const std::string& id) {
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(auto job, c->Cancel(id));
  if (s.json()) {
    PrintJob(s, job);
  } else {
    s.out() << "job " << job.record.job_id << ": "
            << (job.state == "cancelled" ? "cancelled" : "cancel requested") << "\n";
  }
  return Status::Ok();
}

template <typename T>
void Run(CLI::App* app, GlobalOptions& g, std::shared_ptr<T> options,
         Status (*fn)(Session&, const T&)) {
  app->callback(
      [&g, options, fn] { SetCommand(g, [options, fn](Session& s) { return fn(s, *options); }); });
}

}  // namespace

void AddJobsCommands(CLI::App& app, GlobalOptions& g) {
  CLI::App* noun =
      app.add_subcommand("jobs", "Jobs: your own commands run on local or Slurm compute");
  noun->require_subcommand(1);

  auto submit = std::make_shared<SubmitOptions>();
  CLI::App* sub = noun->add_subcommand("submit", "Submit a job file (YAML); prints the job id");
  sub->add_option("file", submit->file, "Job file")->required();
  sub->add_option("--compute", submit->compute, "Compute target (overrides the file's)")
      ->check(CLI::IsMember({"local", "slurm"}));
  sub->add_option("--param", submit->params, "NAME=VALUE: sets input NAME (repeatable)");
  sub->add_flag("--wait", submit->wait, "Wait for the job to end; fails unless it succeeds");
  sub->add_flag("--stream", submit->stream, "Print its stdout while it runs, then wait");
  Run(sub, g, submit, &Submit);

  auto list = std::make_shared<ListOptions>();
  CLI::App* l = noun->add_subcommand("list", "List jobs, newest first");
  l->add_option("--state", list->states,
                "Only jobs in this state (queued, running, succeeded, failed, cancelled, "
                "timed_out, lost); repeatable");
  l->add_option("--max-results", list->max_results, "At most this many")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  Run(l, g, list, &List);

  auto show = std::make_shared<std::string>();
  CLI::App* sh = noun->add_subcommand("show", "Show a job");
  sh->add_option("id", *show, "Job id")->required();
  Run(sh, g, show, &Show);

  auto logs = std::make_shared<LogsOptions>();
  CLI::App* lg = noun->add_subcommand("logs", "Print a job's stdout (or stderr)");
  lg->add_option("id", logs->id, "Job id")->required();
  lg->add_option("--stream", logs->stream, "stdout or stderr")
      ->check(CLI::IsMember({"stdout", "stderr"}))
      ->capture_default_str();
  lg->add_flag("--follow,-f", logs->follow, "Keep printing until the job ends");
  Run(lg, g, logs, &Logs);

  auto cancel = std::make_shared<std::string>();
  CLI::App* cn = noun->add_subcommand("cancel", "Cancel a queued or running job");
  cn->add_option("id", *cancel, "Job id")->required();
  Run(cn, g, cancel, &Cancel);
}

}  // namespace cairn::cli
