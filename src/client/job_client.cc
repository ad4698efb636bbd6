#include "client/job_client.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "client/mlflow_json.h"
#include "core/utf8.h"
#include "data/chunker.h"

namespace cairn::client {

namespace fs = std::filesystem;

namespace {

constexpr size_t kBatchBytes = 8u << 20;
constexpr size_t kBatchChunks = 4096;

bool Is2xx(int status) { return status >= 200 && status < 300; }

Status Malformed(std::string_view what) {
  return Internal("malformed response from server: " + std::string(what));
}

Result<std::string> ReadWhole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<JobInfo> JobFromJson(const Json& j) {
  if (!j.is_object()) return Malformed("job");
  JobInfo info;
  store::JobRecord& r = info.record;
  try {
    r.job_id = j.at("id").get<std::string>();
    r.name = j.at("name").get<std::string>();
    info.state = j.at("state").get<std::string>();
    r.state = info.state;
    r.compute = j.at("compute").get<std::string>();
    r.run_id = j.at("run_id").get<std::string>();
    r.experiment_id = j.at("experiment_id").get<std::string>();
    r.code_digest = j.at("code_digest").get<std::string>();
    r.executor_handle = j.at("executor_handle").get<std::string>();
    r.creation_time = j.at("creation_time").get<int64_t>();
    r.start_time = j.at("start_time").get<int64_t>();
    r.end_time = j.at("end_time").get<int64_t>();
    if (!j.at("exit_code").is_null()) r.exit_code = j.at("exit_code").get<int64_t>();
    r.message = j.at("message").get<std::string>();
  } catch (const std::exception& e) {
    return Malformed(std::string("job: ") + e.what());
  }
  auto spec = jobs::JobSpecFromJson(j.value("spec", Json()));
  if (!spec.ok()) return Malformed("job spec: " + spec.status().message());
  info.spec = std::move(spec).value();
  r.spec_json = wire::Dump(j["spec"]);
  return info;
}

Result<JobInfo> JobField(const Json& j) {
  auto it = j.find("job");
  if (it == j.end()) return Malformed("'job'");
  return JobFromJson(*it);
}

std::string UserName(const std::string& given) {
  if (!given.empty()) return given;
  for (const char* var : {"CAIRN_USER", "USER", "LOGNAME"}) {
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0') return v;
  }
  return "";
}

}  // namespace

// --- The snapshot builder ------------------------------------------------------------------------

Result<std::string> CodeSnapshotBuilder::AddFile(const std::string& file,
                                                 const std::string& prefix) {
  fs::path p(file);
  std::string name = p.filename().string();
  std::string rel = prefix + "/" + name;
  CAIRN_TRY(std::string bytes, ReadWhole(p));
  data::ChunkPipelineOptions options;
  options.chunker = data::ChunkerOptionsForSize(bytes.size());
  options.threads = 1;
  CAIRN_TRY(data::FileManifest manifest,
            data::ChunkAndHash(bytes, options, [&](const data::ChunkRef& c, std::string_view b) {
              return sink ? sink(c.digest, b) : Status::Ok();
            }));
  manifest.path = rel;
  std::error_code ec;
  auto perms = fs::status(p, ec).permissions();
  bool executable = !ec && (perms & fs::perms::owner_exec) != fs::perms::none;
  snapshot.files.push_back({rel, executable, std::move(manifest)});
  this->bytes += int64_t(bytes.size());
  return rel;
}

Status CodeSnapshotBuilder::AddFolder(const std::string& folder, const std::string& prefix,
                                      bool use_gitignore) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) {
    return NotFound("code: " + folder + " is not a folder");
  }
  jobs::IgnoreRules rules;
  // Depth-first; a folder's .gitignore is read before its entries are judged.
  std::function<Status(const fs::path&, const std::string&)> walk =
      [&](const fs::path& dir, const std::string& rel_dir) -> Status {
    if (use_gitignore) {
      fs::path gitignore = dir / ".gitignore";
      if (fs::is_regular_file(gitignore, ec)) {
        CAIRN_TRY(std::string text, ReadWhole(gitignore));
        rules.Add(text, rel_dir);
      }
    }
    std::vector<fs::directory_entry> entries;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      entries.push_back(*it);
    }
    if (ec) return Internal("cannot list " + dir.string() + ": " + ec.message());
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.path() < b.path(); });
    for (const auto& entry : entries) {
      std::string name = entry.path().filename().string();
      std::string rel = rel_dir.empty() ? name : rel_dir + "/" + name;
      if (!IsValidUtf8(rel)) {
        return InvalidArgument(entry.path().string() + ": the file name is not valid UTF-8");
      }
      bool is_link = entry.is_symlink(ec);
      bool is_dir = entry.is_directory(ec);
      if (rules.Ignored(rel, is_dir)) continue;
      if (is_dir) {
        if (is_link) continue;  // a linked folder could loop; its files are not the code's own
        CAIRN_RETURN_IF_ERROR(walk(entry.path(), rel));
      } else if (entry.is_regular_file(ec)) {
        CAIRN_TRY(std::string bytes, ReadWhole(entry.path()));
        data::ChunkPipelineOptions options;
        options.chunker = data::ChunkerOptionsForSize(bytes.size());
        options.threads = 1;
        CAIRN_TRY(
            data::FileManifest manifest,
            data::ChunkAndHash(bytes, options, [&](const data::ChunkRef& c, std::string_view b) {
              return sink ? sink(c.digest, b) : Status::Ok();
            }));
        manifest.path = prefix + "/" + rel;
        auto perms = fs::status(entry.path(), ec).permissions();
        bool executable = !ec && (perms & fs::perms::owner_exec) != fs::perms::none;
        snapshot.files.push_back({manifest.path, executable, std::move(manifest)});
        this->bytes += int64_t(bytes.size());
      }
    }
    return Status::Ok();
  };
  return walk(folder, "");
}

