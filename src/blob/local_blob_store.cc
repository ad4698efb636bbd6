#include "blob/local_blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <unordered_set>
#include <vector>

#include "core/hash.h"
#include "core/ids.h"

namespace cairn::blob {
namespace fs = std::filesystem;

namespace {

Status Errno(std::string_view what, const std::string& path) {
  return Internal(std::string(what) + " " + path + ": " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write", path);
    }
    bytes.remove_prefix(size_t(n));
  }
  return Status::Ok();
}

class LocalBlobWriter : public BlobWriter {
 public:
  LocalBlobWriter(const LocalBlobStore& store, std::string tmp_path, int fd)
      : store_(store), tmp_path_(std::move(tmp_path)), fd_(fd) {}
  ~LocalBlobWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_path_.c_str());
  }

  Status Write(std::string_view chunk) override {
    if (fd_ < 0) return FailedPrecondition("blob writer already committed");
    hasher_.Update(chunk);
    bytes_ += int64_t(chunk.size());
    return WriteAll(fd_, chunk, tmp_path_);
  }

  Result<std::string> Commit() override {
    if (fd_ < 0) return FailedPrecondition("blob writer already committed");
    std::string digest = hasher_.FinishHex();
    std::string final_path = store_.PathOf(digest);
    if (::fsync(fd_) != 0) return Errno("fsync", tmp_path_);
    ::close(fd_);
    fd_ = -1;
    if (store_.Contains(digest)) return digest;  // destructor drops the duplicate
    std::error_code ec;
    fs::create_directories(fs::path(final_path).parent_path(), ec);
    if (ec) return Internal("cannot create " + final_path + ": " + ec.message());
    if (::rename(tmp_path_.c_str(), final_path.c_str()) != 0) return Errno("rename", final_path);
    committed_ = true;
    // Make the rename itself durable.
    int dir_fd = ::open(fs::path(final_path).parent_path().c_str(), O_RDONLY | O_DIRECTORY);
    if (dir_fd >= 0) {
      ::fsync(dir_fd);
      ::close(dir_fd);
    }
    return digest;
  }

  int64_t bytes_written() const override { return bytes_; }

 private:
  const LocalBlobStore& store_;
  std::string tmp_path_;
  int fd_;
  Sha256 hasher_;
  int64_t bytes_ = 0;
  bool committed_ = false;
};

class LocalBlobReader : public BlobReader {
 public:
  LocalBlobReader(int fd, int64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  ~LocalBlobReader() override { ::close(fd_); }
  int64_t size() const override { return size_; }
  Status Read(std::string& chunk, size_t max_bytes) override {
    chunk.resize(max_bytes);
    while (true) {
      ssize_t n = ::read(fd_, chunk.data(), max_bytes);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        chunk.clear();
        return Errno("read", path_);
      }
      chunk.resize(size_t(n));
      return Status::Ok();
    }
  }

 private:
  int fd_;
  int64_t size_;
  std::string path_;
};

}  // namespace

namespace {

// Flushes the file system holding `dir` to disk: every file written and every rename made so
// far is durable when it returns.
Status SyncFileSystem(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open", dir);
#if defined(__linux__)
  const int rc = ::syncfs(fd);
#else
  ::sync();
  const int rc = 0;
#endif
  const int err = errno;
  ::close(fd);
  errno = err;
  if (rc != 0) return Errno("syncfs", dir);
  return Status::Ok();
}

}  // namespace

class LocalBlobBatch : public BlobBatch {
 public:
  explicit LocalBlobBatch(const LocalBlobStore& store) : store_(store) {}
  ~LocalBlobBatch() override {
    for (const Staged& s : staged_) ::unlink(s.tmp.c_str());  // left when Commit did not run
  }

  Status PutHashed(std::string_view digest, std::string_view bytes) override {
    if (spent_) return FailedPrecondition("blob batch already committed");
    if (!IsSha256Hex(digest))
      return InvalidArgument("not a SHA-256 digest: " + std::string(digest));
    if (!seen_.emplace(digest).second || store_.Contains(digest)) return Status::Ok();
    std::string tmp = store_.root_ + "/tmp/" + NewUuidHex();
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("open", tmp);
    Status written = WriteAll(fd, bytes, tmp);
    if (::close(fd) != 0 && written.ok()) written = Errno("close", tmp);
    if (!written.ok()) {
      ::unlink(tmp.c_str());
      return written;
    }
    staged_.push_back({std::move(tmp), std::string(digest)});
    bytes_ += static_cast<int64_t>(bytes.size());
    return Status::Ok();
  }

