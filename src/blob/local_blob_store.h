// LocalBlobStore: blobs as files under a folder, <root>/sha256/ab/cdef…; writes go through a
// temporary file that is fsynced and renamed into place, so a blob is either whole or absent.
// A batch (NewBatch) writes its temporary files without fsync and, at Commit, flushes the file
// system once (syncfs), renames them all into place and flushes again: thousands of chunks cost
// two flushes instead of two fsyncs each (~4 ms apiece on a virtual disk).
#pragma once

#include <string>

#include "blob/blob_store.h"

namespace cairn::blob {

class LocalBlobStore : public BlobStore {
 public:
  // Creates `root` (and its tmp/ folder) when missing; clears stale temporary files.
  static Result<std::unique_ptr<LocalBlobStore>> Create(const std::string& root);

  Result<std::string> Put(std::string_view bytes) override;
  Result<std::string> Get(std::string_view digest) const override;
  Result<std::unique_ptr<BlobWriter>> NewWriter() override;
  Result<std::unique_ptr<BlobReader>> Open(std::string_view digest) const override;
  bool Contains(std::string_view digest) const override;
  Result<std::unique_ptr<BlobBatch>> NewBatch() override;

  // Where the blob with `digest` lives (whether or not it exists).
  std::string PathOf(std::string_view digest) const;

 private:
  friend class LocalBlobBatch;
  explicit LocalBlobStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace cairn::blob
