#include "jobs/job_service.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "blob/local_blob_store.h"
#include "compute/local_executor.h"
#include "core/hash.h"
#include "core/ids.h"
#include "jobs/code_snapshot.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace cairn::jobs {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr milliseconds kLongWait(60000);  // only reached when something is broken

class JobServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-jobs-" + NewUuidHex());
    fs::create_directories(dir_);
    store_ =
        std::move(store::SqliteMetadataStore::Open((dir_ / "meta.db").string(), clock_)).value();
    blobs_ = std::move(blob::LocalBlobStore::Create((dir_ / "blobs").string())).value();
    tracking_ = std::make_unique<tracking::TrackingService>(*store_, clock_);
    artifacts_ = std::make_unique<tracking::ArtifactService>(*store_, *blobs_);
    datasets_ = std::make_unique<datasets::DatasetService>(*store_, *blobs_, clock_);
    executor_ = std::make_unique<compute::LocalExecutor>(
        compute::LocalExecutorOptions{.slots = 1, .kill_grace_ms = 500});
    StartService();
  }
  void TearDown() override {
    service_.reset();
    fs::remove_all(dir_);
  }

  void StartService() {
    JobServiceOptions options;
    options.data_dir = dir_.string();
    options.poll_interval = milliseconds(20);
    std::map<std::string, compute::Executor*> executors = extra_executors_;
    executors["local"] = executor_.get();
    service_ = std::make_unique<JobService>(*store_, *blobs_, *tracking_, *artifacts_,
                                            *datasets_, executors, clock_, options);
    ASSERT_TRUE(service_->Start("http://127.0.0.1:1").ok());
  }

  // A code snapshot of `files` (path → bytes), every chunk stored.
  std::string Code(const std::map<std::string, std::string>& files) {
    CodeSnapshot snapshot;
    for (const auto& [path, bytes] : files) {
      data::ChunkPipelineOptions options;
      options.chunker = data::ChunkerOptionsForSize(bytes.size());
      auto manifest = data::ChunkAndHash(
          bytes, options,
          [&](const data::ChunkRef&, std::string_view b) { return blobs_->Put(b).status(); });
      EXPECT_TRUE(manifest.ok());
      manifest->path = path;
      snapshot.files.push_back({path, false, *manifest});
    }
    return SerializeCodeSnapshot(snapshot);
  }

  Result<Job> Submit(const std::string& yaml, const std::string& code_json = "") {
    CAIRN_TRY(JobSpec spec, ParseJobSpec(yaml, "job.yaml"));
    SubmitJobRequest request;
    request.spec = spec;
    request.code_json = code_json;
    request.user = "tester";
    return service_->Submit(request);
  }

  Job Finished(const std::string& id) {
    auto job = service_->WaitForState(id, {}, kLongWait);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return job.ok() ? *job : Job{};
  }

  std::string Tag(const store::Run& run, const std::string& key) {
    for (const auto& t : run.tags) {
      if (t.key == key) return t.value;
    }
    return "";
  }

  std::string Artifact(const store::Run& run, const std::string& rel) {
    auto root = tracking::ProxyPathOfUri(run.info.artifact_uri);
    auto download = artifacts_->Open(*root + "/" + rel);
    if (!download.ok()) return "<" + download.status().ToString() + ">";
    std::string all, chunk;
    while (download->reader->Read(chunk).ok() && !chunk.empty()) all += chunk;
    return all;
  }

  FakeClock clock_;
  fs::path dir_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<blob::LocalBlobStore> blobs_;
  std::unique_ptr<tracking::TrackingService> tracking_;
  std::unique_ptr<tracking::ArtifactService> artifacts_;
  std::unique_ptr<datasets::DatasetService> datasets_;
  std::unique_ptr<compute::LocalExecutor> executor_;
  std::map<std::string, compute::Executor*> extra_executors_;  // beside "local"
  std::unique_ptr<JobService> service_;
};

