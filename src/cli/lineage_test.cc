#include "cli/lineage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace cairn::cli {
namespace {

namespace fs = std::filesystem;

std::string RunShell(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 256> buf{};
  while (std::fgets(buf.data(), buf.size(), pipe) != nullptr) out += buf.data();
  ::pclose(pipe);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class GitSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("cairn_lineage_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "src" / "deep");
    Git("init -q -b main");
    std::ofstream(root_ / "train.py") << "print('hi')\n";
    Git("add train.py");
    Git("-c user.name=t -c user.email=t@t commit -q -m first");
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string Git(const std::string& args) {
    return RunShell("git -C '" + root_.string() + "' " + args + " 2>&1");
  }
  fs::path root_;
};

TEST_F(GitSourceTest, FindsTheCheckedOutCommitFromASubdirectory) {
  auto source = FindGitSource(root_ / "src" / "deep");
  ASSERT_TRUE(source.has_value());
  EXPECT_EQ(source->commit, Git("rev-parse HEAD"));
  EXPECT_EQ(source->branch, "main");
  EXPECT_EQ(fs::path(source->repository_root), fs::absolute(root_));
}

TEST_F(GitSourceTest, ReadsPackedRefsAndDetachedHeads) {
  Git("pack-refs --all");
  ASSERT_FALSE(fs::exists(root_ / ".git/refs/heads/main"));
  auto packed = FindGitSource(root_);
  ASSERT_TRUE(packed.has_value());
  EXPECT_EQ(packed->commit, Git("rev-parse HEAD"));

  std::ofstream(root_ / "train.py") << "print('second')\n";
  Git("-c user.name=t -c user.email=t@t commit -q -am second");
  const std::string first = Git("rev-parse HEAD~1");
  Git("checkout -q --detach " + first);
  auto detached = FindGitSource(root_);
  ASSERT_TRUE(detached.has_value());
  EXPECT_EQ(detached->commit, first);
  EXPECT_EQ(detached->branch, "");
}

TEST(GitSource, OutsideARepositoryThereIsNone) {
  fs::path dir = fs::temp_directory_path() / ("cairn_nogit_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // /tmp itself is not inside a repository on any machine this runs on.
  EXPECT_FALSE(FindGitSource(dir).has_value());
  fs::remove_all(dir);
}

TEST(ShellCommandLine, QuotesOnlyWhatTheShellWouldSplitOrExpand) {
  EXPECT_EQ(ShellCommandLine({"cairn", "train", "--data", "churn@v2", "--param", "eta=0.1"}),
            "cairn train --data churn@v2 --param eta=0.1");
  EXPECT_EQ(ShellCommandLine({"cairn", "--description", "it's new", ""}),
            "cairn --description 'it'\\''s new' ''");
  EXPECT_EQ(ShellCommandLine({"a b", "$HOME", "x*"}), "'a b' '$HOME' 'x*'");
}

}  // namespace
}  // namespace cairn::cli
