// What every noun of the CLI shares: global options, the session a command runs in, and how a
// command's Status becomes an exit code and one line on stderr.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "client/tracking_client.h"
#include "core/result.h"

namespace CLI {
class App;
}

namespace cairn::cli {

// Exit codes: 0 ok, 1 failure, 2 usage (a CLI11 parse error).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
// `cairn models compare`: the candidate is not better than the baseline by the margin asked.
inline constexpr int kExitNotBetter = 3;

enum class OutputFormat { kTable, kJson };

class Session;
using Command = std::function<Status(Session&)>;

struct GlobalOptions {
  std::string tracking_uri;  // empty: $CAIRN_TRACKING_URI, $MLFLOW_TRACKING_URI, the default
  std::string output = "table";
  // The process's arguments as given (for lineage: the command line a run records).
  std::vector<std::string> argv;
  // Set while parsing by the chosen subcommand; run by main once parsing succeeded.
  std::function<int()> action;
};

// Where a command runs: the output stream, the format, and a client connected on first use.
class Session {
 public:
  Session(const GlobalOptions& options, std::ostream& out);
  ~Session();

  OutputFormat format() const { return format_; }
  bool json() const { return format_ == OutputFormat::kJson; }
  std::ostream& out() { return out_; }
  const std::string& tracking_uri() const { return tracking_uri_; }
  const GlobalOptions& options() const { return options_; }
  // The exit code of a command that succeeded (default kExitOk): a verdict, not an error.
  void SetExitCode(int code) { exit_code_ = code; }
  int exit_code() const { return exit_code_; }
  // The tracking client (connects on the first call).
  Result<client::TrackingClient*> Client();

 private:
  const GlobalOptions& options_;
  OutputFormat format_;
  int exit_code_ = kExitOk;
  std::ostream& out_;
  std::string tracking_uri_;
  std::unique_ptr<client::TrackingClient> client_;
};

// Makes `command` the action to run once parsing succeeded: it gets a Session on stdout; a failed
// Status is printed as "error: <message>" on stderr and exits 1.
void SetCommand(GlobalOptions& options, Command command);
// Prints "error: <message>" (one line) to stderr and returns the exit code for `status`.
int ReportError(const Status& status);

// Each noun registers its subcommands.
void AddDataCommands(CLI::App& app, GlobalOptions& options);      // data.cc
void AddModelsCommands(CLI::App& app, GlobalOptions& options);    // models.cc
// `cairn models compare`, added to the `models` app by AddModelsCommands.
void AddModelsCompareCommand(CLI::App& models, GlobalOptions& options);  // compare.cc
void AddTrainCommand(CLI::App& app, GlobalOptions& options);      // train.cc
// `cairn endpoints …` and `cairn deployments …`.
void AddEndpointsCommands(CLI::App& app, GlobalOptions& options);  // endpoints.cc
void AddBatchScoreCommand(CLI::App& app, GlobalOptions& options);  // batch_score.cc
void AddJobsCommands(CLI::App& app, GlobalOptions& options);       // jobs.cc
void AddPipelinesCommands(CLI::App& app, GlobalOptions& options);  // pipelines.cc
void AddTriggersCommands(CLI::App& app, GlobalOptions& options);   // triggers.cc
void AddMonitorCommands(CLI::App& app, GlobalOptions& options);    // monitor.cc
void AddServerCommand(CLI::App& app, GlobalOptions& options);
void AddServeCommand(CLI::App& app, GlobalOptions& options);       // serve.cc
void AddExperimentsCommands(CLI::App& app, GlobalOptions& options);
void AddRunsCommands(CLI::App& app, GlobalOptions& options);
void AddArtifactsCommands(CLI::App& app, GlobalOptions& options);

}  // namespace cairn::cli
