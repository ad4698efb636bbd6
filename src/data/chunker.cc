#include "data/chunker.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/check.h"
#include "core/hash.h"

namespace cairn::data {
namespace {

constexpr uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::array<uint64_t, 256> MakeGearTable() {
  std::array<uint64_t, 256> table{};
  uint64_t state = 0x636169726e636463ULL;  // "cairncdc"
  for (auto& v : table) v = SplitMix64(state);
  return table;
}

constexpr std::array<uint64_t, 256> kGear = MakeGearTable();

// Normalized chunking, level 1: before `avg` a cut needs log2(avg) + 1 zero bits (2x rarer
// than 1/avg), from `avg` on log2(avg) - 1 (2x likelier), so chunk sizes bunch around avg
// (mean ~1.2 avg) and max (4 avg) is reached by 0.25 % of chunks of random data. Measured on
// the shared CSVs with 1 % of rows edited, level 1 rewrote 1.5-1.9 % of the bytes on average
// and at most 3.0 %; level 2 (the paper's default) 1.4-2.1 % and at most 4.0 %: it
// resynchronizes more slowly after an edit.
constexpr int kNormalization = 1;

// The Gear hash shifts left, so its bit k depends on the last k + 1 bytes only: the mask takes
// the top bits, which depend on a window of the last 64 bytes (a few CSV fields).
constexpr uint64_t TopBits(int n) { return n <= 0 ? 0 : ~uint64_t{0} << (64 - n); }

unsigned ResolveThreads(unsigned threads) {
  if (threads != 0) return threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

const std::array<uint64_t, 256>& GearTable() { return kGear; }

Status ValidateChunkerOptions(const ChunkerOptions& o) {
  if (o.min < 1 || o.min >= o.avg || o.avg >= o.max) {
    return InvalidArgument("chunker sizes must satisfy 1 <= min < avg < max");
  }
  if (!std::has_single_bit(o.avg) || o.avg < 64 || o.avg > (uint64_t{1} << 30)) {
    return InvalidArgument("chunker avg size must be a power of two in [64, 2^30]");
  }
  if (o.max > (uint64_t{1} << 32)) return InvalidArgument("chunker max size must be <= 2^32");
  return Status::Ok();
}

ChunkerOptions ChunkerOptionsForSize(uint64_t file_size) {
  constexpr uint64_t kMinAvg = 64, kMaxAvg = 64 * 1024;
  uint64_t avg = std::clamp<uint64_t>(std::bit_floor(std::max<uint64_t>(file_size / 256, 1)),
                                      kMinAvg, kMaxAvg);
  return {avg / 4, avg, avg * 4};
}

ChunkerOptions ChunkerOptionsForResnapshot(const ChunkerOptions& previous, uint64_t file_size) {
  ChunkerOptions fresh = ChunkerOptionsForSize(file_size);
  if (ValidateChunkerOptions(previous).ok() && previous.avg <= fresh.avg * 4 &&
      previous.avg * 4 >= fresh.avg) {
    return previous;
  }
  return fresh;
}

uint64_t FindCutPoint(std::string_view data, const ChunkerOptions& o) {
  uint64_t n = data.size();
  if (n <= o.min) return n;
  if (n > o.max) n = o.max;
  const uint64_t normal = std::min(o.avg, n);
  const int bits = std::countr_zero(o.avg);
  const uint64_t mask_s = TopBits(bits + kNormalization);
  const uint64_t mask_l = TopBits(bits - kNormalization);
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  // Cut-point skipping: the first `min` bytes cannot end a chunk, so they are not tested —
  // but unlike the paper's version the hash is warmed up over the 64 bytes before `min`, so
  // whether a position is a cut candidate depends on the content only, never on where the
  // chunk started. That matters for small chunks: with 64-byte chunks (16 KB files) it cut the
  // bytes rewritten by a 1 % edit from 13 % to 3.4 %.
  uint64_t fp = 0;
  uint64_t i = o.min > 64 ? o.min - 64 : 0;
  for (; i < o.min; ++i) fp = (fp << 1) + kGear[p[i]];
  for (; i < normal; ++i) {
    fp = (fp << 1) + kGear[p[i]];
    if (!(fp & mask_s)) return i + 1;
  }
  for (; i < n; ++i) {
    fp = (fp << 1) + kGear[p[i]];
    if (!(fp & mask_l)) return i + 1;
  }
  return n;
}

std::vector<ChunkBoundary> CutChunks(std::string_view data, const ChunkerOptions& options) {
  CAIRN_CHECK(ValidateChunkerOptions(options).ok());
  std::vector<ChunkBoundary> chunks;
  chunks.reserve(data.size() / options.avg + 1);
  uint64_t offset = 0;
  while (offset < data.size()) {
    uint64_t size = FindCutPoint(data.substr(offset), options);
    chunks.push_back({offset, size});
    offset += size;
  }
  return chunks;
}

Chunker::Chunker(const ChunkerOptions& options, Sink sink)
    : options_(options), sink_(std::move(sink)) {
  CAIRN_CHECK(ValidateChunkerOptions(options_).ok());
  pending_.reserve(options_.max);
}

Status Chunker::Emit(std::string_view bytes) {
  ChunkBoundary chunk{offset_, bytes.size()};
  offset_ += bytes.size();
  status_ = sink_(chunk, bytes);
  return status_;
}

Status Chunker::Feed(std::string_view bytes) {
  if (!status_.ok()) return status_;
  CAIRN_CHECK(!finished_);
  fed_ += bytes.size();
  // A chunk that straddles calls: top the buffer up to `max` bytes, where its cut is decided.
  // Once a cut lands past the buffered bytes, the next chunk starts inside `bytes`.
  while (!pending_.empty()) {
    const uint64_t old = pending_.size();
    const uint64_t take = std::min<uint64_t>(bytes.size(), options_.max - old);
    pending_.append(bytes.data(), take);
    if (pending_.size() < options_.max) return Status::Ok();
    const uint64_t cut = FindCutPoint(pending_, options_);
    CAIRN_RETURN_IF_ERROR(Emit(std::string_view(pending_).substr(0, cut)));
    if (cut >= old) {
      bytes.remove_prefix(cut - old);
      pending_.clear();
    } else {
      pending_.erase(0, cut);
      bytes.remove_prefix(take);
    }
  }
  // Chunks wholly inside `bytes` are cut in place, without copying.
  while (bytes.size() >= options_.max) {
    const uint64_t cut = FindCutPoint(bytes, options_);
    CAIRN_RETURN_IF_ERROR(Emit(bytes.substr(0, cut)));
    bytes.remove_prefix(cut);
  }
  pending_.assign(bytes);
  return Status::Ok();
}

Status Chunker::Finish() {
  if (!status_.ok()) return status_;
  CAIRN_CHECK(!finished_);
  finished_ = true;
  std::string_view rest = pending_;
  while (!rest.empty()) {
    const uint64_t cut = FindCutPoint(rest, options_);
    CAIRN_RETURN_IF_ERROR(Emit(rest.substr(0, cut)));
    rest.remove_prefix(cut);
  }
  pending_.clear();
  return Status::Ok();
}

std::vector<std::string> HashChunks(std::string_view data, const std::vector<ChunkBoundary>& chunks,
                                    unsigned threads) {
  std::vector<std::string> digests(chunks.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < chunks.size();) {
      digests[i] = Sha256Hex(data.substr(chunks[i].offset, chunks[i].size));
    }
  };
  // Below ~1 MiB starting a thread costs more than it saves.
  const unsigned n = data.size() < (1u << 20) ? 1 : ResolveThreads(threads);
  std::vector<std::thread> helpers;
  for (unsigned t = 1; t < n && t < chunks.size(); ++t) helpers.emplace_back(work);
  work();
  for (auto& t : helpers) t.join();
  return digests;
}

// ---------------------------------------------------------------------------------------------
// Manifests

namespace {

constexpr std::string_view kManifestMagic = "cairn-file-manifest 1";

bool NeedsEscape(unsigned char c) { return c < 0x20 || c == 0x7f || c == '%'; }

void AppendEscapedPath(std::string& out, std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : path) {
    if (NeedsEscape(c)) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> UnescapePath(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return InvalidArgument("manifest path has a truncated %-escape");
    int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return InvalidArgument("manifest path has a bad %-escape");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

Result<uint64_t> ParseDecimal(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() ||
      (s.size() > 1 && s[0] == '0')) {
    return InvalidArgument("manifest has a bad number: '" + std::string(s) + "'");
  }
  return v;
}

// Splits "key rest" and checks the key.
Result<std::string_view> Field(std::string_view line, std::string_view key) {
  if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ' ') {
    return InvalidArgument("manifest line '" + std::string(line.substr(0, 80)) + "': expected " +
                           std::string(key));
  }
  return line.substr(key.size() + 1);
}

std::vector<std::string_view> SplitSpaces(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ' ') {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

}  // namespace

std::string SerializeManifest(const FileManifest& m) {
  std::string out;
  out.reserve(160 + m.path.size() + m.chunks.size() * 96);
  out += kManifestMagic;
  out += "\npath ";
  AppendEscapedPath(out, m.path);
  out += "\nsize " + std::to_string(m.size);
  out += "\nsha256 " + m.file_digest;
  out += "\nchunker " + std::to_string(m.chunker.min) + ' ' + std::to_string(m.chunker.avg) + ' ' +
         std::to_string(m.chunker.max) + '\n';
  for (const ChunkRef& c : m.chunks) {
    out += "chunk ";
    out += c.digest;
    out += ' ';
    out += std::to_string(c.size);
    out += '\n';
  }
  return out;
}

Result<FileManifest> ParseManifest(std::string_view text) {
  if (text.empty() || text.back() != '\n') return InvalidArgument("manifest must end in newline");
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (lines.size() < 5 || lines[0] != kManifestMagic) {
    return InvalidArgument("not a cairn file manifest (version 1)");
  }
  FileManifest m;
  CAIRN_TRY(std::string_view path, Field(lines[1], "path"));
  CAIRN_TRY(m.path, UnescapePath(path));
  CAIRN_TRY(std::string_view size, Field(lines[2], "size"));
  CAIRN_TRY(m.size, ParseDecimal(size));
  CAIRN_TRY(m.file_digest, Field(lines[3], "sha256"));
  if (!IsSha256Hex(m.file_digest)) return InvalidArgument("manifest has a bad file digest");
  CAIRN_TRY(std::string_view chunker, Field(lines[4], "chunker"));
  auto sizes = SplitSpaces(chunker);
  if (sizes.size() != 3) return InvalidArgument("manifest chunker line needs min avg max");
  CAIRN_TRY(m.chunker.min, ParseDecimal(sizes[0]));
  CAIRN_TRY(m.chunker.avg, ParseDecimal(sizes[1]));
  CAIRN_TRY(m.chunker.max, ParseDecimal(sizes[2]));
  CAIRN_RETURN_IF_ERROR(ValidateChunkerOptions(m.chunker));
  uint64_t expected_offset = 0;
  m.chunks.reserve(lines.size() - 5);
  for (size_t i = 5; i < lines.size(); ++i) {
    CAIRN_TRY(std::string_view rest, Field(lines[i], "chunk"));
    auto parts = SplitSpaces(rest);
    if (parts.size() != 2 || !IsSha256Hex(parts[0])) {
      return InvalidArgument("manifest chunk line " + std::to_string(i + 1) + " is malformed");
    }
    ChunkRef c;
    c.digest = std::string(parts[0]);
    c.offset = expected_offset;
    CAIRN_TRY(c.size, ParseDecimal(parts[1]));
    if (c.size == 0 || c.size > m.size - c.offset) {
      return InvalidArgument("manifest chunk line " + std::to_string(i + 1) +
                             " runs past the file's size");
    }
    expected_offset += c.size;
    m.chunks.push_back(std::move(c));
  }
  if (expected_offset != m.size) return InvalidArgument("manifest chunks do not cover the file");
  if (SerializeManifest(m) != text) return InvalidArgument("manifest is not in canonical form");
  return m;
}

std::string ManifestDigest(const FileManifest& manifest) {
  return Sha256Hex(SerializeManifest(manifest));
}

// ---------------------------------------------------------------------------------------------
// The pipeline

namespace {

// Work is handed out in pieces of about this many bytes: big enough that the lock is taken a
// few hundred times per GB, small enough that both cores stay busy to the end.
constexpr uint64_t kBatchBytes = 4 << 20;
constexpr uint64_t kHashClaimBytes = 1 << 20;
// How far cutting and hashing may run ahead of the consumer: bounds the pages touched ahead of
// it (a slow consumer — blob writes — should read the bytes while they are still cached).
constexpr uint64_t kWindowBytes = 64 << 20;

Result<FileManifest> ChunkAndHashSequential(std::string_view data, const ChunkerOptions& options,
                                            const ChunkConsumer& consume) {
  FileManifest m;
  m.size = data.size();
  m.chunker = options;
  Sha256 file_hash;
  file_hash.Update(data);
  m.file_digest = file_hash.FinishHex();
  for (const ChunkBoundary& b : CutChunks(data, options)) {
    std::string_view bytes = data.substr(b.offset, b.size);
    ChunkRef ref{Sha256Hex(bytes), b.offset, b.size};
    CAIRN_RETURN_IF_ERROR(consume(ref, bytes));
    m.chunks.push_back(std::move(ref));
  }
  return m;
}

// Two sequential chains (cutting; the whole-file SHA-256) and parallel chunk hashing, shared
// by the workers through one mutex. A worker prefers the chains (the critical paths) and fills
// in with chunk hashing. The consumer runs on the caller's thread, batch by batch in order.
class Pipeline {
 public:
  Pipeline(std::string_view data, const ChunkerOptions& options) : data_(data), options_(options) {}

