#include "slurm_cluster.h"

#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <tuple>

#include "server_process.h"

namespace cairn::testing {

namespace fs = std::filesystem;
using std::chrono::steady_clock;

namespace {

constexpr char kMungeKey[] = "/etc/munge/munge.key";

// `name` in PATH or in the sbin folders (where Debian puts the daemons, outside a user's PATH).
std::string FindProgram(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/local/sbin";
  std::stringstream folders(path);
  std::string folder;
  while (std::getline(folders, folder, ':')) {
    if (folder.empty()) continue;
    fs::path candidate = fs::path(folder) / name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

std::string ReadTail(const std::string& path, size_t max_chars = 1500) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > max_chars ? all.substr(all.size() - max_chars) : all;
}

void Pause() { std::this_thread::sleep_for(std::chrono::milliseconds(50)); }

bool MungeAnswers() {
  compute::CommandOptions options;
  options.timeout = std::chrono::seconds(10);
  auto result = compute::RunCommand({FindProgram("munge"), "-n"}, options);
  return result.ok() && result->exit_code == 0;
}

// munged on its default socket (/run/munge/munge.socket.2), which Slurm's auth/munge uses.
Status EnsureMunged(const std::string& log_dir) {
  if (MungeAnswers()) return Status::Ok();
  if (geteuid() != 0) {
    return FailedPrecondition("munged is not running and only root can start it on its default "
                              "socket (start it with `sudo munged`)");
  }
  std::error_code ec;
  for (const char* folder : {"/run/munge", "/var/log/munge", "/var/lib/munge", "/etc/munge"}) {
    fs::create_directories(folder, ec);
  }
  if (!fs::exists(kMungeKey)) {
    auto made = compute::RunCommand({FindProgram("mungekey"), "--create"});
    if (!made.ok() || made->exit_code != 0 || !fs::exists(kMungeKey)) {
      // Older munge has no mungekey: 1 KiB of randomness is a valid key.
      std::ifstream random("/dev/urandom", std::ios::binary);
      std::string key(1024, '\0');
      random.read(key.data(), static_cast<std::streamsize>(key.size()));
      std::ofstream out(kMungeKey, std::ios::binary | std::ios::trunc);
      out << key;
      if (!out) return Internal(std::string("cannot write ") + kMungeKey);
    }
    fs::permissions(kMungeKey, fs::perms::owner_read, ec);
  }
  // --force: run as root and accept folders owned by someone else. munged forks into the
  // background once its socket is ready; a second munged started by a parallel test fails on
  // the socket's lock, harmlessly — the poll below sees whichever one runs.
  CAIRN_TRY(pid_t pid, compute::StartProcess({FindProgram("munged"), "--force"},
                                             log_dir + "/munged.out"));
  waitpid(pid, nullptr, 0);
  auto deadline = steady_clock::now() + std::chrono::seconds(20);
  while (steady_clock::now() < deadline) {
    if (MungeAnswers()) return Status::Ok();
    Pause();
  }
  return Internal("munged did not start: " + ReadTail(log_dir + "/munged.out") +
                  ReadTail("/var/log/munge/munged.log", 600));
}

int64_t MemTotalMb() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  int64_t kb = 0;
  while (in >> key >> kb >> unit) {
    if (key == "MemTotal:") return kb / 1024;
  }
  return 1024;
}

std::string CurrentUser() {
  if (geteuid() == 0) return "root";
  struct passwd* pw = getpwuid(geteuid());
  return pw ? pw->pw_name : "root";
}

// Waits up to `grace` for `pid` to exit after SIGTERM, then SIGKILLs it.
void Terminate(pid_t pid, std::chrono::seconds grace) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  auto deadline = steady_clock::now() + grace;
  while (steady_clock::now() < deadline) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    Pause();
  }
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

}  // namespace

int FreeTcpPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

Result<std::unique_ptr<SlurmCluster>> SlurmCluster::Start() {
  for (const char* program : {"slurmctld", "slurmd", "sbatch", "scontrol", "sinfo", "squeue",
                              "scancel", "munged", "munge"}) {
    if (FindProgram(program).empty()) {
      return FailedPrecondition(std::string("no Slurm test cluster: `") + program +
                                "` is not installed (Debian packages slurm-wlm and munge; "
                                "scripts/setup installs them)");
    }
  }
  auto cluster = std::unique_ptr<SlurmCluster>(new SlurmCluster());
  cluster->dir_ = MakeTempDir("cairn-slurm");
  CAIRN_RETURN_IF_ERROR(EnsureMunged(cluster->dir_));
  CAIRN_RETURN_IF_ERROR(cluster->Launch());
  return cluster;
}

