#include "server_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/ids.h"

namespace cairn::testing {

namespace fs = std::filesystem;

std::string CairnBinary() {
  const char* env = std::getenv("CAIRN_BINARY");
  return env ? env : CAIRN_DEFAULT_BINARY;
}

std::string MakeTempDir(const std::string& prefix) {
  fs::path dir = fs::temp_directory_path() / (prefix + "-" + NewUuidHex());
  fs::create_directories(dir);
  return dir.string();
}

namespace {

pid_t Spawn(const std::vector<std::string>& args, const std::string& out_path,
            const std::string& err_path, const std::vector<std::string>& env = {}) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* out = freopen(out_path.c_str(), "w", stdout);
    FILE* err = freopen(err_path.c_str(), "w", stderr);
    (void)out;
    (void)err;
    for (const auto& kv : env) putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::unique_ptr<ServerProcess> ServerProcess::Start(const std::string& data_dir,
                                                    std::vector<std::string> extra_args) {
  auto server = std::unique_ptr<ServerProcess>(new ServerProcess());
  std::string port_file = data_dir + "/.port";
  fs::remove(port_file);
  server->log_path_ = data_dir + "/../" + fs::path(data_dir).filename().string() + ".log";
  std::vector<std::string> args = {CairnBinary(), "server", "--data", data_dir, "--port", "0",
                                   "--port-file", port_file};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  server->pid_ = Spawn(args, "/dev/null", server->log_path_);
  // Poll for the port file (written once the socket listens), then /health.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(server->pid_, &status, WNOHANG) == server->pid_) {
      server->pid_ = -1;
      return nullptr;
    }
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      server->port_ = uint16_t(port);
      auto client = server->NewClient();
      if (client) {
        auto health = client->Send("GET", "/health");
        if (health.ok() && health->status == 200) return server;
      }
    }
    std::this_thread::yield();
    usleep(2000);
  }
  return nullptr;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::unique_ptr<http::HttpClient> ServerProcess::NewClient() const {
  auto client = http::HttpClient::Create(url());
  return client.ok() ? std::move(client).value() : nullptr;
}

int ServerProcess::Stop(int signal_number) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal_number);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

CommandResult RunCairn(const std::vector<std::string>& args, const std::string& tracking_uri) {
  std::string dir = MakeTempDir("cairn-cli");
  std::vector<std::string> argv = {CairnBinary(), "--tracking-uri", tracking_uri};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = Spawn(argv, dir + "/out", dir + "/err", {"COLUMNS=200"});
  int status = 0;
  waitpid(pid, &status, 0);
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadFile(dir + "/out");
  result.err = ReadFile(dir + "/err");
  fs::remove_all(dir);
  return result;
}

}  // namespace cairn::testing
