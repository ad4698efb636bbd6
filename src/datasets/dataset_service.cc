#include "datasets/dataset_service.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "core/utf8.h"
#include "datasets/dataset_manifest.h"

namespace cairn::datasets {

namespace {

constexpr size_t kMaxDescriptionBytes = 64 * 1024;

std::string Quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 200)) {
    out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  }
  if (s.size() > 200) out += "…";
  return out + "'";
}

std::string VersionLabel(std::string_view name, int64_t version) {
  return "dataset '" + std::string(name) + "' v" + std::to_string(version);
}

// Runs fn(i) for i in [0, n) on up to `threads` threads (the caller's among them).
template <typename Fn>
void ParallelFor(size_t n, unsigned threads, Fn fn) {
  threads = std::max(1u, std::min<unsigned>(threads, unsigned(n)));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

// A missing blob the index points at is lost data, not a missing resource of the request.
Status AsDataLoss(const Status& s, const std::string& what) {
  if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kDataLoss) {
    return DataLoss(what + ": " + s.message());
  }
  return s;
}

class VerifiedFileReader : public DatasetFileReader {
 public:
  VerifiedFileReader(const blob::BlobStore& blobs, data::FileManifest manifest, std::string label)
      : blobs_(blobs), manifest_(std::move(manifest)), label_(std::move(label)) {}

  uint64_t size() const override { return manifest_.size; }
  const std::string& sha256() const override { return manifest_.file_digest; }

  Status Read(std::string& bytes) override {
    bytes.clear();
    if (!status_.ok()) return status_;
    if (next_ == manifest_.chunks.size()) {
      if (!finished_) {
        finished_ = true;
        if (hasher_.FinishHex() != manifest_.file_digest) {
          return status_ = DataLoss(label_ + ": restored bytes do not match the file's SHA-256");
        }
      }
      return Status::Ok();
    }
    const data::ChunkRef& chunk = manifest_.chunks[next_++];
    Result<std::string> got = blobs_.Get(chunk.digest);  // checks the chunk's digest
    if (!got.ok()) {
      return status_ = AsDataLoss(got.status(), label_ + ": chunk at offset " +
                                                    std::to_string(chunk.offset));
    }
    if (got->size() != chunk.size) {
      return status_ = DataLoss(label_ + ": chunk at offset " + std::to_string(chunk.offset) +
                                " has the wrong size");
    }
    hasher_.Update(*got);
    bytes = std::move(got).value();
    return Status::Ok();
  }

 private:
  const blob::BlobStore& blobs_;
  data::FileManifest manifest_;
  std::string label_;
  size_t next_ = 0;
  Sha256 hasher_;
  bool finished_ = false;
  Status status_;
};

}  // namespace

Status ValidateDatasetName(std::string_view name) {
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  };
  bool ok = !name.empty() && name.size() <= 128 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name) ok = ok && ok_char(c);
  if (ok) return Status::Ok();
  return InvalidArgument("invalid dataset name " + Quoted(name) +
                         ": use 1-128 letters, digits, '.', '_' or '-', starting with a letter "
                         "or digit");
}

Status ValidateDatasetPath(std::string_view path) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("invalid file path " + Quoted(path) + " in dataset: " +
                           std::string(why));
  };
  if (path.empty()) return bad("empty");
  if (path.size() > 4096) return bad("longer than 4096 bytes");
  if (!IsValidUtf8(path)) return bad("not valid UTF-8");
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) return bad("contains a control character");
  }
  if (path.front() == '/') return bad("absolute");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return bad("not a normalized path");
    start = end + 1;
  }
  return Status::Ok();
}

std::string_view FileChangeName(FileChange change) {
  switch (change) {
    case FileChange::kAdded: return "added";
    case FileChange::kRemoved: return "removed";
    case FileChange::kChanged: return "changed";
    case FileChange::kUnchanged: return "unchanged";
  }
  return "unchanged";
}

DatasetService::DatasetService(store::MetadataStore& store, blob::BlobStore& blobs,
                               const Clock& clock)
    : store_(store), blobs_(blobs), clock_(clock) {}

Result<std::vector<std::string>> DatasetService::MissingBlobs(
    const std::vector<std::string>& digests) {
  for (size_t i = 0; i < digests.size(); ++i) {
    if (!IsSha256Hex(digests[i])) {
      return InvalidArgument("digests[" + std::to_string(i) + "] " + Quoted(digests[i]) +
                             " is not a SHA-256 hex digest");
    }
  }
  std::vector<std::string> missing;
  std::set<std::string_view> seen;
  for (const auto& d : digests) {
    if (seen.insert(d).second && !blobs_.Contains(d)) missing.push_back(d);
  }
  return missing;
}

