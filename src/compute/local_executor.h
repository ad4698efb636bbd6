// LocalExecutor: runs jobs as process groups on this machine, a few at a time.
//
// Each job is `/bin/sh -c WRAPPER` in its own session and process group (setsid), with stdout and
// stderr in files (readable while it runs), memory as RLIMIT_AS, CPU time as RLIMIT_CPU (a
// backstop when a timeout is set), and CPU affinity to the `cpus` least busy cores. The wrapper
// runs the command in a child shell and writes its exit status to the job's exit-code file, so
// a restarted server can still learn how a job ended. Timeout and cancel end the whole process
// group: SIGTERM, then SIGKILL after a grace period; a job's leftover processes are killed when
// its command ends.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "compute/executor.h"

namespace cairn::compute {

struct LocalExecutorOptions {
  int slots = 0;                 // jobs at once; 0: one per core
  int64_t kill_grace_ms = 5000;  // SIGTERM → SIGKILL
};

// Thread-safe.
class LocalExecutor : public Executor {
 public:
  explicit LocalExecutor(const LocalExecutorOptions& options = {});
  // Waits for the per-job waiter threads of jobs still running (it does not kill them: a
  // restarted server re-attaches to them through their handles).
  ~LocalExecutor() override;

  std::string_view name() const override { return "local"; }
  int FreeSlots() const override;
  // Handle: "PID:STARTTICKS:LAUNCHMS" — the process group id, its start time in clock ticks
  // since boot (so a recycled pid is not mistaken for the job) and the launch time (for the
  // timeout of a job re-attached after a restart).
  Result<std::string> Launch(const JobLaunch& job) override;
  // Jobs launched by another server process (before a restart) are judged from their process
  // group and exit-code file: alive → kRunning (counted in the slots from then on), ended with
  // an exit-code file → kSucceeded/kFailed, ended without one → kLost.
  Result<JobObservation> Observe(const JobLaunch& job, const std::string& handle) override;
  Status Cancel(const JobLaunch& job, const std::string& handle) override;

  // Blocks until the job launched here with `handle` has ended (its process group leader was
  // reaped), or `timeout` passed; true when it ended. For tests and `--wait`-style callers.
  bool WaitForExit(const std::string& handle, std::chrono::milliseconds timeout);

  int slots() const { return slots_; }

 private:
  struct Proc {
    pid_t pgid = 0;
    bool child = false;  // launched by this process (waitable)
    bool running = true;
    int wait_status = 0;
    bool cancelled = false;
    bool timed_out = false;
    std::vector<int> cpus;                                          // cores it is pinned to
    std::optional<std::chrono::steady_clock::time_point> deadline;  // timeout
    std::optional<std::chrono::steady_clock::time_point> kill_at;   // SIGKILL after SIGTERM
  };

  struct State;
  // A job's waiter thread; holds the state so it may outlive the executor.
  static void Wait(std::shared_ptr<State> state, pid_t pid);
  void Watchdog();  // timeouts and SIGKILL escalations
  // SIGTERM now, SIGKILL at now + grace. mu_ held.
  void TerminateLocked(Proc& proc);
  std::vector<int> PickCpusLocked(int count) const;

  const int slots_;
  const std::chrono::milliseconds grace_;
  std::vector<int> allowed_cpus_;

  struct State {
    std::mutex mu;
    std::condition_variable cv;  // a job ended, or the watchdog has a new deadline
    std::map<std::string, std::shared_ptr<Proc>> procs;  // by handle
    bool stopping = false;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::thread watchdog_;
};

}  // namespace cairn::compute
