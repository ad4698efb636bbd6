#include "monitoring/prediction_log.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "core/utf8.h"

namespace cairn::monitoring {

namespace fs = std::filesystem;

namespace {

// The writer shares the cores with scoring: zstd's level 1 costs about a third of zlib's
// fastest level on these lines and compresses them better (~8x against ~6x); its negative levels
// save little more time for half as many bytes again (bench/prediction_log_bench).
constexpr int kCompressionLevel = 1;
constexpr size_t kInChunk = 64 * 1024;
// Records wait this long for more to arrive before the writer drains the queue again, so a busy
// endpoint's records are compressed in batches and producers rarely have to wake the writer.
constexpr auto kBatchDelay = std::chrono::milliseconds(20);
// Pending buffers the writer hands back for reuse: a few, and none past this size.
constexpr size_t kMaxSpareBuffers = 8;
constexpr size_t kMaxSpareBytes = 4u << 20;
constexpr std::string_view kOpenSuffix = ".open.jsonl.zst";
constexpr std::string_view kClosedSuffix = ".jsonl.zst";
// What versions before zstd wrote: still read, and recovered after a crash.
constexpr std::string_view kGzipOpenSuffix = ".open.jsonl.gz";
constexpr std::string_view kGzipClosedSuffix = ".jsonl.gz";

std::string ErrnoText() { return std::strerror(errno); }

void AppendEscaped(std::string& out, std::string_view s) {
  out.push_back('"');
  // Ids and names rarely need escaping: copy them whole when they do not.
  const bool plain = std::all_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c >= 0x20 && c != '"' && c != '\\';
  });
  if (plain) {
    out.append(s);
    out.push_back('"');
    return;
  }
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

// A string field: as is when valid UTF-8, else with every byte past ASCII replaced (a JSON line
// must stay parseable whatever a client sent).
void AppendString(std::string& out, std::string_view s) {
  if (IsValidUtf8(s)) return AppendEscaped(out, s);
  std::string clean(s);
  for (char& c : clean) {
    if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  }
  AppendEscaped(out, clean);
}

// Inputs and outputs are JSON the scorer produced (valid UTF-8 by its contract), kept verbatim
// when on one line, else re-serialized (or null when they do not parse).
void AppendRawJson(std::string& out, std::string_view raw) {
  if (raw.empty()) {
    out += "null";
    return;
  }
  if (raw.find('\n') == std::string_view::npos) {
    out.append(raw);
    return;
  }
  nlohmann::json parsed = nlohmann::json::parse(raw, nullptr, false);
  out += parsed.is_discarded()
             ? "null"
             : parsed.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

// The `{"columns":[…],` head of inputs in the scorer's dataframe_split form, or "" for any other
// form. (A bare `],"data":` cannot occur inside a JSON string, where '"' is escaped.)
std::string_view ColumnsHead(std::string_view inputs) {
  constexpr std::string_view kStart = "{\"columns\":[";
  constexpr std::string_view kEnd = "],\"data\":";
  if (!inputs.starts_with(kStart)) return {};
  size_t end = inputs.find(kEnd, kStart.size() - 1);
  if (end == std::string_view::npos) return {};
  return inputs.substr(0, end + 2);
}

// Appends `r` as one JSON line; `*inputs_at` is where its inputs start in `line` when they were
// written verbatim (else npos).
void AppendJsonLine(std::string& line, const PredictionEntry& r, size_t* inputs_at = nullptr) {
  line += "{\"time\":";
  AppendInt(line, r.time);
  line += ",\"request_id\":";
  AppendString(line, r.request_id);
  line += ",\"endpoint\":";
  AppendString(line, r.endpoint);
  line += ",\"deployment\":";
  AppendString(line, r.deployment);
  line += ",\"model_uri\":";
  AppendString(line, r.model_uri);
  line += ",\"model_version\":";
  AppendString(line, r.model_version);
  line += ",\"latency_us\":";
  AppendInt(line, r.latency_us);
  line += ",\"status\":";
  AppendInt(line, r.status);
  line += r.mirrored ? ",\"mirrored\":true" : ",\"mirrored\":false";
  line += ",\"inputs\":";
  if (inputs_at != nullptr) {
    const bool verbatim = !r.inputs.empty() && r.inputs.find('\n') == std::string_view::npos;
    *inputs_at = verbatim ? line.size() : std::string::npos;
  }
  AppendRawJson(line, r.inputs);
  line += ",\"outputs\":";
  AppendRawJson(line, r.outputs);
  line += "}\n";
}

// `columns` carries the segment's latest input columns from line to line: a record whose inputs
// repeat the previous record's columns is written without them (see Append).
std::optional<PredictionRecord> FromJsonLine(std::string_view line, nlohmann::json& columns) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    auto found = j.find("inputs");
    if (found != j.end() && found->is_object()) {
      auto c = found->find("columns");
      if (c != found->end()) {
        columns = *c;
      } else if (found->contains("data") && !columns.is_null()) {
        nlohmann::json full = {{"columns", columns}};
        full["data"] = std::move((*found)["data"]);
        *found = std::move(full);
      }
    }
    PredictionRecord r;
    r.time = j.at("time").get<int64_t>();
    r.request_id = j.at("request_id").get<std::string>();
    r.endpoint = j.at("endpoint").get<std::string>();
    r.deployment = j.at("deployment").get<std::string>();
    r.model_uri = j.value("model_uri", "");
    r.model_version = j.value("model_version", "");
    r.latency_us = j.value("latency_us", int64_t(0));
    r.status = j.value("status", 0);
    r.mirrored = j.value("mirrored", false);
    const auto& in = j["inputs"];
    const auto& out = j["outputs"];
    if (!in.is_null()) r.inputs = in.dump();
    if (!out.is_null()) r.outputs = out.dump();
    return r;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

int64_t ParseInt(std::string_view s, bool* ok) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  *ok = !s.empty() && ec == std::errc() && end == s.data() + s.size();
  return v;
}

std::string Padded(int64_t v, int width) {
  std::string s = std::to_string(v);
  if (static_cast<int>(s.size()) < width) s.insert(0, width - s.size(), '0');
  return s;
}

// A segment file as named on disk.
struct SegmentFile {
  std::string id;  // "<start ms>-<n>": orders segments chronologically (fixed widths)
  int64_t start = 0;
  int64_t last = 0;  // the latest record time; only known for closed segments
  bool open = false;
  bool gzip = false;  // written by a version before zstd
  fs::path path;
  int64_t bytes = 0;
};

std::optional<SegmentFile> ParseSegmentName(const fs::path& path) {
  std::string name = path.filename().string();
  SegmentFile f;
  f.path = path;
  std::string_view rest = name;
  auto strip = [&](std::string_view suffix) {
    if (rest.size() <= suffix.size() || !rest.ends_with(suffix)) return false;
    rest.remove_suffix(suffix.size());
    return true;
  };
  if (strip(kOpenSuffix)) {
    f.open = true;
  } else if (strip(kClosedSuffix)) {
  } else if (strip(kGzipOpenSuffix)) {
    f.open = f.gzip = true;
  } else if (strip(kGzipClosedSuffix)) {
    f.gzip = true;
  } else {
    return std::nullopt;
  }
  // open: START-N; closed: START-N-LAST
  std::vector<std::string_view> parts;
  while (true) {
    size_t dash = rest.find('-');
    parts.push_back(rest.substr(0, dash));
    if (dash == std::string_view::npos) break;
    rest.remove_prefix(dash + 1);
  }
  if (parts.size() != (f.open ? 2u : 3u)) return std::nullopt;
  bool ok1 = false, ok2 = false, ok3 = true;
  f.start = ParseInt(parts[0], &ok1);
  ParseInt(parts[1], &ok2);
  if (!f.open) f.last = ParseInt(parts[2], &ok3);
  if (!ok1 || !ok2 || !ok3) return std::nullopt;
  f.id = std::string(parts[0]) + "-" + std::string(parts[1]);
  return f;
}

// The endpoint's segment files, oldest first.
std::vector<SegmentFile> ListSegments(const fs::path& dir) {
  std::vector<SegmentFile> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto f = ParseSegmentName(it->path());
    if (!f) continue;
    std::error_code size_ec;
    f->bytes = static_cast<int64_t>(fs::file_size(it->path(), size_ec));
    out.push_back(std::move(*f));
  }
  std::sort(out.begin(), out.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.id < b.id; });
  return out;
}

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Splits decompressed bytes into lines for `fn(line)` (without the newline) until it returns
// false. A last line without its newline (an open segment's unflushed tail, a crash) is never
// passed: it is not a record.
template <typename Fn>
class LineSplitter {
 public:
  explicit LineSplitter(Fn& fn) : fn_(fn) {}
  // False once `fn` asked to stop.
  bool Feed(std::string_view produced) {
    while (!produced.empty() && !stopped_) {
      size_t nl = produced.find('\n');
      if (nl == std::string_view::npos) {
        line_.append(produced);
        break;
      }
      std::string_view line = produced.substr(0, nl);
      if (!line_.empty()) {
        line_.append(line);
        line = line_;
      }
      produced.remove_prefix(nl + 1);
      if (!fn_(line)) stopped_ = true;
      line_.clear();
    }
    return !stopped_;
  }

