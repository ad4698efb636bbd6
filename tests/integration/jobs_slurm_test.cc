// End-to-end: `compute: slurm` jobs through the real `cairn server --slurm-conf` on a real
// one-node Slurm cluster (tests/support/slurm_cluster.h) — submit, wait, logs, the job's run.
// Skipped where slurm-wlm and munge are not installed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "server_process.h"
#include "slurm_cluster.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::trunc) << text;
}

class JobsSlurmTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto cluster = SlurmCluster::Start();
    if (!cluster.ok()) {
      start_status_ = new Status(cluster.status());
      return;
    }
    cluster_ = std::move(cluster).value().release();
    dir_ = new std::string(MakeTempDir("cairn_jobs_slurm_it"));
    server_ = ServerProcess::Start(*dir_ + "/data", {"--slurm-conf", cluster_->conf_path()})
                  .release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    if (dir_) fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
    delete cluster_;  // after the server: it cancels whatever is left
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
    ASSERT_NE(server_, nullptr) << "cairn server --slurm-conf did not start";
  }

  static CommandResult Cairn(std::vector<std::string> args) {
    return RunCairn(args, server_->url());
  }
  static json ShowJob(const std::string& id) {
    CommandResult r = Cairn({"--output", "json", "jobs", "show", id});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }
  static json GetRun(const std::string& run_id) {
    auto client = server_->NewClient();
    auto response = client->Send("GET", "/api/2.0/mlflow/runs/get?run_id=" + run_id);
    EXPECT_TRUE(response.ok() && response->status == 200);
    return response.ok() ? json::parse(response->body, nullptr, false) : json();
  }

  static SlurmCluster* cluster_;
  static Status* start_status_;
  static std::string* dir_;
  static ServerProcess* server_;
};

SlurmCluster* JobsSlurmTest::cluster_ = nullptr;
Status* JobsSlurmTest::start_status_ = nullptr;
std::string* JobsSlurmTest::dir_ = nullptr;
ServerProcess* JobsSlurmTest::server_ = nullptr;

TEST_F(JobsSlurmTest, SlurmJobRunsAndItsRunFinishes) {
  const fs::path job_file = fs::path(*dir_) / "hello" / "job.yaml";
  WriteFile(job_file,
            "name: slurm-hello\n"
            "command: echo \"run $MLFLOW_RUN_ID job $SLURM_JOB_ID\"; "
            "echo 42 > ${{outputs.result}}/answer.txt\n"
            "outputs:\n"
            "  result: {type: folder}\n"
            "compute: slurm\n"
            "resources: {cpus: 1, memory: 64M, timeout: 5m}\n"
            "experiment: on-slurm\n");
  CommandResult submitted = Cairn({"--output", "json", "jobs", "submit", job_file.string(),
                                   "--wait"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err << submitted.out;
  json job = json::parse(submitted.out, nullptr, false);
  ASSERT_TRUE(job.is_object()) << submitted.out;
  EXPECT_EQ(job["state"], "succeeded") << job.dump();
  EXPECT_EQ(job["compute"], "slurm");
  EXPECT_EQ(job["exit_code"], 0);
  const std::string handle = job["executor_handle"];
  ASSERT_FALSE(handle.empty());

  // Slurm ran it: the handle is Slurm's job id, which the job saw as SLURM_JOB_ID.
  const std::string run_id = job["run_id"];
  CommandResult logs = Cairn({"jobs", "logs", job["id"]});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out, "run " + run_id + " job " + handle + "\n");
  auto shown = cluster_->Run({"scontrol", "-o", "show", "job", handle});
  ASSERT_TRUE(shown.ok());
  EXPECT_NE(shown->out.find("JobName=cairn-" + job["id"].get<std::string>()), std::string::npos)
      << shown->out;

  json run = GetRun(run_id);
  EXPECT_EQ(run["run"]["info"]["status"], "FINISHED") << run.dump();
}

TEST_F(JobsSlurmTest, FailingSlurmJobFailsItsRun) {
  const fs::path job_file = fs::path(*dir_) / "fail" / "job.yaml";
  WriteFile(job_file,
            "command: echo going down >&2; exit 3\n"
            "compute: slurm\n");
  CommandResult submitted = Cairn({"--output", "json", "jobs", "submit", job_file.string(),
                                   "--wait"});
  EXPECT_EQ(submitted.exit_code, 1) << submitted.out;
  json job = json::parse(submitted.out, nullptr, false);
  ASSERT_TRUE(job.is_object()) << submitted.out << submitted.err;
  EXPECT_EQ(job["state"], "failed");
  EXPECT_EQ(job["exit_code"], 3);
  CommandResult logs = Cairn({"jobs", "logs", job["id"], "--stream", "stderr"});
  EXPECT_EQ(logs.out, "going down\n");
  EXPECT_EQ(GetRun(job["run_id"])["run"]["info"]["status"], "FAILED");
}

TEST_F(JobsSlurmTest, MissingSlurmConfIsAUsageError) {
  CommandResult r = RunCairn({"server", "--data", *dir_ + "/other", "--port", "0",
                              "--slurm-conf", *dir_ + "/no-such.conf"},
                             "http://127.0.0.1:1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error: --slurm-conf: no such file"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cairn::testing