// --- The client
// ------------------------------------------------------------------------------------

Result<std::unique_ptr<JobClient>> JobClient::Connect(std::string_view tracking_uri) {
  CAIRN_TRY(std::unique_ptr<Transport> transport, ConnectHttp(tracking_uri));
  return std::make_unique<JobClient>(std::move(transport));
}

JobClient::JobClient(std::unique_ptr<Transport> transport) : transport_(std::move(transport)) {}
JobClient::~JobClient() = default;

Result<Json> JobClient::Call(std::string_view method, const std::string& target,
                             std::string_view body, std::string_view content_type) {
  return CallJson(*transport_, method, target, body, content_type);
}

Status JobClient::UploadChunks(std::vector<std::pair<std::string, std::string>>& batch,
                               int64_t& uploaded) {
  if (batch.empty()) return Status::Ok();
  Json digests = Json::array();
  for (const auto& [d, b] : batch) digests.push_back(d);
  CAIRN_TRY(Json missing_json, Call("POST", "/api/v1/blobs/missing",
                                    wire::Dump(Json{{"digests", digests}}), "application/json"));
  auto it = missing_json.find("missing");
  if (it == missing_json.end() || !it->is_array()) return Malformed("'missing'");
  std::unordered_set<std::string> missing;
  for (const auto& d : *it) {
    if (d.is_string()) missing.insert(d.get<std::string>());
  }
  if (!missing.empty()) {
    std::string pack = "cairn-pack 1\n";
    for (const auto& [d, b] : batch) {
      if (missing.count(d) == 0) continue;
      pack += d + " " + std::to_string(b.size()) + "\n";
      pack += b;
      uploaded += int64_t(b.size());
    }
    CAIRN_TRY(Json stored, Call("POST", "/api/v1/blobs", pack, "application/octet-stream"));
    (void)stored;
  }
  batch.clear();
  return Status::Ok();
}

Result<JobSubmitResult> JobClient::Submit(const std::string& job_file,
                                          const JobSubmitOptions& options) {
  CAIRN_TRY(jobs::JobSpec spec, jobs::LoadJobSpec(job_file));
  if (options.compute) {
    spec.compute = *options.compute;
  }
  for (const std::string& p : options.params) CAIRN_RETURN_IF_ERROR(jobs::ApplyParam(spec, p));
  CAIRN_RETURN_IF_ERROR(jobs::ValidateJobSpec(spec));
  fs::path base = fs::absolute(job_file).parent_path();
  return SubmitSpec(std::move(spec), base.string(), fs::path(job_file).filename().string(),
                    options.user);
}

