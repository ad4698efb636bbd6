#include "blob/local_blob_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/hash.h"
#include "core/ids.h"

namespace cairn::blob {
namespace {
namespace fs = std::filesystem;

class LocalBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("cairn-blob-" + NewUuidHex());
    store_ = std::move(LocalBlobStore::Create(root_.string())).value();
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
  std::unique_ptr<LocalBlobStore> store_;
};

TEST_F(LocalBlobStoreTest, PutGetRoundTripsAndDeduplicates) {
  auto d1 = store_->Put("hello");
  ASSERT_TRUE(d1.ok());
  EXPECT_EQ(*d1, Sha256Hex("hello"));
  EXPECT_EQ(*store_->Put("hello"), *d1);
  EXPECT_EQ(*store_->Get(*d1), "hello");
  EXPECT_TRUE(store_->Contains(*d1));
}

TEST_F(LocalBlobStoreTest, StreamedWriteMatchesOneShotDigest) {
  auto writer = std::move(store_->NewWriter()).value();
  std::string all;
  for (int i = 0; i < 100; ++i) {
    std::string chunk(1000, char('a' + i % 26));
    all += chunk;
    ASSERT_TRUE(writer->Write(chunk).ok());
  }
  EXPECT_EQ(writer->bytes_written(), 100000);
  auto digest = writer->Commit();
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(*digest, Sha256Hex(all));
  auto reader = std::move(store_->Open(*digest)).value();
  EXPECT_EQ(reader->size(), 100000);  // NOLINT
}

TEST_F(LocalBlobStoreTest, AbandonedWriterLeavesNothing) {
  {
    auto writer = std::move(store_->NewWriter()).value();
    ASSERT_TRUE(writer->Write("partial").ok());
  }
  EXPECT_TRUE(fs::is_empty(root_ / "tmp"));
  EXPECT_FALSE(store_->Contains(Sha256Hex("partial")));
}

TEST_F(LocalBlobStoreTest, MissingAndCorruptBlobsAreReported) {
  EXPECT_EQ(store_->Get(Sha256Hex("absent")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Open("../../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  auto digest = *store_->Put("original");
  std::ofstream(store_->PathOf(digest), std::ios::trunc) << "tampered";
  EXPECT_EQ(store_->Get(digest).status().code(), StatusCode::kDataLoss);
}

TEST_F(LocalBlobStoreTest, BatchBlobsBecomeVisibleAndReadableAtCommit) {
  ASSERT_TRUE(store_->Put("old").ok());
  auto batch = std::move(store_->NewBatch()).value();
  for (std::string_view bytes : {"alpha", "beta", "alpha", "old"}) {
    ASSERT_TRUE(batch->PutHashed(Sha256Hex(bytes), bytes).ok()) << bytes;
  }
  EXPECT_EQ(batch->bytes_staged(), 9);  // alpha and beta; the repeat and "old" are skipped
  EXPECT_FALSE(store_->Contains(Sha256Hex("alpha")));  // staged, not yet durable
  ASSERT_TRUE(batch->Commit().ok());
  EXPECT_EQ(*store_->Get(Sha256Hex("alpha")), "alpha");
  EXPECT_EQ(*store_->Get(Sha256Hex("beta")), "beta");
  EXPECT_EQ(*store_->Get(Sha256Hex("old")), "old");
  EXPECT_TRUE(fs::is_empty(root_ / "tmp"));
  EXPECT_EQ(batch->Commit().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(batch->PutHashed(Sha256Hex("x"), "x").code(), StatusCode::kFailedPrecondition);
}

TEST_F(LocalBlobStoreTest, BatchWithoutCommitStoresNothing) {
  {
    auto batch = std::move(store_->NewBatch()).value();
    ASSERT_TRUE(batch->PutHashed(Sha256Hex("never"), "never").ok());
    EXPECT_EQ(batch->PutHashed("not-a-digest", "x").code(), StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(store_->Contains(Sha256Hex("never")));
  EXPECT_TRUE(fs::is_empty(root_ / "tmp"));
}

// A store that keeps BlobStore's default batch: each blob stored as it comes, digests checked.
class PlainStore : public BlobStore {
 public:
  explicit PlainStore(BlobStore& inner) : inner_(inner) {}
  Result<std::string> Put(std::string_view bytes) override { return inner_.Put(bytes); }
  Result<std::string> Get(std::string_view digest) const override { return inner_.Get(digest); }
  Result<std::unique_ptr<BlobWriter>> NewWriter() override { return inner_.NewWriter(); }
  Result<std::unique_ptr<BlobReader>> Open(std::string_view digest) const override {
    return inner_.Open(digest);
  }
  bool Contains(std::string_view digest) const override { return inner_.Contains(digest); }

 private:
  BlobStore& inner_;
};

TEST_F(LocalBlobStoreTest, DefaultBatchStoresEachBlobAndChecksItsDigest) {
  PlainStore plain(*store_);
  auto batch = std::move(plain.NewBatch()).value();
  ASSERT_TRUE(batch->PutHashed(Sha256Hex("one"), "one").ok());
  EXPECT_TRUE(store_->Contains(Sha256Hex("one")));  // durable as it comes
  EXPECT_EQ(batch->PutHashed(Sha256Hex("two"), "not two").code(), StatusCode::kInternal);
  EXPECT_TRUE(batch->Commit().ok());
  EXPECT_EQ(batch->bytes_staged(), 3);
}

}  // namespace
}  // namespace cairn::blob
