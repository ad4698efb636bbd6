#include "data/snapshot.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "data/mapped_file.h"

namespace cairn::data {

bool IsCsvPath(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".csv";
}

namespace {

// Progress is reported when this many more bytes are done (and at the end).
constexpr uint64_t kProgressStep = 16 << 20;

// The profile, run on its own threads beside the chunk pipeline over the same mapped bytes.
class ProfileTask {
 public:
  ProfileTask(std::string_view data, const ProfileOptions& options, unsigned threads) {
    ProfileRun run;
    run.threads = threads;
    run.cancel = &cancel_;
    run.bytes_done = &bytes_done_;
    thread_ = std::thread([this, data, options, run] {
      Result<DatasetProfile> result = ProfileCsv(data, options, run);
      std::lock_guard lock(mu_);
      failed_ = !result.ok();
      result_.emplace(std::move(result));
      cv_.notify_all();
    });
  }
  ~ProfileTask() {
    cancel_ = true;
    if (thread_.joinable()) thread_.join();
  }

  // True once the profile has failed (the file is not a CSV that parses).
  bool failed() {
    std::lock_guard lock(mu_);
    return failed_;
  }
  uint64_t bytes_done() const { return bytes_done_.load(std::memory_order_relaxed); }

  // Waits for the profile, calling `tick` about every 100 ms meanwhile.
  Result<DatasetProfile> Wait(const std::function<void()>& tick) {
    std::unique_lock lock(mu_);
    while (!result_) {
      cv_.wait_for(lock, std::chrono::milliseconds(100));
      if (!result_ && tick) {
        lock.unlock();
        tick();
        lock.lock();
      }
    }
    lock.unlock();
    thread_.join();
    return std::move(*result_);
  }

 private:
  std::atomic<bool> cancel_{false};
  std::atomic<uint64_t> bytes_done_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Result<DatasetProfile>> result_;
  bool failed_ = false;
  std::thread thread_;
};

}  // namespace

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

  std::optional<ProfileTask> profile;
  if (options.profile_csv && IsCsvPath(file)) {
    profile.emplace(data, options.profile, options.threads);
  }
  auto profile_error = [&](const Status& status) {
    return Status(status.code(), file.string() + ": " + status.message());
  };

  // Done: the bytes both the chunk pipeline and the profile are past.
  uint64_t chunked = 0;
  uint64_t reported = 0;
  auto report = [&] {
    if (!progress) return;
    uint64_t done = chunked;
    if (profile) done = std::min(done, profile->bytes_done());
    if (done >= reported + kProgressStep) {
      reported = done;
      progress(done, data.size());
    }
  };

  bool stopped_by_profile = false;
  Result<FileManifest> manifest =
      ChunkAndHash(data, pipeline, [&](const ChunkRef& chunk, std::string_view bytes) {
        // A CSV that does not parse fails the pass: no point storing the rest of it.
        if (profile && profile->failed()) {
          stopped_by_profile = true;
          return InvalidArgument("the profile failed");
        }
        CAIRN_RETURN_IF_ERROR(consume(chunk, bytes));
        chunked = chunk.offset + chunk.size;
        report();
        return Status();
      });
  if (!manifest.ok() && !stopped_by_profile) return manifest.status();  // ~ProfileTask cancels
  FileSnapshot snapshot;
  if (profile) {
    Result<DatasetProfile> result = profile->Wait(report);
    if (!result.ok()) return profile_error(result.status());
    snapshot.profile = std::move(*result);
  }
  if (!manifest.ok()) return manifest.status();
  snapshot.manifest = std::move(*manifest);
  snapshot.manifest.path = relative_path;
  if (progress) progress(data.size(), data.size());
  return snapshot;
}

}  // namespace cairn::data
