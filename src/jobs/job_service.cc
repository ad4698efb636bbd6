#include "jobs/job_service.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/hash.h"
#include "core/ids.h"
#include "jobs/code_snapshot.h"

namespace cairn::jobs {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr JobState kAllStates[] = {JobState::kQueued, JobState::kRunning,   JobState::kSucceeded,
                                   JobState::kFailed, JobState::kCancelled, JobState::kTimedOut,
                                   JobState::kLost};

store::RunStatus RunStatusOf(JobState state) {
  switch (state) {
    case JobState::kSucceeded:
      return store::RunStatus::kFinished;
    case JobState::kCancelled:
      return store::RunStatus::kKilled;
    case JobState::kQueued:
      return store::RunStatus::kScheduled;
    case JobState::kRunning:
      return store::RunStatus::kRunning;
    default:
      return store::RunStatus::kFailed;
  }
}

JobState StateOfPhase(compute::JobPhase phase) {
  switch (phase) {
    case compute::JobPhase::kPending:
    case compute::JobPhase::kRunning:
      return JobState::kRunning;
    case compute::JobPhase::kSucceeded:
      return JobState::kSucceeded;
    case compute::JobPhase::kFailed:
      return JobState::kFailed;
    case compute::JobPhase::kCancelled:
      return JobState::kCancelled;
    case compute::JobPhase::kTimedOut:
      return JobState::kTimedOut;
    case compute::JobPhase::kLost:
      return JobState::kLost;
  }
  return JobState::kLost;
}

Status FsError(const std::string& what, const std::error_code& ec) {
  return Internal(what + ": " + ec.message());
}

// Writes `bytes` pieces to `target` through a temporary file, checking the whole file's SHA-256.
class VerifiedFileWriter {
 public:
  explicit VerifiedFileWriter(fs::path target) : target_(std::move(target)) {
    tmp_ = target_;
    tmp_ += ".cairn-tmp";
  }
  Status Open() {
    std::error_code ec;
    fs::create_directories(target_.parent_path(), ec);
    if (ec) return FsError("cannot create " + target_.parent_path().string(), ec);
    out_.open(tmp_, std::ios::binary | std::ios::trunc);
    if (!out_) return Internal("cannot write " + tmp_.string());
    return Status::Ok();
  }
  Status Write(std::string_view bytes) {
    hasher_.Update(bytes);
    out_.write(bytes.data(), std::streamsize(bytes.size()));
    if (!out_) return Internal("cannot write " + tmp_.string());
    return Status::Ok();
  }
  Status Commit(const std::string& expected_sha256, const std::string& what) {
    out_.close();
    if (!out_) return Internal("cannot write " + tmp_.string());
    if (hasher_.FinishHex() != expected_sha256) {
      fs::remove(tmp_);
      return DataLoss(what + ": the restored bytes do not match the recorded SHA-256");
    }
    std::error_code ec;
    fs::rename(tmp_, target_, ec);
    if (ec) return FsError("cannot rename into " + target_.string(), ec);
    return Status::Ok();
  }

 private:
  fs::path target_, tmp_;
  std::ofstream out_;
  Sha256 hasher_;
};

Status UploadFile(tracking::ArtifactService& artifacts, const fs::path& file,
                  const std::string& artifact_path) {
  CAIRN_TRY(auto upload, artifacts.BeginUpload(artifact_path));
  std::ifstream in(file, std::ios::binary);
  if (!in) return Internal("cannot read " + file.string());
  std::string buffer(1 << 16, '\0');
  while (in) {
    in.read(buffer.data(), std::streamsize(buffer.size()));
    std::streamsize n = in.gcount();
    if (n > 0) CAIRN_RETURN_IF_ERROR(upload->Write(std::string_view(buffer.data(), size_t(n))));
  }
  CAIRN_TRY(auto entry, upload->Finish());
  (void)entry;
  return Status::Ok();
}

}  // namespace

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kRunning:
      return "running";
    case JobState::kSucceeded:
      return "succeeded";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
    case JobState::kTimedOut:
      return "timed_out";
    case JobState::kLost:
      return "lost";
  }
  return "lost";
}