Result<BlobPackResult> DatasetService::PutBlobs(const std::vector<BlobPackEntry>& chunks) {
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (!IsSha256Hex(chunks[i].digest)) {
      return InvalidArgument("chunk " + std::to_string(i) + ": " + Quoted(chunks[i].digest) +
                             " is not a SHA-256 hex digest");
    }
  }
  // Every chunk is checked before any is stored, so a bad pack leaves nothing behind.
  std::vector<std::string> actual(chunks.size());
  ParallelFor(chunks.size(), std::max(2u, std::thread::hardware_concurrency()),
              [&](size_t i) { actual[i] = Sha256Hex(chunks[i].bytes); });
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (actual[i] != chunks[i].digest) {
      return InvalidArgument("chunk " + std::to_string(i) + " declared as " + chunks[i].digest +
                             " hashes to " + actual[i] + "; nothing of this pack was stored");
    }
  }
  // One durability barrier for the whole pack (BlobBatch), not one fsync per chunk: a pack holds
  // hundreds to thousands of chunks. The digests given to the batch are the ones just computed.
  CAIRN_TRY(std::unique_ptr<blob::BlobBatch> batch, blobs_.NewBatch());
  BlobPackResult result;
  result.chunks = int64_t(chunks.size());
  std::set<std::string_view> seen;
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (!seen.insert(actual[i]).second || blobs_.Contains(actual[i])) continue;
    CAIRN_RETURN_IF_ERROR(batch->PutHashed(actual[i], chunks[i].bytes));
    ++result.stored;
  }
  CAIRN_RETURN_IF_ERROR(batch->Commit());
  result.stored_bytes = batch->bytes_staged();
  return result;
}

Result<std::string> DatasetService::Stage(blob::BlobBatch& batch, std::string_view bytes) {
  std::string digest = Sha256Hex(bytes);
  CAIRN_RETURN_IF_ERROR(batch.PutHashed(digest, bytes));
  return digest;
}

Result<std::string> DatasetService::StageChunked(blob::BlobBatch& batch, std::string_view bytes) {
  data::ChunkPipelineOptions options;
  options.chunker = data::ChunkerOptionsForSize(bytes.size());
  CAIRN_TRY(data::FileManifest manifest,
            data::ChunkAndHash(bytes, options, [&](const data::ChunkRef& chunk,
                                                   std::string_view chunk_bytes) {
              return batch.PutHashed(chunk.digest, chunk_bytes);  // hashed just now, here
            }));
  manifest.path = "profile.json";
  return Stage(batch, data::SerializeManifest(manifest));
}

Result<std::string> DatasetService::ReadChunked(std::string_view manifest_digest,
                                                const std::string& what) {
  Result<std::string> text = blobs_.Get(manifest_digest);
  if (!text.ok()) return AsDataLoss(text.status(), what);
  Result<data::FileManifest> manifest = data::ParseManifest(*text);
  if (!manifest.ok()) return DataLoss(what + ": " + manifest.status().message());
  std::string out;
  out.reserve(manifest->size);
  for (const auto& chunk : manifest->chunks) {
    Result<std::string> bytes = blobs_.Get(chunk.digest);  // checks the chunk's digest
    if (!bytes.ok()) return AsDataLoss(bytes.status(), what);
    out += *bytes;
  }
  if (Sha256Hex(out) != manifest->file_digest) {
    return DataLoss(what + ": does not match its SHA-256");
  }
  return out;
}

void DatasetService::AddVersionListener(
    std::function<void(const store::DatasetVersion&)> listener) {
  version_listeners_.push_back(std::move(listener));
}

