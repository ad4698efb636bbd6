// CodeSnapshot: the files a job carries from where it was submitted — its code folder and the
// local files it names as inputs — as content-addressed chunk manifests. Its canonical JSON's
// SHA-256 (the blob it is stored under) is the job's code digest. Also: the .gitignore rules the
// client applies when it walks the code folder.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "data/chunker.h"

namespace cairn::jobs {

struct CodeFile {
  // "code/<path in the code folder>" or "inputs/<input name>/<path>": where the job service
  // materializes it (code into the work folder, inputs beside it).
  std::string path;
  bool executable = false;
  data::FileManifest manifest;  // manifest.path is `path`
};

struct CodeSnapshot {
  std::vector<CodeFile> files;  // sorted by path, unique
};

// Canonical JSON text {"files": [{"path", "executable", "manifest"}]}: equal content, equal text.
std::string SerializeCodeSnapshot(const CodeSnapshot& snapshot);
// Parses and checks what SerializeCodeSnapshot writes: paths relative and normalized (no "..",
// no empty segments), under code/ or inputs/NAME/, unique, each manifest consistent.
// kInvalidArgument naming the entry otherwise. Files come back sorted by path.
Result<CodeSnapshot> ParseCodeSnapshot(std::string_view json_text);

// The patterns of .gitignore files, matched against '/'-separated paths relative to the folder
// walked. Supported: blank lines and # comments, globs (*, ?, [...]), ** (any depth), a leading
// '/' (anchored to the .gitignore's folder), a trailing '/' (folders only), '!' negation (a
// later rule wins), and rules with a '/' inside anchored to their .gitignore's folder. .git/ is
// always ignored.
class IgnoreRules {
 public:
  // Adds the rules of a .gitignore found in folder `base` ("" : the root), in file order.
  void Add(std::string_view gitignore_text, std::string_view base);
  // True when `path` (relative, '/'-separated) is ignored. `is_dir` for folders.
  bool Ignored(std::string_view path, bool is_dir) const;

 private:
  struct Rule {
    std::string base;     // folder of the .gitignore, "" or "a/b"
    std::string pattern;  // without '!', leading or trailing '/'
    bool negate = false;
    bool dir_only = false;
    bool anchored = false;
  };
  std::vector<Rule> rules_;
};

// fnmatch-like glob with '/' matched only by "**".
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace cairn::jobs
