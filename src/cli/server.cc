// cairn server: fills a ServerConfig from flags and runs the workspace server in this process.
#include <CLI/CLI.hpp>

#include "app/workspace_server.h"
#include "cli/command.h"
#include "triggers/trigger_spec.h"

namespace cairn::cli {

void AddServerCommand(CLI::App& app, GlobalOptions& g) {
  auto config = std::make_shared<app::ServerConfig>();
  auto no_access_log = std::make_shared<bool>(false);
  CLI::App* s = app.add_subcommand("server", "Run the workspace server (MLflow-compatible API)");
  s->add_option("--data", config->data_dir, "Data directory (metadata and artifacts)")
      ->capture_default_str();
  s->add_option("--host", config->host, "Address to listen on")->capture_default_str();
  s->add_option("--port", config->port, "Port to listen on (0: any free port)")
      ->capture_default_str();
  s->add_option("--threads", config->threads, "Worker threads (0: one per core, at least 2)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  s->add_option("--max-body-bytes", config->max_json_body_bytes,
                "Largest JSON request body accepted (413 above)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  s->add_option("--slurm-conf", config->slurm_conf,
                "Enable `compute: slurm` jobs on the cluster this slurm.conf describes");
  s->add_option("--slurm-partition", config->slurm_partition,
                "Slurm partition for jobs (default: the cluster's default partition)");
  s->add_option("--port-file", config->port_file,
                "Write the bound port to this file once listening");
  s->add_option("--local-job-slots", config->local_job_slots,
                "Jobs run at once on local compute (0: one per core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  s->add_flag("--no-access-log", *no_access_log, "Do not log each request");
  auto trigger_interval = std::make_shared<std::string>("30s");
  s->add_option("--trigger-interval", *trigger_interval,
                "How often retraining triggers are evaluated (e.g. 30s, 1m, 500ms)")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            auto ms = triggers::ParseDuration(v);
            return ms.ok() && *ms > 0 ? "" : "expected a duration such as 30s, 1m or 500ms";
          },
          "DURATION"))
      ->capture_default_str();
  s->callback([&g, config, no_access_log, trigger_interval] {
    g.action = [config, no_access_log, trigger_interval] {
      config->access_log = !*no_access_log;
      config->trigger_interval_ms = *triggers::ParseDuration(*trigger_interval);
      return app::RunServer(*config);
    };
  });
}

}  // namespace cairn::cli
