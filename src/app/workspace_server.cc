#include "app/workspace_server.h"

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "api/mlflow/mlflow_routes.h"
#include "api/v1/endpoint_routes.h"
#include "api/v1/job_routes.h"
#include "api/v1/monitor_routes.h"
#include "api/v1/pipeline_routes.h"
#include "api/v1/trigger_routes.h"
#include "api/v1/v1_routes.h"
#include "blob/local_blob_store.h"
#include "compute/local_executor.h"
#include "compute/slurm_executor.h"
#include "datasets/dataset_service.h"
#include "endpoints/endpoint_service.h"
#include "http/server.h"
#include "jobs/job_service.h"
#include "monitoring/monitor_service.h"
#include "monitoring/prediction_log.h"
#include "monitoring/workspace_sources.h"
#include "pipelines/builtin_steps.h"
#include "pipelines/engine.h"
#include "registry/registry_service.h"
#include "store/sqlite/sqlite_metadata_store.h"
#include "tracking/artifact_service.h"
#include "tracking/tracking_service.h"
#include "triggers/trigger_service.h"
#include "triggers/monitor_signals.h"
#include "triggers/workspace_signals.h"

namespace cairn::app {

namespace fs = std::filesystem;

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

void AddOperationalRoutes(http::Router& router, http::HttpMetrics& metrics) {
  router.Add("GET", "/health", [](http::HttpRequest&) {
    return http::TextResponse(200, "OK");
  });
  router.Add("GET", "/version", [](http::HttpRequest&) {
    return http::TextResponse(200, CAIRN_VERSION);
  });
  router.Add("GET", "/metrics", [&metrics](http::HttpRequest&) {
    return http::TextResponse(200, metrics.Render(), "text/plain; version=0.0.4");
  });
}

}  // namespace