 private:
  Fn& fn_;
  std::string line_;  // the current line so far, when it spans chunks
  bool stopped_ = false;
};

// Reads the whole file in chunks, handing each to `consume(bytes)` until it returns false.
template <typename Consume>
Status ReadChunks(int fd, const fs::path& path, Consume&& consume) {
  std::string in(kInChunk, '\0');
  while (true) {
    ssize_t n = ::read(fd, in.data(), in.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Internal("cannot read " + path.string() + ": " + ErrnoText());
    }
    if (n == 0 || !consume(std::string_view(in.data(), size_t(n)))) return Status::Ok();
  }
}

// A zstd segment's lines: its frames (one per flush) decompress as one stream; a torn last frame
// gives what its complete blocks hold, and corrupt bytes end the read with what came before.
template <typename Fn>
Status ForEachZstdLine(int fd, const fs::path& path, Fn& fn) {
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> d(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  if (d == nullptr) return Internal("zstd: cannot create a decompression context");
  std::string out(ZSTD_DStreamOutSize(), '\0');
  LineSplitter<Fn> lines(fn);
  return ReadChunks(fd, path, [&](std::string_view chunk) {
    ZSTD_inBuffer in{chunk.data(), chunk.size(), 0};
    while (true) {
      ZSTD_outBuffer o{out.data(), out.size(), 0};
      const size_t rc = ZSTD_decompressStream(d.get(), &o, &in);
      if (ZSTD_isError(rc)) return false;
      if (!lines.Feed(std::string_view(out.data(), o.pos))) return false;
      // Done with this chunk once its input is used up and the output did not fill (a full
      // output may leave decompressed bytes inside the context).
      if (in.pos == in.size && o.pos < o.size) return true;
    }
  });
}

// A gzip segment's lines (versions before zstd); concatenated members read as one stream.
template <typename Fn>
Status ForEachGzipLine(int fd, const fs::path& path, Fn& fn) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return Internal("zlib: inflateInit2 failed");
  std::string out(4 * kInChunk, '\0');
  LineSplitter<Fn> lines(fn);
  Status status = ReadChunks(fd, path, [&](std::string_view chunk) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data()));
    z.avail_in = static_cast<uInt>(chunk.size());
    while (z.avail_in > 0) {
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      int rc = inflate(&z, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) return false;  // corrupt
      if (!lines.Feed(std::string_view(out.data(), out.size() - z.avail_out))) return false;
      if (rc == Z_STREAM_END) {
        inflateReset(&z);
      } else if (rc == Z_BUF_ERROR) {
        break;
      }
    }
    return true;
  });
  inflateEnd(&z);
  return status;
}