Result<CreatedVersion> DatasetService::CreateVersion(const NewVersionRequest& request) {
  CAIRN_RETURN_IF_ERROR(ValidateDatasetName(request.name));
  if (request.files.empty()) {
    return InvalidArgument("dataset '" + request.name + "': a version needs at least one file");
  }
  if (request.description.size() > kMaxDescriptionBytes) {
    return InvalidArgument("description: longer than 65536 bytes");
  }
  if (!IsValidUtf8(request.description)) return InvalidArgument("description: not valid UTF-8");

  std::vector<const NewFile*> files;
  for (const auto& f : request.files) files.push_back(&f);
  std::sort(files.begin(), files.end(), [](const NewFile* a, const NewFile* b) {
    return a->manifest.path < b->manifest.path;
  });
  for (size_t i = 0; i < files.size(); ++i) {
    const data::FileManifest& m = files[i]->manifest;
    CAIRN_RETURN_IF_ERROR(ValidateDatasetPath(m.path));
    if (i > 0 && files[i - 1]->manifest.path == m.path) {
      return InvalidArgument("file " + Quoted(m.path) + " is listed twice");
    }
    if (m.size == 0) return InvalidArgument("empty file: " + m.path);
    // The canonical text must parse back: chunks contiguous over `size`, valid digests.
    Result<data::FileManifest> reparsed = data::ParseManifest(data::SerializeManifest(m));
    if (!reparsed.ok()) {
      return InvalidArgument("file " + Quoted(m.path) + ": " + reparsed.status().message());
    }
    if (files[i]->profile && files[i]->profile->rows < 0) {
      return InvalidArgument("file " + Quoted(m.path) + ": profile has negative rows");
    }
  }
  for (const NewFile* f : files) {
    std::set<std::string_view> checked;
    for (const auto& chunk : f->manifest.chunks) {
      if (!checked.insert(chunk.digest).second) continue;
      if (!blobs_.Contains(chunk.digest)) {
        return FailedPrecondition("file " + Quoted(f->manifest.path) + ": chunk " + chunk.digest +
                                  " at offset " + std::to_string(chunk.offset) +
                                  " is not in the blob store; upload the chunks first");
      }
    }
  }

  // Manifests, root manifest and profiles go in one batch, durable before the version is
  // recorded: a version never points at a blob a crash could lose.
  CAIRN_TRY(std::unique_ptr<blob::BlobBatch> batch, blobs_.NewBatch());
  std::vector<VersionFile> entries;
  int64_t size_bytes = 0, row_count = -1;
  for (const NewFile* f : files) {
    VersionFile e;
    e.path = f->manifest.path;
    e.size = f->manifest.size;
    e.sha256 = f->manifest.file_digest;
    CAIRN_TRY(e.manifest_digest, Stage(*batch, data::SerializeManifest(f->manifest)));
    if (f->profile) {
      std::string json = data::ToJson(*f->profile).dump(
          -1, ' ', false, nlohmann::json::error_handler_t::replace);
      CAIRN_TRY(e.profile_digest, StageChunked(*batch, json));
      e.rows = f->profile->rows;
      row_count = std::max<int64_t>(row_count, 0) + e.rows;
    }
    size_bytes += int64_t(e.size);
    entries.push_back(std::move(e));
  }
  CAIRN_TRY(std::string version_id, Stage(*batch, SerializeRootManifest(entries)));
  std::string profile_digest;
  if (row_count >= 0) {
    CAIRN_TRY(profile_digest, Stage(*batch, SerializeProfileIndex(entries)));
  }

  CAIRN_RETURN_IF_ERROR(batch->Commit());

  store::DatasetVersion record;
  record.name = request.name;
  record.version_id = version_id;
  record.manifest_digest = version_id;
  record.profile_digest = profile_digest;
  record.size_bytes = size_bytes;
  record.row_count = row_count;
  record.description = request.description;
  record.created_by = request.created_by;
  record.creation_time = clock_.NowMillis();
  CAIRN_TRY(store::CreatedDatasetVersion created, store_.CreateDatasetVersion(record));
  CreatedVersion out;
  out.version = std::move(created.version);
  out.created = created.created;
  out.stored_bytes = batch->bytes_staged();
  if (out.created) {
    for (const auto& listener : version_listeners_) listener(out.version);
  }
  return out;
}

Result<std::vector<store::DatasetSummary>> DatasetService::ListDatasets() {
  return store_.ListDatasets();
}

Result<std::vector<store::DatasetVersion>> DatasetService::ListVersions(std::string_view name) {
  CAIRN_RETURN_IF_ERROR(ValidateDatasetName(name));
  return store_.ListDatasetVersions(name);
}

Result<std::vector<VersionFile>> DatasetService::FilesOf(const store::DatasetVersion& version) {
  const std::string label = VersionLabel(version.name, version.version);
  Result<std::string> root = blobs_.Get(version.manifest_digest);
  if (!root.ok()) return AsDataLoss(root.status(), label + ": root manifest");
  Result<std::vector<VersionFile>> files = ParseRootManifest(*root);
  if (!files.ok()) return DataLoss(label + ": " + files.status().message());
  if (!version.profile_digest.empty()) {
    Result<std::string> index = blobs_.Get(version.profile_digest);
    if (!index.ok()) return AsDataLoss(index.status(), label + ": profile index");
    Status applied = ApplyProfileIndex(*index, *files);
    if (!applied.ok()) return DataLoss(label + ": " + applied.message());
  }
  return files;
}

Result<VersionDetails> DatasetService::GetVersion(std::string_view name,
                                                  std::optional<int64_t> version) {
  CAIRN_RETURN_IF_ERROR(ValidateDatasetName(name));
  VersionDetails details;
  CAIRN_TRY(details.version, store_.GetDatasetVersion(name, version));
  CAIRN_TRY(details.files, FilesOf(details.version));
  return details;
}

