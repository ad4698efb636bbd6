#include "data/snapshot.h"

#include <algorithm>
#include <cctype>
#include <thread>

#include "data/mapped_file.h"

namespace cairn::data {

bool IsCsvPath(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".csv";
}

Result<FileSnapshot> SnapshotFile(const std::filesystem::path& file,
                                  const std::string& relative_path,
                                  const SnapshotFileOptions& options, const ChunkConsumer& consume,
                                  const SnapshotProgress& progress) {
  CAIRN_TRY(std::unique_ptr<MappedFile> mapped, MappedFile::Open(file.string()));
  const std::string_view data = mapped->bytes();

  ChunkPipelineOptions pipeline;
  pipeline.chunker = options.previous_chunker
                         ? ChunkerOptionsForResnapshot(*options.previous_chunker, data.size())
                         : ChunkerOptionsForSize(data.size());
  pipeline.threads = options.threads;

  // The profile runs beside the chunk pipeline, over the same mapped bytes.
  std::optional<Result<DatasetProfile>> profile;
  std::thread profiler;
  if (options.profile_csv && IsCsvPath(file)) {
    profiler = std::thread([&] { profile.emplace(ProfileCsv(data, options.profile)); });
  }
  uint64_t last_reported = 0;
  Result<FileManifest> manifest =
      ChunkAndHash(data, pipeline, [&](const ChunkRef& chunk, std::string_view bytes) {
        CAIRN_RETURN_IF_ERROR(consume(chunk, bytes));
        const uint64_t done = chunk.offset + chunk.size;
        if (progress && done - last_reported >= (16u << 20)) {
          last_reported = done;
          progress(done, data.size());
        }
        return Status();
      });
  if (profiler.joinable()) profiler.join();
  if (!manifest.ok()) return manifest.status();
  FileSnapshot snapshot;
  snapshot.manifest = std::move(*manifest);
  snapshot.manifest.path = relative_path;
  if (profile) {
    if (!profile->ok()) {
      return Status(profile->status().code(), file.string() + ": " + profile->status().message());
    }
    snapshot.profile = std::move(**profile);
  }
  if (progress) progress(data.size(), data.size());
  return snapshot;
}

}  // namespace cairn::data