// Calls `fn(line)` for each whole line of the segment, until it returns false.
template <typename Fn>
Status ForEachLine(int fd, const SegmentFile& f, Fn&& fn) {
  return f.gzip ? ForEachGzipLine(fd, f.path, fn) : ForEachZstdLine(fd, f.path, fn);
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

// The segment the writer appends an endpoint's records to.
struct PredictionLog::Segment {
  std::string id;
  fs::path path;
  int fd = -1;
  ZSTD_CCtx* zstd = nullptr;
  std::string out;  // compressed bytes on their way to the file
  int64_t start = 0;
  int64_t last = 0;
  int64_t opened_mono_us = 0;
  int64_t raw_bytes = 0;
  bool dirty = false;  // records compressed since the last flush: the open frame holds them

  ~Segment() {
    ZSTD_freeCCtx(zstd);
    if (fd >= 0) ::close(fd);
  }
  // Compresses `data` into the current frame and writes what comes out; ZSTD_e_end also ends the
  // frame, so that the file holds every record given so far in whole frames (a reader sees them
  // all). False on a compression or write error.
  bool Compress(std::string_view data, ZSTD_EndDirective mode, int64_t* written) {
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    while (true) {
      ZSTD_outBuffer o{out.data(), out.size(), 0};
      const size_t remaining = ZSTD_compressStream2(zstd, &o, &in, mode);
      if (ZSTD_isError(remaining)) return false;
      if (o.pos > 0 && !WriteAll(fd, out.data(), o.pos)) return false;
      *written += static_cast<int64_t>(o.pos);
      if (mode == ZSTD_e_continue ? in.pos == in.size : remaining == 0) return true;
    }
  }
};

namespace {

// Writes `bytes` as the file at `path` (created or truncated).
Status WriteFile(const fs::path& path, std::string_view bytes) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0 || !WriteAll(fd.get(), bytes.data(), bytes.size())) {
    return Internal("cannot write " + path.string() + ": " + ErrnoText());
  }
  return Status::Ok();
}

}  // namespace

