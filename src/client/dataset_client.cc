#include "client/dataset_client.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "client/mlflow_json.h"
#include "client/uri.h"
#include "core/hash.h"
#include "core/ids.h"
#include "core/utf8.h"
#include "data/chunker.h"
#include "data/mapped_file.h"
#include "data/snapshot.h"

namespace cairn::client {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kDatasetsPrefix = "/api/v1/datasets/";

bool Is2xx(int status) { return status >= 200 && status < 300; }


// --- Reading the server's JSON (errors become kInternal: the server sent it) ---------------------

Status Malformed(std::string_view what) {
  return Internal("malformed response from server: " + std::string(what));
}

Result<std::string> StringField(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return Malformed(std::string("'") + key + "'");
  return it->get<std::string>();
}

Result<int64_t> IntField(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return Malformed(std::string("'") + key + "'");
  return it->get<int64_t>();
}

Result<store::DatasetVersion> VersionFromJson(const Json& j) {
  if (!j.is_object()) return Malformed("version");
  store::DatasetVersion v;
  CAIRN_TRY(v.name, StringField(j, "name"));
  CAIRN_TRY(v.version, IntField(j, "version"));
  CAIRN_TRY(v.version_id, StringField(j, "version_id"));
  CAIRN_TRY(v.manifest_digest, StringField(j, "manifest_digest"));
  CAIRN_TRY(v.profile_digest, StringField(j, "profile_digest"));
  CAIRN_TRY(v.size_bytes, IntField(j, "size_bytes"));
  CAIRN_TRY(v.row_count, IntField(j, "row_count"));
  CAIRN_TRY(v.description, StringField(j, "description"));
  CAIRN_TRY(v.created_by, StringField(j, "created_by"));
  CAIRN_TRY(v.creation_time, IntField(j, "creation_time"));
  return v;
}

Result<DatasetFile> FileFromJson(const Json& j) {
  if (!j.is_object()) return Malformed("file");
  DatasetFile f;
  CAIRN_TRY(f.path, StringField(j, "path"));
  CAIRN_TRY(int64_t size, IntField(j, "size"));
  f.size = uint64_t(size);
  CAIRN_TRY(f.sha256, StringField(j, "sha256"));
  CAIRN_TRY(f.manifest_digest, StringField(j, "manifest_digest"));
  if (j.contains("rows")) {
    CAIRN_TRY(f.rows, IntField(j, "rows"));
  }
  return f;
}

Result<std::vector<DatasetFileProfile>> ProfilesFromJson(const Json& arr) {
  if (!arr.is_array()) return Malformed("profiles");
  std::vector<DatasetFileProfile> out;
  for (const auto& p : arr) {
    if (!p.is_object() || !p.contains("profile")) return Malformed("profiles");
    DatasetFileProfile fp;
    CAIRN_TRY(fp.path, StringField(p, "path"));
    Result<data::DatasetProfile> profile = data::ProfileFromJson(p["profile"]);
    if (!profile.ok()) return Malformed("profile of " + fp.path + ": " + profile.status().message());
    fp.profile = std::move(profile).value();
    out.push_back(std::move(fp));
  }
  return out;
}

// --- Local files ------------------------------------------------------------------------------

struct LocalFile {
  fs::path source;
  std::string path;  // relative, '/'-separated
  uint64_t size = 0;
};

Status CheckRelativeName(const fs::path& source, const std::string& rel) {
  if (!IsValidUtf8(rel)) {
    return InvalidArgument(source.string() + ": the file name is not valid UTF-8");
  }
  for (unsigned char c : rel) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgument(source.string() + ": the file name contains a control character");
    }
  }
  return Status::Ok();
}