Result<JobState> ParseJobState(std::string_view name) {
  for (JobState s : kAllStates) {
    if (JobStateName(s) == name) return s;
  }
  return InvalidArgument("'" + std::string(name) +
                         "' is not a job state (queued, running, succeeded, failed, cancelled, "
                         "timed_out, lost)");
}

bool IsTerminal(JobState state) {
  return state != JobState::kQueued && state != JobState::kRunning;
}

JobService::JobService(store::MetadataStore& store, blob::BlobStore& blobs,
                       tracking::TrackingService& tracking, tracking::ArtifactService& artifacts,
                       datasets::DatasetService& datasets,
                       std::map<std::string, compute::Executor*> executors, const Clock& clock,
                       JobServiceOptions options)
    : store_(store),
      blobs_(blobs),
      tracking_(tracking),
      artifacts_(artifacts),
      datasets_(datasets),
      executors_(std::move(executors)),
      clock_(clock),
      options_(std::move(options)) {}

JobService::~JobService() { Stop(); }

std::string JobService::JobDir(std::string_view job_id) const {
  return options_.data_dir + "/jobs/" + std::string(job_id);
}

Status JobService::Start(std::string tracking_uri) {
  tracking_uri_ = std::move(tracking_uri);
  store::JobQuery query;
  query.states = {"queued", "running"};
  query.max_results = 1000000;
  CAIRN_TRY(auto records, store_.ListJobs(query));
  std::lock_guard<std::mutex> tick(tick_mu_);
  for (auto& record : records) {
    auto spec_json = json::parse(record.spec_json, nullptr, false);
    auto spec = JobSpecFromJson(spec_json);
    Active job;
    job.record = record;
    if (spec.ok()) job.spec = *spec;
    {
      std::lock_guard<std::mutex> lock(mu_);
      active_[record.job_id] = job;
    }
    Active& a = active_[record.job_id];
    if (!spec.ok()) {
      FinishJob(a, JobState::kLost, std::nullopt,
                "its stored spec no longer parses: " + spec.status().message());
    } else if (executors_.count(record.compute) == 0) {
      FinishJob(a, JobState::kLost, std::nullopt,
                "this server has no '" + record.compute + "' executor any more");
    } else if (record.state == "running" && record.executor_handle.empty()) {
      // The server stopped between preparing and launching: nothing ran, so run it again.
      a.record.state = "queued";
      a.record.message = "re-queued: the server restarted before the job was launched";
      Status s = Persist(a.record);
      if (!s.ok()) return s;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  scheduler_ = std::thread([this] { SchedulerLoop(); });
  return Status::Ok();
}

void JobService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
}

void JobService::SchedulerLoop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, options_.poll_interval, [&] { return stopping_ || wake_; });
      if (stopping_) return;
      wake_ = false;
    }
    Tick();
  }
}

