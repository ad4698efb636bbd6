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
};

}  // namespace cairn::blob
