#include "compute/slurm_executor.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "compute/command_runner.h"
#include "server_process.h"
#include "slurm_cluster.h"

namespace cairn::compute {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using std::chrono::steady_clock;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

SlurmConfig Config(const std::string& slurm_conf, const std::string& partition = "") {
  SlurmConfig config;
  config.slurm_conf = slurm_conf;
  config.partition = partition;
  return config;
}

bool IsTerminal(JobPhase phase) {
  return phase != JobPhase::kPending && phase != JobPhase::kRunning;
}

// True once `pid` no longer runs (gone, or a zombie nobody reaps in a container without init).
bool ProcessGone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, comm, state;
  return !(stat >> pid_field >> comm >> state) || state == "Z";
}

// A job whose files all live in a fresh folder under `root`.
JobLaunch NewJob(const std::string& root, const std::string& id, const std::string& command) {
  JobLaunch job;
  job.job_id = id;
  job.work_dir = root + "/" + id + "/work";
  job.command = command;
  job.stdout_path = root + "/" + id + "/logs/stdout.txt";
  job.stderr_path = root + "/" + id + "/logs/stderr.txt";
  job.exit_code_path = root + "/" + id + "/exit_code";
  fs::create_directories(job.work_dir);
  fs::create_directories(root + "/" + id + "/logs");
  return job;
}

// ---------------------------------------------------------------------------------------------
// The batch script alone: #SBATCH lines are comments to /bin/sh, so the script runs locally.

class SlurmBatchScriptTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = testing::MakeTempDir("cairn-sbatch-script"); }
  void TearDown() override { fs::remove_all(root_); }

  // Runs the script as Slurm would (stdout/stderr into the job's files).
  void RunLocally(const JobLaunch& job) {
    auto script = SlurmExecutor::BatchScript(job);
    ASSERT_TRUE(script.ok()) << script.status().ToString();
    std::string path = job.work_dir + "/script.sh";
    WriteFile(path, *script);
    auto run = RunCommand({"/bin/sh", "-c", "exec /bin/sh \"$0\" > \"$1\" 2> \"$2\"", path,
                           job.stdout_path, job.stderr_path});
    ASSERT_TRUE(run.ok()) << run.status().ToString();
  }

  std::string root_;
};

TEST_F(SlurmBatchScriptTest, SbatchOptionsCarryNameLogsFolderAndLimits) {
  JobLaunch job = NewJob(root_, "j1", "python train.py");
  job.cpus = 2;
  job.memory_bytes = 1536 * 1024 * 1024LL + 1;  // a byte over 1536 MiB
  job.timeout_ms = 90'000;
  job.stdout_path = "/data/my logs/out.txt";
  auto script = SlurmExecutor::BatchScript(job);
  ASSERT_TRUE(script.ok()) << script.status().ToString();
  EXPECT_THAT(*script, StartsWith("#!/bin/sh\n"));
  EXPECT_THAT(*script, HasSubstr("#SBATCH --job-name=cairn-j1\n"));
  EXPECT_THAT(*script, HasSubstr("#SBATCH --output=\"/data/my logs/out.txt\"\n"));
  EXPECT_THAT(*script, HasSubstr("#SBATCH --error=" + job.stderr_path + "\n"));
  EXPECT_THAT(*script, HasSubstr("#SBATCH --chdir=" + job.work_dir + "\n"));
  EXPECT_THAT(*script, HasSubstr("#SBATCH --cpus-per-task=2\n"));
  EXPECT_THAT(*script, HasSubstr("#SBATCH --mem=1537M\n"));
  // 90 s → 2 minutes, plus the minute that lets the script's exact timeout act first.
  EXPECT_THAT(*script, HasSubstr("#SBATCH --time=3\n"));
  EXPECT_THAT(*script, HasSubstr("timeout --kill-after=10 90.000 /bin/sh -c 'python train.py'"));
}

TEST_F(SlurmBatchScriptTest, UnlimitedJobHasNoLimitLines) {
  auto script = SlurmExecutor::BatchScript(NewJob(root_, "j2", "true"));
  ASSERT_TRUE(script.ok()) << script.status().ToString();
  EXPECT_THAT(*script, ::testing::Not(HasSubstr("--cpus-per-task")));
  EXPECT_THAT(*script, ::testing::Not(HasSubstr("--mem")));
  EXPECT_THAT(*script, ::testing::Not(HasSubstr("--time")));
  EXPECT_THAT(*script, ::testing::Not(HasSubstr("timeout ")));
}

