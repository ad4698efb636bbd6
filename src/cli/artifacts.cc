// cairn artifacts upload | download | list
#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/output.h"
#include "cli/views.h"
#include "wire/mlflow_entities.h"

namespace cairn::cli {
namespace {

using client::Json;

struct TransferOptions {
  std::string run_id;
  std::string local_path;     // upload: the file or folder
  std::string artifact_path;  // upload: --artifact-path; download/list: PATH
  std::string to;             // download: --to
};

Status Upload(Session& s, const TransferOptions& o) {
  CAIRN_TRY(client::TrackingClient * c, s.Client());
  CAIRN_TRY(std::vector<std::string> uploaded,
            c->UploadArtifacts(o.run_id, o.local_path, o.artifact_path));
  if (s.json()) {
    s.out() << RenderJson({{"run_id", o.run_id}, {"artifacts", uploaded}});
  } else {
    for (const auto& p : uploaded) s.out() << p << "\n";
    s.out() << "Uploaded " << uploaded.size() << (uploaded.size() == 1 ? " file" : " files")
            << " to run " << o.run_id << "\n";
  }
  return Status::Ok();
}

Status Download(Session& s, const TransferOptions& o) {
  CAIRN_TRY(client::TrackingClient * c, s.Client());
  CAIRN_TRY(std::vector<std::string> written,
            c->DownloadArtifacts(o.run_id, o.artifact_path, o.to));
  if (s.json()) {
    s.out() << RenderJson({{"run_id", o.run_id}, {"files", written}});
  } else {
    for (const auto& p : written) s.out() << p << "\n";
    s.out() << "Downloaded " << written.size() << (written.size() == 1 ? " file" : " files")
            << " to " << o.to << "\n";
  }
  return Status::Ok();
}

Status List(Session& s, const TransferOptions& o) {
  CAIRN_TRY(client::TrackingClient * c, s.Client());
  CAIRN_TRY(std::vector<client::FileInfo> files, c->ListAllArtifacts(o.run_id, o.artifact_path));
  if (s.json()) {
    Json arr = Json::array();
    for (const auto& f : files) arr.push_back(wire::ToJson(f));
    s.out() << RenderJson(arr);
  } else {
    s.out() << ArtifactsTable(files);
  }
  return Status::Ok();
}

}  // namespace

void AddArtifactsCommands(CLI::App& app, GlobalOptions& g) {
  CLI::App* noun = app.add_subcommand("artifacts", "Upload, download and list run artifacts");
  noun->require_subcommand(1);

  auto up = std::make_shared<TransferOptions>();
  CLI::App* u = noun->add_subcommand(
      "upload", "Upload a file, or a folder's contents recursively, to a run's artifacts");
  u->add_option("run_id", up->run_id, "Run id")->required();
  u->add_option("local_path", up->local_path, "File or folder to upload")->required();
  u->add_option("--artifact-path", up->artifact_path,
                "Folder in the run's artifacts to upload into (default: the root)");
  u->callback([&g, up] { SetCommand(g, [up](Session& s) { return Upload(s, *up); }); });

  auto down = std::make_shared<TransferOptions>();
  CLI::App* d = noun->add_subcommand(
      "download", "Download a run's artifact file or folder (default: all) to DIR/PATH");
  d->add_option("run_id", down->run_id, "Run id")->required();
  d->add_option("path", down->artifact_path, "Artifact file or folder (default: all)");
  d->add_option("--to", down->to, "Local directory to download into")->required();
  d->callback([&g, down] { SetCommand(g, [down](Session& s) { return Download(s, *down); }); });

  auto ls = std::make_shared<TransferOptions>();
  CLI::App* l = noun->add_subcommand("list", "List a folder of a run's artifacts");
  l->add_option("run_id", ls->run_id, "Run id")->required();
  l->add_option("path", ls->artifact_path, "Folder (default: the root)");
  l->callback([&g, ls] { SetCommand(g, [ls](Session& s) { return List(s, *ls); }); });
}

}  // namespace cairn::cli