void JobService::Tick() {
  std::lock_guard<std::mutex> tick(tick_mu_);
  std::vector<Active*> jobs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, job] : active_) jobs.push_back(&job);
  }
  // Running jobs first (they may free slots), then queued ones in submission order.
  std::stable_sort(jobs.begin(), jobs.end(), [](const Active* a, const Active* b) {
    return std::make_pair(a->record.state != "running", a->record.creation_time) <
           std::make_pair(b->record.state != "running", b->record.creation_time);
  });
  for (Active* job : jobs) {
    if (job->record.state != "running") continue;
    compute::Executor* executor = executors_.at(job->record.compute);
    auto observed = executor->Observe(LaunchOf(*job), job->record.executor_handle);
    if (!observed.ok()) {
      const int64_t now = clock_.NowMillis();
      if (observed.status().code() != StatusCode::kUnavailable) {
        FinishJob(*job, JobState::kLost, std::nullopt,
                  "cannot observe the job: " + observed.status().message());
        continue;
      }
      // Transient: keep the job running and say so; give up only after the grace period.
      const bool first = !job->unreachable_since;
      if (first) job->unreachable_since = now;
      const int64_t out_for = now - *job->unreachable_since;
      if (out_for >= options_.unreachable_grace.count()) {
        FinishJob(*job, JobState::kLost, std::nullopt,
                  observed.status().message() + " (unreachable for " +
                      std::to_string(out_for / 1000) + " s; giving the job up as lost)");
        continue;
      }
      // Written on the first failure only: a long outage does not write on every pass.
      if (first) {
        job->record.message = observed.status().message() + " (still running as far as known; "
                              "retrying until it answers)";
        Status s = Persist(job->record);
        if (!s.ok()) std::fprintf(stderr, "cairn: job %s: %s\n", job->record.job_id.c_str(),
                                  s.ToString().c_str());
      }
      continue;
    }
    if (job->unreachable_since) {
      // Reachable again: clear the note (a cancel request keeps its own).
      job->unreachable_since.reset();
      job->record.message = job->cancel_requested ? "cancel requested" : "";
      Status s = Persist(job->record);
      if (!s.ok()) std::fprintf(stderr, "cairn: job %s: %s\n", job->record.job_id.c_str(),
                                s.ToString().c_str());
    }
    JobState state = StateOfPhase(observed->phase);
    if (job->cancel_requested && state == JobState::kFailed && !observed->exit_code) {
      state = JobState::kCancelled;  // killed by our cancel, however the executor saw it
    }
    if (IsTerminal(state)) {
      std::optional<int> code = observed->exit_code;
      std::string message = observed->message;
      if (message.empty()) {
        message = state == JobState::kSucceeded ? "" : std::string(JobStateName(state));
      }
      FinishJob(*job, state, code, message);
    }
  }
  for (Active* job : jobs) {
    if (job->record.state != "queued") continue;
    compute::Executor* executor = executors_.at(job->record.compute);
    if (executor->FreeSlots() <= 0) continue;
    Status launched = LaunchJob(*job);
    if (!launched.ok()) {
      FinishJob(*job, JobState::kFailed, std::nullopt, "launch failed: " + launched.message());
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = active_.begin(); it != active_.end();) {
    std::string_view state = it->second.record.state;
    it = (state == "queued" || state == "running") ? std::next(it) : active_.erase(it);
  }
}

compute::JobLaunch JobService::LaunchOf(const Active& job) const {
  compute::JobLaunch launch;
  const std::string dir = JobDir(job.record.job_id);
  launch.job_id = job.record.job_id;
  launch.work_dir = dir + "/work";
  launch.cpus = job.spec.cpus;
  launch.memory_bytes = job.spec.memory_bytes;
  launch.timeout_ms = job.spec.timeout_ms;
  launch.stdout_path = dir + "/stdout.txt";
  launch.stderr_path = dir + "/stderr.txt";
  launch.exit_code_path = dir + "/exit_code";
  return launch;
}