  // The bytes reach the disk before any blob becomes visible under its name, so a crash leaves
  // each blob whole or absent (and temporary files, which LocalBlobStore::Create clears).
  Status Commit() override {
    if (spent_) return FailedPrecondition("blob batch already committed");
    spent_ = true;
    if (staged_.empty()) return Status::Ok();
    CAIRN_RETURN_IF_ERROR(SyncFileSystem(store_.root_));
    std::set<std::string> made;
    while (!staged_.empty()) {
      const Staged& s = staged_.back();
      const std::string final_path = store_.PathOf(s.digest);
      std::string dir = final_path.substr(0, final_path.rfind('/'));
      if (made.insert(dir).second) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) return Internal("cannot create " + dir + ": " + ec.message());
      }
      if (::rename(s.tmp.c_str(), final_path.c_str()) != 0) return Errno("rename", final_path);
      staged_.pop_back();
    }
    return SyncFileSystem(store_.root_);  // the renames
  }

  int64_t bytes_staged() const override { return bytes_; }

 private:
  struct Staged {
    std::string tmp;
    std::string digest;
  };
  const LocalBlobStore& store_;
  std::vector<Staged> staged_;
  std::unordered_set<std::string> seen_;
  int64_t bytes_ = 0;
  bool spent_ = false;
};

Result<std::unique_ptr<BlobBatch>> LocalBlobStore::NewBatch() {
  return std::unique_ptr<BlobBatch>(new LocalBlobBatch(*this));
}

Result<std::unique_ptr<LocalBlobStore>> LocalBlobStore::Create(const std::string& root) {
  std::error_code ec;
  fs::create_directories(fs::path(root) / "tmp", ec);
  if (ec) return Internal("cannot create blob store at " + root + ": " + ec.message());
  fs::create_directories(fs::path(root) / "sha256", ec);
  if (ec) return Internal("cannot create blob store at " + root + ": " + ec.message());
  // Temporary files left by a crash belong to no acknowledged write.
  for (const auto& entry : fs::directory_iterator(fs::path(root) / "tmp", ec)) {
    fs::remove(entry.path(), ec);
  }
  return std::unique_ptr<LocalBlobStore>(new LocalBlobStore(root));
}

std::string LocalBlobStore::PathOf(std::string_view digest) const {
  std::string d(digest);
  return root_ + "/sha256/" + d.substr(0, 2) + "/" + d;
}

bool LocalBlobStore::Contains(std::string_view digest) const {
  if (!IsSha256Hex(digest)) return false;
  struct stat st;
  return ::stat(PathOf(digest).c_str(), &st) == 0;
}

Result<std::unique_ptr<BlobWriter>> LocalBlobStore::NewWriter() {
  std::string tmp = root_ + "/tmp/" + NewUuidHex();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open", tmp);
  return std::unique_ptr<BlobWriter>(new LocalBlobWriter(*this, tmp, fd));
}

Result<std::string> LocalBlobStore::Put(std::string_view bytes) {
  CAIRN_TRY(auto writer, NewWriter());
  CAIRN_RETURN_IF_ERROR(writer->Write(bytes));
  return writer->Commit();
}

Result<std::unique_ptr<BlobReader>> LocalBlobStore::Open(std::string_view digest) const {
  if (!IsSha256Hex(digest)) return InvalidArgument("not a SHA-256 digest: " + std::string(digest));
  std::string path = PathOf(digest);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("blob " + std::string(digest) + " not found");
    return Errno("open", path);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Errno("stat", path);
  }
  return std::unique_ptr<BlobReader>(new LocalBlobReader(fd, st.st_size, path));
}

Result<std::string> LocalBlobStore::Get(std::string_view digest) const {
  CAIRN_TRY(auto reader, Open(digest));
  std::string out, chunk;
  out.reserve(size_t(reader->size()));
  while (true) {
    CAIRN_RETURN_IF_ERROR(reader->Read(chunk));
    if (chunk.empty()) break;
    out += chunk;
  }
  if (Sha256Hex(out) != digest) return DataLoss("blob " + std::string(digest) + " is corrupt");
  return out;
}

}  // namespace cairn::blob
