#include "tracking/artifact_service.h"

#include <gtest/gtest.h>

namespace cairn::tracking {
namespace {

TEST(ArtifactPathTest, AcceptsRelativePathsInsideTheRoot) {
  for (std::string ok : std::vector<std::string>{"a", "0/abc/artifacts/model/MLmodel", "x y/z.txt", "a..b/c"}) {
    EXPECT_TRUE(ValidateArtifactPath(ok).ok()) << ok;
  }
  EXPECT_TRUE(ValidateArtifactPath("", /*allow_empty=*/true).ok());
}

TEST(ArtifactPathTest, RejectsEscapes) {
  for (std::string bad : std::vector<std::string>{"", "/etc/passwd", "../x", "a/../../b", "a/./b", "a//b", "a/",
                          std::string("a\0b", 3), "a\\b", "..", std::string(5000, 'a')}) {
    EXPECT_EQ(ValidateArtifactPath(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ArtifactPathTest, ProxyPathOfUri) {
  EXPECT_EQ(*ProxyPathOfUri("mlflow-artifacts:/0/abc/artifacts"), "0/abc/artifacts");
  EXPECT_EQ(*ProxyPathOfUri("mlflow-artifacts://host:5000/0/abc/artifacts"), "0/abc/artifacts");
  EXPECT_FALSE(ProxyPathOfUri("s3://bucket/x").ok());
}

}  // namespace
}  // namespace cairn::tracking
