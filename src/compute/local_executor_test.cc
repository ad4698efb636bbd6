#include "compute/local_executor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace cairn::compute {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// Generous: only reached when something is broken.
constexpr milliseconds kLongWait(60000);

class LocalExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cairn-local-executor-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  JobLaunch Job(const std::string& id, const std::string& command) {
    JobLaunch job;
    job.job_id = id;
    job.work_dir = (dir_ / id).string();
    fs::create_directories(job.work_dir);
    job.command = command;
    job.stdout_path = (dir_ / (id + ".out")).string();
    job.stderr_path = (dir_ / (id + ".err")).string();
    job.exit_code_path = (dir_ / (id + ".exit")).string();
    return job;
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Runs `job` to its end and returns what Observe then says.
  JobObservation RunToEnd(LocalExecutor& executor, const JobLaunch& job) {
    auto handle = executor.Launch(job);
    EXPECT_TRUE(handle.ok()) << handle.status().ToString();
    if (!handle.ok()) return {};
    EXPECT_TRUE(executor.WaitForExit(*handle, kLongWait));
    auto o = executor.Observe(job, *handle);
    EXPECT_TRUE(o.ok()) << o.status().ToString();
    return o.ok() ? *o : JobObservation{};
  }

  fs::path dir_;
};

// True when no process `pid` exists any more (a zombie counts as ended).
bool ProcessGone(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!in || !std::getline(in, text)) return true;
  size_t close = text.rfind(')');
  return close != std::string::npos && text.size() > close + 2 && text[close + 2] == 'Z';
}

TEST_F(LocalExecutorTest, RunsInWorkDirWithEnvAndCapturesOutput) {
  LocalExecutor executor({.slots = 2});
  JobLaunch job = Job("ok", "echo out $GREETING; pwd; echo err >&2");
  job.env = {{"GREETING", "hello"}};
  JobObservation o = RunToEnd(executor, job);
  EXPECT_EQ(o.phase, JobPhase::kSucceeded);
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(Read(job.stdout_path), "out hello\n" + job.work_dir + "\n");
  EXPECT_EQ(Read(job.stderr_path), "err\n");
  EXPECT_EQ(Read(job.exit_code_path), "0\n");
}

TEST_F(LocalExecutorTest, NonZeroExitIsFailedWithItsCode) {
  LocalExecutor executor({.slots = 1});
  JobLaunch job = Job("fail", "echo about to fail; exit 3");
  JobObservation o = RunToEnd(executor, job);
  EXPECT_EQ(o.phase, JobPhase::kFailed);
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_EQ(Read(job.exit_code_path), "3\n");
}

TEST_F(LocalExecutorTest, SlotsLimitConcurrency) {
  LocalExecutor executor({.slots = 1});
  EXPECT_EQ(executor.FreeSlots(), 1);
  JobLaunch job = Job("slot", "read line");  // stdin is /dev/null: ends at once
  auto handle = executor.Launch(job);
  ASSERT_TRUE(handle.ok());
  // Either still running (no slot) or already ended (slot back): never more than one.
  EXPECT_LE(executor.FreeSlots(), 1);
  ASSERT_TRUE(executor.WaitForExit(*handle, kLongWait));
  EXPECT_EQ(executor.FreeSlots(), 1);
}

TEST_F(LocalExecutorTest, TimeoutKillsTheWholeProcessGroup) {
  LocalExecutor executor({.slots = 1, .kill_grace_ms = 200});
  // A grandchild that ignores SIGTERM: only the SIGKILL after the grace period ends it.
  JobLaunch job = Job("timeout", "sh -c 'trap \"\" TERM; sleep 300' & echo $! > grandchild; wait");
  job.timeout_ms = 300;
  JobObservation o = RunToEnd(executor, job);
  EXPECT_EQ(o.phase, JobPhase::kTimedOut) << o.message;
  pid_t grandchild = std::stoi(Read(job.work_dir + "/grandchild"));
  // The group is SIGKILLed when its leader is reaped, so the grandchild is gone by now.
  for (int i = 0; i < 1000 && !ProcessGone(grandchild); ++i) usleep(1000);
  EXPECT_TRUE(ProcessGone(grandchild));
}

