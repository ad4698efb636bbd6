#include "tracking/artifact_service.h"

#include "core/utf8.h"

namespace cairn::tracking {

Status ValidateArtifactPath(std::string_view path, bool allow_empty) {
  auto bad = [&](std::string_view why) {
    std::string shown;
    for (char c : path.substr(0, 200)) shown += c == '\0' ? std::string("\\0") : std::string(1, c);
    return InvalidArgument("Invalid artifact path: '" + shown + "'. " + std::string(why));
  };
  if (path.empty()) return allow_empty ? Status::Ok() : bad("The path must not be empty.");
  if (path.find('\0') != std::string_view::npos) return bad("It contains a NUL byte.");
  if (path.find('\\') != std::string_view::npos) return bad("It contains a backslash.");
  if (!IsValidUtf8(path)) return bad("It is not valid UTF-8.");
  if (path.front() == '/') return bad("Absolute paths are not allowed.");
  if (path.size() > 4096) return bad("It is longer than 4096 characters.");
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == "..") return bad("It must not leave its folder ('..').");
    if (segment.empty() || segment == ".") return bad("It must be a normalized path.");
    start = end + 1;
  }
  if (path.back() == '/') return bad("It must not end with '/'.");
  return Status::Ok();
}

Result<std::string> ProxyPathOfUri(std::string_view artifact_uri) {
  constexpr std::string_view kScheme = "mlflow-artifacts:";
  if (artifact_uri.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgument("Artifact URI '" + std::string(artifact_uri) +
                           "' is not served by this server's artifact proxy.");
  }
  std::string_view rest = artifact_uri.substr(kScheme.size());
  // mlflow-artifacts:/path and mlflow-artifacts://host:port/path both name /path.
  if (rest.substr(0, 2) == "//") {
    size_t slash = rest.find('/', 2);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  return std::string(rest);
}

Result<store::ArtifactEntry> ArtifactUpload::Finish() {
  int64_t size = writer_->bytes_written();
  CAIRN_TRY(std::string digest, writer_->Commit());
  store::ArtifactEntry entry{path_, false, size, std::move(digest)};
  CAIRN_RETURN_IF_ERROR(store_.PutArtifact(entry));
  return entry;
}

Result<std::unique_ptr<ArtifactUpload>> ArtifactService::BeginUpload(std::string_view path) {
  CAIRN_RETURN_IF_ERROR(ValidateArtifactPath(path));
  CAIRN_TRY(auto writer, blobs_.NewWriter());
  return std::make_unique<ArtifactUpload>(store_, std::move(writer), std::string(path));
}

Result<ArtifactDownload> ArtifactService::Open(std::string_view path) {
  CAIRN_RETURN_IF_ERROR(ValidateArtifactPath(path));
  auto entry = store_.GetArtifact(path);
  if (!entry.ok()) {
    if (entry.status().code() == StatusCode::kNotFound) {
      return NotFound("Artifact '" + std::string(path) + "' does not exist.");
    }
    return entry.status();
  }
  auto reader = blobs_.Open(entry->digest);
  if (!reader.ok()) {
    if (reader.status().code() == StatusCode::kNotFound) {
      return DataLoss("the content of artifact '" + std::string(path) + "' is missing");
    }
    return reader.status();
  }
  return ArtifactDownload{std::move(entry).value(), std::move(reader).value()};
}

Result<std::vector<store::ArtifactEntry>> ArtifactService::List(std::string_view dir) {
  CAIRN_RETURN_IF_ERROR(ValidateArtifactPath(dir, /*allow_empty=*/true));
  CAIRN_TRY(auto entries, store_.ListArtifacts(dir));
  size_t prefix = dir.empty() ? 0 : dir.size() + 1;
  for (auto& e : entries) e.path = e.path.substr(prefix);
  return entries;
}

Status ArtifactService::Delete(std::string_view path) {
  CAIRN_RETURN_IF_ERROR(ValidateArtifactPath(path));
  auto status = store_.DeleteArtifacts(path);
  if (status.code() == StatusCode::kNotFound) {
    return NotFound("Artifact '" + std::string(path) + "' does not exist.");
  }
  return status;
}

Result<RunArtifactListing> ArtifactService::ListRunArtifacts(std::string_view run_id,
                                                             std::string_view path) {
  if (run_id.empty()) return InvalidArgument("Missing value for required parameter 'run_id'.");
  CAIRN_RETURN_IF_ERROR(ValidateArtifactPath(path, /*allow_empty=*/true));
  CAIRN_TRY(auto run, store_.GetRun(run_id));
  RunArtifactListing listing;
  listing.root_uri = run.info.artifact_uri;
  auto root = ProxyPathOfUri(run.info.artifact_uri);
  if (!root.ok()) return listing;  // stored elsewhere: nothing this server can list
  std::string dir = *root;
  if (!path.empty()) dir += (dir.empty() ? "" : "/") + std::string(path);
  CAIRN_TRY(auto entries, store_.ListArtifacts(dir));
  size_t prefix = root->empty() ? 0 : root->size() + 1;
  for (auto& e : entries) {
    e.path = e.path.substr(prefix);
    listing.files.push_back(std::move(e));
  }
  return listing;
}

}  // namespace cairn::tracking