// Appends the regular files under `dir` (links followed); `ancestors` holds the canonical paths
// of the folders being walked, to refuse link cycles.
Status WalkFolder(const fs::path& dir, const std::string& prefix, std::vector<fs::path>& ancestors,
                  std::vector<LocalFile>& out) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec) return InvalidArgument(dir.string() + ": cannot list the folder: " + ec.message());
  for (; it != end; it.increment(ec)) {
    const fs::path entry = it->path();
    const std::string rel = prefix + entry.filename().string();
    fs::file_status st = fs::status(entry, ec);  // follows links
    if (ec || !fs::exists(st)) {
      return NotFound(entry.string() + ": broken symbolic link or unreadable entry");
    }
    if (fs::is_directory(st)) {
      fs::path canonical = fs::canonical(entry, ec);
      if (ec) return InvalidArgument(entry.string() + ": " + ec.message());
      if (std::find(ancestors.begin(), ancestors.end(), canonical) != ancestors.end()) {
        return InvalidArgument(entry.string() + ": symbolic link cycle (links back to " +
                               canonical.string() + ")");
      }
      ancestors.push_back(canonical);
      CAIRN_RETURN_IF_ERROR(WalkFolder(entry, rel + "/", ancestors, out));
      ancestors.pop_back();
    } else if (fs::is_regular_file(st)) {
      CAIRN_RETURN_IF_ERROR(CheckRelativeName(entry, rel));
      uint64_t size = fs::file_size(entry, ec);
      if (ec) return InvalidArgument(entry.string() + ": " + ec.message());
      out.push_back({entry, rel, size});
    } else {
      return InvalidArgument(entry.string() + ": not a regular file or folder");
    }
  }
  if (ec) return InvalidArgument(dir.string() + ": cannot list the folder: " + ec.message());
  return Status::Ok();
}

Result<std::vector<LocalFile>> CollectFiles(const std::string& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return NotFound(path + ": no such file or folder");
  std::vector<LocalFile> files;
  if (fs::is_regular_file(st)) {
    std::string rel = fs::path(path).filename().string();
    CAIRN_RETURN_IF_ERROR(CheckRelativeName(path, rel));
    uint64_t size = fs::file_size(path, ec);
    if (ec) return InvalidArgument(path + ": " + ec.message());
    files.push_back({fs::path(path), rel, size});
  } else if (fs::is_directory(st)) {
    std::vector<fs::path> ancestors = {fs::canonical(path, ec)};
    CAIRN_RETURN_IF_ERROR(WalkFolder(path, "", ancestors, files));
    if (files.empty()) return InvalidArgument(path + ": no files to snapshot (empty folder)");
  } else {
    return InvalidArgument(path + ": not a regular file or folder");
  }
  std::sort(files.begin(), files.end(),
            [](const LocalFile& a, const LocalFile& b) { return a.path < b.path; });
  for (const auto& f : files) {
    if (f.size == 0) return InvalidArgument("empty file: " + f.source.string());
  }
  return files;
}

// Checks `bytes` against `manifest`: size, each chunk's SHA-256 (on all cores), the whole file's.
Status VerifyBytes(std::string_view bytes, const data::FileManifest& manifest,
                   const std::string& label) {
  if (bytes.size() != manifest.size) {
    return DataLoss(label + ": received " + std::to_string(bytes.size()) + " bytes, expected " +
                    std::to_string(manifest.size));
  }
  std::vector<data::ChunkBoundary> boundaries;
  boundaries.reserve(manifest.chunks.size());
  for (const auto& c : manifest.chunks) boundaries.push_back({c.offset, c.size});
  std::vector<std::string> digests = data::HashChunks(bytes, boundaries);
  for (size_t i = 0; i < digests.size(); ++i) {
    if (digests[i] != manifest.chunks[i].digest) {
      return DataLoss(label + ": chunk at offset " + std::to_string(manifest.chunks[i].offset) +
                      " does not match its SHA-256");
    }
  }
  if (Sha256Hex(bytes) != manifest.file_digest) {
    return DataLoss(label + ": the file does not match its SHA-256");
  }
  return Status::Ok();
}

// A path from the server, before it is joined to a local folder: nothing may escape it.
Status CheckSafePath(std::string_view path) {
  bool ok = !path.empty() && path.front() != '/' && path.find('\0') == std::string_view::npos;
  size_t start = 0;
  while (ok && start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string_view segment = path.substr(start, end - start);
    ok = !segment.empty() && segment != "." && segment != "..";
    start = end + 1;
  }
  if (ok) return Status::Ok();
  return Internal("server sent an unsafe file path '" + std::string(path.substr(0, 200)) + "'");
}

// "/api/v1/datasets/<name>". The server validates names; a '/' would only reach it as a path
// it cannot route, so it is refused here with the server's kind of message.
Result<std::string> DatasetTarget(std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos) {
    return InvalidArgument("invalid dataset name '" + std::string(name.substr(0, 200)) +
                           "': use 1-128 letters, digits, '.', '_' or '-', starting with a "
                           "letter or digit");
  }
  return std::string(kDatasetsPrefix) + EncodePathSegments(name);
}

std::string DefaultUser() {
  for (const char* var : {"USER", "LOGNAME"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') return v;
  }
  return "";
}

}  // namespace

// --- Refs -------------------------------------------------------------------------------------