PredictionLog::PredictionLog(PredictionLogOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

Result<std::unique_ptr<PredictionLog>> PredictionLog::Open(PredictionLogOptions options,
                                                           const Clock& clock) {
  if (options.dir.empty()) return InvalidArgument("prediction log: no directory given");
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return Internal("cannot create " + options.dir + ": " + ec.message());
  auto log = std::unique_ptr<PredictionLog>(new PredictionLog(std::move(options), clock));
  CAIRN_RETURN_IF_ERROR(log->Recover());
  log->writer_ = std::thread([raw = log.get()] { raw->WriterLoop(); });
  return log;
}

PredictionLog::~PredictionLog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_writer_.notify_one();
  if (writer_.joinable()) writer_.join();
}

// Segments left open by a crash (zstd, or gzip from a version before zstd) are rewritten as
// closed zstd segments of one frame (their readable records kept), so that every closed segment
// carries its last time and reads with zstdcat.
Status PredictionLog::Recover() {
  std::error_code ec;
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory()) continue;
    for (const SegmentFile& f : ListSegments(it->path())) {
      if (!f.open) continue;
      std::string text;
      int64_t last = f.start;
      Fd fd(::open(f.path.c_str(), O_RDONLY | O_CLOEXEC));
      if (fd.get() < 0) return Internal("cannot open " + f.path.string() + ": " + ErrnoText());
      nlohmann::json columns;
      CAIRN_RETURN_IF_ERROR(ForEachLine(fd.get(), f, [&](std::string_view line) {
        if (auto r = FromJsonLine(line, columns)) {
          last = std::max(last, r->time);
          text.append(line).push_back('\n');
        }
        return true;
      }));
      fs::path closed = it->path() / (f.id + "-" + Padded(last, 13) + std::string(kClosedSuffix));
      fs::path tmp = closed;
      tmp += ".tmp";
      std::string frame(ZSTD_compressBound(text.size()), '\0');
      const size_t size =
          ZSTD_compress(frame.data(), frame.size(), text.data(), text.size(), kCompressionLevel);
      if (ZSTD_isError(size)) {
        return Internal("zstd: cannot compress " + f.path.string() + ": " +
                        ZSTD_getErrorName(size));
      }
      CAIRN_RETURN_IF_ERROR(WriteFile(tmp, std::string_view(frame.data(), size)));
      fs::rename(tmp, closed, ec);
      if (ec) return Internal("cannot rename " + tmp.string() + ": " + ec.message());
      fs::remove(f.path, ec);
    }
  }
  return Status::Ok();
}