int RunServer(const ServerConfig& config) {
  // Termination signals are taken by sigwait below, not by whichever thread they hit.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  if (ec) return Fail("cannot create data directory " + config.data_dir + ": " + ec.message());
  const Clock& clock = SystemClock::Instance();

  auto metadata = store::SqliteMetadataStore::Open(config.data_dir + "/metadata.db", clock);
  if (!metadata.ok()) return Fail(metadata.status().ToString());
  auto blobs = blob::LocalBlobStore::Create(config.data_dir + "/blobs");
  if (!blobs.ok()) return Fail(blobs.status().ToString());

  tracking::TrackingService tracking(**metadata, clock);
  tracking::ArtifactService artifacts(**metadata, **blobs);
  registry::RegistryService registry(**metadata, clock);
  datasets::DatasetService datasets(**metadata, **blobs, clock);

  // Jobs: executors by the name a job spec's `compute` gives, and the service that queues,
  // launches and watches jobs on them.
  compute::LocalExecutorOptions local_executor_options;
  local_executor_options.slots = config.local_job_slots;
  compute::LocalExecutor local_executor(local_executor_options);
  std::map<std::string, compute::Executor*> executors = {{"local", &local_executor}};
  std::unique_ptr<compute::SlurmExecutor> slurm_executor;
  if (!config.slurm_conf.empty()) {
    if (!fs::is_regular_file(config.slurm_conf, ec)) {
      return Fail("--slurm-conf: no such file " + config.slurm_conf);
    }
    compute::SlurmConfig slurm_config;
    slurm_config.slurm_conf = fs::absolute(config.slurm_conf).string();
    slurm_config.partition = config.slurm_partition;
    slurm_executor = std::make_unique<compute::SlurmExecutor>(slurm_config);
    // Not fatal: the controller may come back; jobs report it when they cannot be submitted.
    if (Status ping = slurm_executor->Ping(); !ping.ok()) {
      std::fprintf(stderr, "warning: %s\n", ping.message().c_str());
    }
    executors["slurm"] = slurm_executor.get();
  }
  jobs::JobServiceOptions job_options;
  job_options.data_dir = config.data_dir;
  jobs::JobService job_service(**metadata, **blobs, tracking, artifacts, datasets, executors,
                               clock, job_options);

  // Endpoints: every deployment's model is loaded before the server listens.
  monitoring::PredictionLogOptions prediction_options;
  prediction_options.dir = config.data_dir + "/predictions";
  auto predictions = monitoring::PredictionLog::Open(prediction_options, clock);
  if (!predictions.ok()) return Fail(predictions.status().ToString());
  endpoints::WorkspaceModelProvider models(**metadata, registry, artifacts,
                                           config.data_dir + "/model-cache");
  endpoints::EndpointService endpoints(**metadata, models, predictions->get(), clock);
  auto endpoint_problems = endpoints.LoadAll();
  if (!endpoint_problems.ok()) return Fail(endpoint_problems.status().ToString());
  for (const std::string& problem : *endpoint_problems) {
    std::fprintf(stderr, "warning: %s\n", problem.c_str());
  }
  // Monitoring: drift reports against the training data's profile, feedback, live metrics.
  monitoring::WorkspaceEndpointCatalog monitor_endpoints(endpoints, models);
  monitoring::DatasetBaselines monitor_baselines(datasets);
  monitoring::MonitorService monitor(**metadata, monitor_endpoints, monitor_baselines, clock);

  http::Router router;
  http::HttpMetrics metrics;
  api::mlflow::RouteLimits limits;
  limits.max_json_body_bytes = size_t(config.max_json_body_bytes);
  limits.max_artifact_bytes = size_t(config.max_artifact_bytes);
  api::mlflow::RegisterTrackingRoutes(router, tracking, limits);
  api::mlflow::RegisterArtifactRoutes(router, artifacts, limits);
  api::mlflow::RegisterRegistryRoutes(router, registry, limits);
  api::v1::RegisterDatasetRoutes(router, datasets);
  api::v1::RegisterEndpointRoutes(router, endpoints);
  api::v1::RegisterEndpointScoringRoutes(router, endpoints);
  api::v1::RegisterJobRoutes(router, job_service);
  metrics.AddCollector([&endpoints] { return endpoints.RenderMetrics(); });
  api::v1::RegisterMonitorRoutes(router, monitor);
  metrics.AddCollector([&monitor] { return monitor.RenderMetrics(); });
  // Pipelines: the steps reach the workspace through the client library at this server's own
  // URL, known once it listens (set below, before the engine starts).
  pipelines::StepServices step_services;
  step_services.endpoints = &endpoints;
  pipelines::StepTable step_table = pipelines::BuiltinStepTypes();
  pipelines::InstallBuiltinSteps(step_table, step_services);
  auto pipeline_recorder = pipelines::MakeTrackingRecorder(step_services);
  pipelines::PipelineEngine pipeline_engine(step_table, **metadata, clock,
                                            pipeline_recorder.get());
  api::v1::RegisterPipelineRoutes(router, pipeline_engine, **metadata);
  // Retraining triggers of stored pipelines, evaluated every --trigger-interval.
  // Drift and metric triggers read the monitor; every new report pokes the trigger service.
  triggers::MonitorSignals monitor_signals(monitor);
  triggers::WorkspaceSignals trigger_signals(datasets, &monitor_signals);
  triggers::TriggerServiceOptions trigger_options;
  trigger_options.tick_ms = config.trigger_interval_ms;
  triggers::TriggerService trigger_service(**metadata, pipeline_engine, step_table,
                                           trigger_signals, clock, trigger_options);
  api::v1::RegisterTriggerRoutes(router, trigger_service);
  datasets.AddVersionListener([&trigger_service](const store::DatasetVersion&) {
    trigger_service.Poke();
  });
  monitor.AddReportListener([&trigger_service](const monitoring::MonitorReport&) {
    trigger_service.Poke();
  });
  AddOperationalRoutes(router, metrics);

  http::ServerOptions options;
  options.host = config.host;
  options.port = config.port;
  options.threads = config.threads;
  options.access_log = config.access_log;
  http::HttpServer server(router, metrics, clock, options);
  Status started = server.Start();
  if (!started.ok()) return Fail(started.message());

  {
    const bool any = config.host == "0.0.0.0" || config.host.empty();
    const std::string self = any ? "127.0.0.1" : config.host == "::" ? "[::1]" : config.host;
    step_services.tracking_uri = "http://" + self + ":" + std::to_string(server.port());
  }
  // Resumes the pipeline runs a previous process left unfinished.
  if (Status resumed = pipeline_engine.Start(); !resumed.ok()) {
    server.Shutdown();
    server.Wait();
    return Fail("pipelines: " + resumed.message());
  }
  trigger_service.Start();

  // Jobs: takes up what a previous process left queued or running, then schedules. Jobs reach
  // this server at its own URL.
  if (Status jobs_started = job_service.Start(step_services.tracking_uri); !jobs_started.ok()) {
    server.Shutdown();
    server.Wait();
    return Fail("jobs: " + jobs_started.message());
  }

  // Scheduled drift reports (each endpoint's monitor interval). Stopped before the trigger
  // service it pokes.
  monitor.Start();

  std::fprintf(stderr, "cairn %s: workspace %s listening on http://%s:%u\n", CAIRN_VERSION,
               fs::absolute(config.data_dir).c_str(), config.host.c_str(), server.port());
  if (!config.port_file.empty()) {
    std::string tmp = config.port_file + ".tmp";
    std::ofstream(tmp) << server.port() << "\n";
    fs::rename(tmp, config.port_file, ec);
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::fprintf(stderr, "cairn: %s received, draining requests in flight\n",
               signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  monitor.Stop();
  trigger_service.Stop();
  // Steps in flight are cut short and stay "running": the next start reruns them.
  pipeline_engine.Stop();
  // Running jobs keep running; the next start re-attaches them.
  job_service.Stop();
  server.Shutdown();
  server.Wait();
  std::fprintf(stderr, "cairn: stopped\n");
  return 0;
}

}  // namespace cairn::app
