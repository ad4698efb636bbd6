#include "compute/local_executor.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace cairn::compute {

namespace {

using Clock = std::chrono::steady_clock;

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Field 22 of /proc/PID/stat (start time in clock ticks since boot); nullopt when the process
// does not exist.
std::optional<uint64_t> ProcessStartTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!in || !std::getline(in, text)) return std::nullopt;
  size_t close = text.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  // Fields after the name start at 3 (state); the start time is field 22.
  for (int i = 3; i <= 22; ++i) {
    if (!(rest >> field)) return std::nullopt;
  }
  uint64_t ticks = 0;
  std::from_chars(field.data(), field.data() + field.size(), ticks);
  return ticks;
}

struct Handle {
  pid_t pgid = 0;
  uint64_t start_ticks = 0;
  int64_t launch_ms = 0;
};

Result<Handle> ParseHandle(const std::string& text) {
  Handle h;
  long long pid = 0;
  unsigned long long ticks = 0;
  long long launch = 0;
  if (std::sscanf(text.c_str(), "%lld:%llu:%lld", &pid, &ticks, &launch) != 3 || pid <= 1) {
    return InvalidArgument("not a local job handle: '" + text + "'");
  }
  h.pgid = pid_t(pid);
  h.start_ticks = ticks;
  h.launch_ms = launch;
  return h;
}

// True while any process of the group exists (zombies of it count until reaped).
bool GroupAlive(pid_t pgid) { return kill(-pgid, 0) == 0 || errno == EPERM; }

std::optional<int> ReadExitCode(const std::string& path) {
  std::ifstream in(path);
  int code = 0;
  if (in >> code) return code;
  return std::nullopt;
}

std::string SignalText(int sig) {
  const char* name = sigabbrev_np(sig);
  return "killed by signal " + std::to_string(sig) +
         (name ? std::string(" (SIG") + name + ")" : "");
}

// The script the process group leader runs: the command in a child shell, then its exit status
// into the exit-code file (written to a temporary name and renamed, so a reader never sees half
// a number). $1 is the command, $2 the file.
constexpr const char* kWrapper =
    "/bin/sh -c \"$1\"; s=$?; printf '%s\\n' \"$s\" > \"$2.tmp\" && mv -f \"$2.tmp\" \"$2\"; "
    "exit $s";

}  // namespace

LocalExecutor::LocalExecutor(const LocalExecutorOptions& options)
    : slots_(options.slots > 0 ? options.slots
                               : std::max(1, int(std::thread::hardware_concurrency()))),
      grace_(options.kill_grace_ms) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) allowed_cpus_.push_back(c);
    }
  }
  watchdog_ = std::thread([this] { Watchdog(); });
}

LocalExecutor::~LocalExecutor() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stopping = true;
  }
  state_->cv.notify_all();
  watchdog_.join();
}

int LocalExecutor::FreeSlots() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  int running = 0;
  for (const auto& [handle, proc] : state_->procs) running += proc->running ? 1 : 0;
  return std::max(0, slots_ - running);
}

std::vector<int> LocalExecutor::PickCpusLocked(int count) const {
  if (count <= 0 || allowed_cpus_.empty() || count >= int(allowed_cpus_.size())) return {};
  std::map<int, int> load;
  for (int c : allowed_cpus_) load[c] = 0;
  for (const auto& [handle, proc] : state_->procs) {
    if (!proc->running) continue;
    for (int c : proc->cpus) ++load[c];
  }
  std::vector<int> cpus = allowed_cpus_;
  std::stable_sort(cpus.begin(), cpus.end(), [&](int a, int b) { return load[a] < load[b]; });
  cpus.resize(size_t(count));
  std::sort(cpus.begin(), cpus.end());
  return cpus;
}

