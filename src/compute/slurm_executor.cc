#include "compute/slurm_executor.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "compute/command_runner.h"

namespace cairn::compute {

namespace fs = std::filesystem;

namespace {

struct SlurmCall {
  std::vector<std::string> argv;
  CommandOutput output;
};

// Slurm's words for "the controller did not answer", as its clients print them.
bool IsUnreachable(std::string_view text) {
  for (std::string_view needle :
       {"Unable to contact slurm controller", "Socket timed out", "Connection refused",
        "Zero Bytes were transmitted", "Communication connection failure",
        "Unable to establish controller machine", "Could not establish a configuration source",
        "Munge encode failed", "Protocol authentication error"}) {
    if (text.find(needle) != std::string_view::npos) return true;
  }
  return false;
}

// Runs one Slurm client command. A command that could not run, or whose output says the
// controller is unreachable, is an error; any other exit status is the caller's to judge.
Result<SlurmCall> RunSlurm(const SlurmConfig& config, std::string_view program,
                           std::vector<std::string> args) {
  SlurmCall call;
  call.argv.push_back(config.bin_dir.empty() ? std::string(program)
                                             : (fs::path(config.bin_dir) / program).string());
  for (auto& arg : args) call.argv.push_back(std::move(arg));
  CommandOptions options;
  options.timeout = config.command_timeout;
  if (!config.slurm_conf.empty()) options.env.emplace_back("SLURM_CONF", config.slurm_conf);
  auto output = RunCommand(call.argv, options);
  if (!output.ok()) {
    if (output.status().code() == StatusCode::kNotFound) {
      return FailedPrecondition("slurm: " + output.status().message() +
                                " (is Slurm's client installed on this machine?)");
    }
    return Status(output.status().code(), "slurm unreachable: " + output.status().message());
  }
  call.output = std::move(output).value();
  if (call.output.exit_code != 0 && IsUnreachable(call.output.err + call.output.out)) {
    return Unavailable("slurm unreachable: " + CommandError(call.argv, call.output));
  }
  return call;
}

Status CallFailed(const SlurmCall& call) {
  return FailedPrecondition("slurm: " + CommandError(call.argv, call.output));
}

std::string ShellQuote(std::string_view text) {
  std::string result = "'";
  for (char c : text) {
    if (c == '\'') {
      result += "'\\''";
    } else {
      result += c;
    }
  }
  result += '\'';
  return result;
}

bool IsEnvName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// A value on an `#SBATCH` line: sbatch splits those lines at blanks and honours double quotes,
// with no escape for a double quote itself.
Result<std::string> SbatchValue(std::string_view field, std::string_view value) {
  if (value.empty()) return InvalidArgument(std::string(field) + " is empty");
  if (value.find_first_of("\"\n\r") != std::string_view::npos) {
    return InvalidArgument(std::string(field) + " '" + std::string(value) +
                           "' contains a double quote or a line break, which Slurm's #SBATCH "
                           "lines cannot carry");
  }
  if (value.find_first_of(" \t") != std::string_view::npos) {
    return "\"" + std::string(value) + "\"";
  }
  return std::string(value);
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// "1.500": seconds with milliseconds, as coreutils' timeout accepts them.
std::string Seconds(int64_t ms) {
  std::string fraction = std::to_string(ms % 1000);
  return std::to_string(ms / 1000) + "." + std::string(3 - fraction.size(), '0') + fraction;
}

bool IsSlurmJobId(std::string_view handle) {
  if (handle.empty() || handle.size() > 20) return false;
  for (char c : handle) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The value of `Key=` in `scontrol -o show job` output (values of the fields read here have
// no blanks).
std::string Field(std::string_view line, std::string_view key) {
  std::string needle = " " + std::string(key) + "=";
  size_t at = line.find(needle);
  if (at == std::string_view::npos) {
    if (line.substr(0, needle.size() - 1) != needle.substr(1)) return "";
    at = 0;
  } else {
    at += 1;
  }
  at += key.size() + 1;
  size_t end = line.find_first_of(" \n", at);
  return std::string(line.substr(at, end == std::string_view::npos ? end : end - at));
}

struct ExitFile {
  int exit_code = 0;
  bool timed_out = false;
};

// The exit-code file the script writes last; nullopt while it does not exist (or is not whole:
// the script renames it into place, so a partial file means someone else wrote it).
std::optional<ExitFile> ReadExitFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  ExitFile file;
  if (!(in >> file.exit_code)) return std::nullopt;
  std::string marker;
  file.timed_out = (in >> marker) && marker == kTimeoutMarker;
  return file;
}

JobObservation FromExitFile(const ExitFile& file, int64_t timeout_ms) {
  JobObservation observation;
  observation.exit_code = file.exit_code;
  if (file.timed_out) {
    observation.phase = JobPhase::kTimedOut;
    observation.message = "timed out after " + Seconds(timeout_ms) + " s";
  } else if (file.exit_code == 0) {
    observation.phase = JobPhase::kSucceeded;
  } else {
    observation.phase = JobPhase::kFailed;
    observation.message = file.exit_code > 128
                              ? "killed by signal " + std::to_string(file.exit_code - 128)
                              : "exit status " + std::to_string(file.exit_code);
  }
  return observation;
}

// Slurm's "ExitCode=N:S" (the batch script's exit status and the signal that ended it).
JobObservation FromSlurmExitCode(std::string_view state, std::string_view exit_code) {
  JobObservation observation;
  int status = 0, signal = 0;
  size_t colon = exit_code.find(':');
  try {
    status = std::stoi(std::string(exit_code.substr(0, colon)));
    if (colon != std::string_view::npos) signal = std::stoi(std::string(exit_code.substr(colon + 1)));
  } catch (const std::exception&) {
    status = state == "COMPLETED" ? 0 : 1;
  }
  if (signal > 0) {
    observation.phase = JobPhase::kFailed;
    observation.exit_code = 128 + signal;
    observation.message = "killed by signal " + std::to_string(signal);
  } else if (status == 0 && state == "COMPLETED") {
    observation.phase = JobPhase::kSucceeded;
    observation.exit_code = 0;
  } else {
    observation.phase = JobPhase::kFailed;
    observation.exit_code = status;
    observation.message = "exit status " + std::to_string(status);
  }
  return observation;
}

}  // namespace

SlurmExecutor::SlurmExecutor(SlurmConfig config) : config_(std::move(config)) {}

Result<std::string> SlurmExecutor::BatchScript(const JobLaunch& job) {
  if (job.job_id.empty()) return InvalidArgument("job_id is empty");
  for (char c : job.job_id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return InvalidArgument("job_id '" + job.job_id + "' has characters other than letters, "
                             "digits, '-', '_' and '.'");
    }
  }
  if (job.command.empty()) return InvalidArgument("command is empty");
  if (job.cpus < 0) return InvalidArgument("cpus is negative");
  if (job.memory_bytes < 0) return InvalidArgument("memory is negative");
  if (job.timeout_ms < 0) return InvalidArgument("timeout is negative");
  CAIRN_TRY(std::string output, SbatchValue("stdout_path", job.stdout_path));
  CAIRN_TRY(std::string error, SbatchValue("stderr_path", job.stderr_path));
  CAIRN_TRY(std::string chdir, SbatchValue("work_dir", job.work_dir));
  if (job.exit_code_path.empty()) return InvalidArgument("exit_code_path is empty");

  std::ostringstream s;
  s << "#!/bin/sh\n"
    << "# Generated by cairn for job " << job.job_id
    << ": runs the command in the job's work folder with its environment,\n"
    << "# then writes the command's exit status to the exit-code file.\n"
    << "#SBATCH --job-name=cairn-" << job.job_id << "\n"
    << "#SBATCH --output=" << output << "\n"
    << "#SBATCH --error=" << error << "\n"
    << "#SBATCH --chdir=" << chdir << "\n"
    << "#SBATCH --ntasks=1\n";
  if (job.cpus > 0) s << "#SBATCH --cpus-per-task=" << job.cpus << "\n";
  if (job.memory_bytes > 0) {
    s << "#SBATCH --mem=" << CeilDiv(job.memory_bytes, int64_t{1} << 20) << "M\n";
  }
  if (job.timeout_ms > 0) {
    // One minute more than asked: the exact timeout below ends the command first and records
    // that it timed out; Slurm's limit only backs it up.
    s << "#SBATCH --time=" << CeilDiv(job.timeout_ms, 60'000) + 1 << "\n";
  }
  for (const auto& [name, value] : job.env) {
    if (!IsEnvName(name)) {
      return InvalidArgument("environment variable name '" + name + "' is not a valid name");
    }
    s << "export " << name << "=" << ShellQuote(value) << "\n";
  }
  s << "cd " << ShellQuote(job.work_dir) << " || exit 1\n";
  std::string command = "/bin/sh -c " + ShellQuote(job.command);
  if (job.timeout_ms > 0) {
    // timeout(1) runs the command in its own process group and signals the whole group.
    s << "started=$(date +%s)\n"
      << "timeout --kill-after=" << kTimeoutKillAfterSeconds << " " << Seconds(job.timeout_ms)
      << " " << command << "\n"
      << "status=$?\n"
      << "timed_out=\n"
      << "if [ \"$status\" -eq 124 ] || [ \"$status\" -eq 137 ]; then\n"
      << "  [ $(( $(date +%s) - started )) -ge " << job.timeout_ms / 1000
      << " ] && timed_out=1\n"
      << "fi\n";
  } else {
    s << command << "\n"
      << "status=$?\n"
      << "timed_out=\n";
  }
  const std::string exit_path = ShellQuote(job.exit_code_path);
  const std::string exit_tmp = ShellQuote(job.exit_code_path + ".tmp");
  s << "if [ -n \"$timed_out\" ]; then\n"
    << "  printf '%s\\n" << kTimeoutMarker << "\\n' \"$status\" > " << exit_tmp << "\n"
    << "else\n"
    << "  printf '%s\\n' \"$status\" > " << exit_tmp << "\n"
    << "fi\n"
    << "mv -f " << exit_tmp << " " << exit_path << "\n"
    << "exit \"$status\"\n";
  return s.str();
}

Result<std::string> SlurmExecutor::Launch(const JobLaunch& request) {
  // slurmd runs the script from its own folder: every path in it must be absolute.
  JobLaunch job = request;
  std::error_code ec;
  for (std::string* path : {&job.work_dir, &job.stdout_path, &job.stderr_path,
                            &job.exit_code_path}) {
    if (path->empty()) continue;
    fs::path absolute = fs::absolute(*path, ec);
    if (ec) return InvalidArgument("cannot make '" + *path + "' absolute: " + ec.message());
    *path = absolute.lexically_normal().string();
  }
  CAIRN_TRY(std::string script, BatchScript(job));
  const std::string script_path = (fs::path(job.work_dir) / kScriptName).string();
  fs::create_directories(job.work_dir, ec);
  for (const auto& path : {job.stdout_path, job.stderr_path, job.exit_code_path}) {
    fs::create_directories(fs::path(path).parent_path(), ec);
  }
  {
    std::ofstream out(script_path, std::ios::trunc);
    out << script;
    if (!out) return Internal("cannot write the batch script " + script_path);
  }
  fs::permissions(script_path, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read,
                  ec);
  // The logs exist from submission on, so they can be followed while the job waits in the queue.
  for (const auto& path : {job.stdout_path, job.stderr_path}) {
    std::ofstream log(path, std::ios::trunc);
    if (!log) return Internal("cannot create the job's log file " + path);
  }
  fs::remove(job.exit_code_path, ec);
  fs::remove(job.exit_code_path + ".tmp", ec);

  std::vector<std::string> args = {"--parsable"};
  if (!config_.partition.empty()) args.push_back("--partition=" + config_.partition);
  args.insert(args.end(), config_.extra_sbatch_args.begin(), config_.extra_sbatch_args.end());
  args.push_back(script_path);
  CAIRN_TRY(SlurmCall call, RunSlurm(config_, "sbatch", std::move(args)));
  if (call.output.exit_code != 0) return CallFailed(call);
  // --parsable prints "JOBID" or "JOBID;CLUSTER".
  std::string handle = call.output.out.substr(0, call.output.out.find_first_of(";\n"));
  if (!IsSlurmJobId(handle)) {
    return Internal("slurm: `" + FormatCommand(call.argv) + "` printed '" + call.output.out +
                    "', not a job id");
  }
  return handle;
}

Result<JobObservation> SlurmExecutor::Observe(const JobLaunch& job, const std::string& handle) {
  if (!IsSlurmJobId(handle)) {
    return InvalidArgument("'" + handle + "' is not a Slurm job id");
  }
  CAIRN_TRY(SlurmCall call, RunSlurm(config_, "scontrol", {"-o", "show", "job", handle}));
  const std::string& out = call.output.out;
  if (call.output.exit_code != 0 || out.find("JobState=") == std::string::npos) {
    bool unknown = (call.output.err + out).find("Invalid job id") != std::string::npos;
    if (!unknown) return CallFailed(call);
    // Slurm forgot the job (MinJobAge passed, or its state was reset): the file decides.
    if (auto file = ReadExitFile(job.exit_code_path)) return FromExitFile(*file, job.timeout_ms);
    JobObservation lost;
    lost.phase = JobPhase::kLost;
    lost.message = "slurm no longer knows job " + handle + " and it left no exit status in " +
                   job.exit_code_path;
    return lost;
  }
  const std::string line = out.substr(0, out.find('\n'));
  const std::string state = Field(line, "JobState");
  const std::string reason = Field(line, "Reason");
  const std::string why = reason.empty() || reason == "None" ? "" : " (" + reason + ")";

  JobObservation observation;
  if (state == "PENDING" || state == "CONFIGURING" || state == "REQUEUED" ||
      state == "REQUEUE_HOLD" || state == "REQUEUE_FED" || state == "RESV_DEL_HOLD" ||
      state == "SPECIAL_EXIT") {
    observation.phase = JobPhase::kPending;
    observation.message = "slurm: " + state + why;
  } else if (state == "RUNNING" || state == "COMPLETING" || state == "SUSPENDED" ||
             state == "STOPPED" || state == "SIGNALING" || state == "STAGE_OUT" ||
             state == "RESIZING") {
    observation.phase = JobPhase::kRunning;
    observation.message = "slurm: " + state;
  } else if (state == "COMPLETED" || state == "FAILED") {
    if (auto file = ReadExitFile(job.exit_code_path)) {
      observation = FromExitFile(*file, job.timeout_ms);
    } else {
      // The script did not get to write its file (killed, or the file system is not shared).
      observation = FromSlurmExitCode(state, Field(line, "ExitCode"));
      if (observation.phase == JobPhase::kFailed) observation.message += " (slurm: " + state + why + ")";
    }
  } else if (state == "CANCELLED") {
    observation.phase = JobPhase::kCancelled;
    observation.message = "slurm: CANCELLED" + why;
  } else if (state == "TIMEOUT" || state == "DEADLINE") {
    observation.phase = JobPhase::kTimedOut;
    observation.message = "slurm: " + state + " (the job's Slurm time limit passed)";
  } else if (state == "OUT_OF_MEMORY") {
    observation.phase = JobPhase::kFailed;
    if (auto file = ReadExitFile(job.exit_code_path)) observation.exit_code = file->exit_code;
    observation.message = "slurm: OUT_OF_MEMORY (the job went over its memory limit)";
  } else if (state == "NODE_FAIL" || state == "BOOT_FAIL" || state == "PREEMPTED") {
    observation.phase = JobPhase::kLost;
    observation.message = "slurm: " + state + why;
  } else {
    observation.phase = JobPhase::kLost;
    observation.message = "slurm: unexpected job state '" + state + "'" + why;
  }
  return observation;
}

Status SlurmExecutor::Cancel(const JobLaunch& job, const std::string& handle) {
  if (!IsSlurmJobId(handle)) {
    return InvalidArgument("'" + handle + "' is not a Slurm job id");
  }
  CAIRN_TRY(SlurmCall call, RunSlurm(config_, "scancel", {handle}));
  if (call.output.exit_code == 0) return Status::Ok();
  const std::string text = call.output.err + call.output.out;
  if (text.find("already completing or completed") != std::string::npos ||
      text.find("Invalid job id") != std::string::npos) {
    return Status::Ok();
  }
  return CallFailed(call);
}

Status SlurmExecutor::Ping() const {
  CAIRN_TRY(SlurmCall call, RunSlurm(config_, "scontrol", {"ping"}));
  // `scontrol ping` prints "Slurmctld(primary) at HOST is UP" and exits 0 when it answers.
  if (call.output.exit_code != 0 || call.output.out.find("is UP") == std::string::npos) {
    return Unavailable("slurm unreachable: " + CommandError(call.argv, call.output));
  }
  return Status::Ok();
}

}  // namespace cairn::compute
