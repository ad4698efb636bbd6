// The composition root of `cairn server`: opens the stores, wires services and API routes, and
// serves until SIGINT/SIGTERM.
#pragma once

#include <cstdint>
#include <string>

namespace cairn::app {

struct ServerConfig {
  std::string data_dir = "./cairn-data";
  std::string host = "127.0.0.1";
  uint16_t port = 5000;
  int threads = 0;                           // 0: one per core (at least 2)
  int64_t max_json_body_bytes = 1 << 20;    // JSON API calls
  int64_t max_artifact_bytes = 64LL << 30;  // artifact uploads
  bool access_log = true;
  int local_job_slots = 0;  // jobs the local executor runs at once; 0: one per core
  // When set, jobs may use `compute: slurm`: the cluster's slurm.conf (SLURM_CONF for sbatch,
  // scontrol and scancel) and the partition to submit to ("": the cluster's default).
  std::string slurm_conf;
  std::string slurm_partition;
  std::string port_file;  // when set, the bound port is written here once listening (tests)
  int64_t trigger_interval_ms = 30'000;  // how often retraining triggers are evaluated
};

// Serves until a termination signal; returns the process exit code.
int RunServer(const ServerConfig& config);

}  // namespace cairn::app