Result<std::string> LocalExecutor::Launch(const JobLaunch& job) {
  if (job.command.empty()) return InvalidArgument("job " + job.job_id + ": empty command");
  // Everything the child needs is prepared before fork: between fork and exec only
  // async-signal-safe calls are allowed (the server is multi-threaded).
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    std::string_view key = kv.substr(0, kv.find('='));
    bool overridden =
        std::any_of(job.env.begin(), job.env.end(), [&](const auto& p) { return p.first == key; });
    if (!overridden) env_strings.emplace_back(kv);
  }
  for (const auto& [k, v] : job.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", wrapper = kWrapper, arg0 = "cairn-job",
              command = job.command, exit_path = job.exit_code_path;
  char* argv[] = {sh.data(),      dash_c.data(),    wrapper.data(), arg0.data(),
                  command.data(), exit_path.data(), nullptr};

  int out_fd = open(job.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out_fd < 0) {
    return Internal("job " + job.job_id + ": cannot create " + job.stdout_path + ": " +
                    std::strerror(errno));
  }
  int err_fd = open(job.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (err_fd < 0) {
    close(out_fd);
    return Internal("job " + job.job_id + ": cannot create " + job.stderr_path + ": " +
                    std::strerror(errno));
  }
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  unlink(job.exit_code_path.c_str());

  std::unique_lock<std::mutex> lock(state_->mu);
  std::vector<int> cpus = PickCpusLocked(job.cpus);
  cpu_set_t cpu_set;
  CPU_ZERO(&cpu_set);
  for (int c : cpus) CPU_SET(c, &cpu_set);
  struct rlimit mem_limit = {rlim_t(job.memory_bytes), rlim_t(job.memory_bytes)};
  // CPU seconds: the wall-clock budget on every core asked for, plus one — a backstop that holds
  // even when no server is watching.
  int64_t cpu_seconds =
      job.timeout_ms > 0 ? (job.timeout_ms + 999) / 1000 * std::max(1, job.cpus) + 1 : 0;
  struct rlimit cpu_limit = {rlim_t(cpu_seconds), rlim_t(cpu_seconds + 5)};
  const char* work_dir = job.work_dir.c_str();

  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(out_fd);
    close(err_fd);
    if (null_fd >= 0) close(null_fd);
    return Internal("job " + job.job_id + ": fork failed: " + std::strerror(e));
  }
  if (pid == 0) {
    // The child: async-signal-safe calls only.
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);  // the server blocks SIGTERM/SIGINT in its threads
    signal(SIGPIPE, SIG_DFL);                  // and ignores SIGPIPE; exec would keep that
    if (null_fd >= 0) dup2(null_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
#ifdef SYS_close_range
    syscall(SYS_close_range, 3u, ~0u, 0u);
#else
    for (int fd = 3; fd < 65536; ++fd) close(fd);
#endif
    if (!cpus.empty()) sched_setaffinity(0, sizeof(cpu_set), &cpu_set);
    if (job.memory_bytes > 0) setrlimit(RLIMIT_AS, &mem_limit);
    if (cpu_seconds > 0) setrlimit(RLIMIT_CPU, &cpu_limit);
    if (chdir(work_dir) != 0) {
      const char msg[] = "cairn: cannot enter the job's work folder\n";
      [[maybe_unused]] ssize_t n = write(2, msg, sizeof(msg) - 1);
      _exit(126);
    }
    execve("/bin/sh", argv, envp.data());
    const char msg[] = "cairn: cannot run /bin/sh\n";
    [[maybe_unused]] ssize_t n = write(2, msg, sizeof(msg) - 1);
    _exit(127);
  }
  close(out_fd);
  close(err_fd);
  if (null_fd >= 0) close(null_fd);
  // The child may not have called setsid yet; make it its group's leader from here too, so a
  // Cancel right after Launch reaches it (EACCES after its exec, EPERM after setsid: both fine).
  setpgid(pid, pid);

  auto proc = std::make_shared<Proc>();
  proc->pgid = pid;
  proc->child = true;
  proc->cpus = cpus;
  if (job.timeout_ms > 0) {
    proc->deadline = Clock::now() + std::chrono::milliseconds(job.timeout_ms);
  }
  std::string handle = std::to_string(pid) + ":" +
                       std::to_string(ProcessStartTicks(pid).value_or(0)) + ":" +
                       std::to_string(NowMillis());
  state_->procs[handle] = proc;
  // Detached: it blocks in waitpid until the job ends, and holds the state it writes to.
  std::thread([state = state_, pid] { Wait(state, pid); }).detach();
  lock.unlock();
  state_->cv.notify_all();
  return handle;
}

void LocalExecutor::Wait(std::shared_ptr<State> state, pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  // Whatever the command left behind in its group ends with it.
  kill(-pid, SIGKILL);
  std::lock_guard<std::mutex> lock(state->mu);
  for (auto& [handle, proc] : state->procs) {
    if (proc->child && proc->pgid == pid && proc->running) {
      proc->running = false;
      proc->wait_status = status;
      proc->kill_at.reset();
    }
  }
  state->cv.notify_all();
}

void LocalExecutor::TerminateLocked(Proc& proc) {
  if (!proc.running) return;
  kill(-proc.pgid, SIGTERM);
  if (!proc.kill_at) proc.kill_at = Clock::now() + grace_;
  state_->cv.notify_all();
}

void LocalExecutor::Watchdog() {
  std::unique_lock<std::mutex> lock(state_->mu);
  while (!state_->stopping) {
    auto now = Clock::now();
    std::optional<Clock::time_point> next;
    for (auto& [handle, proc] : state_->procs) {
      if (!proc->running) continue;
      if (proc->deadline && !proc->timed_out && !proc->cancelled && now >= *proc->deadline) {
        proc->timed_out = true;
        TerminateLocked(*proc);
      }
      if (proc->kill_at && now >= *proc->kill_at) {
        kill(-proc->pgid, SIGKILL);
        proc->kill_at.reset();
        // A job not launched here has no waiter thread: it is over once its group is gone.
        if (!proc->child && !GroupAlive(proc->pgid)) proc->running = false;
      }
      for (auto t :
           {proc->timed_out || proc->cancelled ? std::nullopt : proc->deadline, proc->kill_at}) {
        if (t && (!next || *t < *next)) next = t;
      }
    }
    if (next) {
      state_->cv.wait_until(lock, *next);
    } else {
      state_->cv.wait(lock);
    }
  }
}