Status JobService::PrepareWorkDir(const Active& job, compute::JobLaunch& launch) {
  const fs::path dir = JobDir(job.record.job_id);
  const fs::path work = launch.work_dir, inputs_dir = dir / "inputs", outputs_dir = dir / "outputs";
  std::error_code ec;
  for (const fs::path& p : {work, inputs_dir, outputs_dir}) {
    fs::remove_all(p, ec);
    if (ec) return FsError("cannot clear " + p.string(), ec);
  }
  fs::create_directories(work, ec);
  if (ec) return FsError("cannot create " + work.string(), ec);
  fs::create_directories(inputs_dir, ec);

  // The code snapshot: code/… into the work folder, inputs/… beside it.
  if (!job.record.code_digest.empty()) {
    CAIRN_TRY(std::string text, blobs_.Get(job.record.code_digest));
    CAIRN_TRY(CodeSnapshot snapshot, ParseCodeSnapshot(text));
    for (const CodeFile& file : snapshot.files) {
      fs::path target =
          file.path.substr(0, 5) == "code/" ? work / file.path.substr(5) : dir / file.path;
      VerifiedFileWriter writer(target);
      CAIRN_RETURN_IF_ERROR(writer.Open());
      for (const data::ChunkRef& chunk : file.manifest.chunks) {
        CAIRN_TRY(std::string bytes, blobs_.Get(chunk.digest));  // kDataLoss when corrupt
        CAIRN_RETURN_IF_ERROR(writer.Write(bytes));
      }
      CAIRN_RETURN_IF_ERROR(writer.Commit(file.manifest.file_digest, file.path));
      if (file.executable) {
        fs::permissions(target,
                        fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                        fs::perm_options::add, ec);
      }
    }
  }

  std::map<std::string, std::string> inputs, outputs;
  for (const auto& [name, in] : job.spec.inputs) {
    switch (in.kind) {
      case InputKind::kLiteral:
        inputs[name] = ShellQuote(in.value);
        break;
      case InputKind::kPath:
        inputs[name] = ShellQuote((dir / in.value).string());
        break;
      case InputKind::kDataset: {
        CAIRN_TRY(auto details, datasets_.GetVersion(in.dataset_name, in.dataset_version));
        fs::path root = inputs_dir / name;
        for (const auto& f : details.files) {
          CAIRN_TRY(auto reader,
                    datasets_.OpenFile(in.dataset_name, details.version.version, f.path));
          VerifiedFileWriter writer(root / f.path);
          CAIRN_RETURN_IF_ERROR(writer.Open());
          std::string bytes;
          while (true) {
            CAIRN_RETURN_IF_ERROR(reader->Read(bytes));
            if (bytes.empty()) break;
            CAIRN_RETURN_IF_ERROR(writer.Write(bytes));
          }
          CAIRN_RETURN_IF_ERROR(writer.Commit(f.sha256, "dataset " + in.value + " " + f.path));
        }
        // One file: its path (like a file input); several: the folder.
        fs::path path = details.files.size() == 1 ? root / details.files[0].path : root;
        inputs[name] = ShellQuote(path.string());
        break;
      }
    }
  }
  for (const auto& [name, out] : job.spec.outputs) {
    fs::path p = outputs_dir / name;
    fs::create_directories(p, ec);
    if (ec) return FsError("cannot create " + p.string(), ec);
    outputs[name] = ShellQuote(p.string());
  }
  CAIRN_TRY(launch.command, ExpandCommand(job.spec.command, inputs, outputs));

  const store::JobRecord& r = job.record;
  for (const char* prefix : {"MLFLOW_", "CAIRN_"}) {
    std::string p = prefix;
    launch.env.emplace_back(p + "TRACKING_URI", tracking_uri_);
    launch.env.emplace_back(p + "RUN_ID", r.run_id);
    launch.env.emplace_back(p + "EXPERIMENT_ID", r.experiment_id);
  }
  launch.env.emplace_back("CAIRN_JOB_ID", r.job_id);
  for (const auto& [k, v] : job.spec.env) launch.env.emplace_back(k, v);
  return Status::Ok();
}

Status JobService::LaunchJob(Active& job) {
  compute::JobLaunch launch = LaunchOf(job);
  CAIRN_RETURN_IF_ERROR(PrepareWorkDir(job, launch));
  // Written down before the launch, so a restart in between re-queues it (empty handle).
  job.record.state = "running";
  job.record.start_time = clock_.NowMillis();
  job.record.message.clear();
  CAIRN_RETURN_IF_ERROR(Persist(job.record));
  compute::Executor* executor = executors_.at(job.record.compute);
  auto handle = executor->Launch(launch);
  if (!handle.ok()) return handle.status();
  job.record.executor_handle = *handle;
  CAIRN_RETURN_IF_ERROR(Persist(job.record));
  store::RunUpdate update;
  update.run_id = job.record.run_id;
  update.status = store::RunStatus::kRunning;
  (void)tracking_.UpdateRun(update);
  (void)tracking_.SetTag(job.record.run_id, {"cairn.job.handle", *handle});
  return Status::Ok();
}

