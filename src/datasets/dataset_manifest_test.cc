#include "datasets/dataset_manifest.h"

#include <gtest/gtest.h>

#include "core/hash.h"

namespace cairn::datasets {
namespace {

VersionFile File(std::string path, uint64_t size) {
  VersionFile f;
  f.path = std::move(path);
  f.size = size;
  f.sha256 = Sha256Hex(f.path + "bytes");
  f.manifest_digest = Sha256Hex(f.path + "manifest");
  return f;
}

TEST(RootManifestTest, RoundTripsAnyPath) {
  std::vector<VersionFile> files = {File("a b/100%.csv", 12), File("c\nd", 0), File("z.csv", 7)};
  std::string text = SerializeRootManifest(files);
  EXPECT_EQ(text.substr(0, 25), "cairn-dataset-manifest 1\n");
  EXPECT_NE(text.find(" a b/100%25.csv\n"), std::string::npos);
  EXPECT_NE(text.find(" c%0Ad\n"), std::string::npos);
  auto parsed = ParseRootManifest(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, files);
}

TEST(RootManifestTest, RejectsAnythingElse) {
  std::string good = SerializeRootManifest({File("a.csv", 1), File("b.csv", 2)});
  for (std::string bad : {std::string(""), std::string("cairn-dataset-manifest 2\n"),
                          good.substr(0, good.size() - 1),             // no final newline
                          good + "file x\n",                            // bad line
                          SerializeRootManifest({File("b", 1), File("a", 1)}),  // unsorted
                          good.substr(0, 30) + "Z" + good.substr(31)}) {  // bad hex
    EXPECT_EQ(ParseRootManifest(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ProfileIndexTest, FillsRowsAndDigestsOfProfiledFiles) {
  std::vector<VersionFile> files = {File("a.csv", 1), File("b.bin", 2)};
  files[0].rows = 42;
  files[0].profile_digest = Sha256Hex("profile");
  std::string index = SerializeProfileIndex(files);
  std::vector<VersionFile> read = {File("a.csv", 1), File("b.bin", 2)};
  ASSERT_TRUE(ApplyProfileIndex(index, read).ok());
  EXPECT_EQ(read, files);
  std::vector<VersionFile> other = {File("c.csv", 1)};
  EXPECT_EQ(ApplyProfileIndex(index, other).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ApplyProfileIndex("not json", read).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::datasets
