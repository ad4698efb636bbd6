// What a run records about where it came from: the command line that started it and the git
// commit of the working directory (MLflow's `mlflow.source.git.commit`).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cairn::cli {

// The arguments joined with spaces, each quoted for a POSIX shell when it needs to be, so the
// line can be pasted back into a terminal.
std::string ShellCommandLine(const std::vector<std::string>& args);

struct GitSource {
  std::string commit;  // 40 hex digits
  std::string branch;  // empty when HEAD is detached
  std::string repository_root;
};

// The commit checked out in the repository containing `dir` (searching upwards for `.git`, a
// directory or a worktree's `gitdir:` file), read from the repository files without running
// git; nullopt when `dir` is not inside a repository or HEAD names no commit yet.
std::optional<GitSource> FindGitSource(const std::filesystem::path& dir);

}  // namespace cairn::cli