void JobService::FinishJob(Active& job, JobState state, std::optional<int> exit_code,
                           const std::string& message) {
  store::JobRecord& r = job.record;
  std::string note = message;
  auto append = [&](const std::string& more) { note += (note.empty() ? "" : "; ") + more; };
  // Outputs and logs become the run's artifacts.
  auto run = tracking_.GetRun(r.run_id);
  if (run.ok()) {
    auto root = tracking::ProxyPathOfUri(run->info.artifact_uri);
    if (root.ok()) {
      const fs::path dir = JobDir(r.job_id);
      for (const auto& [name, out] : job.spec.outputs) {
        fs::path folder = dir / "outputs" / name;
        std::error_code ec;
        if (!fs::is_directory(folder, ec)) continue;
        for (auto it = fs::recursive_directory_iterator(folder, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
          if (!it->is_regular_file(ec)) continue;
          std::string rel = fs::relative(it->path(), folder, ec).generic_string();
          Status s = UploadFile(artifacts_, it->path(), *root + "/outputs/" + name + "/" + rel);
          if (!s.ok()) append("output " + name + "/" + rel + " not stored: " + s.message());
        }
      }
      for (const char* stream : {"stdout", "stderr"}) {
        fs::path log = dir / (std::string(stream) + ".txt");
        std::error_code ec;
        if (!fs::exists(log, ec)) continue;
        Status s = UploadFile(artifacts_, log, *root + "/logs/" + stream + ".txt");
        if (!s.ok()) append(std::string(stream) + " not stored: " + s.message());
      }
    }
    store::RunUpdate update;
    update.run_id = r.run_id;
    update.status = RunStatusOf(state);
    update.end_time = clock_.NowMillis();
    (void)tracking_.UpdateRun(update);
    (void)tracking_.SetTag(r.run_id, {"cairn.job.state", std::string(JobStateName(state))});
    if (exit_code) {
      (void)tracking_.SetTag(r.run_id, {"cairn.job.exit_code", std::to_string(*exit_code)});
    }
  }
  r.state = std::string(JobStateName(state));
  r.exit_code = exit_code;
  r.message = note;
  r.end_time = clock_.NowMillis();
  Status s = Persist(r);
  if (!s.ok()) std::fprintf(stderr, "cairn: job %s: %s\n", r.job_id.c_str(), s.ToString().c_str());
}

Status JobService::Persist(const store::JobRecord& record) {
  Status s = store_.UpdateJob(record);
  { std::lock_guard<std::mutex> lock(mu_); }
  changed_cv_.notify_all();
  return s;
}

Result<Job> JobService::ToJob(const store::JobRecord& record) const {
  Job job;
  job.record = record;
  auto spec_json = json::parse(record.spec_json, nullptr, false);
  CAIRN_TRY(job.spec, JobSpecFromJson(spec_json));
  CAIRN_TRY(job.state, ParseJobState(record.state));
  return job;
}

Result<Job> JobService::Submit(SubmitJobRequest request) {
  JobSpec& spec = request.spec;
  CAIRN_RETURN_IF_ERROR(ValidateJobSpec(spec));
  if (executors_.count(spec.compute) == 0) {
    std::string names;
    for (const auto& [name, e] : executors_) names += (names.empty() ? "" : ", ") + name;
    return InvalidArgument("compute: this workspace has no '" + spec.compute +
                           "' compute target (it has: " + names + ")");
  }
  std::string job_id = NewUuidHex();
  if (spec.name.empty()) spec.name = "job";

  // The code snapshot: every chunk must be in the blob store already.
  std::string code_digest;
  CodeSnapshot snapshot;
  if (!request.code_json.empty()) {
    CAIRN_TRY(snapshot, ParseCodeSnapshot(request.code_json));
    for (const CodeFile& f : snapshot.files) {
      for (const data::ChunkRef& c : f.manifest.chunks) {
        if (!blobs_.Contains(c.digest)) {
          return FailedPrecondition("code snapshot: chunk " + c.digest + " of " + f.path +
                                    " has not been uploaded");
        }
      }
    }
    CAIRN_TRY(code_digest, blobs_.Put(SerializeCodeSnapshot(snapshot)));
  }

  // Inputs: paths must be in the snapshot; dataset versions are pinned now.
  std::vector<store::Tag> tags;
  std::vector<store::DatasetInput> dataset_inputs;
  std::vector<store::Param> params;
  for (auto& [name, in] : spec.inputs) {
    if (in.kind == InputKind::kPath) {
      std::string prefix = "inputs/" + name;
      bool found =
          std::any_of(snapshot.files.begin(), snapshot.files.end(), [&](const CodeFile& f) {
            return (f.path == in.value || f.path.rfind(in.value + "/", 0) == 0) &&
                   in.value.rfind(prefix, 0) == 0;
          });
      if (!found) {
        return InvalidArgument("inputs." + name + ": '" + in.value +
                               "' is not in the job's code snapshot (upload it as inputs/" + name +
                               "/…)");
      }
    } else if (in.kind == InputKind::kDataset) {
      auto version = datasets_.GetVersion(in.dataset_name, in.dataset_version);
      if (!version.ok()) {
        return Status(version.status().code(),
                      "inputs." + name + ": " + version.status().message());
      }
      in.dataset_version = version->version.version;
      in.value = in.dataset_name + "@v" + std::to_string(*in.dataset_version);
      tags.push_back({"cairn.input." + name, in.value + "+" + version->version.version_id});
      store::DatasetInput input;
      input.name = in.value;
      input.digest = version->version.version_id.substr(0, 12);
      input.source_type = "cairn";
      input.source = json{{"dataset", in.dataset_name},
                          {"version", "v" + std::to_string(*in.dataset_version)},
                          {"digest", version->version.version_id}}
                         .dump();
      input.tags = {{"mlflow.data.context", name}};
      dataset_inputs.push_back(std::move(input));
    } else {
      params.push_back({name, in.value});
    }
  }

  // The run, in its experiment.
  std::string experiment_id = "0";
  if (!spec.experiment.empty()) {
    auto experiment = tracking_.GetExperimentByName(spec.experiment);
    if (experiment.ok()) {
      if (experiment->lifecycle_stage != store::LifecycleStage::kActive) {
        return InvalidArgument("experiment: '" + spec.experiment + "' is deleted");
      }
      experiment_id = experiment->experiment_id;
    } else if (experiment.status().code() == StatusCode::kNotFound) {
      CAIRN_TRY(experiment_id, tracking_.CreateExperiment(spec.experiment, "", {}));
    } else {
      return experiment.status();
    }
  }
  tracking::CreateRunRequest run_request;
  run_request.experiment_id = experiment_id;
  run_request.run_name = spec.name;
  run_request.user_id = request.user;
  run_request.tags = tags;
  run_request.tags.push_back({"cairn.job.id", job_id});
  run_request.tags.push_back({"cairn.command", spec.command});
  run_request.tags.push_back({"cairn.compute", spec.compute});
  if (!code_digest.empty()) run_request.tags.push_back({"cairn.code.digest", code_digest});
  run_request.tags.push_back(
      {"mlflow.source.name", request.source_name.empty() ? spec.name : request.source_name});
  run_request.tags.push_back({"mlflow.source.type", "JOB"});
  if (!request.user.empty()) run_request.tags.push_back({"mlflow.user", request.user});
  CAIRN_TRY(store::Run run, tracking_.CreateRun(run_request));
  const std::string run_id = run.info.run_id;
  if (!params.empty()) {
    tracking::LogBatchRequest batch;
    batch.run_id = run_id;
    batch.params = params;
    CAIRN_RETURN_IF_ERROR(tracking_.LogBatch(batch));
  }
  if (!dataset_inputs.empty()) CAIRN_RETURN_IF_ERROR(tracking_.LogInputs(run_id, dataset_inputs));
  store::RunUpdate scheduled;
  scheduled.run_id = run_id;
  scheduled.status = store::RunStatus::kScheduled;
  CAIRN_RETURN_IF_ERROR(tracking_.UpdateRun(scheduled).status());

  store::JobRecord record;
  record.job_id = job_id;
  record.name = spec.name;
  record.spec_json = ToJson(spec).dump();
  record.compute = spec.compute;
  record.state = "queued";
  record.run_id = run_id;
  record.experiment_id = experiment_id;
  record.code_digest = code_digest;
  record.creation_time = clock_.NowMillis();
  CAIRN_RETURN_IF_ERROR(store_.CreateJob(record));
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_[job_id] = Active{record, spec, false};
    wake_ = true;
  }
  cv_.notify_all();
  changed_cv_.notify_all();
  return Job{record, spec, JobState::kQueued};
}