  Result<FileManifest> Run(unsigned threads, const ChunkConsumer& consume) {
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t) workers.emplace_back([this] { Work(); });
    Status status = Consume(consume);
    {
      std::lock_guard lock(mu_);
      if (!status.ok()) stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers) w.join();
    if (!status.ok()) return status;
    manifest_.size = data_.size();
    manifest_.chunker = options_;
    manifest_.file_digest = file_hash_.FinishHex();
    return std::move(manifest_);
  }

 private:
  struct Batch {
    std::vector<ChunkBoundary> chunks;
    std::vector<std::string> digests;
    size_t claimed = 0;  // chunks handed to a worker for hashing
    size_t hashed = 0;
  };

  void Work() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      const uint64_t horizon = consumed_ + kWindowBytes;
      if (!file_hashing_ && file_hashed_ < data_.size() && file_hashed_ < horizon) {
        file_hashing_ = true;
        const uint64_t begin = file_hashed_;
        const uint64_t len = std::min<uint64_t>(kBatchBytes, data_.size() - begin);
        lock.unlock();
        file_hash_.Update(data_.substr(begin, len));
        lock.lock();
        file_hashed_ += len;
        file_hashing_ = false;
        cv_.notify_all();
        continue;
      }
      if (!cutting_ && cut_ < data_.size() && cut_ < horizon) {
        cutting_ = true;
        uint64_t offset = cut_;
        lock.unlock();
        Batch batch;
        const uint64_t end = std::min<uint64_t>(data_.size(), offset + kBatchBytes);
        while (offset < end) {
          uint64_t size = FindCutPoint(data_.substr(offset), options_);
          batch.chunks.push_back({offset, size});
          offset += size;
        }
        batch.digests.resize(batch.chunks.size());
        lock.lock();
        batches_.push_back(std::move(batch));
        cut_ = offset;
        cutting_ = false;
        cv_.notify_all();
        continue;
      }
      if (Batch* batch = FindUnclaimed()) {
        const size_t first = batch->claimed;
        size_t last = first;
        uint64_t bytes = 0;
        while (last < batch->chunks.size() && bytes < kHashClaimBytes) {
          bytes += batch->chunks[last++].size;
        }
        batch->claimed = last;
        lock.unlock();
        for (size_t i = first; i < last; ++i) {
          const ChunkBoundary& c = batch->chunks[i];
          batch->digests[i] = Sha256Hex(data_.substr(c.offset, c.size));
        }
        lock.lock();
        batch->hashed += last - first;
        cv_.notify_all();
        continue;
      }
      if (file_hashed_ == data_.size() && cut_ == data_.size()) return;  // nothing left to claim
      cv_.wait(lock);
    }
  }

