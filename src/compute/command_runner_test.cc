#include "compute/command_runner.h"

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace cairn::compute {
namespace {

TEST(RunCommandTest, CapturesStdoutStderrAndExitCode) {
  auto result = RunCommand({"/bin/sh", "-c", "echo out; echo err >&2; exit 4"});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->exit_code, 4);
  EXPECT_EQ(result->out, "out\n");
  EXPECT_EQ(result->err, "err\n");
}

TEST(RunCommandTest, ArgumentsAreNotInterpretedByAShell) {
  auto result = RunCommand({"printf", "%s|", "a b", "$HOME", "'; rm -rf /"});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->out, "a b|$HOME|'; rm -rf /|");
}

TEST(RunCommandTest, EnvironmentOverridesAreSeen) {
  setenv("CAIRN_RUNNER_TEST", "parent", 1);
  CommandOptions options;
  options.env = {{"CAIRN_RUNNER_TEST", "child"}, {"EXTRA", "x y"}};
  auto result = RunCommand(
      {"/bin/sh", "-c", "printf '%s %s' \"$CAIRN_RUNNER_TEST\" \"$EXTRA\""}, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->out, "child x y");
}

TEST(RunCommandTest, LargeOutputOnBothStreamsDoesNotDeadlock) {
  auto result = RunCommand(
      {"/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do echo line $i; echo e $i >&2; i=$((i+1)); done"});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_GT(result->out.size(), 100'000u);
  EXPECT_GT(result->err.size(), 80'000u);
}

TEST(RunCommandTest, MissingProgramIsNotFound) {
  auto result = RunCommand({"cairn-no-such-program-xyz", "--flag"});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_NE(result.status().message().find("cairn-no-such-program-xyz"), std::string::npos);
}

TEST(RunCommandTest, EmptyArgvIsInvalid) {
  auto result = RunCommand({});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

TEST(RunCommandTest, TimeoutKillsTheWholeProcessGroup) {
  std::string pid_file =
      (std::filesystem::temp_directory_path() / ("cairn-runner-" + std::to_string(getpid())))
          .string();
  // The grandchild (a background sleep) holds the pipes open; the timeout must still end both.
  CommandOptions options;
  options.timeout = std::chrono::milliseconds(300);
  auto result =
      RunCommand({"/bin/sh", "-c", "sleep 30 & echo $! > " + pid_file + "; wait"}, options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(result.status().message().find("did not finish within 300 ms"), std::string::npos)
      << result.status().message();
  std::ifstream in(pid_file);
  pid_t sleeper = 0;
  ASSERT_TRUE(in >> sleeper);
  std::filesystem::remove(pid_file);
  // SIGKILL is delivered synchronously to the group; the orphan is reaped by init, so poll for
  // it to vanish (or become a zombie nobody reaps, in a container without an init).
  bool gone = false;
  for (int i = 0; i < 2000 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(sleeper) + "/stat");
    std::string pid_field, comm, state;
    gone = !(stat >> pid_field >> comm >> state) || state == "Z";
    if (!gone) usleep(1000);
  }
  EXPECT_TRUE(gone) << "pid " << sleeper << " still runs";
}

TEST(RunCommandTest, CommandErrorQuotesTheCommandAndStderrsFirstLine) {
  CommandOutput output{.exit_code = 1, .out = "", .err = "\nsbatch: error: bad partition\nmore\n"};
  EXPECT_EQ(CommandError({"sbatch", "--parsable", "my job.sh"}, output),
            "`sbatch --parsable 'my job.sh'` exited with status 1: sbatch: error: bad partition");
  EXPECT_EQ(FormatCommand({"echo", "it's"}), "echo 'it'\\''s'");
}

TEST(StartProcessTest, RunsInTheBackgroundWithOutputInTheLog) {
  std::string log =
      (std::filesystem::temp_directory_path() / ("cairn-start-" + std::to_string(getpid())))
          .string();
  auto pid = StartProcess({"/bin/sh", "-c", "echo to-out; echo to-err >&2; exit 7"}, log,
                          {{"X", "1"}});
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  int status = 0;
  ASSERT_EQ(waitpid(*pid, &status, 0), *pid);
  EXPECT_EQ(WEXITSTATUS(status), 7);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "to-out\nto-err\n");
  std::filesystem::remove(log);
}

}  // namespace
}  // namespace cairn::compute
