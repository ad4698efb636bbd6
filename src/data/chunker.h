// Content-defined chunking (FastCDC), parallel chunk hashing and file manifests for snapshots.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace cairn::data {

// The Gear table of FastCDC: 256 pseudo-random 64-bit values from splitmix64 with a fixed seed.
// Part of the on-disk format: changing it moves every chunk boundary (and so every digest).
const std::array<uint64_t, 256>& GearTable();

// Chunk sizes in bytes. A chunk is longer than `min` (except a file's last chunk), at most
// `max`, and about `avg` on average (normalized chunking keeps most chunks near it). `avg` must
// be a power of two, and min < avg < max.
//
// The defaults, 16 KiB / 64 KiB / 256 KiB, are for large files (tens of MB to GBs): 16k chunks
// and blobs per GB keeps manifests (~100 bytes a chunk) and the blob store small, while a 64 KiB
// chunk is still well under 1 % of such a file, so a local edit rewrites ~2-3 chunks. Smaller
// files need smaller chunks for the same property: see ChunkerOptionsForSize.
struct ChunkerOptions {
  uint64_t min = 16 * 1024;
  uint64_t avg = 64 * 1024;
  uint64_t max = 256 * 1024;

  friend bool operator==(const ChunkerOptions&, const ChunkerOptions&) = default;
};

// kInvalidArgument unless 1 <= min < avg < max, avg a power of two in [64, 2^30], max <= 2^32.
Status ValidateChunkerOptions(const ChunkerOptions& options);

// Options for a first snapshot of a file of `file_size` bytes: avg = file_size / 256 rounded
// down to a power of two, clamped to [64 B, 64 KiB]; min = avg / 4; max = avg * 4. A file up to
// 16 MB thus has ~256-600 chunks, so appending or editing 1 % of its rows rewrites that 1 % plus
// the few chunks around it until the cut points resynchronize (~1 % of the file): measured
// 1.1-2.1 % for appends and at most 3.4 % for edits on the shared CSVs (16 KB-1.5 MB) and on
// synthetic ones up to 24 MB, under the 5 % snapshots promise. One fixed size cannot do that
// for both ends: 64 KiB chunks are 6 % of a 1 MB file, 4 KiB chunks make 262k blobs per GB.
// Past 16 MB the chunk size stays 64 KiB (16k chunks per GB, a ~1.5 MB manifest).
ChunkerOptions ChunkerOptionsForSize(uint64_t file_size);

// Options for the next snapshot of a file whose previous snapshot used `previous`: keeps them
// (so the unchanged regions are cut exactly as before and deduplicate) unless the file's size
// has moved more than a factor 4 away from what they suit, in which case the dedup of a
// few chunks is worth less than right-sized chunks: ChunkerOptionsForSize(file_size).
ChunkerOptions ChunkerOptionsForResnapshot(const ChunkerOptions& previous, uint64_t file_size);

struct ChunkBoundary {
  uint64_t offset = 0;
  uint64_t size = 0;

  friend bool operator==(const ChunkBoundary&, const ChunkBoundary&) = default;
};

// The length of the chunk that starts at data[0]: FastCDC's cut point. Scans at most
// min(data.size(), max) bytes; returns data.size() when it is at most `min` or holds no cut
// point (the end of the input ends the chunk). Options must be valid.
uint64_t FindCutPoint(std::string_view data, const ChunkerOptions& options);

// Cuts all of `data` into chunks: contiguous, in order, covering every byte (none when empty).
std::vector<ChunkBoundary> CutChunks(std::string_view data, const ChunkerOptions& options);

// Cuts a stream fed in pieces of any size; emits exactly the chunks CutChunks would emit for
// the concatenation of the pieces, in order. Buffers at most `max` bytes. Not thread-safe.
class Chunker {
 public:
  // Called once per completed chunk; `bytes` are valid only during the call. A non-OK status
  // stops the chunker: Feed/Finish return it, now and on every later call.
  using Sink = std::function<Status(const ChunkBoundary& chunk, std::string_view bytes)>;

  Chunker(const ChunkerOptions& options, Sink sink);

  // Emits every chunk whose end is now decided.
  Status Feed(std::string_view bytes);
  // Emits the remaining chunks; the chunker is spent afterwards.
  Status Finish();
  // Bytes fed so far.
  uint64_t bytes_fed() const { return fed_; }

 private:
  Status Emit(std::string_view bytes);

  ChunkerOptions options_;
  Sink sink_;
  std::string pending_;  // the start of the next chunk, when it straddles Feed calls
  uint64_t offset_ = 0;  // file offset of the next chunk
  uint64_t fed_ = 0;
  Status status_;
  bool finished_ = false;
};

// The SHA-256 (hex) of each chunk, in order, computed on `threads` threads (0: one per core).
// Identical to hashing the chunks one by one.
std::vector<std::string> HashChunks(std::string_view data, const std::vector<ChunkBoundary>& chunks,
                                    unsigned threads = 0);

struct ChunkRef {
  std::string digest;  // SHA-256 hex of the chunk's bytes
  uint64_t offset = 0;
  uint64_t size = 0;

  friend bool operator==(const ChunkRef&, const ChunkRef&) = default;
};

// One file of a snapshot: enough to restore it byte for byte from the blob store, and to cut
// its next version the same way (`chunker`).
struct FileManifest {
  std::string path;  // relative to the snapshot's root, '/'-separated
  uint64_t size = 0;
  std::string file_digest;  // SHA-256 hex of the whole file
  ChunkerOptions chunker;
  std::vector<ChunkRef> chunks;  // contiguous from offset 0, covering `size` bytes

  friend bool operator==(const FileManifest&, const FileManifest&) = default;
};

// The canonical text form: one value per line, chunks last, every byte fixed by the content,
// so the SHA-256 of these bytes can serve as a version id:
//   cairn-file-manifest 1
//   path <path, with '%', control bytes and DEL written as %XX>
//   size <decimal>
//   sha256 <hex>
//   chunker <min> <avg> <max>
//   chunk <hex> <size>        (one line per chunk, in file order)
// Offsets are left out (they follow from the sizes): an edit then changes only the lines of the
// chunks it touched, so manifests stored through the chunker deduplicate too. Expects `chunks`
// contiguous from 0 (as ChunkAndHash makes them).
std::string SerializeManifest(const FileManifest& manifest);
// Parses exactly what SerializeManifest writes (and checks the manifest is consistent: chunks
// covering `size`, valid digests and options), filling in the offsets; kInvalidArgument
// otherwise.
Result<FileManifest> ParseManifest(std::string_view text);
// Sha256Hex(SerializeManifest(manifest)).
std::string ManifestDigest(const FileManifest& manifest);

struct ChunkPipelineOptions {
  ChunkerOptions chunker;
  unsigned threads = 0;  // 0: one per core
};

// Receives the chunks of a file in file order, on the thread that called ChunkAndHash; `bytes`
// point into the input. A non-OK status stops the pipeline and is returned.
using ChunkConsumer = std::function<Status(const ChunkRef& chunk, std::string_view bytes)>;

// The whole-file pipeline of a snapshot: cuts `data` into chunks, hashes the chunks and the
// whole file on worker threads, and hands each chunk to `consume` in file order while the
// workers go on with the chunks after it. Returns the manifest (with an empty `path`).
Result<FileManifest> ChunkAndHash(std::string_view data, const ChunkPipelineOptions& options,
                                  const ChunkConsumer& consume);

}  // namespace cairn::data