bool PredictionLog::Append(const PredictionRecord& r) {
  return Append(PredictionEntry{r.time, r.request_id, r.endpoint, r.deployment, r.model_uri,
                                r.model_version, r.latency_us, r.status, r.mirrored, r.inputs,
                                r.outputs});
}

bool PredictionLog::Append(const PredictionEntry& entry) {
  // The line is built outside the lock, in a buffer this thread keeps.
  thread_local std::string line;
  line.clear();
  size_t inputs_at = std::string::npos;
  AppendJsonLine(line, entry, &inputs_at);
  std::unique_lock lock(mu_);
  auto it = pending_.find(entry.endpoint);
  if (stopping_ || queued_bytes_ + line.size() > options_.max_queue_bytes) {
    auto stats = stats_.find(entry.endpoint);
    if (stats == stats_.end()) {
      stats = stats_.emplace(std::string(entry.endpoint), PredictionLogStats{}).first;
    }
    stats->second.dropped++;
    return false;
  }
  if (it == pending_.end()) {
    // A buffer the writer handed back: its capacity stays, so a batch's bytes are not copied
    // again on each doubling (nor mapped and unmapped per batch).
    Pending fresh;
    if (!spare_lines_.empty()) {
      fresh.lines = std::move(spare_lines_.back());
      spare_lines_.pop_back();
    }
    it = pending_.emplace(std::string(entry.endpoint), std::move(fresh)).first;
  }
  Pending& p = it->second;
  // Inputs that start with the batch's previous `{"columns":[…],` head followed by `"data":`
  // have exactly those columns (ColumnsHead would find the same head: `],"data":` cannot overlap
  // itself), so one prefix compare decides, with no search.
  const bool verbatim = inputs_at != std::string::npos;
  if (verbatim && !p.columns.empty() && entry.inputs.starts_with(p.columns) &&
      entry.inputs.substr(p.columns.size()).starts_with("\"data\":")) {
    // The same columns as the batch's previous record: {"data": …} only. Every batch starts
    // with them in full, and a batch never spans segments, so each segment reads alone.
    p.lines.append(line, 0, inputs_at);
    p.lines += '{';
    p.lines.append(line, inputs_at + p.columns.size());
  } else {
    p.lines += line;
    if (verbatim) {
      const std::string_view head = ColumnsHead(entry.inputs);
      if (!head.empty()) p.columns.assign(head);
    }
  }
  p.records++;
  p.first_time = std::min(p.first_time, entry.time);
  p.last_time = std::max(p.last_time, entry.time);
  queued_bytes_ += line.size();
  appended_++;
  const bool wake = writer_idle_;
  writer_idle_ = false;
  lock.unlock();
  if (wake) wake_writer_.notify_one();
  return true;
}

void PredictionLog::Flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = appended_;
  if (flushed_upto_ >= target) return;
  flush_wanted_ = true;
  writer_idle_ = false;
  wake_writer_.notify_one();
  flushed_.wait(lock, [&] { return flushed_upto_ >= target; });
}

