// Starts the real `cairn server` binary on port 0 with a temporary data directory, for tests.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http/client.h"

namespace cairn::testing {

// The `cairn` binary under test (CAIRN_BINARY, set by CTest).
std::string CairnBinary();
// A fresh temporary directory, removed by the caller.
std::string MakeTempDir(const std::string& prefix);

class ServerProcess {
 public:
  // Starts `cairn server --data data_dir --port 0` and waits (polling) until /health answers.
  static std::unique_ptr<ServerProcess> Start(const std::string& data_dir,
                                              std::vector<std::string> extra_args = {});
  ~ServerProcess();  // SIGKILLs the server if still running

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::unique_ptr<http::HttpClient> NewClient() const;
  // Sends `signal_number` and waits for the exit; returns the exit status (or 128+signal).
  int Stop(int signal_number);
  const std::string& log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string log_path_;
};

// Runs the CLI with arguments; captures stdout and stderr.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult RunCairn(const std::vector<std::string>& args, const std::string& tracking_uri);

}  // namespace cairn::testing
