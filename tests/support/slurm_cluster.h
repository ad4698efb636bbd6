// A real one-node Slurm cluster for tests: munged (on its default socket, started when none runs),
// slurmctld and slurmd with a private slurm.conf under a temporary folder. Needs Debian's
// `slurm-wlm` and `munge`; runs as root (or as a user whose munged is already running).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "compute/command_runner.h"
#include "core/result.h"

namespace cairn::testing {

class SlurmCluster {
 public:
  // Starts the cluster and waits (polling `sinfo`) until its node is idle. kFailedPrecondition
  // when this machine cannot run it (the packages are missing, or munged is not running and
  // this user cannot start it): tests skip then, with the message. Any other error is a failure.
  static Result<std::unique_ptr<SlurmCluster>> Start();
  // Cancels whatever jobs are left, stops slurmd and slurmctld (SIGTERM, then SIGKILL) and
  // removes the folder. munged is left running: other clusters (tests in parallel) share it.
  ~SlurmCluster();
  SlurmCluster(const SlurmCluster&) = delete;
  SlurmCluster& operator=(const SlurmCluster&) = delete;

  const std::string& dir() const { return dir_; }           // the temporary folder
  const std::string& conf_path() const { return conf_path_; }  // its slurm.conf
  int controller_port() const { return controller_port_; }

  // Runs a Slurm client command (sinfo, squeue, scontrol …) against this cluster.
  Result<compute::CommandOutput> Run(const std::vector<std::string>& argv) const;

 private:
  SlurmCluster() = default;
  Status Launch();
  void StopDaemons();

  std::string dir_;
  std::string conf_path_;
  int controller_port_ = 0;
  pid_t slurmctld_pid_ = -1;
  pid_t slurmd_pid_ = -1;
};

// A TCP port nobody listens on right now (bound to port 0, then released).
int FreeTcpPort();

}  // namespace cairn::testing