Result<data::DatasetProfile> DatasetService::LoadProfile(const VersionFile& file) {
  const std::string what = "profile of " + Quoted(file.path);
  CAIRN_TRY(std::string text, ReadChunked(file.profile_digest, what));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  Result<data::DatasetProfile> profile = data::ProfileFromJson(j);
  if (!profile.ok()) return DataLoss(what + ": " + profile.status().message());
  return profile;
}

Result<std::vector<FileProfile>> DatasetService::GetProfiles(std::string_view name,
                                                             std::optional<int64_t> version,
                                                             std::optional<std::string> path) {
  CAIRN_TRY(VersionDetails details, GetVersion(name, version));
  const std::string label = VersionLabel(details.version.name, details.version.version);
  std::vector<FileProfile> out;
  bool found = false;
  for (const auto& f : details.files) {
    if (path && f.path != *path) continue;
    found = true;
    if (f.profile_digest.empty()) {
      if (path) return FailedPrecondition(label + ": file " + Quoted(f.path) + " has no profile");
      continue;
    }
    CAIRN_TRY(data::DatasetProfile profile, LoadProfile(f));
    out.push_back({f.path, std::move(profile)});
  }
  if (path && !found) return NotFound(label + " has no file " + Quoted(*path));
  return out;
}

Result<data::FileManifest> DatasetService::GetFileManifest(std::string_view name,
                                                           std::optional<int64_t> version,
                                                           std::string_view path) {
  CAIRN_TRY(VersionDetails details, GetVersion(name, version));
  const std::string label = VersionLabel(details.version.name, details.version.version);
  for (const auto& f : details.files) {
    if (f.path != path) continue;
    Result<std::string> text = blobs_.Get(f.manifest_digest);
    if (!text.ok()) return AsDataLoss(text.status(), label + ": manifest of " + Quoted(f.path));
    Result<data::FileManifest> manifest = data::ParseManifest(*text);
    if (!manifest.ok()) {
      return DataLoss(label + ": manifest of " + Quoted(f.path) + ": " +
                      manifest.status().message());
    }
    if (manifest->file_digest != f.sha256 || manifest->size != f.size) {
      return DataLoss(label + ": manifest of " + Quoted(f.path) + " disagrees with the version");
    }
    return manifest;
  }
  return NotFound(label + " has no file " + Quoted(path));
}

Result<std::unique_ptr<DatasetFileReader>> DatasetService::OpenFile(std::string_view name,
                                                                     std::optional<int64_t> version,
                                                                     std::string_view path) {
  CAIRN_TRY(data::FileManifest manifest, GetFileManifest(name, version, path));
  std::string label = "dataset '" + std::string(name) + "' file " + Quoted(path);
  return std::unique_ptr<DatasetFileReader>(
      new VerifiedFileReader(blobs_, std::move(manifest), std::move(label)));
}

Result<VersionDiff> DatasetService::Diff(std::string_view name, std::optional<int64_t> from,
                                         std::optional<int64_t> to) {
  CAIRN_TRY(VersionDetails a, GetVersion(name, from));
  CAIRN_TRY(VersionDetails b, GetVersion(name, to));
  VersionDiff diff;
  diff.from = a.version;
  diff.to = b.version;

  // Pairs of (from, to) files: by path, or the two single files of one-file versions.
  std::vector<std::pair<const VersionFile*, const VersionFile*>> pairs;
  if (a.files.size() == 1 && b.files.size() == 1) {
    pairs.push_back({&a.files[0], &b.files[0]});
  } else {
    std::map<std::string_view, std::pair<const VersionFile*, const VersionFile*>> by_path;
    for (const auto& f : a.files) by_path[f.path].first = &f;
    for (const auto& f : b.files) by_path[f.path].second = &f;
    for (const auto& [path, pair] : by_path) pairs.push_back(pair);
  }
  for (const auto& [f, t] : pairs) {
    FileDiff d;
    if (f != nullptr) {
      d.from = *f;
      d.from_path = f->path;
    }
    if (t != nullptr) {
      d.to = *t;
      d.path = t->path;
    }
    if (f == nullptr) {
      d.change = FileChange::kAdded;
    } else if (t == nullptr) {
      d.change = FileChange::kRemoved;
    } else if (f->sha256 == t->sha256) {
      d.change = FileChange::kUnchanged;
    } else {
      d.change = FileChange::kChanged;
      if (!f->profile_digest.empty() && !t->profile_digest.empty()) {
        CAIRN_TRY(data::DatasetProfile pf, LoadProfile(*f));
        CAIRN_TRY(data::DatasetProfile pt, LoadProfile(*t));
        d.profile = data::DiffProfiles(pf, pt);
      }
    }
    diff.files.push_back(std::move(d));
  }
  return diff;
}

}  // namespace cairn::datasets
