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

}  // namespace
}  // namespace cairn::blob