void PredictionLog::WriterLoop() {
  std::map<std::string, Pending, std::less<>> batch;
  int64_t last_flush_us = clock_.MonotonicMicros();
  std::unique_lock lock(mu_);
  while (true) {
    bool any_dirty = false;
    for (const auto& [name, seg] : open_) any_dirty = any_dirty || seg->dirty;
    if (pending_.empty() && !stopping_ && !flush_wanted_) {
      if (any_dirty) {
        // Records are compressed but not yet in the file: come back when they are due.
        int64_t due_us = last_flush_us + options_.flush_interval_ms * 1000;
        int64_t wait_us = std::max<int64_t>(0, due_us - clock_.MonotonicMicros());
        wake_writer_.wait_for(lock, std::chrono::microseconds(wait_us),
                              [&] { return !pending_.empty() || stopping_ || flush_wanted_; });
      } else {
        writer_idle_ = true;
        wake_writer_.wait(lock, [&] { return !pending_.empty() || stopping_ || flush_wanted_; });
        writer_idle_ = false;
      }
    }
    if (!pending_.empty() && !stopping_ && !flush_wanted_) {
      // Let a batch gather, also after the first record woke an idle writer (producers do not
      // notify a writer that is not idle): one wake-up and one compression call per batch.
      wake_writer_.wait_for(lock, kBatchDelay, [&] { return stopping_ || flush_wanted_; });
    }
    batch.swap(pending_);
    queued_bytes_ = 0;
    const uint64_t upto = appended_;
    const bool flush_now = flush_wanted_ || stopping_;
    flush_wanted_ = false;
    const bool stop = stopping_;
    lock.unlock();

    std::map<std::string, int64_t> written;
    std::vector<std::string> recycled;
    for (auto& [endpoint, pending] : batch) {
      if (WritePending(endpoint, pending).ok()) written[endpoint] += pending.records;
      pending.lines.clear();
      if (pending.lines.capacity() <= kMaxSpareBytes) recycled.push_back(std::move(pending.lines));
    }
    batch.clear();
    const int64_t now_us = clock_.MonotonicMicros();
    const bool due = now_us - last_flush_us >= options_.flush_interval_ms * 1000;
    std::map<std::string, int64_t> bytes;
    std::vector<std::string> to_close;
    for (auto& [endpoint, seg] : open_) {
      if (seg->dirty && (flush_now || due)) {
        int64_t flushed = 0;
        seg->Compress({}, ZSTD_e_end, &flushed);
        bytes[endpoint] += flushed;
        seg->dirty = false;
      }
      if (stop || seg->raw_bytes >= options_.segment_bytes ||
          now_us - seg->opened_mono_us >= options_.segment_age_ms * 1000) {
        to_close.push_back(endpoint);
      }
    }
    if (flush_now || due) last_flush_us = now_us;
    for (const std::string& endpoint : to_close) {
      (void)CloseSegment(endpoint);
      ApplyRetention(endpoint);
    }

    lock.lock();
    for (std::string& lines : recycled) {
      if (spare_lines_.size() < kMaxSpareBuffers) spare_lines_.push_back(std::move(lines));
    }
    for (const auto& [endpoint, n] : written) stats_[endpoint].written += n;
    for (const auto& [endpoint, n] : bytes) stats_[endpoint].bytes += n;
    bool all_flushed = true;
    for (const auto& [name, seg] : open_) all_flushed = all_flushed && !seg->dirty;
    if (all_flushed) {
      flushed_upto_ = upto;
      flushed_.notify_all();
    }
    if (stop && pending_.empty()) {
      flushed_upto_ = appended_;
      flushed_.notify_all();
      return;
    }
  }
}

// The endpoint's pending lines go into its open segment with one compression call.
Status PredictionLog::WritePending(const std::string& endpoint, const Pending& pending) {
  CAIRN_TRY(Segment * seg, SegmentFor(endpoint, pending.first_time));
  int64_t written = 0;
  if (!seg->Compress(pending.lines, ZSTD_e_continue, &written)) {
    return Internal("cannot write " + seg->path.string() + ": " + ErrnoText());
  }
  seg->raw_bytes += static_cast<int64_t>(pending.lines.size());
  seg->last = std::max(seg->last, pending.last_time);
  seg->dirty = true;
  std::lock_guard lock(mu_);
  stats_[endpoint].bytes += written;
  return Status::Ok();
}