Result<Job> JobService::Get(std::string_view job_id) {
  CAIRN_TRY(auto record, store_.GetJob(job_id));
  return ToJob(record);
}

Result<std::vector<Job>> JobService::List(const store::JobQuery& query) {
  for (const auto& s : query.states) CAIRN_RETURN_IF_ERROR(ParseJobState(s).status());
  CAIRN_TRY(auto records, store_.ListJobs(query));
  std::vector<Job> out;
  for (const auto& r : records) {
    CAIRN_TRY(Job job, ToJob(r));
    out.push_back(std::move(job));
  }
  return out;
}

Result<Job> JobService::Cancel(std::string_view job_id) {
  std::lock_guard<std::mutex> tick(tick_mu_);
  Active* job = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = active_.find(std::string(job_id));
    if (it != active_.end()) job = &it->second;
  }
  if (job == nullptr) {
    CAIRN_TRY(auto record, store_.GetJob(job_id));
    return FailedPrecondition("job " + std::string(job_id) + " has already ended (" + record.state +
                              ")");
  }
  if (job->record.state == "queued") {
    FinishJob(*job, JobState::kCancelled, std::nullopt, "cancelled before it started");
    std::lock_guard<std::mutex> lock(mu_);
    Job out{job->record, job->spec, JobState::kCancelled};
    active_.erase(std::string(job_id));
    return out;
  }
  if (!job->cancel_requested) {
    compute::Executor* executor = executors_.at(job->record.compute);
    CAIRN_RETURN_IF_ERROR(executor->Cancel(LaunchOf(*job), job->record.executor_handle));
    job->cancel_requested = true;
    job->record.message = "cancel requested";
    CAIRN_RETURN_IF_ERROR(Persist(job->record));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
  return ToJob(job->record);
}