TEST_F(SlurmBatchScriptTest, RejectsWhatTheScriptCannotCarry) {
  JobLaunch job = NewJob(root_, "j3", "true");
  job.env = {{"BAD-NAME", "x"}};
  auto bad_env = SlurmExecutor::BatchScript(job);
  ASSERT_FALSE(bad_env.ok());
  EXPECT_EQ(bad_env.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_env.status().message(), HasSubstr("'BAD-NAME'"));

  job = NewJob(root_, "j3", "true");
  job.stdout_path = root_ + "/a\"b.txt";
  auto bad_path = SlurmExecutor::BatchScript(job);
  ASSERT_FALSE(bad_path.ok());
  EXPECT_THAT(bad_path.status().message(), HasSubstr("stdout_path"));

  job = NewJob(root_, "j3", "");
  EXPECT_THAT(SlurmExecutor::BatchScript(job).status().message(), HasSubstr("command is empty"));
  job = NewJob(root_, "j3", "true");
  job.job_id = "x;y";
  EXPECT_THAT(SlurmExecutor::BatchScript(job).status().message(), HasSubstr("job_id"));
}

TEST_F(SlurmBatchScriptTest, RunsTheCommandInTheWorkFolderWithTheEnvironmentVerbatim) {
  JobLaunch job = NewJob(root_, "j4", "printf '%s|%s|' \"$TRICKY\" \"$PLAIN\"; pwd; exit 5");
  job.env = {{"TRICKY", "it's \"quoted\" $HOME `date` \\ ;|&"}, {"PLAIN", "v"}};
  RunLocally(job);
  EXPECT_EQ(ReadFile(job.stdout_path), "it's \"quoted\" $HOME `date` \\ ;|&|v|" +
                                           fs::canonical(job.work_dir).string() + "\n");
  EXPECT_EQ(ReadFile(job.exit_code_path), "5\n");
  EXPECT_FALSE(fs::exists(job.exit_code_path + ".tmp"));
}

TEST_F(SlurmBatchScriptTest, OwnTimeoutEndsTheCommandAndMarksTheExitFile) {
  JobLaunch job = NewJob(root_, "j5", "echo started; sleep 30; echo never");
  job.timeout_ms = 1'200;
  RunLocally(job);
  EXPECT_EQ(ReadFile(job.stdout_path), "started\n");
  EXPECT_EQ(ReadFile(job.exit_code_path), "124\ntimeout\n");
}

TEST_F(SlurmBatchScriptTest, CommandExiting124BeforeItsTimeoutIsNotATimeout) {
  JobLaunch job = NewJob(root_, "j6", "exit 124");
  job.timeout_ms = 60'000;
  RunLocally(job);
  EXPECT_EQ(ReadFile(job.exit_code_path), "124\n");
}

// ---------------------------------------------------------------------------------------------
// Against a real one-node cluster. Each test process starts its own (ctest runs every test as
// its own process); a machine without slurm-wlm and munge skips them.

class SlurmExecutorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto cluster = testing::SlurmCluster::Start();
    if (cluster.ok()) {
      cluster_ = std::move(cluster).value().release();
    } else {
      start_status_ = new Status(cluster.status());
    }
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
    delete start_status_;
    start_status_ = nullptr;
  }

  void SetUp() override {
    if (start_status_ != nullptr) {
      if (start_status_->code() == StatusCode::kFailedPrecondition) {
        GTEST_SKIP() << start_status_->message();
      }
      FAIL() << "the Slurm test cluster did not start: " << start_status_->ToString();
    }
    executor_ = std::make_unique<SlurmExecutor>(Config(cluster_->conf_path()));
  }

  JobLaunch Job(const std::string& id, const std::string& command) {
    return NewJob(cluster_->dir() + "/jobs", id, command);
  }

  // Polls until the job ends; fails the test past a minute.
  JobObservation WaitForEnd(const JobLaunch& job, const std::string& handle) {
    auto deadline = steady_clock::now() + std::chrono::seconds(60);
    JobObservation last;
    while (steady_clock::now() < deadline) {
      auto observation = executor_->Observe(job, handle);
      EXPECT_TRUE(observation.ok()) << observation.status().ToString();
      if (!observation.ok()) return last;
      last = *observation;
      if (IsTerminal(last.phase)) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "job " << handle << " still not ended: " << last.message;
    return last;
  }

  // Polls until `path` holds a pid (the job wrote it once it runs).
  pid_t WaitForPidFile(const std::string& path) {
    auto deadline = steady_clock::now() + std::chrono::seconds(60);
    while (steady_clock::now() < deadline) {
      std::ifstream in(path);
      pid_t pid = 0;
      if (in >> pid && pid > 0) return pid;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << path << " never written";
    return 0;
  }

  static void ExpectGoneSoon(pid_t pid) {
    auto deadline = steady_clock::now() + std::chrono::seconds(30);
    while (!ProcessGone(pid) && steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(ProcessGone(pid)) << "process " << pid << " still runs";
  }

  static testing::SlurmCluster* cluster_;
  static Status* start_status_;
  std::unique_ptr<SlurmExecutor> executor_;
};

testing::SlurmCluster* SlurmExecutorTest::cluster_ = nullptr;
Status* SlurmExecutorTest::start_status_ = nullptr;

TEST_F(SlurmExecutorTest, SucceedingJobWritesItsLogsAndOutputs) {
  JobLaunch job = Job("ok1", "echo hello; echo oops >&2; echo data > out.txt");
  job.cpus = 1;
  job.memory_bytes = 64 << 20;
  auto handle = executor_->Launch(job);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  EXPECT_TRUE(fs::exists(job.work_dir + "/" + std::string(SlurmExecutor::kScriptName)));

  JobObservation end = WaitForEnd(job, *handle);
  EXPECT_EQ(end.phase, JobPhase::kSucceeded) << end.message;
  EXPECT_EQ(end.exit_code, 0);
  EXPECT_EQ(ReadFile(job.stdout_path), "hello\n");
  EXPECT_EQ(ReadFile(job.stderr_path), "oops\n");
  EXPECT_EQ(ReadFile(job.work_dir + "/out.txt"), "data\n");

  // Slurm saw the job as the script declared it.
  auto shown = cluster_->Run({"scontrol", "-o", "show", "job", *handle});
  ASSERT_TRUE(shown.ok());
  EXPECT_THAT(shown->out, HasSubstr("JobName=cairn-ok1 "));
  EXPECT_THAT(shown->out, HasSubstr("MinMemoryNode=64M "));
  EXPECT_THAT(shown->out, HasSubstr("WorkDir=" + job.work_dir));
}

TEST_F(SlurmExecutorTest, FailingJobReportsItsExitCode) {
  JobLaunch job = Job("fail1", "echo about to fail >&2; exit 3");
  auto handle = executor_->Launch(job);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  JobObservation end = WaitForEnd(job, *handle);
  EXPECT_EQ(end.phase, JobPhase::kFailed);
  EXPECT_EQ(end.exit_code, 3);
  EXPECT_EQ(end.message, "exit status 3");
  EXPECT_EQ(ReadFile(job.stderr_path), "about to fail\n");
}

TEST_F(SlurmExecutorTest, EnvironmentReachesTheJob) {
  JobLaunch job = Job("env1", "printf '%s\\n%s\\n' \"$MLFLOW_RUN_ID\" \"$CAIRN_NOTE\"");
  job.env = {{"MLFLOW_RUN_ID", "abc123"}, {"CAIRN_NOTE", "it's a \"note\" with $dollars"}};
  auto handle = executor_->Launch(job);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  JobObservation end = WaitForEnd(job, *handle);
  EXPECT_EQ(end.phase, JobPhase::kSucceeded) << end.message;
  EXPECT_EQ(ReadFile(job.stdout_path), "abc123\nit's a \"note\" with $dollars\n");
}

TEST_F(SlurmExecutorTest, CancelEndsTheJobAndItsProcesses) {
  JobLaunch job = Job("cancel1", "sleep 300 & echo $! > sleeper.pid; wait");
  auto handle = executor_->Launch(job);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  pid_t sleeper = WaitForPidFile(job.work_dir + "/sleeper.pid");
  ASSERT_GT(sleeper, 0);
  auto running = executor_->Observe(job, *handle);
  ASSERT_TRUE(running.ok()) << running.status().ToString();
  EXPECT_EQ(running->phase, JobPhase::kRunning) << running->message;

  ASSERT_TRUE(executor_->Cancel(job, *handle).ok());
  JobObservation end = WaitForEnd(job, *handle);
  EXPECT_EQ(end.phase, JobPhase::kCancelled) << end.message;
  EXPECT_THAT(end.message, HasSubstr("CANCELLED"));
  ExpectGoneSoon(sleeper);
  // Cancelling an ended job is not an error.
  EXPECT_TRUE(executor_->Cancel(job, *handle).ok());
}

// Slurm's own limit (--time) counts whole minutes, too long for a test; the script's exact
// timeout ends the command first and records it, which is what a job's `timeout` means.
TEST_F(SlurmExecutorTest, TimeoutEndsTheJobAndItsProcesses) {
  JobLaunch job = Job("timeout1", "sleep 300 & echo $! > sleeper.pid; wait");
  job.timeout_ms = 1'500;
  auto handle = executor_->Launch(job);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  pid_t sleeper = WaitForPidFile(job.work_dir + "/sleeper.pid");
  JobObservation end = WaitForEnd(job, *handle);
  EXPECT_EQ(end.phase, JobPhase::kTimedOut) << end.message;
  EXPECT_EQ(end.message, "timed out after 1.500 s");
  if (sleeper > 0) ExpectGoneSoon(sleeper);
}

TEST_F(SlurmExecutorTest, PendingJobSaysWhyAndCanBeCancelled) {
  JobLaunch job = Job("wide1", "true");
  job.cpus = 4096;  // more than the node has: Slurm accepts it, and it waits forever
  auto handle = executor_->Launch(job);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  auto pending = executor_->Observe(job, *handle);
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_EQ(pending->phase, JobPhase::kPending);
  EXPECT_THAT(pending->message, StartsWith("slurm: PENDING ("));

  ASSERT_TRUE(executor_->Cancel(job, *handle).ok());
  JobObservation end = WaitForEnd(job, *handle);
  EXPECT_EQ(end.phase, JobPhase::kCancelled) << end.message;
  EXPECT_FALSE(end.exit_code.has_value());
}

TEST_F(SlurmExecutorTest, RefusedSubmissionsQuoteSbatch) {
  JobLaunch job = Job("big1", "true");
  job.memory_bytes = int64_t{1} << 50;  // a pebibyte
  auto too_big = executor_->Launch(job);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(too_big.status().message(), HasSubstr("`sbatch --parsable"));
  EXPECT_THAT(too_big.status().message(), HasSubstr("exited with status 1: sbatch: error:"));

  SlurmExecutor wrong_partition(Config(cluster_->conf_path(), "nosuch"));
  auto refused = wrong_partition.Launch(Job("part1", "true"));
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("--partition=nosuch"));
  EXPECT_THAT(refused.status().message(), HasSubstr("nvalid partition"));
}

TEST_F(SlurmExecutorTest, JobSlurmForgotIsJudgedByItsExitFile) {
  JobLaunch job = Job("forgot1", "true");
  auto lost = executor_->Observe(job, "987654");
  ASSERT_TRUE(lost.ok()) << lost.status().ToString();
  EXPECT_EQ(lost->phase, JobPhase::kLost);
  EXPECT_THAT(lost->message, HasSubstr("no longer knows job 987654"));

  WriteFile(job.exit_code_path, "0\n");
  auto ended = executor_->Observe(job, "987654");
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  EXPECT_EQ(ended->phase, JobPhase::kSucceeded);
  EXPECT_TRUE(executor_->Cancel(job, "987654").ok());

  auto bad = executor_->Observe(job, "12; rm -rf /");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SlurmExecutorTest, UnreachableControllerIsUnavailable) {
  EXPECT_TRUE(executor_->Ping().ok());
  // The same cluster's configuration with a controller port nobody listens on (and a short
  // message timeout, so the clients give up quickly).
  std::string conf = ReadFile(cluster_->conf_path());
  std::string port_line = "SlurmctldPort=" + std::to_string(cluster_->controller_port());
  conf.replace(conf.find(port_line), port_line.size(),
               "SlurmctldPort=" + std::to_string(testing::FreeTcpPort()));
  conf += "MessageTimeout=2\n";
  std::string dead_conf = cluster_->dir() + "/dead.conf";
  WriteFile(dead_conf, conf);
  SlurmExecutor dead(Config(dead_conf));

  EXPECT_EQ(dead.Ping().code(), StatusCode::kUnavailable);
  JobLaunch job = Job("dead1", "true");
  auto launched = dead.Launch(job);
  ASSERT_FALSE(launched.ok());
  EXPECT_EQ(launched.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(launched.status().message(), HasSubstr("slurm unreachable: `sbatch"));
  auto observed = dead.Observe(job, "1");
  EXPECT_EQ(observed.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace cairn::compute