Result<PredictionLog::Segment*> PredictionLog::SegmentFor(const std::string& endpoint,
                                                          int64_t time) {
  auto it = open_.find(endpoint);
  if (it != open_.end()) return it->second.get();
  const fs::path dir = fs::path(options_.dir) / endpoint;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir.string() + ": " + ec.message());
  // A new id sorts after every existing one: its start is the record's time unless an older
  // segment started later (a clock step back), and n tells apart segments of one millisecond.
  int64_t start = time;
  int64_t n = 0;
  std::vector<SegmentFile> existing = ListSegments(dir);
  if (!existing.empty()) {
    const SegmentFile& newest = existing.back();
    if (newest.start >= start) {
      start = newest.start;
      bool ok = false;
      n = ParseInt(newest.id.substr(newest.id.find('-') + 1), &ok) + 1;
    }
  }
  auto seg = std::make_unique<Segment>();
  seg->id = Padded(start, 13) + "-" + Padded(n, 4);
  seg->path = dir / (seg->id + std::string(kOpenSuffix));
  seg->start = start;
  seg->last = time;
  seg->opened_mono_us = clock_.MonotonicMicros();
  seg->fd = ::open(seg->path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (seg->fd < 0) return Internal("cannot create " + seg->path.string() + ": " + ErrnoText());
  seg->zstd = ZSTD_createCCtx();
  if (seg->zstd == nullptr ||
      ZSTD_isError(ZSTD_CCtx_setParameter(seg->zstd, ZSTD_c_compressionLevel, kCompressionLevel)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(seg->zstd, ZSTD_c_checksumFlag, 1))) {
    return Internal("zstd: cannot create a compression context");
  }
  seg->out.resize(ZSTD_CStreamOutSize());
  Segment* raw = seg.get();
  open_.emplace(endpoint, std::move(seg));
  return raw;
}

Status PredictionLog::CloseSegment(const std::string& endpoint) {
  auto it = open_.find(endpoint);
  if (it == open_.end()) return Status::Ok();
  Segment& seg = *it->second;
  int64_t written = 0;
  // The last frame ends here unless a flush already ended it (no empty frame after it).
  bool ok = !seg.dirty || seg.Compress({}, ZSTD_e_end, &written);
  fs::path closed =
      seg.path.parent_path() / (seg.id + "-" + Padded(seg.last, 13) + std::string(kClosedSuffix));
  Status status = Status::Ok();
  {
    std::unique_lock files(files_mu_);
    std::error_code ec;
    fs::rename(seg.path, closed, ec);
    if (ec) status = Internal("cannot rename " + seg.path.string() + ": " + ec.message());
  }
  if (!ok) status = Internal("cannot write " + seg.path.string() + ": " + ErrnoText());
  {
    std::lock_guard lock(mu_);
    stats_[endpoint].bytes += written;
  }
  open_.erase(it);
  return status;
}

void PredictionLog::ApplyRetention(const std::string& endpoint) {
  std::vector<SegmentFile> segments = ListSegments(fs::path(options_.dir) / endpoint);
  int64_t total = 0;
  for (const SegmentFile& f : segments) total += f.open ? 0 : f.bytes;
  std::unique_lock files(files_mu_);
  for (const SegmentFile& f : segments) {
    if (total <= options_.retention_bytes) break;
    if (f.open) continue;
    std::error_code ec;
    fs::remove(f.path, ec);
    total -= f.bytes;
  }
}

