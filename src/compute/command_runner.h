// Runs an external program from an argument vector (never a shell string), capturing its output,
// and starts background processes: what the Slurm executor (sbatch, scontrol, scancel) and the
// Slurm test cluster (the daemons) are built on.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace cairn::compute {

struct CommandOptions {
  // Set in the child's environment on top of this process's own (an existing name is replaced).
  std::vector<std::pair<std::string, std::string>> env;
  // Past it the child's whole process group is killed and the call fails with kUnavailable.
  std::chrono::milliseconds timeout{30'000};
};

struct CommandOutput {
  int exit_code = 0;    // 128 + N when killed by signal N (as a shell reports it)
  std::string out;      // everything it wrote on stdout
  std::string err;      // everything it wrote on stderr
};

// Runs argv[0] (searched in PATH unless it contains a '/') with argv[1..], stdin from /dev/null,
// and waits for it. A non-zero exit is not an error here: see CommandError. kInvalidArgument for
// an empty argv; kNotFound when the program cannot be executed; kUnavailable when it outlives
// options.timeout.
Result<CommandOutput> RunCommand(const std::vector<std::string>& argv,
                                 const CommandOptions& options = {});

// The command line as a user would type it, for messages: arguments with spaces or quotes are
// single-quoted.
std::string FormatCommand(const std::vector<std::string>& argv);

// "`sbatch --parsable x.sh` exited with status 1: sbatch: error: …" — the command quoted and
// the first non-empty line of its stderr (else stdout).
std::string CommandError(const std::vector<std::string>& argv, const CommandOutput& output);

// Starts argv in the background in its own process group, stdin from /dev/null, stdout and
// stderr appended to log_path; returns its pid. The caller reaps it (waitpid).
Result<pid_t> StartProcess(const std::vector<std::string>& argv, const std::string& log_path,
                           const std::vector<std::pair<std::string, std::string>>& env = {});

}  // namespace cairn::compute
