#include "endpoints/model_provider.h"

#include <filesystem>
#include <fstream>
#include <vector>

#include "core/hash.h"
#include "core/ids.h"
#include "registry/registry_service.h"
#include "store/metadata_store.h"
#include "tracking/artifact_service.h"
#include "wire/model_uri.h"

namespace cairn::endpoints {

namespace fs = std::filesystem;

namespace {

struct RemoteFile {
  std::string path;  // relative to the model directory
  std::string proxy_path;
  std::string digest;
  int64_t size = 0;
};

// A model directory holds a handful of files; this bounds a hostile or mistaken URI that names
// a whole artifact tree.
constexpr size_t kMaxModelFiles = 10000;

Status ListRecursive(tracking::ArtifactService& artifacts, const std::string& root,
                     const std::string& rel, std::vector<RemoteFile>& out) {
  const std::string dir = rel.empty() ? root : root + "/" + rel;
  CAIRN_TRY(auto entries, artifacts.List(dir));
  for (const auto& e : entries) {
    const std::string path = rel.empty() ? e.path : rel + "/" + e.path;
    if (e.is_dir) {
      CAIRN_RETURN_IF_ERROR(ListRecursive(artifacts, root, path, out));
    } else {
      out.push_back({path, root + "/" + path, e.digest, e.size});
    }
    if (out.size() > kMaxModelFiles) {
      return InvalidArgument("model: more than " + std::to_string(kMaxModelFiles) +
                             " files under " + root + "; is this a model directory?");
    }
  }
  return Status::Ok();
}

Status Download(tracking::ArtifactService& artifacts, const RemoteFile& file,
                const fs::path& dest) {
  CAIRN_TRY(auto download, artifacts.Open(file.proxy_path));
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec) return Internal("cannot create " + dest.parent_path().string() + ": " + ec.message());
  std::ofstream out(dest, std::ios::binary | std::ios::trunc);
  if (!out) return Internal("cannot write " + dest.string());
  std::string chunk;
  while (true) {
    CAIRN_RETURN_IF_ERROR(download.reader->Read(chunk));
    if (chunk.empty()) break;
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  }
  out.close();
  if (!out) return Internal("cannot write " + dest.string());
  return Status::Ok();
}

}  // namespace

WorkspaceModelProvider::WorkspaceModelProvider(store::MetadataStore& store,
                                               registry::RegistryService& registry,
                                               tracking::ArtifactService& artifacts,
                                               std::string cache_dir)
    : store_(store), registry_(registry), artifacts_(artifacts), cache_dir_(std::move(cache_dir)) {}

Result<ModelSource> WorkspaceModelProvider::Resolve(std::string_view uri) {
  ModelSource source;
  source.uri = std::string(uri);
  if (wire::IsModelUri(uri)) {
    CAIRN_TRY(store::ModelVersion v, registry_.ResolveModelUri(uri));
    source.model_name = v.name;
    source.model_version = v.version;
    source.run_id = v.run_id;
    source.storage_location = v.storage_location;
  } else if (wire::IsRunsUri(uri)) {
    CAIRN_TRY(wire::RunsUri parsed, wire::ParseRunsUri(uri));
    CAIRN_TRY(store::Run run, store_.GetRun(parsed.run_id));
    source.run_id = parsed.run_id;
    source.storage_location = run.info.artifact_uri;
    if (!parsed.artifact_path.empty()) source.storage_location += "/" + parsed.artifact_path;
  } else if (uri.starts_with("mlflow-artifacts:")) {
    source.storage_location = std::string(uri);
  } else {
    return InvalidArgument("model: '" + std::string(uri) +
                           "' is not a model URI; expected models:/NAME/VERSION, "
                           "models:/NAME@ALIAS, runs:/RUN_ID/PATH or mlflow-artifacts:/PATH");
  }
  return source;
}

Result<std::string> WorkspaceModelProvider::Materialize(const ModelSource& source) {
  auto root = tracking::ProxyPathOfUri(source.storage_location);
  if (!root.ok()) {
    return InvalidArgument("model: the files of " + source.uri + " are at " +
                           source.storage_location +
                           ", outside this workspace's artifact store; it cannot be deployed here");
  }
  std::vector<RemoteFile> files;
  CAIRN_RETURN_IF_ERROR(ListRecursive(artifacts_, *root, "", files));
  if (files.empty()) {
    return NotFound("model: no files at " + source.storage_location + " (" + source.uri + ")");
  }
  std::string listing;
  for (const RemoteFile& f : files) listing += f.path + '\0' + f.digest + '\n';
  const fs::path final_dir = fs::path(cache_dir_) / Sha256Hex(listing);

  std::lock_guard lock(fetch_mu_);
  std::error_code ec;
  if (fs::is_directory(final_dir, ec)) return final_dir.string();
  fs::create_directories(cache_dir_, ec);
  if (ec) return Internal("cannot create " + cache_dir_ + ": " + ec.message());
  const fs::path tmp = fs::path(cache_dir_) / (".tmp-" + NewUuidHex());
  Status status = Status::Ok();
  for (const RemoteFile& f : files) {
    status = Download(artifacts_, f, tmp / f.path);
    if (!status.ok()) break;
  }
  if (status.ok()) {
    fs::rename(tmp, final_dir, ec);
    if (ec) status = Internal("cannot rename " + tmp.string() + ": " + ec.message());
  }
  if (!status.ok()) {
    fs::remove_all(tmp, ec);
    return status;
  }
  return final_dir.string();
}

Result<std::shared_ptr<const serving::ScoringModel>> WorkspaceModelProvider::Load(
    const ModelSource& source) {
  CAIRN_TRY(std::string dir, Materialize(source));
  return serving::LoadScoringModel(dir);
}

}  // namespace cairn::endpoints