Result<JobSubmitResult> JobClient::SubmitSpec(jobs::JobSpec spec, const std::string& base_dir,
                                              const std::string& source_name,
                                              const std::string& user) {
  CAIRN_RETURN_IF_ERROR(jobs::ValidateJobSpec(spec));
  JobSubmitResult result;
  std::vector<std::pair<std::string, std::string>> batch;
  size_t batch_bytes = 0;
  std::unordered_set<std::string> seen;
  CodeSnapshotBuilder builder;
  builder.sink = [&](const std::string& digest, std::string_view bytes) -> Status {
    if (!seen.insert(digest).second) return Status::Ok();
    batch.emplace_back(digest, std::string(bytes));
    batch_bytes += bytes.size();
    if (batch_bytes >= kBatchBytes || batch.size() >= kBatchChunks) {
      batch_bytes = 0;
      return UploadChunks(batch, result.uploaded_bytes);
    }
    return Status::Ok();
  };
  auto resolve = [&](const std::string& path) {
    fs::path p(path);
    return (p.is_absolute() ? p : fs::path(base_dir) / p).lexically_normal();
  };
  bool any_files = false;
  if (!spec.code.empty()) {
    CAIRN_RETURN_IF_ERROR(builder.AddFolder(resolve(spec.code).string(), "code", true));
    any_files = true;
  }
  for (auto& [name, in] : spec.inputs) {
    if (in.kind != jobs::InputKind::kPath) continue;
    fs::path p = resolve(in.value);
    std::error_code ec;
    std::string prefix = "inputs/" + name;
    if (fs::is_directory(p, ec)) {
      size_t before = builder.snapshot.files.size();
      CAIRN_RETURN_IF_ERROR(builder.AddFolder(p.string(), prefix, false));
      if (builder.snapshot.files.size() == before) {
        return InvalidArgument("inputs." + name + ": " + p.string() + " holds no files");
      }
      in.value = prefix;
    } else if (fs::is_regular_file(p, ec)) {
      CAIRN_TRY(in.value, builder.AddFile(p.string(), prefix));
    } else {
      return NotFound("inputs." + name + ": " + p.string() + " does not exist");
    }
    any_files = true;
  }
  CAIRN_RETURN_IF_ERROR(UploadChunks(batch, result.uploaded_bytes));
  result.files = int64_t(builder.snapshot.files.size());
  result.bytes = builder.bytes;

  Json body = {
      {"spec", jobs::ToJson(spec)}, {"user", UserName(user)}, {"source_name", source_name}};
  if (any_files) body["code"] = Json::parse(jobs::SerializeCodeSnapshot(builder.snapshot));
  CAIRN_TRY(Json j, Call("POST", "/api/v1/jobs", wire::Dump(body), "application/json"));
  CAIRN_TRY(result.job, JobField(j));
  return result;
}

Result<JobInfo> JobClient::Get(std::string_view job_id) {
  CAIRN_TRY(Json j, Call("GET", "/api/v1/jobs/" + std::string(job_id), "", ""));
  return JobField(j);
}

Result<std::vector<JobInfo>> JobClient::List(const std::vector<std::string>& states,
                                             int64_t max_results) {
  std::string target = "/api/v1/jobs?max_results=" + std::to_string(max_results);
  for (const auto& s : states) target += "&state=" + s;
  CAIRN_TRY(Json j, Call("GET", target, "", ""));
  auto it = j.find("jobs");
  if (it == j.end() || !it->is_array()) return Malformed("'jobs'");
  std::vector<JobInfo> out;
  for (const auto& item : *it) {
    CAIRN_TRY(JobInfo info, JobFromJson(item));
    out.push_back(std::move(info));
  }
  return out;
}

Result<JobInfo> JobClient::Cancel(std::string_view job_id) {
  CAIRN_TRY(Json j, Call("POST", "/api/v1/jobs/" + std::string(job_id) + "/cancel", "{}",
                         "application/json"));
  return JobField(j);
}

Result<JobLogChunk> JobClient::ReadLog(std::string_view job_id, std::string_view stream,
                                       int64_t offset) {
  std::string target = "/api/v1/jobs/" + std::string(job_id) +
                       "/logs?stream=" + std::string(stream) + "&offset=" + std::to_string(offset);
  CAIRN_TRY(http::ClientResponse r, transport_->Send("GET", target, "", {}));
  if (!Is2xx(r.status)) return StatusFromHttpError(r.status, r.body);
  JobLogChunk chunk;
  chunk.data = std::move(r.body);
  std::string next(r.Header("x-cairn-log-offset"));
  if (next.empty()) return Malformed("x-cairn-log-offset");
  chunk.next_offset = std::stoll(next);
  chunk.complete = r.Header("x-cairn-log-complete") == "true";
  return chunk;
}

Status JobClient::FollowLog(std::string_view job_id, std::string_view stream,
                            const std::function<void(std::string_view)>& sink,
                            std::chrono::milliseconds poll) {
  int64_t offset = 0;
  while (true) {
    CAIRN_TRY(JobLogChunk chunk, ReadLog(job_id, stream, offset));
    if (!chunk.data.empty()) sink(chunk.data);
    offset = chunk.next_offset;
    if (chunk.complete) return Status::Ok();
    if (chunk.data.empty()) std::this_thread::sleep_for(poll);
  }
}

Result<JobInfo> JobClient::Wait(std::string_view job_id, std::chrono::milliseconds poll) {
  while (true) {
    CAIRN_TRY(JobInfo info, Get(job_id));
    if (info.terminal()) return info;
    std::this_thread::sleep_for(poll);
  }
}

}  // namespace cairn::client
