#include "pipelines/builtin_steps.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "client/dataset_client.h"
#include "client/registry_client.h"
#include "client/tracking_client.h"
#include "core/clock.h"
#include "endpoints/rollout.h"
#include "ml/task.h"
#include "workflows/compare_flow.h"
#include "workflows/train_flow.h"
#include "workflows/training_run.h"
#if __has_include("client/job_client.h")
#include "client/job_client.h"
#define CAIRN_HAVE_JOBS 1
#endif

namespace cairn::pipelines {

namespace {

using Json = nlohmann::json;

constexpr char kParentRunTag[] = "mlflow.parentRunId";

std::string Text(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

Result<double> Number(const StepContext& ctx, const std::string& key, double fallback) {
  if (!ctx.Has(key)) return fallback;
  const std::string s = ctx.Input(key);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) {
    return InvalidArgument("with." + key + ": '" + s + "' is not a number");
  }
  return v;
}

Result<int64_t> Integer(const StepContext& ctx, const std::string& key, int64_t fallback) {
  CAIRN_TRY(double v, Number(ctx, key, double(fallback)));
  if (v != std::floor(v)) return InvalidArgument("with." + key + ": expected a whole number");
  return int64_t(v);
}

// The shortest text that reads back as `v` (outputs are text; nothing is lost).
std::string ShortNumber(double v) {
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::vector<store::Tag> PipelineTags(const StepContext& ctx) {
  std::vector<store::Tag> tags = {{"cairn.pipeline.run_id", ctx.pipeline_run_id},
                                  {"cairn.pipeline.name", ctx.pipeline_name},
                                  {"cairn.pipeline.step", ctx.step_id}};
  if (!ctx.parent_run_id.empty()) tags.push_back({kParentRunTag, ctx.parent_run_id});
  return tags;
}

std::string CommandLine(const StepContext& ctx) {
  return "cairn pipeline " + ctx.pipeline_name + " (run " + ctx.pipeline_run_id + "), step " +
         ctx.step_id;
}

// data.snapshot: a new version of dataset `name` from `path` (on the server's filesystem). The
// same content as the latest version makes no new version, so a rerun is harmless.
class SnapshotStep : public Step {
 public:
  explicit SnapshotStep(const StepServices& s) : s_(s) {}
  Result<StepOutputs> Run(StepContext& ctx) override {
    CAIRN_TRY(auto datasets, client::DatasetClient::Connect(s_.tracking_uri));
    client::SnapshotOptions options;
    options.description = ctx.Input("description", "snapshot by pipeline " + ctx.pipeline_name);
    options.created_by = ctx.user;
    const std::string name = ctx.Input("name"), path = ctx.Input("path");
    ctx.log("snapshotting " + path + " as dataset " + name);
    CAIRN_TRY(client::SnapshotResult r, datasets->Snapshot(name, path, options));
    const std::string version = "v" + std::to_string(r.version.version);
    ctx.log(std::string(r.created ? "created " : "unchanged: ") + name + "@" + version + " (" +
            std::to_string(r.files) + " files, " + std::to_string(r.total_bytes) + " bytes)");
    return StepOutputs{{"version", version},
                       {"digest", r.version.version_id},
                       {"dataset", name + "@" + version},
                       {"created", r.created ? "true" : "false"}};
  }

 private:
  const StepServices& s_;
};

// train.xgboost: `cairn train` as a step; its run is a child of the pipeline's run.
class TrainStep : public Step {
 public:
  explicit TrainStep(const StepServices& s) : s_(s) {}
  Result<StepOutputs> Run(StepContext& ctx) override {
    workflows::TrainFlowRequest request;
    request.data = ctx.Input("data");
    request.file = ctx.Input("file");
    ml::TrainOptions& options = request.options;
    options.target = ctx.Input("target");
    const std::string task = ctx.Input("task", "auto");
    if (task != "auto") {
      CAIRN_TRY(ml::Task t, ml::ParseTask(task));
      options.task = t;
    }
    if (ctx.Has("params")) {
      const Json& params = ctx.with["params"];
      if (!params.is_object()) return InvalidArgument("with.params: expected a map");
      for (const auto& [k, v] : params.items()) options.params[k] = Text(v);
    }
    if (ctx.Has("ignore")) {
      const Json& ignore = ctx.with["ignore"];
      if (ignore.is_array()) {
        for (const Json& c : ignore) options.ignore_columns.push_back(Text(c));
      } else {
        options.ignore_columns.push_back(Text(ignore));
      }
    }
    CAIRN_TRY(options.validation_fraction, Number(ctx, "validation_fraction", 0.2));
    if (!(options.validation_fraction > 0 && options.validation_fraction < 1)) {
      return InvalidArgument("with.validation_fraction: must be between 0 and 1 (exclusive)");
    }
    CAIRN_TRY(int64_t seed, Integer(ctx, "seed", 42));
    options.seed = uint64_t(seed);
    workflows::TrainingRunRequest& run = request.run;
    run.experiment = ctx.Input("experiment", ctx.experiment);
    run.run_name = ctx.Input("run_name", "");
    run.command_line = CommandLine(ctx);
    run.user = ctx.user;
    run.source_name = "cairn pipeline";
    run.extra_tags = PipelineTags(ctx);
    run.register_model = ctx.Input("register");
    run.alias = ctx.Input("alias");
    if (!run.alias.empty() && run.register_model.empty()) {
      return InvalidArgument("with.alias: needs with.register (the model to register)");
    }
    CAIRN_TRY(auto tracking, client::TrackingClient::Connect(s_.tracking_uri));
    CAIRN_TRY(auto datasets, client::DatasetClient::Connect(s_.tracking_uri));
    ctx.log("training on " + request.data + " for target " + options.target);
    CAIRN_TRY(workflows::TrainingRunOutcome outcome,
              workflows::TrainFromDataset(*tracking, *datasets, s_.tracking_uri,
                                          std::move(request)));
    ctx.set_run_id(outcome.run_id);
    StepOutputs out = {{"run_id", outcome.run_id},
                       {"model_uri", outcome.model_uri},
                       {"dataset", outcome.dataset_ref}};
    std::string metrics;
    for (const auto& [k, v] : outcome.result.metrics) {
      out[k] = ShortNumber(v);
      metrics += (metrics.empty() ? "" : ", ") + k + " " + out[k];
    }
    ctx.log("run " + outcome.run_id + ": " + metrics);
    if (!outcome.registered_version.empty()) {
      out["version"] = outcome.registered_version;
      out["registered_model"] = outcome.registered_model;
      ctx.log("registered models:/" + outcome.registered_model + "/" +
              outcome.registered_version);
    }
    return out;
  }

 private:
  const StepServices& s_;
};

// model.compare: `cairn models compare` as a step. A missing baseline (no champion yet) fails
// the step unless with.missing_baseline is "better".
class CompareStep : public Step {
 public:
  explicit CompareStep(const StepServices& s) : s_(s) {}
  Result<StepOutputs> Run(StepContext& ctx) override {
    workflows::CompareRequest request;
    request.candidate = ctx.Input("candidate");
    request.baseline = ctx.Input("baseline");
    request.data = ctx.Input("data");
    request.metric = ctx.Input("metric");
    CAIRN_TRY(request.min_improvement, Number(ctx, "min_improvement", 0.002));
    request.experiment = ctx.Input("experiment", ctx.experiment);
    request.command_line = CommandLine(ctx);
    request.source_name = "cairn pipeline";
    request.extra_tags = PipelineTags(ctx);
    request.user = ctx.user;
    request.field_prefix = "with.";
    CAIRN_TRY(auto tracking, client::TrackingClient::Connect(s_.tracking_uri));
    CAIRN_TRY(auto registry, client::RegistryClient::Connect(s_.tracking_uri));
    CAIRN_TRY(auto datasets, client::DatasetClient::Connect(s_.tracking_uri));
    if (ctx.Input("missing_baseline", "fail") == "better" &&
        request.baseline.rfind("models:/", 0) == 0) {
      Result<store::ModelVersion> baseline = registry->ResolveModelUri(request.baseline);
      if (!baseline.ok() && baseline.status().code() == StatusCode::kNotFound) {
        ctx.log("baseline " + request.baseline + " does not exist (" +
                baseline.status().message() + "): the candidate is better by default");
        StepOutputs out = {{"better", "true"}, {"rows_kept", "0"}, {"metric", request.metric},
                           {"improvement", ""}};
        // The candidate's own validation metrics, from its training run, stand in for an
        // evaluation (so candidate_<metric> references still resolve).
        std::string run_id;
        if (request.candidate.rfind("runs:/", 0) == 0) {
          const std::string rest = request.candidate.substr(6);
          run_id = rest.substr(0, rest.find('/'));
        } else if (request.candidate.rfind("models:/", 0) == 0) {
          CAIRN_TRY(store::ModelVersion v, registry->ResolveModelUri(request.candidate));
          run_id = v.run_id;
        }
        if (!run_id.empty()) {
          CAIRN_TRY(store::Run run, tracking->GetRun(run_id));
          for (const store::Metric& m : run.metrics) {
            if (m.key.find('-') != std::string::npos || m.key == "best_iteration" ||
                m.key == "rounds") {
              continue;
            }
            out["candidate_" + m.key] = ShortNumber(m.value);
          }
        }
        return out;
      }
    }
    ctx.log("comparing " + request.candidate + " with " + request.baseline + " on " +
            request.data);
    CAIRN_TRY(workflows::CompareOutcome o,
              workflows::CompareModels(*tracking, *registry, *datasets, request));
    ctx.set_run_id(o.run_id);
    for (const std::string& w : o.warnings) ctx.log("warning: " + w);
    auto fmt = [](double v) { return ShortNumber(v); };
    StepOutputs out = {{"better", o.better ? "true" : "false"},
                       {"rows_kept", std::to_string(o.rows_kept)},
                       {"run_id", o.run_id},
                       {"metric", o.metric},
                       {"improvement", fmt(o.improvement)}};
    for (const auto& [k, v] : o.candidate.metrics) out["candidate_" + k] = fmt(v);
    for (const auto& [k, v] : o.baseline.metrics) out["baseline_" + k] = fmt(v);
    ctx.log(std::string("candidate ") + (o.better ? "is" : "is not") + " better on " + o.metric +
            ": " + out["candidate_" + o.metric] + " vs " + out["baseline_" + o.metric] + " on " +
            std::to_string(o.rows_kept) + " rows of " + o.data);
    return out;
  }

 private:
  const StepServices& s_;
};

// model.register: a new version of `name` from `model` (runs:/RUN/PATH …), with an alias. A rerun
// of the same pipeline step finds the version it made (tagged with the run and step) instead of
// making another.
class RegisterStep : public Step {
 public:
  explicit RegisterStep(const StepServices& s) : s_(s) {}
  Result<StepOutputs> Run(StepContext& ctx) override {
    const std::string name = ctx.Input("name"), model = ctx.Input("model"),
                      alias = ctx.Input("alias");
    CAIRN_TRY(auto registry, client::RegistryClient::Connect(s_.tracking_uri));
    Result<store::RegisteredModel> created = registry->CreateRegisteredModel(name);
    if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) {
      return created.status();
    }
    std::optional<store::ModelVersion> version;
    // A version of this model already (models:/NAME/VERSION): nothing to register, the step
    // only moves the alias — how a pipeline promotes a version once its rollout is done.
    const std::string own_prefix = "models:/" + name + "/";
    if (model.rfind(own_prefix, 0) == 0) {
      const std::string text = model.substr(own_prefix.size());
      int64_t number = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
      if (ec != std::errc() || end != text.data() + text.size() || number < 1) {
        return InvalidArgument("with.model: '" + model + "' does not name a version");
      }
      CAIRN_TRY(store::ModelVersion existing, registry->GetModelVersion(name, number));
      version = existing;
      ctx.log(model + " is already registered");
    }
    client::SearchModelVersionsRequest search;
    search.filter = "name = '" + name + "'";
    CAIRN_TRY(auto versions, registry->SearchAllModelVersions(search));
    for (const store::ModelVersion& v : versions) {
      if (version) break;
      bool same_run = false, same_step = false;
      for (const store::Tag& t : v.tags) {
        same_run = same_run || (t.key == "cairn.pipeline.run_id" && t.value == ctx.pipeline_run_id);
        same_step = same_step || (t.key == "cairn.pipeline.step" && t.value == ctx.step_id);
      }
      if (same_run && same_step) version = v;
    }
    if (version) {
      ctx.log("version " + std::to_string(version->version) +
              " was registered by an earlier attempt of this step");
    } else {
      client::CreateModelVersionRequest req;
      req.name = name;
      req.source = model;
      if (model.rfind("runs:/", 0) == 0) {
        const std::string rest = model.substr(6);
        req.run_id = rest.substr(0, rest.find('/'));
      }
      req.description = ctx.Input("description", "Registered by pipeline " + ctx.pipeline_name);
      req.tags = {{"cairn.pipeline.run_id", ctx.pipeline_run_id},
                  {"cairn.pipeline.name", ctx.pipeline_name},
                  {"cairn.pipeline.step", ctx.step_id}};
      CAIRN_TRY(store::ModelVersion v, registry->CreateModelVersion(req));
      version = v;
      ctx.log("registered " + model + " as models:/" + name + "/" + std::to_string(v.version));
    }
    if (!alias.empty()) {
      CAIRN_RETURN_IF_ERROR(registry->SetRegisteredModelAlias(name, alias, version->version));
      ctx.log("alias " + alias + " → version " + std::to_string(version->version));
    }
    return StepOutputs{{"version", std::to_string(version->version)},
                       {"model_uri", "models:/" + name + "/" + std::to_string(version->version)}};
  }

 private:
  const StepServices& s_;
};

// endpoint.deploy: a rollout (endpoints/rollout.h) of `model` to `endpoint`.
class DeployStep : public Step {
 public:
  explicit DeployStep(const StepServices& s) : s_(s) {}
  Result<StepOutputs> Run(StepContext& ctx) override {
    if (s_.endpoints == nullptr) {
      return FailedPrecondition("endpoint.deploy: this server has no endpoint service");
    }
    endpoints::RolloutRequest r;
    r.endpoint = ctx.Input("endpoint");
    r.model_uri = ctx.Input("model");
    CAIRN_TRY(r.strategy, endpoints::ParseRolloutStrategy(ctx.Input("strategy", "blue-green")));
    r.deployment = ctx.Input("deployment");
    if (ctx.Has("steps")) {
      r.steps.clear();
      const Json& steps = ctx.with["steps"];
      if (!steps.is_array()) return InvalidArgument("with.steps: expected a list of percents");
      for (const Json& s : steps) {
        const std::string t = Text(s);
        int64_t p = 0;
        auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), p);
        if (ec != std::errc() || end != t.data() + t.size()) {
          return InvalidArgument("with.steps: '" + t + "' is not a whole percent");
        }
        r.steps.push_back(p);
      }
    }
    if (ctx.Has("interval")) {
      CAIRN_TRY(r.interval_ms, ParseDurationMillis(ctx.Input("interval")));
    }
    CAIRN_TRY(r.max_error_rate, Number(ctx, "max_error_rate", r.max_error_rate));
    CAIRN_TRY(r.max_p99_ms, Number(ctx, "max_p99_ms", 0));
    CAIRN_TRY(r.split, Integer(ctx, "split", r.split));
    CAIRN_TRY(r.mirror, Integer(ctx, "mirror", r.mirror));
    CAIRN_TRY(r.min_requests, Integer(ctx, "min_requests", r.min_requests));
    endpoints::RolloutHooks hooks;
    hooks.log = ctx.log;
    hooks.wait_for = ctx.wait_for;
    ctx.log(std::string(endpoints::RolloutStrategyName(r.strategy)) + " rollout of " +
            r.model_uri + " to endpoint " + r.endpoint);
    CAIRN_TRY(endpoints::RolloutResult result, endpoints::Rollout(*s_.endpoints, r, hooks));
    return StepOutputs{{"deployment", result.deployment},
                       {"previous", result.previous},
                       {"strategy", std::string(endpoints::RolloutStrategyName(r.strategy))}};
  }

