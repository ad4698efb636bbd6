// PredictionLog: per endpoint, the scored requests kept for monitoring (inputs, outputs, which
// deployment and model answered, latency, request id), appended off the request path to
// compressed, rotated JSON-lines segment files, and read back by time.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace cairn::monitoring {

// One scored request, as read back.
struct PredictionRecord {
  int64_t time = 0;  // ms since the epoch, when the request arrived
  std::string request_id;
  std::string endpoint;
  std::string deployment;
  std::string model_uri;      // as the deployment was given it (models:/churn@champion)
  std::string model_version;  // what that resolved to ("churn/3"), or "" for run URIs
  int64_t latency_us = 0;     // scoring time on the server
  int status = 0;             // the HTTP status the deployment answered
  bool mirrored = false;      // a shadow copy: its answer was logged, never returned
  // JSON text: the request's rows ({"columns": [...], "data": [[...]]}) and the predictions (an
  // array, one per row). Empty when not captured (an error answer); logged as null.
  std::string inputs;
  std::string outputs;
};

// One scored request to log: views of the caller's strings, read during Append only.
struct PredictionEntry {
  int64_t time = 0;
  std::string_view request_id;
  std::string_view endpoint;
  std::string_view deployment;
  std::string_view model_uri;
  std::string_view model_version;
  int64_t latency_us = 0;
  int status = 0;
  bool mirrored = false;
  // One line of valid JSON each, or empty (null): the scorer's text, written as it is.
  std::string_view inputs;
  std::string_view outputs;
};

struct PredictionLogOptions {
  std::string dir;  // one subdirectory per endpoint
  // Serialized records waiting for the writer, in bytes; past it Append drops and counts (never
  // blocks).
  size_t max_queue_bytes = 64u << 20;
  // A segment is closed and a new one started past this many uncompressed bytes, or this age.
  int64_t segment_bytes = 32 << 20;
  int64_t segment_age_ms = 3600 * 1000;
  // Closed segments of an endpoint past this many bytes (compressed) are deleted, oldest first.
  int64_t retention_bytes = int64_t(1) << 30;
  // How long records may sit in the writer before they reach the file (a crash loses at most
  // this much); Flush() forces it.
  int64_t flush_interval_ms = 200;
};

struct PredictionQuery {
  std::string endpoint;
  int64_t since = 0;  // records with time >= since (ms since the epoch)
  int64_t until = std::numeric_limits<int64_t>::max();  // … and time < until
  std::string deployment;                               // "": any
  std::string request_id;                               // "": any
  int mirrored = -1;  // -1 any, 0 live answers only, 1 mirrored copies only
  size_t limit = 100;
  std::string page_token;  // from the previous page
};

struct PredictionPage {
  std::vector<PredictionRecord> records;  // in logged order (by time, roughly: per segment)
  std::string next_page_token;            // empty when nothing more is logged yet
};

// Counters for /metrics.
struct PredictionLogStats {
  int64_t written = 0;
  int64_t dropped = 0;
  int64_t bytes = 0;  // compressed bytes written
};

// Segment files: DIR/<endpoint>/<start ms>-<n>.open.jsonl.zst while written, renamed to
// <start ms>-<n>-<last ms>.jsonl.zst when closed (the times let a read skip whole segments).
// Each is a sequence of zstd frames (level 1, checksummed) of JSON lines ({"time", "request_id",
// "endpoint", "deployment", "model_uri", "model_version", "latency_us", "status", "mirrored",
// "inputs", "outputs"}), readable with zstdcat once closed. Inputs in the dataframe_split form
// whose columns repeat the previous line's are written as {"data": …} alone (Read restores the
// columns). Every flush ends a frame, so a reader sees every record up to the last flush in whole
// frames. Segments named .jsonl.gz (gzip, from versions before zstd) are read as well. After a
// crash, Open closes the segments left open, of either kind, as zstd segments. Thread-safe.
// Endpoint names must be safe as directory names (the caller validates them).
class PredictionLog {
 public:
  static Result<std::unique_ptr<PredictionLog>> Open(PredictionLogOptions options,
                                                     const Clock& clock);
  // Writes out everything queued and closes the open segments.
  ~PredictionLog();

  // Serializes `entry` as its JSON line into the endpoint's pending bytes for the writer thread
  // and returns: compression and file I/O happen on the writer. (Nothing allocated here is freed
  // by another thread: handing records to the writer as objects cost more than writing them.)
  // False (and the record is counted as dropped) when the pending bytes are full.
  bool Append(const PredictionEntry& entry);
  bool Append(const PredictionRecord& record);  // the same, from an owned record
  // Returns once every record appended before the call is in its file (readable).
  void Flush();
  // The endpoint's records matching `query`, at most query.limit. kInvalidArgument for a bad
  // page token. An endpoint that never logged has no records (not an error).
  Result<PredictionPage> Read(const PredictionQuery& query) const;

  PredictionLogStats Stats(std::string_view endpoint) const;
  // Prometheus exposition of the per-endpoint counters (HELP/TYPE lines included).
  std::string RenderMetrics() const;

 private:
  struct Segment;
  // An endpoint's serialized records waiting for the writer.
  struct Pending {
    std::string lines;
    std::string columns;  // the `{"columns":[…],` head of the last record written in full
    int64_t records = 0;
    int64_t first_time = std::numeric_limits<int64_t>::max();
    int64_t last_time = std::numeric_limits<int64_t>::min();
  };
  PredictionLog(PredictionLogOptions options, const Clock& clock);
  Status Recover();
  void WriterLoop();
  // Writer thread only.
  Status WritePending(const std::string& endpoint, const Pending& pending);
  Result<Segment*> SegmentFor(const std::string& endpoint, int64_t time);
  Status FlushSegment(Segment& segment);
  Status CloseSegment(const std::string& endpoint);
  void ApplyRetention(const std::string& endpoint);

  const PredictionLogOptions options_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::condition_variable wake_writer_;
  std::condition_variable flushed_;
  std::map<std::string, Pending, std::less<>> pending_;
  std::vector<std::string> spare_lines_;  // emptied Pending::lines, capacity kept, for reuse
  size_t queued_bytes_ = 0;
  uint64_t appended_ = 0;      // records accepted so far
  uint64_t flushed_upto_ = 0;  // records in their files so far
  bool flush_wanted_ = false;
  bool writer_idle_ = false;
  bool stopping_ = false;
  std::map<std::string, PredictionLogStats, std::less<>> stats_;

  // Held shared by readers while they list and open files; exclusively by the writer while it
  // renames or deletes one.
  mutable std::shared_mutex files_mu_;
  std::map<std::string, std::unique_ptr<Segment>> open_;  // writer thread only
  std::thread writer_;
};

}  // namespace cairn::monitoring
