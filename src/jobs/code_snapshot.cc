#include "jobs/code_snapshot.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace cairn::jobs {

namespace {

using nlohmann::json;

Status CheckPath(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') {
    return InvalidArgument("code snapshot: '" + std::string(path) + "' is not a relative path");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view seg = path.substr(start, slash - start);
    if (seg.empty() || seg == "." || seg == "..") {
      return InvalidArgument("code snapshot: '" + std::string(path) + "' is not a normalized path");
    }
    for (char c : seg) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return InvalidArgument("code snapshot: '" + std::string(path) +
                               "' contains a control character");
      }
    }
    start = slash + 1;
  }
  bool code = path.substr(0, 5) == "code/";
  bool input = path.substr(0, 7) == "inputs/" && path.find('/', 7) != std::string_view::npos;
  if (!code && !input) {
    return InvalidArgument("code snapshot: '" + std::string(path) +
                           "' is neither under code/ nor under inputs/NAME/");
  }
  return Status::Ok();
}

}  // namespace

std::string SerializeCodeSnapshot(const CodeSnapshot& snapshot) {
  std::vector<const CodeFile*> files;
  for (const auto& f : snapshot.files) files.push_back(&f);
  std::sort(files.begin(), files.end(),
            [](const CodeFile* a, const CodeFile* b) { return a->path < b->path; });
  json arr = json::array();
  for (const CodeFile* f : files) {
    data::FileManifest m = f->manifest;
    m.path = f->path;
    arr.push_back({{"path", f->path},
                   {"executable", f->executable},
                   {"manifest", data::SerializeManifest(m)}});
  }
  return json{{"files", arr}}.dump();
}

Result<CodeSnapshot> ParseCodeSnapshot(std::string_view json_text) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("code snapshot: not JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("files") || !j["files"].is_array()) {
    return InvalidArgument("code snapshot: expected {\"files\": [...]}");
  }
  CodeSnapshot out;
  std::set<std::string> seen;
  for (const auto& f : j["files"]) {
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() ||
        !f.contains("manifest") || !f["manifest"].is_string()) {
      return InvalidArgument("code snapshot: each file needs a path and a manifest");
    }
    CodeFile file;
    file.path = f["path"].get<std::string>();
    CAIRN_RETURN_IF_ERROR(CheckPath(file.path));
    if (!seen.insert(file.path).second) {
      return InvalidArgument("code snapshot: '" + file.path + "' is listed twice");
    }
    if (f.contains("executable")) {
      if (!f["executable"].is_boolean()) {
        return InvalidArgument("code snapshot: " + file.path + ": executable must be a boolean");
      }
      file.executable = f["executable"].get<bool>();
    }
    auto manifest = data::ParseManifest(f["manifest"].get<std::string>());
    if (!manifest.ok()) {
      return InvalidArgument("code snapshot: " + file.path + ": " + manifest.status().message());
    }
    file.manifest = std::move(manifest).value();
    if (file.manifest.path != file.path) {
      return InvalidArgument("code snapshot: " + file.path + ": the manifest names '" +
                             file.manifest.path + "'");
    }
    out.files.push_back(std::move(file));
  }
  std::sort(out.files.begin(), out.files.end(),
            [](const CodeFile& a, const CodeFile& b) { return a.path < b.path; });
  return out;
}

bool GlobMatch(std::string_view p, std::string_view t) {
  // Recursive: patterns and paths are short.
  if (p.empty()) return t.empty();
  if (p.substr(0, 2) == "**") {
    std::string_view rest = p.substr(2);
    if (!rest.empty() && rest[0] == '/') {
      // "**/": zero or more whole folders.
      rest.remove_prefix(1);
      for (size_t i = 0; i <= t.size(); ++i) {
        if ((i == 0 || t[i - 1] == '/') && GlobMatch(rest, t.substr(i))) return true;
      }
      return false;
    }
    for (size_t i = 0; i <= t.size(); ++i) {
      if (GlobMatch(rest, t.substr(i))) return true;
    }
    return false;
  }
  if (p[0] == '*') {
    for (size_t i = 0; i <= t.size(); ++i) {
      if (GlobMatch(p.substr(1), t.substr(i))) return true;
      if (i < t.size() && t[i] == '/') break;
    }
    return false;
  }
  if (t.empty()) return false;
  if (p[0] == '?') return t[0] != '/' && GlobMatch(p.substr(1), t.substr(1));
  if (p[0] == '[') {
    size_t close = p.find(']', 2);
    if (close != std::string_view::npos) {
      if (t[0] == '/') return false;
      std::string_view set = p.substr(1, close - 1);
      bool neg = !set.empty() && (set[0] == '!' || set[0] == '^');
      if (neg) set.remove_prefix(1);
      bool in = false;
      for (size_t i = 0; i < set.size(); ++i) {
        if (i + 2 < set.size() && set[i + 1] == '-') {
          in |= t[0] >= set[i] && t[0] <= set[i + 2];
          i += 2;
        } else {
          in |= t[0] == set[i];
        }
      }
      return in != neg && GlobMatch(p.substr(close + 1), t.substr(1));
    }
  }
  if (p[0] == '\\' && p.size() > 1) return p[1] == t[0] && GlobMatch(p.substr(2), t.substr(1));
  return p[0] == t[0] && GlobMatch(p.substr(1), t.substr(1));
}

void IgnoreRules::Add(std::string_view text, std::string_view base) {
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line(text.substr(start, nl - start));
    start = nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Trailing spaces are ignored unless escaped.
    while (!line.empty() && line.back() == ' ' &&
           !(line.size() > 1 && line[line.size() - 2] == '\\')) {
      line.pop_back();
    }
    if (line.empty() || line[0] == '#') continue;
    Rule r;
    r.base = std::string(base);
    if (line[0] == '!') {
      r.negate = true;
      line.erase(0, 1);
    } else if (line[0] == '\\') {
      line.erase(0, 1);
    }
    if (!line.empty() && line.back() == '/') {
      r.dir_only = true;
      line.pop_back();
    }
    if (!line.empty() && line[0] == '/') {
      r.anchored = true;
      line.erase(0, 1);
    }
    if (line.find('/') != std::string::npos) r.anchored = true;
    if (line.empty()) continue;
    r.pattern = std::move(line);
    rules_.push_back(std::move(r));
  }
}

bool IgnoreRules::Ignored(std::string_view path, bool is_dir) const {
  if (path == ".git" || path.substr(0, 5) == ".git/") return true;
  bool ignored = false;
  for (const Rule& r : rules_) {
    if (r.dir_only && !is_dir) continue;
    std::string_view rel = path;
    if (!r.base.empty()) {
      if (rel.size() <= r.base.size() || rel.substr(0, r.base.size()) != r.base ||
          rel[r.base.size()] != '/') {
        continue;
      }
      rel.remove_prefix(r.base.size() + 1);
    }
    bool match;
    if (r.anchored) {
      match = GlobMatch(r.pattern, rel);
    } else {
      size_t slash = rel.rfind('/');
      match = GlobMatch(r.pattern, slash == std::string_view::npos ? rel : rel.substr(slash + 1));
    }
    if (match) ignored = !r.negate;
  }
  return ignored;
}

}  // namespace cairn::jobs