Result<LogChunk> JobService::ReadLog(std::string_view job_id, std::string_view stream,
                                     int64_t offset, int64_t max_bytes) {
  if (stream != "stdout" && stream != "stderr") {
    return InvalidArgument("stream: '" + std::string(stream) + "' is not stdout or stderr");
  }
  if (offset < 0) return InvalidArgument("offset: must be 0 or more");
  if (max_bytes <= 0 || max_bytes > options_.max_log_chunk_bytes) {
    max_bytes = options_.max_log_chunk_bytes;
  }
  // The state is read before the file: once a job has ended its log no longer grows, so
  // "ended, and everything read" is exact.
  CAIRN_TRY(auto record, store_.GetJob(job_id));
  CAIRN_TRY(JobState state, ParseJobState(record.state));
  LogChunk chunk;
  chunk.next_offset = offset;
  std::ifstream in(JobDir(job_id) + "/" + std::string(stream) + ".txt", std::ios::binary);
  int64_t size = 0;
  if (in) {
    in.seekg(0, std::ios::end);
    size = int64_t(in.tellg());
    if (offset < size) {
      int64_t n = std::min(max_bytes, size - offset);
      chunk.data.resize(size_t(n));
      in.seekg(offset);
      in.read(chunk.data.data(), n);
      chunk.data.resize(size_t(in.gcount()));
      chunk.next_offset = offset + int64_t(chunk.data.size());
    }
  }
  chunk.complete = IsTerminal(state) && chunk.next_offset >= size;
  return chunk;
}

Result<Job> JobService::WaitForState(std::string_view job_id, std::vector<JobState> states,
                                     std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    CAIRN_TRY(auto record, store_.GetJob(job_id));
    CAIRN_TRY(Job job, ToJob(record));
    bool done = states.empty() ? IsTerminal(job.state)
                               : std::find(states.begin(), states.end(), job.state) != states.end();
    if (done) return job;
    if (changed_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return Unavailable("job " + std::string(job_id) + " is still " + record.state);
    }
  }
}

}  // namespace cairn::jobs