// An executor whose Observe answers what the test says, counting the calls so that a test can
// wait for the scheduler to have seen an answer (no sleeps).
class ScriptedExecutor : public compute::Executor {
 public:
  std::string_view name() const override { return "slurm"; }
  int FreeSlots() const override { return 100; }
  Result<std::string> Launch(const compute::JobLaunch&) override { return std::string("4242"); }
  Result<compute::JobObservation> Observe(const compute::JobLaunch&,
                                          const std::string& handle) override {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(handle, "4242");
    ++observed_;
    cv_.notify_all();
    return answer_;
  }
  Status Cancel(const compute::JobLaunch&, const std::string&) override { return Status::Ok(); }

  void Answer(Result<compute::JobObservation> answer) {
    std::lock_guard<std::mutex> lock(mu_);
    answer_ = std::move(answer);
  }
  static compute::JobObservation Phase(compute::JobPhase phase) {
    compute::JobObservation o;
    o.phase = phase;
    if (phase == compute::JobPhase::kSucceeded) o.exit_code = 0;
    return o;
  }
  // Returns once the scheduler has observed twice more: the second call starts after the pass
  // that handled the first one (passes do not overlap), so that answer has been acted on.
  void WaitForTwoMoreObservations() {
    std::unique_lock<std::mutex> lock(mu_);
    const int64_t target = observed_ + 2;
    ASSERT_TRUE(cv_.wait_for(lock, kLongWait, [&] { return observed_ >= target; }));
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t observed_ = 0;
  Result<compute::JobObservation> answer_ = Phase(compute::JobPhase::kRunning);
};

TEST_F(JobServiceTest, RunsCodeWithInputsAndStoresOutputsAndLogs) {
  std::string code = Code({{"code/run.sh", "cat \"$1\" > \"$2/copy.txt\"; echo \"$3 $RUN_ID\"\n"},
                           {"inputs/notes/n.txt", "hello notes\n"}});
  auto job = Submit(R"(name: copy
command: sh run.sh ${{inputs.notes}} ${{outputs.result}} ${{inputs.word}}; echo warn >&2
inputs:
  notes: n.txt
  word: {value: "two words"}
outputs:
  result: {type: folder}
environment:
  vars: {RUN_ID: from-spec}
experiment: jobs-test
)",
                    "");
  // A path input must come with the snapshot.
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.status().message().find("inputs.notes"), std::string::npos);

  auto spec = ParseJobSpec(R"(name: copy
command: sh run.sh ${{inputs.notes}} ${{outputs.result}} ${{inputs.word}}; echo warn >&2
inputs:
  notes: n.txt
  word: {value: "two words"}
outputs:
  result: {type: folder}
environment:
  vars: {RUN_ID: from-spec}
experiment: jobs-test
)",
                           "job.yaml");
  ASSERT_TRUE(spec.ok());
  spec->inputs["notes"].value = "inputs/notes/n.txt";
  SubmitJobRequest request;
  request.spec = *spec;
  request.code_json = code;
  request.source_name = "job.yaml";
  auto submitted = service_->Submit(request);
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  Job done = Finished(submitted->record.job_id);
  EXPECT_EQ(done.state, JobState::kSucceeded) << done.record.message;
  EXPECT_EQ(done.record.exit_code, 0);

  auto run = tracking_->GetRun(done.record.run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->info.status, store::RunStatus::kFinished);
  EXPECT_TRUE(run->info.end_time.has_value());
  EXPECT_EQ(Tag(*run, "cairn.job.id"), done.record.job_id);
  EXPECT_EQ(Tag(*run, "cairn.code.digest"), done.record.code_digest);
  EXPECT_EQ(Tag(*run, "mlflow.source.name"), "job.yaml");
  EXPECT_EQ(Artifact(*run, "outputs/result/copy.txt"), "hello notes\n");
  EXPECT_EQ(Artifact(*run, "logs/stdout.txt"), "two words from-spec\n");
  EXPECT_EQ(Artifact(*run, "logs/stderr.txt"), "warn\n");
  auto experiment = tracking_->GetExperimentByName("jobs-test");
  ASSERT_TRUE(experiment.ok());
  EXPECT_EQ(run->info.experiment_id, experiment->experiment_id);

  auto log = service_->ReadLog(done.record.job_id, "stdout", 4);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->data, "words from-spec\n");
  EXPECT_TRUE(log->complete);
  EXPECT_FALSE(service_->ReadLog(done.record.job_id, "both", 0).ok());
}