Result<DatasetRef> ParseDatasetRef(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("invalid dataset reference '" + std::string(text.substr(0, 200)) +
                           "': expected NAME, NAME@latest, NAME@vN or NAME@N");
  };
  DatasetRef ref;
  size_t at = text.rfind('@');
  ref.name = std::string(text.substr(0, at));
  if (ref.name.empty()) return bad();
  if (at == std::string_view::npos) return ref;
  std::string_view v = text.substr(at + 1);
  if (v == "latest") return ref;
  if (!v.empty() && (v[0] == 'v' || v[0] == 'V')) v.remove_prefix(1);
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < 1 || v[0] == '0') {
    return bad();
  }
  ref.version = n;
  return ref;
}

std::string FormatDatasetRef(const DatasetRef& ref) {
  return ref.name + "@" + (ref.version ? "v" + std::to_string(*ref.version) : "latest");
}

// --- The uploader: batches of chunks, sent on a thread of its own while the pass goes on --------

struct DatasetClient::Uploader {
  struct Batch {
    std::vector<std::string> digests;
    std::vector<std::string> bytes;
    size_t total = 0;
  };

  Uploader(Transport& t, const SnapshotOptions& o) : transport(t), options(o) {
    thread = std::thread([this] { Run(); });
  }
  ~Uploader() {
    if (thread.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mu);
        closed = true;
        aborted = true;
      }
      cv.notify_all();
      thread.join();
    }
  }

  // Main thread: queues the chunk unless this snapshot already sent or queued it.
  Status Add(const data::ChunkRef& chunk, std::string_view bytes) {
    if (!seen.insert(chunk.digest).second) return Status::Ok();
    current.digests.push_back(chunk.digest);
    current.bytes.emplace_back(bytes);
    current.total += bytes.size();
    if (current.total >= options.batch_bytes || current.digests.size() >= options.batch_chunks) {
      return Enqueue();
    }
    return Status::Ok();
  }

  // Waits while two batches are already waiting, so memory stays bounded.
  Status Enqueue() {
    if (current.digests.empty()) return CurrentError();
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return queue.size() < 2 || !error.ok(); });
    if (!error.ok()) return error;
    queue.push_back(std::move(current));
    current = Batch();
    cv.notify_all();
    return Status::Ok();
  }

  // Sends what is left and waits for every batch to be stored.
  Status Finish() {
    CAIRN_RETURN_IF_ERROR(Enqueue());
    {
      std::lock_guard<std::mutex> lock(mu);
      closed = true;
    }
    cv.notify_all();
    thread.join();
    return error;
  }

  Status CurrentError() {
    std::lock_guard<std::mutex> lock(mu);
    return error;
  }

  void Run() {
    while (true) {
      Batch batch;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return !queue.empty() || closed; });
        if (aborted || (queue.empty() && closed)) return;
        batch = std::move(queue.front());
        queue.pop_front();
      }
      cv.notify_all();
      Status s = Send(batch);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        error = s;
        queue.clear();
        cv.notify_all();
        return;
      }
    }
  }

  Status Send(const Batch& batch) {
    CAIRN_TRY(Json missing_response,
              Exchange("/api/v1/blobs/missing", wire::Dump(Json{{"digests", batch.digests}}),
                       "application/json"));
    auto it = missing_response.find("missing");
    if (it == missing_response.end() || !it->is_array()) return Malformed("'missing'");
    std::unordered_set<std::string> missing;
    for (const auto& d : *it) {
      if (d.is_string()) missing.insert(d.get<std::string>());
    }
    if (missing.empty()) return Status::Ok();
    std::string pack = "cairn-pack 1\n";
    int64_t sent = 0;
    for (size_t i = 0; i < batch.digests.size(); ++i) {
      if (missing.count(batch.digests[i]) == 0) continue;
      pack += batch.digests[i];
      pack += ' ';
      pack += std::to_string(batch.bytes[i].size());
      pack += '\n';
      pack += batch.bytes[i];
      sent += int64_t(batch.bytes[i].size());
    }
    CAIRN_TRY(Json stored, Exchange("/api/v1/blobs", pack, "application/octet-stream"));
    CAIRN_TRY(int64_t stored_bytes, IntField(stored, "stored_bytes"));
    std::lock_guard<std::mutex> lock(mu);
    uploaded_bytes += sent;
    stored_chunk_bytes += stored_bytes;
    return Status::Ok();
  }

  Result<Json> Exchange(const std::string& target, std::string_view body,
                        std::string_view content_type) {
    CAIRN_TRY(http::ClientResponse r,
              transport.Send("POST", target, body, {{"content-type", std::string(content_type)}}));
    if (!Is2xx(r.status)) return StatusFromHttpError(r.status, r.body);
    return ParseResponseBody(r.body, target);
  }

  Transport& transport;
  const SnapshotOptions& options;
  std::unordered_set<std::string> seen;  // main thread only
  Batch current;                         // main thread only

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Batch> queue;
  bool closed = false;
  bool aborted = false;
  Status error;
  int64_t uploaded_bytes = 0;
  int64_t stored_chunk_bytes = 0;
  std::thread thread;
};

