#include "jobs/code_snapshot.h"

#include <gtest/gtest.h>

#include "core/hash.h"

namespace cairn::jobs {
namespace {

TEST(GlobTest, Matches) {
  EXPECT_TRUE(GlobMatch("*.pyc", "a.pyc"));
  EXPECT_FALSE(GlobMatch("*.pyc", "a/b.pyc"));
  EXPECT_TRUE(GlobMatch("**/*.pyc", "a/b.pyc"));
  EXPECT_TRUE(GlobMatch("**/*.pyc", "b.pyc"));
  EXPECT_TRUE(GlobMatch("data/**", "data/x/y.csv"));
  EXPECT_TRUE(GlobMatch("file?.[ch]", "file1.c"));
  EXPECT_FALSE(GlobMatch("file?.[ch]", "file1.o"));
  EXPECT_TRUE(GlobMatch("[!a]x", "bx"));
}

TEST(IgnoreRulesTest, GitignoreSemantics) {
  IgnoreRules rules;
  rules.Add("# comment\n*.pyc\n__pycache__/\n/build\n!keep.pyc\ndocs/*.md\n", "");
  rules.Add("*.tmp\n", "sub");
  EXPECT_TRUE(rules.Ignored(".git", true));
  EXPECT_TRUE(rules.Ignored("a.pyc", false));
  EXPECT_TRUE(rules.Ignored("x/y/a.pyc", false));
  EXPECT_FALSE(rules.Ignored("keep.pyc", false));
  EXPECT_TRUE(rules.Ignored("pkg/__pycache__", true));
  EXPECT_FALSE(rules.Ignored("pkg/__pycache__", false));  // a file of that name stays
  EXPECT_TRUE(rules.Ignored("build", true));
  EXPECT_FALSE(rules.Ignored("src/build", true));  // anchored to the root
  EXPECT_TRUE(rules.Ignored("docs/a.md", false));
  EXPECT_FALSE(rules.Ignored("docs/x/a.md", false));
  EXPECT_TRUE(rules.Ignored("sub/a.tmp", false));
  EXPECT_FALSE(rules.Ignored("a.tmp", false));  // the rule belongs to sub/
  EXPECT_FALSE(rules.Ignored("train.py", false));
}

data::FileManifest ManifestOf(const std::string& path, const std::string& bytes) {
  data::FileManifest m;
  m.path = path;
  m.size = bytes.size();
  m.file_digest = Sha256Hex(bytes);
  m.chunker = data::ChunkerOptionsForSize(bytes.size());
  if (!bytes.empty()) m.chunks.push_back({Sha256Hex(bytes), 0, bytes.size()});
  return m;
}

TEST(CodeSnapshotTest, RoundTripsCanonically) {
  CodeSnapshot s;
  s.files.push_back({"code/train.py", true, ManifestOf("code/train.py", "print(1)\n")});
  s.files.push_back({"code/__init__.py", false, ManifestOf("code/__init__.py", "")});
  s.files.push_back({"inputs/extra/x.csv", false, ManifestOf("inputs/extra/x.csv", "a\n1\n")});
  std::string text = SerializeCodeSnapshot(s);
  auto back = ParseCodeSnapshot(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->files.size(), 3u);
  EXPECT_EQ(back->files[0].path, "code/__init__.py");  // sorted
  EXPECT_TRUE(back->files[1].executable);
  EXPECT_EQ(SerializeCodeSnapshot(*back), text);
}

TEST(CodeSnapshotTest, RejectsBadPaths) {
  for (std::string path : {"../x", "code/../x", "/code/x", "other/x", "inputs/x", "code//x"}) {
    CodeSnapshot s;
    s.files.push_back({path, false, ManifestOf(path, "x")});
    EXPECT_FALSE(ParseCodeSnapshot(SerializeCodeSnapshot(s)).ok()) << path;
  }
  EXPECT_FALSE(ParseCodeSnapshot("{").ok());
}

}  // namespace
}  // namespace cairn::jobs
