// The recursive artifact helpers of TrackingClient: local files and folders <-> a run's artifacts.
#include <algorithm>
#include <filesystem>
#include <system_error>

#include "client/tracking_client.h"
#include "client/uri.h"

namespace cairn::client {
namespace {

namespace fs = std::filesystem;

Status FsError(std::string_view what, const fs::path& path, const std::error_code& ec) {
  return Internal(std::string(what) + " " + path.string() + ": " + ec.message());
}

// An entry of a tracking listing of `dir`, made relative to the artifact root. MLflow answers
// paths relative to the root; a server answering names relative to `dir` is accepted too.
Result<std::string> EntryPath(std::string_view dir, std::string_view entry) {
  CAIRN_TRY(std::string p, NormalizeArtifactPath(entry));
  if (dir.empty()) return p;
  std::string prefix = std::string(dir) + "/";
  if (p.compare(0, prefix.size(), prefix) == 0) return p;
  return JoinArtifactPath(dir, p);
}

std::string Parent(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

}  // namespace

Result<std::vector<std::string>> TrackingClient::UploadArtifacts(std::string_view run_id,
                                                                 const std::string& local_path,
                                                                 std::string_view artifact_dir) {
  CAIRN_TRY(std::string dir, NormalizeArtifactPath(artifact_dir));
  std::error_code ec;
  fs::path root(local_path);
  fs::file_status st = fs::status(root, ec);
  if (ec || !fs::exists(st)) return NotFound("no such file or directory: " + local_path);

  // (local file, artifact path) pairs, in a stable order.
  std::vector<std::pair<std::string, std::string>> files;
  if (fs::is_regular_file(st)) {
    files.emplace_back(local_path, JoinArtifactPath(dir, root.filename().string()));
  } else if (fs::is_directory(st)) {
    fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
    if (ec) return FsError("cannot read", root, ec);
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return FsError("cannot read", it->path(), ec);
      if (!it->is_regular_file(ec)) continue;
      std::string rel = it->path().lexically_relative(root).generic_string();
      files.emplace_back(it->path().string(), JoinArtifactPath(dir, rel));
    }
    if (ec) return FsError("cannot read", root, ec);
    std::sort(files.begin(), files.end(),
              [](const auto& a, const auto& b) { return a.second < b.second; });
  } else {
    return InvalidArgument("not a regular file or directory: " + local_path);
  }

  CAIRN_TRY(Run run, GetRun(run_id));
  std::vector<std::string> uploaded;
  for (const auto& [file, artifact_path] : files) {
    CAIRN_RETURN_IF_ERROR(UploadRunArtifact(run.info, file, artifact_path));
    uploaded.push_back(artifact_path);
  }
  return uploaded;
}

Result<std::vector<std::string>> TrackingClient::DownloadArtifacts(std::string_view run_id,
                                                                   std::string_view artifact_path,
                                                                   const std::string& dest_dir) {
  CAIRN_TRY(std::string path, NormalizeArtifactPath(artifact_path));
  CAIRN_TRY(Run run, GetRun(run_id));

  // Is `path` a file or a directory? Its parent's listing says.
  bool is_dir = path.empty();
  if (!is_dir) {
    std::string parent = Parent(path);
    CAIRN_TRY(std::vector<FileInfo> siblings, ListAllArtifacts(run_id, parent));
    bool found = false;
    for (const FileInfo& f : siblings) {
      CAIRN_TRY(std::string p, EntryPath(parent, f.path));
      if (p == path) {
        found = true;
        is_dir = f.is_dir;
        break;
      }
    }
    if (!found) {
      return NotFound("run " + std::string(run_id) + " has no artifact '" + path + "'");
    }
  }

  std::vector<std::string> written;
  auto fetch = [&](const std::string& rel) -> Status {
    fs::path local = fs::path(dest_dir) / fs::path(rel);
    std::error_code ec;
    fs::create_directories(local.parent_path(), ec);
    if (ec) return FsError("cannot create directory", local.parent_path(), ec);
    Status s = DownloadRunArtifact(run.info, rel, local.string());
    if (!s.ok()) {
      fs::remove(local, ec);  // leave no partial file behind
      return s;
    }
    written.push_back(local.string());
    return Status::Ok();
  };

  if (!is_dir) {
    CAIRN_RETURN_IF_ERROR(fetch(path));
    return written;
  }
  std::vector<std::string> pending = {path};
  while (!pending.empty()) {
    std::string dir = std::move(pending.back());
    pending.pop_back();
    CAIRN_TRY(std::vector<FileInfo> entries, ListAllArtifacts(run_id, dir));
    for (const FileInfo& f : entries) {
      CAIRN_TRY(std::string p, EntryPath(dir, f.path));
      if (p.empty() || p == dir) continue;  // never loop on a server echoing the directory
      if (f.is_dir) {
        pending.push_back(p);
      } else {
        CAIRN_RETURN_IF_ERROR(fetch(p));
      }
    }
  }
  if (written.empty() && !path.empty()) {
    std::error_code ec;  // an empty directory still exists locally afterwards
    fs::create_directories(fs::path(dest_dir) / path, ec);
  }
  return written;
}

}  // namespace cairn::client