TEST_F(JobServiceTest, FailingJobFailsItsRunWithTheExitCode) {
  auto job = Submit("command: echo failing; exit 7\n");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  Job done = Finished(job->record.job_id);
  EXPECT_EQ(done.state, JobState::kFailed);
  EXPECT_EQ(done.record.exit_code, 7);
  auto run = tracking_->GetRun(done.record.run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->info.status, store::RunStatus::kFailed);
  EXPECT_EQ(Tag(*run, "cairn.job.exit_code"), "7");
}

TEST_F(JobServiceTest, RejectsUnknownComputeAndMissingDataset) {
  auto slurm = Submit("command: x\ncompute: slurm\n");
  ASSERT_FALSE(slurm.ok());
  EXPECT_EQ(slurm.status().message(),
            "compute: this workspace has no 'slurm' compute target (it has: local)");
  auto dataset = Submit("command: x ${{inputs.d}}\ninputs: {d: \"dataset:nope\"}\n");
  ASSERT_FALSE(dataset.ok());
  EXPECT_EQ(dataset.status().code(), StatusCode::kNotFound);
  EXPECT_NE(dataset.status().message().find("inputs.d: "), std::string::npos);
}

TEST_F(JobServiceTest, CancelQueuedAndRunningJobs) {
  // One slot: the first job holds it, the second stays queued.
  auto first = Submit("command: sleep 300\n");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(service_->WaitForState(first->record.job_id, {JobState::kRunning}, kLongWait).ok());
  auto second = Submit("command: echo never\n");
  ASSERT_TRUE(second.ok());
  auto cancelled = service_->Cancel(second->record.job_id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->state, JobState::kCancelled);

  ASSERT_TRUE(service_->Cancel(first->record.job_id).ok());
  Job done = Finished(first->record.job_id);
  EXPECT_EQ(done.state, JobState::kCancelled);
  auto run = tracking_->GetRun(done.record.run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->info.status, store::RunStatus::kKilled);
  EXPECT_EQ(service_->Cancel(first->record.job_id).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->Cancel("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(JobServiceTest, TimeoutEndsTheJob) {
  auto job = Submit("command: sleep 300\nresources: {timeout: 200ms}\n");
  ASSERT_TRUE(job.ok());
  Job done = Finished(job->record.job_id);
  EXPECT_EQ(done.state, JobState::kTimedOut);
  auto run = tracking_->GetRun(done.record.run_id);
  EXPECT_EQ(run->info.status, store::RunStatus::kFailed);
}

// A queued job is still queued after a restart and then runs; a running one is re-attached.
TEST_F(JobServiceTest, QueuedAndRunningJobsSurviveARestart) {
  auto running = Submit("command: sleep 300\n");
  ASSERT_TRUE(running.ok());
  auto id = running->record.job_id;
  ASSERT_TRUE(service_->WaitForState(id, {JobState::kRunning}, kLongWait).ok());
  auto queued = Submit("command: echo second\n");
  ASSERT_TRUE(queued.ok());
  service_->Stop();
  service_.reset();
  // A new service and executor: the first job's process is not their child.
  executor_ = std::make_unique<compute::LocalExecutor>(
      compute::LocalExecutorOptions{.slots = 1, .kill_grace_ms = 500});
  StartService();
  auto again = service_->Get(queued->record.job_id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, JobState::kQueued);  // the slot is still taken by the re-attached job
  ASSERT_TRUE(service_->Cancel(id).ok());
  EXPECT_EQ(Finished(id).state, JobState::kCancelled);
  Job second = Finished(queued->record.job_id);
  EXPECT_EQ(second.state, JobState::kSucceeded) << second.record.message;
}

}  // namespace
}  // namespace cairn::jobs

