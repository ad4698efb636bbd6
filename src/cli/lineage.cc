#include "cli/lineage.h"

#include <fstream>
#include <sstream>
#include <system_error>

namespace cairn::cli {
namespace {

bool NeedsQuoting(const std::string& arg) {
  if (arg.empty()) return true;
  for (char c : arg) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '/' || c == ':' || c == '=' ||
                      c == '@' || c == ',' || c == '+' || c == '%';
    if (!safe) return true;
  }
  return false;
}

std::optional<std::string> ReadFirstLine(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

bool IsCommitHash(const std::string& s) {
  if (s.size() != 40) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The commit a ref names: its loose file, else its line in packed-refs.
std::optional<std::string> ResolveRef(const std::filesystem::path& git_dir,
                                      const std::filesystem::path& common_dir,
                                      const std::string& ref) {
  for (const auto& dir : {git_dir, common_dir}) {
    if (auto line = ReadFirstLine(dir / ref); line && IsCommitHash(*line)) return line;
  }
  std::ifstream packed(common_dir / "packed-refs");
  std::string line;
  while (std::getline(packed, line)) {
    if (line.size() > 41 && line[40] == ' ' && line.compare(41, std::string::npos, ref) == 0) {
      std::string commit = line.substr(0, 40);
      if (IsCommitHash(commit)) return commit;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string ShellCommandLine(const std::vector<std::string>& args) {
  std::string line;
  for (const std::string& arg : args) {
    if (!line.empty()) line += ' ';
    if (!NeedsQuoting(arg)) {
      line += arg;
      continue;
    }
    line += '\'';
    for (char c : arg) {
      if (c == '\'') {
        line += "'\\''";
      } else {
        line += c;
      }
    }
    line += '\'';
  }
  return line;
}

std::optional<GitSource> FindGitSource(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::path current = std::filesystem::absolute(dir, ec);
  if (ec) return std::nullopt;
  while (true) {
    const std::filesystem::path dot_git = current / ".git";
    std::filesystem::path git_dir;
    if (std::filesystem::is_directory(dot_git, ec)) {
      git_dir = dot_git;
    } else if (std::filesystem::is_regular_file(dot_git, ec)) {
      // A worktree or submodule: ".git" is a file saying "gitdir: <path>".
      auto line = ReadFirstLine(dot_git);
      if (!line || line->rfind("gitdir: ", 0) != 0) return std::nullopt;
      git_dir = line->substr(8);
      if (git_dir.is_relative()) git_dir = current / git_dir;
    }
    if (!git_dir.empty()) {
      std::filesystem::path common_dir = git_dir;
      if (auto common = ReadFirstLine(git_dir / "commondir")) {
        common_dir = std::filesystem::path(*common).is_relative() ? git_dir / *common
                                                                  : std::filesystem::path(*common);
      }
      auto head = ReadFirstLine(git_dir / "HEAD");
      if (!head) return std::nullopt;
      GitSource source;
      source.repository_root = current.string();
      if (head->rfind("ref: ", 0) == 0) {
        const std::string ref = head->substr(5);
        auto commit = ResolveRef(git_dir, common_dir, ref);
        if (!commit) return std::nullopt;  // an unborn branch: no commit yet
        source.commit = *commit;
        if (ref.rfind("refs/heads/", 0) == 0) source.branch = ref.substr(11);
      } else if (IsCommitHash(*head)) {
        source.commit = *head;
      } else {
        return std::nullopt;
      }
      return source;
    }
    if (!current.has_parent_path() || current.parent_path() == current) return std::nullopt;
    current = current.parent_path();
  }
}

}  // namespace cairn::cli
