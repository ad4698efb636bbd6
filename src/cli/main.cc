// cairn: the command-line interface of the Cairn ML workspace (`cairn NOUN VERB [flags]`).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "cli/command.h"

int main(int argc, char** argv) {
  // XGBoost's OpenMP runtime (libgomp) reads OMP_WAIT_POLICY once, when the library loads —
  // before main — and by default its idle threads spin, stealing the other core of a small
  // machine from the server or a second training. So re-execute this binary once, same
  // arguments, with passive waiting. The variable itself guards against a loop: once set (by us
  // or by the user, whose choice wins) we run on. If exec fails we simply run as we are.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && setenv("OMP_WAIT_POLICY", "passive", 1) == 0) {
    execv("/proc/self/exe", argv);
  }
  using namespace cairn::cli;
  CLI::App app("Cairn: a self-hosted ML workspace, MLflow-compatible", "cairn");
  app.set_version_flag("--version", std::string("cairn ") + CAIRN_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand

  GlobalOptions options;
  options.argv.assign(argv, argv + argc);
  app.add_option("--tracking-uri", options.tracking_uri,
                 "Tracking server (default: $CAIRN_TRACKING_URI, $MLFLOW_TRACKING_URI, "
                 "http://127.0.0.1:5000)");
  app.add_option("--output,-o", options.output, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}));

  AddServerCommand(app, options);
  AddServeCommand(app, options);
  AddExperimentsCommands(app, options);
  AddRunsCommands(app, options);
  AddArtifactsCommands(app, options);
  AddDataCommands(app, options);
  AddTrainCommand(app, options);
  AddBatchScoreCommand(app, options);
  AddModelsCommands(app, options);
  AddEndpointsCommands(app, options);
  AddJobsCommands(app, options);
  AddPipelinesCommands(app, options);
  AddTriggersCommands(app, options);
  AddMonitorCommands(app, options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::cerr << "error: " << e.what() << "\n";
    return kExitUsage;
  }
  if (!options.action) {
    std::cerr << "error: no command given; see cairn --help\n";
    return kExitUsage;
  }
  return options.action();
}