 private:
  const StepServices& s_;
};

#ifdef CAIRN_HAVE_JOBS
// A pipeline value as YAML flow text: plain scalars where YAML reads them back as written, JSON
// strings (valid YAML double-quoted scalars) otherwise.
std::string FlowYaml(const Json& v) {
  if (v.is_object()) {
    std::string out = "{";
    for (const auto& [k, item] : v.items()) {
      out += (out.size() > 1 ? ", " : "") + Json(k).dump() + ": " + FlowYaml(item);
    }
    return out + "}";
  }
  if (v.is_array()) {
    std::string out = "[";
    for (const Json& item : v) out += (out.size() > 1 ? ", " : "") + FlowYaml(item);
    return out + "]";
  }
  if (!v.is_string()) return v.dump();
  const std::string s = v.get<std::string>();
  bool plain = !s.empty();
  for (char c : s) {
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                      c == '-' || c == '+');
  }
  return plain ? s : Json(s).dump();
}

// job.command: a job (file on the server's filesystem, or inline) run through the jobs service;
// its run is a child of the pipeline's. The job carries CAIRN_PIPELINE_STEP=<run>/<step>, so a
// rerun after a restart finds the job an earlier attempt submitted — still running, it is
// followed again; finished, its result is taken — instead of starting another.
class JobStep : public Step {
 public:
  explicit JobStep(const StepServices& s) : s_(s) {}
  Result<StepOutputs> Run(StepContext& ctx) override {
    const std::string marker = ctx.pipeline_run_id + "/" + ctx.step_id;
    CAIRN_TRY(auto jobs, client::JobClient::Connect(s_.tracking_uri));
    std::optional<client::JobInfo> job;
    CAIRN_TRY(auto earlier, jobs->List({}, 1000));
    for (const client::JobInfo& j : earlier) {
      auto it = j.spec.env.find("CAIRN_PIPELINE_STEP");
      if (it == j.spec.env.end() || it->second != marker) continue;
      if (j.state == "queued" || j.state == "running" || j.state == "succeeded") {
        job = j;
        ctx.log("found job " + j.record.job_id + " (" + j.state +
                ") from an earlier attempt of this step");
      }
      break;  // newest first: only the latest attempt counts
    }
    if (!job) {
      jobs::JobSpec spec;
      std::string base_dir = ".";
      std::string source = "pipeline " + ctx.pipeline_name + " step " + ctx.step_id;
      if (ctx.Has("file")) {
        std::string file = ctx.Input("file");
        const std::filesystem::path pipeline_file(ctx.pipeline_file);
        if (std::filesystem::path(file).is_relative() && pipeline_file.is_absolute()) {
          file = (pipeline_file.parent_path() / file).lexically_normal().string();
        }
        CAIRN_TRY(spec, jobs::LoadJobSpec(file));
        base_dir = std::filesystem::path(file).parent_path().string();
        if (base_dir.empty()) base_dir = ".";
        source = file;
      } else {
        CAIRN_TRY(spec, jobs::ParseJobSpec(FlowYaml(ctx.with["spec"]), "with.spec"));
      }
      if (ctx.Has("compute")) spec.compute = ctx.Input("compute");
      if (ctx.Has("params")) {
        for (const auto& [k, v] : ctx.with["params"].items()) {
          CAIRN_RETURN_IF_ERROR(jobs::ApplyParam(spec, k + "=" + Text(v)));
        }
      }
      if (spec.experiment.empty()) spec.experiment = ctx.experiment;
      spec.env["CAIRN_PIPELINE_STEP"] = marker;
      CAIRN_TRY(client::JobSubmitResult submitted,
                jobs->SubmitSpec(std::move(spec), base_dir, source, ctx.user));
      job = submitted.job;
      ctx.log("submitted job " + job->record.job_id + " on " + job->record.compute + " (" +
              std::to_string(submitted.files) + " code files)");
    }
    if (!job->record.run_id.empty()) ctx.set_run_id(job->record.run_id);
    while (!job->terminal()) {
      if (!ctx.wait_for(1000)) {
        (void)jobs->Cancel(job->record.job_id);
        return Unavailable("cancelled: job " + job->record.job_id + " asked to stop");
      }
      CAIRN_TRY(*job, jobs->Get(job->record.job_id));
    }
    StepOutputs out = {{"job_id", job->record.job_id},
                       {"run_id", job->record.run_id},
                       {"status", job->state}};
    if (job->record.exit_code) out["exit_code"] = std::to_string(*job->record.exit_code);
    // Each declared output is stored as the run's artifacts under outputs/NAME (JobService), so
    // later steps can name it by URI; an output called `model` is also `model_uri`, like
    // train.xgboost's, for model.compare / model.register / endpoint.deploy.
    for (const auto& [name, output] : job->spec.outputs) {
      const std::string uri = "runs:/" + job->record.run_id + "/outputs/" + name;
      out["output_" + name] = uri;
      if (name == "model") out["model_uri"] = uri;
    }
    ctx.log("job " + job->record.job_id + " " + job->state +
            (job->record.message.empty() ? "" : ": " + job->record.message));
    if (job->state != "succeeded") {
      return FailedPrecondition("job " + job->record.job_id + " " + job->state +
                                (job->record.message.empty() ? "" : ": " + job->record.message) +
                                " (cairn jobs logs " + job->record.job_id + ")");
    }
    return out;
  }

