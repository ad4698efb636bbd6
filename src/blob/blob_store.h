// BlobStore: immutable, content-addressed bytes keyed by their SHA-256 digest.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace cairn::blob {

// Receives a blob's bytes as a stream; hashes them as they arrive. Not thread-safe.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  virtual Status Write(std::string_view chunk) = 0;
  // Makes the bytes durable under their digest (a blob already present is kept, the new copy
  // dropped) and returns the digest. The writer is spent afterwards.
  virtual Result<std::string> Commit() = 0;
  virtual int64_t bytes_written() const = 0;
};

// Reads a blob as a stream.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual int64_t size() const = 0;
  // Fills `chunk` with up to `max_bytes`; an empty chunk means the end.
  virtual Status Read(std::string& chunk, size_t max_bytes = 1 << 16) = 0;
};

// Many blobs stored with one durability barrier at the end — a snapshot's thousands of chunks
// — instead of one per blob. Not thread-safe; the store it came from must outlive it.
class BlobBatch {
 public:
  virtual ~BlobBatch() = default;
  // Stages `bytes` under `digest`, their SHA-256, which this process has just computed from
  // these very bytes (a snapshot pass hashes every chunk already; hashing again would cost as
  // much as the writing). Never pass a digest that came from elsewhere: verify it, or use
  // BlobStore::Put. A blob already stored, or already staged, is skipped. Staged blobs are
  // neither durable nor visible (Get, Contains) before Commit.
  virtual Status PutHashed(std::string_view digest, std::string_view bytes) = 0;
  // Makes every staged blob durable and visible; the batch is spent afterwards. A batch
  // destroyed without Commit stores nothing.
  virtual Status Commit() = 0;
  // Bytes staged (blobs not already present).
  virtual int64_t bytes_staged() const = 0;
};

// Thread-safe.
class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Stores `bytes` once; returns their digest. Durable when it returns.
  virtual Result<std::string> Put(std::string_view bytes) = 0;
  // kNotFound if absent; kDataLoss if the stored bytes no longer match `digest`.
  virtual Result<std::string> Get(std::string_view digest) const = 0;
  virtual Result<std::unique_ptr<BlobWriter>> NewWriter() = 0;
  // kNotFound if absent.
  virtual Result<std::unique_ptr<BlobReader>> Open(std::string_view digest) const = 0;
  virtual bool Contains(std::string_view digest) const = 0;
  // A batch for storing many blobs at once (see BlobBatch). This default stages nothing: each
  // PutHashed is a Put (durable when it returns) whose digest must match.
  virtual Result<std::unique_ptr<BlobBatch>> NewBatch();
};

namespace internal {
// BlobStore::NewBatch's default: every blob stored (durably) as it comes.
class PutEachBatch : public BlobBatch {
 public:
  explicit PutEachBatch(BlobStore& store) : store_(store) {}
  Status PutHashed(std::string_view digest, std::string_view bytes) override {
    if (store_.Contains(digest)) return Status::Ok();
    Result<std::string> stored = store_.Put(bytes);
    if (!stored.ok()) return stored.status();
    if (*stored != digest) {
      return Internal("blob batch: bytes given as " + std::string(digest) + " hash to " + *stored);
    }
    bytes_ += static_cast<int64_t>(bytes.size());
    return Status::Ok();
  }
  Status Commit() override { return Status::Ok(); }
  int64_t bytes_staged() const override { return bytes_; }

 private:
  BlobStore& store_;
  int64_t bytes_ = 0;
};
}  // namespace internal

inline Result<std::unique_ptr<BlobBatch>> BlobStore::NewBatch() {
  return std::unique_ptr<BlobBatch>(new internal::PutEachBatch(*this));
}

}  // namespace cairn::blob