  Batch* FindUnclaimed() {
    for (size_t b = next_batch_; b < batches_.size(); ++b) {
      if (batches_[b].claimed < batches_[b].chunks.size()) return &batches_[b];
    }
    return nullptr;
  }

  Status Consume(const ChunkConsumer& consume) {
    for (;;) {
      Batch* batch = nullptr;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] {
          return (next_batch_ < batches_.size() &&
                  batches_[next_batch_].hashed == batches_[next_batch_].chunks.size()) ||
                 (cut_ == data_.size() && next_batch_ == batches_.size());
        });
        if (next_batch_ == batches_.size()) break;
        batch = &batches_[next_batch_];  // deque: stays put while workers append
      }
      for (size_t i = 0; i < batch->chunks.size(); ++i) {
        const ChunkBoundary& c = batch->chunks[i];
        ChunkRef ref{std::move(batch->digests[i]), c.offset, c.size};
        CAIRN_RETURN_IF_ERROR(consume(ref, data_.substr(c.offset, c.size)));
        manifest_.chunks.push_back(std::move(ref));
      }
      {
        std::lock_guard lock(mu_);
        consumed_ = batch->chunks.back().offset + batch->chunks.back().size;
        ++next_batch_;
        batch->chunks = {};
        batch->digests = {};
      }
      cv_.notify_all();
    }
    // The file hash may still be running behind the last batch.
    std::unique_lock lock(mu_);
    consumed_ = data_.size();
    cv_.notify_all();
    cv_.wait(lock, [&] { return file_hashed_ == data_.size(); });
    return Status::Ok();
  }

  const std::string_view data_;
  const ChunkerOptions options_;
  Sha256 file_hash_;       // used by one worker at a time (file_hashing_)
  FileManifest manifest_;  // the consumer's

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  uint64_t consumed_ = 0;  // bytes handed to the consumer
  uint64_t file_hashed_ = 0;
  bool file_hashing_ = false;
  uint64_t cut_ = 0;
  bool cutting_ = false;
  std::deque<Batch> batches_;
  size_t next_batch_ = 0;  // the first batch not yet consumed
};

}  // namespace

Result<FileManifest> ChunkAndHash(std::string_view data, const ChunkPipelineOptions& options,
                                  const ChunkConsumer& consume) {
  CAIRN_RETURN_IF_ERROR(ValidateChunkerOptions(options.chunker));
  const unsigned threads = ResolveThreads(options.threads);
  if (threads <= 1 || data.size() < 2 * kBatchBytes) {
    return ChunkAndHashSequential(data, options.chunker, consume);
  }
  Pipeline pipeline(data, options.chunker);
  return pipeline.Run(threads, consume);
}

}  // namespace cairn::data