Status SlurmCluster::Launch() {
  for (const char* sub : {"state", "spool", "log"}) fs::create_directories(fs::path(dir_) / sub);
  controller_port_ = FreeTcpPort();
  int node_port = FreeTcpPort();
  while (node_port == controller_port_) node_port = FreeTcpPort();
  const std::string user = CurrentUser();
  const long cpus = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  // Slurm drains a node that has less memory than configured: claim 90 % of it.
  const int64_t memory_mb = std::max<int64_t>(256, MemTotalMb() * 9 / 10);

  conf_path_ = dir_ + "/slurm.conf";
  std::ofstream conf(conf_path_);
  conf << "# One-node test cluster written by tests/support/slurm_cluster.cc\n"
       << "ClusterName=cairntest\n"
       << "SlurmctldHost=localhost\n"
       << "SlurmctldPort=" << controller_port_ << "\n"
       << "SlurmdPort=" << node_port << "\n"
       << "SlurmUser=" << user << "\n"
       << "SlurmdUser=" << user << "\n"
       << "AuthType=auth/munge\n"
       << "CredType=cred/munge\n"
       << "StateSaveLocation=" << dir_ << "/state\n"
       << "SlurmdSpoolDir=" << dir_ << "/spool\n"
       << "SlurmctldPidFile=" << dir_ << "/slurmctld.pid\n"
       << "SlurmdPidFile=" << dir_ << "/slurmd.pid\n"
       << "SlurmctldLogFile=" << dir_ << "/log/slurmctld.log\n"
       << "SlurmdLogFile=" << dir_ << "/log/slurmd.log\n"
       << "ProctrackType=proctrack/linuxproc\n"
       << "TaskPlugin=task/none\n"
       << "SelectType=select/cons_tres\n"
       << "SelectTypeParameters=CR_Core_Memory\n"
       << "SchedulerType=sched/backfill\n"
       // Schedule a batch job as soon as it is submitted (by default Slurm waits up to 3 s).
       << "SchedulerParameters=batch_sched_delay=0,sched_min_interval=0\n"
       << "MpiDefault=none\n"
       << "JobAcctGatherType=jobacct_gather/none\n"
       << "AccountingStorageType=accounting_storage/none\n"
       << "JobCompType=jobcomp/none\n"
       << "MailProg=/bin/true\n"
       << "ReturnToService=2\n"
       // Finished jobs stay visible to scontrol for 10 minutes (there is no accounting).
       << "MinJobAge=600\n"
       // A cancelled job's processes get SIGKILL 5 s after SIGTERM (default 30 s).
       << "KillWait=5\n"
       << "InactiveLimit=0\n"
       << "NodeName=localhost CPUs=" << cpus << " RealMemory=" << memory_mb
       << " State=UNKNOWN\n"
       << "PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP\n";
  conf.close();
  if (!conf) return Internal("cannot write " + conf_path_);

  const std::vector<std::pair<std::string, std::string>> env = {{"SLURM_CONF", conf_path_}};
  const std::string ctld_log = dir_ + "/log/slurmctld.out";
  const std::string slurmd_log = dir_ + "/log/slurmd.out";
  CAIRN_TRY(slurmctld_pid_,
            compute::StartProcess({FindProgram("slurmctld"), "-D", "-f", conf_path_}, ctld_log,
                                  env));
  // -N: the node's name in slurm.conf, whatever this machine's host name is.
  CAIRN_TRY(slurmd_pid_,
            compute::StartProcess({FindProgram("slurmd"), "-D", "-N", "localhost", "-f",
                                   conf_path_},
                                  slurmd_log, env));

  auto deadline = steady_clock::now() + std::chrono::seconds(60);
  std::string last_state;
  while (steady_clock::now() < deadline) {
    for (auto [pid, log, name] : {std::tuple{&slurmctld_pid_, ctld_log, "slurmctld"},
                                  std::tuple{&slurmd_pid_, slurmd_log, "slurmd"}}) {
      int status = 0;
      if (waitpid(*pid, &status, WNOHANG) == *pid) {
        *pid = -1;
        return Internal(std::string(name) + " exited during start-up: " + ReadTail(log));
      }
    }
    auto sinfo = Run({"sinfo", "-h", "-N", "-o", "%T"});
    if (sinfo.ok() && sinfo->exit_code == 0) {
      last_state = sinfo->out.substr(0, sinfo->out.find('\n'));
      if (last_state == "idle") return Status::Ok();
    }
    Pause();
  }
  return Internal("the Slurm node is not idle after 60 s (state '" + last_state +
                  "'): " + ReadTail(ctld_log) + ReadTail(slurmd_log));
}

Result<compute::CommandOutput> SlurmCluster::Run(const std::vector<std::string>& argv) const {
  compute::CommandOptions options;
  options.env = {{"SLURM_CONF", conf_path_}};
  options.timeout = std::chrono::seconds(30);
  return compute::RunCommand(argv, options);
}

void SlurmCluster::StopDaemons() {
  if (slurmctld_pid_ > 0 && slurmd_pid_ > 0) {
    // Jobs left running (a failed test) would outlive slurmd: their processes belong to
    // slurmstepd, not to it. Cancel them and wait until the controller has seen them end.
    auto jobs = Run({"squeue", "-h", "-o", "%i"});
    if (jobs.ok() && jobs->exit_code == 0 && !jobs->out.empty()) {
      std::vector<std::string> scancel = {"scancel"};
      std::stringstream ids(jobs->out);
      std::string id;
      while (ids >> id) scancel.push_back(id);
      (void)Run(scancel);
      auto deadline = steady_clock::now() + std::chrono::seconds(20);
      while (steady_clock::now() < deadline) {
        auto left = Run({"squeue", "-h", "-o", "%i"});
        if (!left.ok() || left->exit_code != 0 || left->out.empty()) break;
        Pause();
      }
    }
  }
  Terminate(slurmd_pid_, std::chrono::seconds(10));
  Terminate(slurmctld_pid_, std::chrono::seconds(10));
  slurmd_pid_ = slurmctld_pid_ = -1;
}

SlurmCluster::~SlurmCluster() {
  StopDaemons();
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

}  // namespace cairn::testing