 private:
  const StepServices& s_;
};
#endif

class TrackingRecorder : public RunRecorder {
 public:
  explicit TrackingRecorder(const StepServices& s) : s_(s) {}

  Result<std::pair<std::string, std::string>> StartParentRun(
      const std::string& experiment, const std::string& run_name, const std::string& user,
      const std::map<std::string, std::string>& tags) override {
    CAIRN_TRY(auto tracking, client::TrackingClient::Connect(s_.tracking_uri));
    CAIRN_TRY(store::Experiment e, workflows::EnsureExperiment(*tracking, experiment));
    client::CreateRunRequest create;
    create.experiment_id = e.experiment_id;
    create.run_name = run_name;
    create.user_id = user;
    create.tags = {{"mlflow.source.name", "cairn pipeline"}, {"mlflow.user", user}};
    for (const auto& [k, v] : tags) create.tags.push_back({k, v});
    CAIRN_TRY(store::Run run, tracking->CreateRun(create));
    return std::make_pair(e.experiment_id, run.info.run_id);
  }

  Status EndParentRun(const std::string& run_id, store::PipelineRunStatus status) override {
    CAIRN_TRY(auto tracking, client::TrackingClient::Connect(s_.tracking_uri));
    store::RunUpdate update;
    update.run_id = run_id;
    update.status = status == store::PipelineRunStatus::kSucceeded ? store::RunStatus::kFinished
                    : status == store::PipelineRunStatus::kCancelled ? store::RunStatus::kKilled
                                                                      : store::RunStatus::kFailed;
    update.end_time = SystemClock::Instance().NowMillis();
    return tracking->UpdateRun(update).status();
  }