Result<JobObservation> LocalExecutor::Observe(const JobLaunch& job, const std::string& handle) {
  CAIRN_TRY(Handle h, ParseHandle(handle));
  std::unique_lock<std::mutex> lock(state_->mu);
  auto it = state_->procs.find(handle);
  if (it == state_->procs.end()) {
    // Launched by an earlier server process: is it still that process group?
    auto start = ProcessStartTicks(h.pgid);
    bool same = start && (h.start_ticks == 0 || *start == h.start_ticks);
    if (same && GroupAlive(h.pgid)) {
      auto proc = std::make_shared<Proc>();
      proc->pgid = h.pgid;
      proc->child = false;
      if (job.timeout_ms > 0) {
        int64_t left = h.launch_ms + job.timeout_ms - NowMillis();
        proc->deadline = Clock::now() + std::chrono::milliseconds(std::max<int64_t>(0, left));
      }
      it = state_->procs.emplace(handle, proc).first;
      state_->cv.notify_all();
    } else {
      JobObservation o;
      if (auto code = ReadExitCode(job.exit_code_path)) {
        o.exit_code = *code;
        o.phase = *code == 0 ? JobPhase::kSucceeded : JobPhase::kFailed;
        if (*code != 0) o.message = "exit code " + std::to_string(*code);
      } else {
        o.phase = JobPhase::kLost;
        o.message = "the job's processes are gone and left no exit code";
      }
      return o;
    }
  }
  Proc& proc = *it->second;
  JobObservation o;
  if (!proc.child && proc.running) {
    // Re-attached: no waiter thread, so look at the group and the exit-code file.
    auto code = ReadExitCode(job.exit_code_path);
    if (code || !GroupAlive(proc.pgid)) {
      proc.running = false;
      proc.kill_at.reset();
      if (code) kill(-proc.pgid, SIGKILL);
      if (proc.cancelled) {
        o.phase = JobPhase::kCancelled;
        o.message = "cancelled";
      } else if (proc.timed_out) {
        o.phase = JobPhase::kTimedOut;
        o.message = "timed out after " + std::to_string(job.timeout_ms) + " ms";
      } else if (code) {
        o.exit_code = *code;
        o.phase = *code == 0 ? JobPhase::kSucceeded : JobPhase::kFailed;
        if (*code != 0) o.message = "exit code " + std::to_string(*code);
      } else {
        o.phase = JobPhase::kLost;
        o.message = "the job's processes are gone and left no exit code";
      }
      return o;
    }
  }
  if (proc.running) {
    o.phase = JobPhase::kRunning;
    return o;
  }
  if (proc.cancelled) {
    o.phase = JobPhase::kCancelled;
    o.message = "cancelled";
    return o;
  }
  if (proc.timed_out) {
    o.phase = JobPhase::kTimedOut;
    o.message = "timed out after " + std::to_string(job.timeout_ms) + " ms; process group killed";
    return o;
  }
  // The wrapper's own status is the command's (it exits with it); the exit-code file agrees
  // unless the wrapper itself was killed from outside.
  int status = proc.wait_status;
  if (WIFEXITED(status)) {
    int code = WEXITSTATUS(status);
    if (auto file_code = ReadExitCode(job.exit_code_path)) code = *file_code;
    o.exit_code = code;
    o.phase = code == 0 ? JobPhase::kSucceeded : JobPhase::kFailed;
    if (code > 128 && code < 128 + 65) {
      o.message = "exit code " + std::to_string(code) + ": " + SignalText(code - 128);
    } else if (code != 0) {
      o.message = "exit code " + std::to_string(code);
    }
  } else if (WIFSIGNALED(status)) {
    o.phase = JobPhase::kFailed;
    o.message = SignalText(WTERMSIG(status));
  } else {
    o.phase = JobPhase::kFailed;
    o.message = "ended with wait status " + std::to_string(status);
  }
  return o;
}

Status LocalExecutor::Cancel(const JobLaunch& job, const std::string& handle) {
  CAIRN_TRY(Handle h, ParseHandle(handle));
  std::lock_guard<std::mutex> lock(state_->mu);
  auto it = state_->procs.find(handle);
  if (it == state_->procs.end()) {
    auto start = ProcessStartTicks(h.pgid);
    if (!start || (h.start_ticks != 0 && *start != h.start_ticks) || !GroupAlive(h.pgid)) {
      return Status::Ok();  // already gone
    }
    auto proc = std::make_shared<Proc>();
    proc->pgid = h.pgid;
    it = state_->procs.emplace(handle, proc).first;
  }
  Proc& proc = *it->second;
  if (!proc.running || proc.cancelled || proc.timed_out) return Status::Ok();
  proc.cancelled = true;
  TerminateLocked(proc);
  return Status::Ok();
}

bool LocalExecutor::WaitForExit(const std::string& handle, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(state_->mu);
  auto it = state_->procs.find(handle);
  if (it == state_->procs.end()) return false;
  auto proc = it->second;
  return state_->cv.wait_for(lock, timeout, [&] { return !proc->running; });
}

}  // namespace cairn::compute