// --- The client -------------------------------------------------------------------------------

Result<std::unique_ptr<DatasetClient>> DatasetClient::Connect(std::string_view tracking_uri) {
  CAIRN_TRY(std::unique_ptr<Transport> transport, ConnectHttp(tracking_uri));
  return std::make_unique<DatasetClient>(std::move(transport));
}

DatasetClient::DatasetClient(std::unique_ptr<Transport> transport)
    : transport_(std::move(transport)) {}

DatasetClient::~DatasetClient() = default;

Result<Json> DatasetClient::Call(std::string_view method, const std::string& target,
                                 std::string_view body, std::string_view content_type) {
  return CallJson(*transport_, method, target, body, content_type);
}

std::string DatasetClient::VersionTarget(const store::DatasetVersion& version) const {
  return std::string(kDatasetsPrefix) + EncodePathSegments(version.name) + "/versions/" +
         std::to_string(version.version);
}

Result<std::vector<store::DatasetSummary>> DatasetClient::List() {
  CAIRN_TRY(Json j, Call("GET", "/api/v1/datasets", {}));
  auto it = j.find("datasets");
  if (it == j.end() || !it->is_array()) return Malformed("'datasets'");
  std::vector<store::DatasetSummary> out;
  for (const auto& d : *it) {
    store::DatasetSummary s;
    CAIRN_TRY(s.name, StringField(d, "name"));
    CAIRN_TRY(s.latest_version, IntField(d, "latest_version"));
    CAIRN_TRY(s.version_count, IntField(d, "version_count"));
    CAIRN_TRY(s.last_update_time, IntField(d, "last_update_time"));
    CAIRN_TRY(s.description, StringField(d, "description"));
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<store::DatasetVersion>> DatasetClient::Versions(std::string_view name) {
  CAIRN_TRY(std::string base, DatasetTarget(name));
  CAIRN_TRY(Json j, Call("GET", base, {}));
  auto it = j.find("versions");
  if (it == j.end() || !it->is_array()) return Malformed("'versions'");
  std::vector<store::DatasetVersion> out;
  for (const auto& v : *it) {
    CAIRN_TRY(store::DatasetVersion version, VersionFromJson(v));
    out.push_back(std::move(version));
  }
  return out;
}

Result<DatasetVersionInfo> DatasetClient::Get(const DatasetRef& ref, bool include_profiles) {
  CAIRN_TRY(std::string target, DatasetTarget(ref.name));
  target += "/versions/" + (ref.version ? std::to_string(*ref.version) : "latest");
  if (!include_profiles) target += "?include_profile=false";
  CAIRN_TRY(Json j, Call("GET", target, {}));
  DatasetVersionInfo info;
  if (!j.contains("version")) return Malformed("'version'");
  CAIRN_TRY(info.version, VersionFromJson(j["version"]));
  auto files = j.find("files");
  if (files == j.end() || !files->is_array()) return Malformed("'files'");
  for (const auto& f : *files) {
    CAIRN_TRY(DatasetFile file, FileFromJson(f));
    info.files.push_back(std::move(file));
  }
  if (include_profiles && j.contains("profiles")) {
    CAIRN_TRY(info.profiles, ProfilesFromJson(j["profiles"]));
  }
  return info;
}

Result<store::DatasetVersion> DatasetClient::Resolve(const DatasetRef& ref) {
  CAIRN_TRY(DatasetVersionInfo info, Get(ref, /*include_profiles=*/false));
  return info.version;
}

Result<DatasetDiff> DatasetClient::Diff(std::string_view name, int64_t from, int64_t to) {
  CAIRN_TRY(std::string base, DatasetTarget(name));
  CAIRN_TRY(Json j, Call("GET",
                         base + "/diff?from=" + std::to_string(from) +
                             "&to=" + std::to_string(to),
                         {}));
  DatasetDiff diff;
  if (!j.contains("from") || !j.contains("to")) return Malformed("diff");
  CAIRN_TRY(diff.from, VersionFromJson(j["from"]));
  CAIRN_TRY(diff.to, VersionFromJson(j["to"]));
  auto files = j.find("files");
  if (files == j.end() || !files->is_array()) return Malformed("'files'");
  for (const auto& f : *files) {
    DatasetFileDiff d;
    CAIRN_TRY(d.path, StringField(f, "path"));
    CAIRN_TRY(d.from_path, StringField(f, "from_path"));
    CAIRN_TRY(d.change, StringField(f, "change"));
    if (f.contains("from") && !f["from"].is_null()) {
      CAIRN_TRY(d.from, FileFromJson(f["from"]));
    }
    if (f.contains("to") && !f["to"].is_null()) {
      CAIRN_TRY(d.to, FileFromJson(f["to"]));
    }
    if (f.contains("profile_diff")) {
      Result<data::ProfileDiff> p = data::ProfileDiffFromJson(f["profile_diff"]);
      if (!p.ok()) return Malformed(p.status().message());
      d.profile = std::move(p).value();
    }
    diff.files.push_back(std::move(d));
  }
  return diff;
}

Result<data::FileManifest> DatasetClient::FetchManifest(const store::DatasetVersion& version,
                                                        std::string_view path) {
  const std::string target = VersionTarget(version) + "/manifests/" + EncodePathSegments(path);
  CAIRN_TRY(http::ClientResponse r, transport_->Send("GET", target, {}, {}));
  if (!Is2xx(r.status)) return StatusFromHttpError(r.status, r.body);
  Result<data::FileManifest> manifest = data::ParseManifest(r.body);
  if (!manifest.ok()) return Malformed("manifest of " + std::string(path) + ": " +
                                       manifest.status().message());
  return manifest;
}

Result<SnapshotResult> DatasetClient::Snapshot(std::string_view name, const std::string& path,
                                               const SnapshotOptions& options,
                                               const SnapshotProgressFn& progress) {
  // The latest version (also checks the name with the server before any work).
  std::optional<DatasetVersionInfo> latest;
  Result<DatasetVersionInfo> got = Get({std::string(name), std::nullopt}, false);
  if (got.ok()) {
    latest = std::move(got).value();
  } else if (got.status().code() != StatusCode::kNotFound) {
    return got.status();
  }
  CAIRN_TRY(std::vector<LocalFile> files, CollectFiles(path));

  // Each file is cut as its previous version was, so unchanged regions give the same chunks.
  std::vector<std::optional<data::ChunkerOptions>> previous(files.size());
  if (latest) {
    for (size_t i = 0; i < files.size(); ++i) {
      const DatasetFile* before = nullptr;
      for (const auto& f : latest->files) {
        if (f.path == files[i].path) before = &f;
      }
      if (before == nullptr && files.size() == 1 && latest->files.size() == 1) {
        before = &latest->files[0];
      }
      if (before == nullptr) continue;
      CAIRN_TRY(data::FileManifest manifest, FetchManifest(latest->version, before->path));
      previous[i] = manifest.chunker;
    }
  }

  SnapshotResult result;
  uint64_t total = 0;
  for (const auto& f : files) total += f.size;
  result.files = int64_t(files.size());
  result.total_bytes = int64_t(total);

  Json commit_files = Json::array();
  {
    Uploader uploader(*transport_, options);
    uint64_t base = 0;
    for (size_t i = 0; i < files.size(); ++i) {
      const LocalFile& f = files[i];
      data::SnapshotFileOptions file_options;
      file_options.previous_chunker = previous[i];
      file_options.threads = options.threads;
      if (progress) progress({base, total, i, files.size(), f.path});
      Result<data::FileSnapshot> snap = data::SnapshotFile(
          f.source, f.path, file_options,
          [&](const data::ChunkRef& chunk, std::string_view bytes) {
            ++result.chunks;
            return uploader.Add(chunk, bytes);
          },
          [&](uint64_t done, uint64_t) {
            if (progress) progress({base + done, total, i, files.size(), f.path});
          });
      if (!snap.ok()) {
        // An upload failure stops the pass through `Add`; report that cause, not its echo.
        Status upload = uploader.CurrentError();
        return upload.ok() ? snap.status() : upload;
      }
      if (snap->manifest.size == 0) return InvalidArgument("empty file: " + f.source.string());
      Json entry = {{"manifest", data::SerializeManifest(snap->manifest)}};
      if (snap->profile) entry["profile"] = data::ToJson(*snap->profile);
      commit_files.push_back(std::move(entry));
      base += snap->manifest.size;
    }
    CAIRN_RETURN_IF_ERROR(uploader.Finish());
    result.uploaded_bytes = uploader.uploaded_bytes;
    result.stored_chunk_bytes = uploader.stored_chunk_bytes;
    if (progress) progress({total, total, files.size(), files.size(), ""});
  }

  Json body = {{"description", options.description},
               {"created_by", options.created_by.empty() ? DefaultUser() : options.created_by},
               {"files", std::move(commit_files)}};
  CAIRN_TRY(std::string base, DatasetTarget(name));
  CAIRN_TRY(Json created, Call("POST", base + "/versions", wire::Dump(body)));
  if (!created.contains("version")) return Malformed("'version'");
  CAIRN_TRY(result.version, VersionFromJson(created["version"]));
  auto c = created.find("created");
  if (c == created.end() || !c->is_boolean()) return Malformed("'created'");
  result.created = c->get<bool>();
  CAIRN_TRY(result.stored_metadata_bytes, IntField(created, "stored_bytes"));
  return result;
}

Result<std::string> DatasetClient::ReadFile(const DatasetRef& ref, std::string_view path) {
  CAIRN_TRY(store::DatasetVersion version, Resolve(ref));
  CAIRN_TRY(data::FileManifest manifest, FetchManifest(version, path));
  const std::string target = VersionTarget(version) + "/files/" + EncodePathSegments(path);
  CAIRN_TRY(http::ClientResponse r, transport_->Send("GET", target, {}, {}));
  if (!Is2xx(r.status)) return StatusFromHttpError(r.status, r.body);
  const std::string label = FormatDatasetRef({version.name, version.version}) + " file '" +
                            std::string(path) + "'";
  CAIRN_RETURN_IF_ERROR(VerifyBytes(r.body, manifest, label));
  return std::move(r.body);
}

Result<RestoreResult> DatasetClient::Restore(const DatasetRef& ref, const std::string& dir) {
  CAIRN_TRY(DatasetVersionInfo info, Get(ref, /*include_profiles=*/false));
  const std::string label_prefix = FormatDatasetRef({info.version.name, info.version.version});
  RestoreResult result;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return InvalidArgument(dir + ": cannot create the folder: " + ec.message());

  for (const auto& f : info.files) {
    CAIRN_RETURN_IF_ERROR(CheckSafePath(f.path));
    const fs::path target = fs::path(dir) / fs::path(f.path);
    const std::string label = label_prefix + " file '" + f.path + "'";

    // Already there: leave it.
    if (fs::is_regular_file(target, ec) && fs::file_size(target, ec) == f.size) {
      Result<std::unique_ptr<data::MappedFile>> existing = data::MappedFile::Open(target.string());
      if (existing.ok() && Sha256Hex((*existing)->bytes()) == f.sha256) {
        result.unchanged.push_back(target.string());
        continue;
      }
    }
    fs::create_directories(target.parent_path(), ec);
    if (ec) {
      return InvalidArgument(target.parent_path().string() + ": cannot create the folder: " +
                             ec.message());
    }
    CAIRN_TRY(data::FileManifest manifest, FetchManifest(info.version, f.path));
    if (manifest.file_digest != f.sha256 || manifest.size != f.size) {
      return DataLoss(label + ": the manifest disagrees with the version's file list");
    }
    const fs::path tmp = target.parent_path() /
                         ("." + target.filename().string() + ".cairn-" + NewUuidHex() + ".tmp");
    auto cleanup = [&](Status s) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      return s;
    };
    Result<http::ClientResponse> r = transport_->Download(
        VersionTarget(info.version) + "/files/" + EncodePathSegments(f.path), tmp.string());
    if (!r.ok()) return cleanup(r.status());
    if (!Is2xx(r->status)) return cleanup(StatusFromHttpError(r->status, r->body));
    {
      Result<std::unique_ptr<data::MappedFile>> written = data::MappedFile::Open(tmp.string());
      if (!written.ok()) return cleanup(written.status());
      Status verified = VerifyBytes((*written)->bytes(), manifest, label);
      if (!verified.ok()) return cleanup(verified);
    }
    fs::rename(tmp, target, ec);
    if (ec) return cleanup(InvalidArgument(target.string() + ": " + ec.message()));
    result.written.push_back(target.string());
    result.bytes += int64_t(f.size);
  }
  return result;
}

}  // namespace cairn::client