TEST_F(LocalExecutorTest, MemoryLimitMakesAnAllocationFail) {
  LocalExecutor executor({.slots = 1});
  JobLaunch job = Job("memory", "/usr/bin/python3 -c 'b = bytearray(1024 * 1024 * 1024)'");
  job.memory_bytes = 256ll << 20;
  JobObservation o = RunToEnd(executor, job);
  EXPECT_EQ(o.phase, JobPhase::kFailed);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(Read(job.stderr_path).find("MemoryError"), std::string::npos) << Read(job.stderr_path);

  // The same allocation without the limit succeeds.
  JobLaunch free_job = Job("memory-free", "/usr/bin/python3 -c 'b = bytearray(64 * 1024 * 1024)'");
  EXPECT_EQ(RunToEnd(executor, free_job).phase, JobPhase::kSucceeded);
}

TEST_F(LocalExecutorTest, CpuAffinityPinsToTheCpusAsked) {
  LocalExecutor executor({.slots = 1});
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "needs 2 cores";
  JobLaunch job = Job("affinity", "grep Cpus_allowed_list /proc/self/status");
  job.cpus = 1;
  RunToEnd(executor, job);
  std::string line = Read(job.stdout_path);
  std::string list = line.substr(line.find(':') + 1);
  list.erase(0, list.find_first_not_of(" \t"));
  EXPECT_EQ(list.find_first_of(",-"), std::string::npos) << line;  // one cpu
}

TEST_F(LocalExecutorTest, CancelEndsTheJobAndItsChildren) {
  LocalExecutor executor({.slots = 1, .kill_grace_ms = 200});
  JobLaunch job = Job("cancel", "sleep 300 & echo $! > child; wait");
  auto handle = executor.Launch(job);
  ASSERT_TRUE(handle.ok());
  // The shell creates the file before echo writes the pid: wait for the whole line.
  for (int i = 0; i < 10000 && Read(job.work_dir + "/child").find('\n') == std::string::npos;
       ++i) {
    usleep(1000);
  }
  auto running = executor.Observe(job, *handle);
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->phase, JobPhase::kRunning);
  ASSERT_TRUE(executor.Cancel(job, *handle).ok());
  ASSERT_TRUE(executor.WaitForExit(*handle, kLongWait));
  auto o = executor.Observe(job, *handle);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->phase, JobPhase::kCancelled);
  EXPECT_TRUE(executor.Cancel(job, *handle).ok());  // idempotent
  std::string child_text = Read(job.work_dir + "/child");
  ASSERT_FALSE(child_text.empty());
  pid_t child = std::stoi(child_text);
  for (int i = 0; i < 1000 && !ProcessGone(child); ++i) usleep(1000);
  EXPECT_TRUE(ProcessGone(child));
  EXPECT_FALSE(fs::exists(job.exit_code_path));  // killed before the wrapper could write one
}

// A second executor (a restarted server) judges a job it did not launch from its process group
// and exit-code file.
TEST_F(LocalExecutorTest, AnotherExecutorReattachesByHandle) {
  LocalExecutor first({.slots = 1});
  JobLaunch job = Job("reattach", "read line; exit 4");
  auto handle = first.Launch(job);
  ASSERT_TRUE(handle.ok());
  ASSERT_TRUE(first.WaitForExit(*handle, kLongWait));

  LocalExecutor second({.slots = 1});
  auto o = second.Observe(job, *handle);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->phase, JobPhase::kFailed);
  EXPECT_EQ(o->exit_code, 4);

  fs::remove(job.exit_code_path);
  auto lost = second.Observe(job, *handle);
  ASSERT_TRUE(lost.ok());
  EXPECT_EQ(lost->phase, JobPhase::kLost);

  EXPECT_FALSE(second.Observe(job, "garbage").ok());
}

}  // namespace
}  // namespace cairn::compute