  Status LinkChild(const std::string& parent, const std::string& child) override {
    CAIRN_TRY(auto tracking, client::TrackingClient::Connect(s_.tracking_uri));
    return tracking->SetTag(child, kParentRunTag, parent);
  }

 private:
  const StepServices& s_;
};

}  // namespace

void InstallBuiltinSteps(StepTable& table, const StepServices& services) {
  const StepServices* s = &services;
  (void)table.SetMaker("data.snapshot", [s] { return std::make_unique<SnapshotStep>(*s); });
  (void)table.SetMaker("train.xgboost", [s] { return std::make_unique<TrainStep>(*s); });
  (void)table.SetMaker("model.compare", [s] { return std::make_unique<CompareStep>(*s); });
  (void)table.SetMaker("model.register", [s] { return std::make_unique<RegisterStep>(*s); });
  (void)table.SetMaker("endpoint.deploy", [s] { return std::make_unique<DeployStep>(*s); });
#ifdef CAIRN_HAVE_JOBS
  (void)table.SetMaker("job.command", [s] { return std::make_unique<JobStep>(*s); });
#endif
}

std::unique_ptr<RunRecorder> MakeTrackingRecorder(const StepServices& services) {
  return std::make_unique<TrackingRecorder>(services);
}

}  // namespace cairn::pipelines
