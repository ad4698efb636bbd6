// cairn serve: the scoring stack alone — one model behind MLflow's /invocations and the Open
// Inference Protocol v2 — what a container image runs. The model is a local model directory or
// a registered version (models:/NAME/VERSION, models:/NAME@ALIAS) downloaded from the workspace.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "cli/command.h"
#include "client/registry_client.h"
#include "client/uri.h"
#include "core/clock.h"
#include "http/server.h"
#include "serving/scoring_routes.h"
#include "wire/model_uri.h"

namespace cairn::cli {
namespace {

namespace fs = std::filesystem;

struct ServeFlags {
  std::string model;
  std::string name;
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int threads = 0;
  int64_t max_body_bytes = static_cast<int64_t>(serving::kDefaultMaxScoringBodyBytes);
  std::string port_file;
  bool no_access_log = false;
};

// A model directory on local disk, and the name and version the v2 protocol serves it as.
struct LocalModel {
  std::string dir;
  std::string name;
  std::string version;
  bool temporary = false;  // downloaded: removed once loaded
};

Result<std::string> MakeDownloadDir() {
  std::error_code ec;
  const fs::path base = fs::temp_directory_path(ec);
  if (ec) return Internal("no temporary directory: " + ec.message());
  std::random_device random;
  for (int attempt = 0; attempt < 16; ++attempt) {
    const fs::path dir = base / ("cairn-serve-" + std::to_string(random()));
    if (fs::create_directory(dir, ec)) return dir.string();
  }
  return Internal("cannot create a download directory under " + base.string());
}

Result<LocalModel> Resolve(const ServeFlags& flags, const std::string& tracking_uri) {
  LocalModel local;
  if (wire::IsModelUri(flags.model)) {
    CAIRN_TRY(const wire::ModelUri uri, wire::ParseModelUri(flags.model));
    CAIRN_TRY(auto registry, client::RegistryClient::Connect(tracking_uri));
    CAIRN_TRY(local.dir, MakeDownloadDir());
    local.temporary = true;
    auto version = registry->DownloadModel(flags.model, local.dir);
    if (!version.ok()) {
      std::error_code ec;
      fs::remove_all(local.dir, ec);
      return Status(version.status().code(), flags.model + " (from " + tracking_uri +
                                                 "): " + version.status().message());
    }
    local.name = flags.name.empty() ? version->name : flags.name;
    local.version = std::to_string(version->version);
    return local;
  }
  std::error_code ec;
  if (!fs::is_directory(flags.model, ec)) {
    return NotFound("no model directory at '" + flags.model +
                    "' (a registered model is models:/NAME/VERSION or models:/NAME@ALIAS)");
  }
  local.dir = flags.model;
  local.name = flags.name;
  if (local.name.empty()) {
    local.name = fs::path(flags.model).lexically_normal().filename().string();
    if (local.name.empty() || local.name == ".") {
      local.name = fs::path(flags.model).lexically_normal().parent_path().filename().string();
    }
    if (local.name.empty()) local.name = "model";
  }
  return local;
}

int RunServe(const ServeFlags& flags, const GlobalOptions& global) {
  // Termination signals are taken by sigwait below, not by whichever thread they hit (the
  // mask is inherited by every thread started from here on: XGBoost's, the server's).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto local = Resolve(flags, client::ResolveTrackingUri(global.tracking_uri));
  if (!local.ok()) return ReportError(local.status());
  auto model = serving::LoadScoringModel(local->dir);
  if (local->temporary) {
    std::error_code ec;
    fs::remove_all(local->dir, ec);  // the model lives in memory from here on
  }
  if (!model.ok()) return ReportError(model.status());

  http::Router router;
  http::HttpMetrics metrics;
  serving::ScoringStats stats;
  serving::ScoringRouteOptions options;
  options.max_body_bytes = static_cast<size_t>(flags.max_body_bytes);
  options.names.model_name = local->name;
  options.names.model_version = local->version;
  serving::RegisterScoringRoutes(router, *model, options, stats, &metrics);

  http::ServerOptions server_options;
  server_options.host = flags.host;
  server_options.port = flags.port;
  server_options.threads = flags.threads;
  server_options.access_log = !flags.no_access_log;
  http::HttpServer server(router, metrics, SystemClock::Instance(), server_options);
  if (Status started = server.Start(); !started.ok()) return ReportError(started);

  std::fprintf(stderr, "cairn %s: serving '%s'%s, %s, on http://%s:%u\n", CAIRN_VERSION,
               local->name.c_str(),
               local->version.empty() ? "" : (" version " + local->version).c_str(),
               (*model)->Description().c_str(), flags.host.c_str(), server.port());
  if (!flags.port_file.empty()) {
    const std::string tmp = flags.port_file + ".tmp";
    std::ofstream(tmp) << server.port() << "\n";
    std::error_code ec;
    fs::rename(tmp, flags.port_file, ec);
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::fprintf(stderr, "cairn serve: %s received, draining requests in flight\n",
               signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  server.Shutdown();
  server.Wait();
  std::fprintf(stderr, "cairn serve: stopped after %lld scoring requests (%lld rows)\n",
               static_cast<long long>(stats.requests.load()),
               static_cast<long long>(stats.rows.load()));
  return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& app, GlobalOptions& g) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* s = app.add_subcommand(
      "serve",
      "Serve one model for scoring: MLflow's /invocations and the Open Inference Protocol v2");
  s->add_option("--model,-m", flags->model,
                "Model directory, or a registered version: models:/NAME/VERSION, "
                "models:/NAME@ALIAS (downloaded from the workspace)")
      ->required();
  s->add_option("--name", flags->name,
                "Model name for the v2 protocol (default: the registered name, or the "
                "directory's name)");
  s->add_option("--host", flags->host, "Address to listen on")->capture_default_str();
  s->add_option("--port", flags->port, "Port to listen on (0: any free port)")
      ->capture_default_str();
  s->add_option("--threads", flags->threads, "Worker threads (0: one per core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  s->add_option("--max-body-bytes", flags->max_body_bytes,
                "Largest scoring request body accepted (413 above)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  s->add_option("--port-file", flags->port_file,
                "Write the bound port to this file once listening");
  s->add_flag("--no-access-log", flags->no_access_log, "Do not log each request");
  s->callback([&g, flags] {
    g.action = [&g, flags] { return RunServe(*flags, g); };
  });
}

}  // namespace cairn::cli