namespace cairn::jobs {
namespace {

TEST_F(JobServiceTest, UnreachableExecutorKeepsTheJobRunningUntilTheGracePeriodEnds) {
  ScriptedExecutor slurm;
  extra_executors_ = {{"slurm", &slurm}};
  service_.reset();
  StartService();  // default grace: 10 minutes of the (fake) clock
  auto submitted = Submit("name: far\ncommand: train\ncompute: slurm\n");
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  const std::string id = submitted->record.job_id;
  ASSERT_TRUE(service_->WaitForState(id, {JobState::kRunning}, kLongWait).ok());

  // The controller stops answering: the job stays running and says why.
  slurm.Answer(Unavailable("slurm unreachable: `scontrol -o show job 4242` failed: "
                           "Unable to contact slurm controller"));
  slurm.WaitForTwoMoreObservations();
  auto job = service_->Get(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kRunning);
  EXPECT_NE(job->record.message.find("slurm unreachable"), std::string::npos)
      << job->record.message;
  EXPECT_NE(job->record.message.find("retrying"), std::string::npos) << job->record.message;

  // Nine minutes later it is still running; then the controller answers again.
  clock_.Advance(9 * 60 * 1000);
  slurm.WaitForTwoMoreObservations();
  EXPECT_EQ(service_->Get(id)->state, JobState::kRunning);
  slurm.Answer(ScriptedExecutor::Phase(compute::JobPhase::kRunning));
  slurm.WaitForTwoMoreObservations();
  job = service_->Get(id);
  EXPECT_EQ(job->state, JobState::kRunning);
  EXPECT_EQ(job->record.message, "");

  // A new outage starts a new grace period: 9 minutes are not enough, past 10 the job is lost.
  slurm.Answer(Unavailable("slurm unreachable: connection refused"));
  slurm.WaitForTwoMoreObservations();
  clock_.Advance(9 * 60 * 1000);
  slurm.WaitForTwoMoreObservations();
  EXPECT_EQ(service_->Get(id)->state, JobState::kRunning);
  clock_.Advance(60 * 1000);
  Job lost = Finished(id);
  EXPECT_EQ(lost.state, JobState::kLost);
  EXPECT_NE(lost.record.message.find("slurm unreachable: connection refused"), std::string::npos)
      << lost.record.message;
  EXPECT_NE(lost.record.message.find("lost"), std::string::npos) << lost.record.message;
  auto run = tracking_->GetRun(lost.record.run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->info.status, store::RunStatus::kFailed);
}

TEST_F(JobServiceTest, OtherObserveErrorsLoseTheJobAtOnce) {
  ScriptedExecutor slurm;
  extra_executors_ = {{"slurm", &slurm}};
  service_.reset();
  StartService();
  auto submitted = Submit("command: train\ncompute: slurm\n");
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  ASSERT_TRUE(
      service_->WaitForState(submitted->record.job_id, {JobState::kRunning}, kLongWait).ok());
  slurm.Answer(InvalidArgument("'4242' is not a Slurm job id"));
  Job lost = Finished(submitted->record.job_id);
  EXPECT_EQ(lost.state, JobState::kLost);
  EXPECT_EQ(lost.record.message, "cannot observe the job: '4242' is not a Slurm job id");
}

TEST_F(JobServiceTest, AJobThatEndsWhileUnreachableFinishesWhenSeenAgain) {
  ScriptedExecutor slurm;
  extra_executors_ = {{"slurm", &slurm}};
  service_.reset();
  StartService();
  auto submitted = Submit("command: train\ncompute: slurm\n");
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  const std::string id = submitted->record.job_id;
  ASSERT_TRUE(service_->WaitForState(id, {JobState::kRunning}, kLongWait).ok());
  slurm.Answer(Unavailable("slurm unreachable: timeout"));
  slurm.WaitForTwoMoreObservations();
  slurm.Answer(ScriptedExecutor::Phase(compute::JobPhase::kSucceeded));
  Job done = Finished(id);
  EXPECT_EQ(done.state, JobState::kSucceeded);
  EXPECT_EQ(done.record.message, "");
}

}  // namespace
}  // namespace cairn::jobs