Result<PredictionPage> PredictionLog::Read(const PredictionQuery& query) const {
  // Page token: "<segment id>:<records of that segment already passed>".
  std::string from_segment;
  int64_t skip = 0;
  if (!query.page_token.empty()) {
    size_t colon = query.page_token.rfind(':');
    bool ok = false;
    if (colon != std::string::npos) {
      skip = ParseInt(std::string_view(query.page_token).substr(colon + 1), &ok);
      from_segment = query.page_token.substr(0, colon);
    }
    if (!ok || skip < 0 || !ParseSegmentName(from_segment + "-0" + std::string(kClosedSuffix))) {
      return InvalidArgument("page_token: not a token this server gave ('" + query.page_token +
                             "')");
    }
  }
  PredictionPage page;
  if (query.limit == 0) return page;
  // The files are opened under the lock and read without it: an open descriptor reads on
  // across the writer's rename, and the writer never waits for a long read.
  std::vector<std::pair<SegmentFile, Fd>> segments;
  {
    std::shared_lock files(files_mu_);
    for (SegmentFile& f : ListSegments(fs::path(options_.dir) / query.endpoint)) {
      if (!from_segment.empty() && f.id < from_segment) continue;
      if (!f.open && f.last < query.since) continue;  // the whole segment is older
      Fd fd(::open(f.path.c_str(), O_RDONLY | O_CLOEXEC));
      if (fd.get() < 0) return Internal("cannot open " + f.path.string() + ": " + ErrnoText());
      segments.emplace_back(std::move(f), std::move(fd));
    }
  }
  for (const auto& [file, fd] : segments) {
    const SegmentFile& f = file;  // clang 14 cannot capture a structured binding in a lambda
    int64_t index = 0;
    const int64_t first = (f.id == from_segment) ? skip : 0;
    bool full = false;
    nlohmann::json columns;  // the segment's latest input columns
    CAIRN_RETURN_IF_ERROR(ForEachLine(fd.get(), f, [&](std::string_view line) {
      const int64_t at = index++;
      if (at < first) {
        // Passed over, but its columns may be the ones the next records leave out.
        if (line.find("\"inputs\":{\"columns\":") != std::string_view::npos) {
          (void)FromJsonLine(line, columns);
        }
        return true;
      }
      auto r = FromJsonLine(line, columns);
      if (!r || r->time < query.since || r->time >= query.until) return true;
      if (!query.deployment.empty() && r->deployment != query.deployment) return true;
      if (!query.request_id.empty() && r->request_id != query.request_id) return true;
      if (query.mirrored >= 0 && r->mirrored != (query.mirrored == 1)) return true;
      page.records.push_back(std::move(*r));
      if (page.records.size() >= query.limit) {
        full = true;
        page.next_page_token = f.id + ":" + std::to_string(at + 1);
        return false;
      }
      return true;
    }));
    if (full) break;
  }
  return page;
}

PredictionLogStats PredictionLog::Stats(std::string_view endpoint) const {
  std::lock_guard lock(mu_);
  auto it = stats_.find(endpoint);
  return it == stats_.end() ? PredictionLogStats{} : it->second;
}

std::string PredictionLog::RenderMetrics() const {
  std::map<std::string, PredictionLogStats, std::less<>> stats;
  size_t queued = 0;
  {
    std::lock_guard lock(mu_);
    stats = stats_;
    queued = queued_bytes_;
  }
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help, auto value) {
    out += std::string("# HELP ") + name + " " + help + "\n";
    out += std::string("# TYPE ") + name + " " + type + "\n";
    for (const auto& [endpoint, s] : stats) {
      out +=
          std::string(name) + "{endpoint=\"" + endpoint + "\"} " + std::to_string(value(s)) + "\n";
    }
  };
  family("cairn_prediction_log_records_total", "counter",
         "Prediction records written to the log, by endpoint.",
         [](const PredictionLogStats& s) { return s.written; });
  family("cairn_prediction_log_dropped_total", "counter",
         "Prediction records dropped because the log's queue was full, by endpoint.",
         [](const PredictionLogStats& s) { return s.dropped; });
  family("cairn_prediction_log_written_bytes_total", "counter",
         "Compressed bytes written to prediction log segments, by endpoint.",
         [](const PredictionLogStats& s) { return s.bytes; });
  out += "# HELP cairn_prediction_log_queue_bytes Prediction records waiting for the writer.\n";
  out += "# TYPE cairn_prediction_log_queue_bytes gauge\n";
  out += "cairn_prediction_log_queue_bytes " + std::to_string(queued) + "\n";
  return out;
}

}  // namespace cairn::monitoring
