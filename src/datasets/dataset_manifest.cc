#include "datasets/dataset_manifest.h"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "core/hash.h"

namespace cairn::datasets {

namespace {

constexpr std::string_view kHeader = "cairn-dataset-manifest 1\n";

std::string EscapePath(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (unsigned char c : path) {
    if (c == '%' || c < 0x20 || c == 0x7f) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += char(c);
    }
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> UnescapePath(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) {
      return InvalidArgument("root manifest: truncated %-escape in a path");
    }
    int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return InvalidArgument("root manifest: bad %-escape in a path");
    out += char(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool ParseU64(std::string_view s, uint64_t& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::string SerializeRootManifest(const std::vector<VersionFile>& files) {
  std::string out(kHeader);
  for (const auto& f : files) {
    out += "file " + f.manifest_digest + " " + std::to_string(f.size) + " " + f.sha256 + " " +
           EscapePath(f.path) + "\n";
  }
  return out;
}

Result<std::vector<VersionFile>> ParseRootManifest(std::string_view text) {
  if (text.substr(0, kHeader.size()) != kHeader) {
    return InvalidArgument("root manifest: missing the 'cairn-dataset-manifest 1' header");
  }
  text.remove_prefix(kHeader.size());
  std::vector<VersionFile> files;
  size_t line_number = 1;
  while (!text.empty()) {
    ++line_number;
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      return InvalidArgument("root manifest: line " + std::to_string(line_number) +
                             " does not end with a newline");
    }
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    auto bad = [&](std::string_view why) {
      return InvalidArgument("root manifest line " + std::to_string(line_number) + ": " +
                             std::string(why));
    };
    // "file " + 64 + " " + size + " " + 64 + " " + path
    if (line.substr(0, 5) != "file ") return bad("expected 'file'");
    line.remove_prefix(5);
    VersionFile f;
    f.manifest_digest = std::string(line.substr(0, 64));
    if (!IsSha256Hex(f.manifest_digest) || line.size() < 65 || line[64] != ' ') {
      return bad("bad manifest digest");
    }
    line.remove_prefix(65);
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos || !ParseU64(line.substr(0, sp), f.size)) {
      return bad("bad size");
    }
    line.remove_prefix(sp + 1);
    f.sha256 = std::string(line.substr(0, 64));
    if (!IsSha256Hex(f.sha256) || line.size() < 66 || line[64] != ' ') return bad("bad sha256");
    line.remove_prefix(65);
    CAIRN_TRY(f.path, UnescapePath(line));
    if (f.path.empty()) return bad("empty path");
    if (!files.empty() && !(files.back().path < f.path)) return bad("paths not sorted");
    files.push_back(std::move(f));
  }
  return files;
}

std::string SerializeProfileIndex(const std::vector<VersionFile>& files) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& f : files) {
    if (f.profile_digest.empty()) continue;
    entries.push_back({{"path", f.path}, {"rows", f.rows}, {"profile_digest", f.profile_digest}});
  }
  nlohmann::json j = {{"format", 1}, {"files", std::move(entries)}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status ApplyProfileIndex(std::string_view json_text, std::vector<VersionFile>& files) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("files") || !j["files"].is_array()) {
    return InvalidArgument("profile index: not a JSON object with a 'files' array");
  }
  for (const auto& e : j["files"]) {
    if (!e.is_object() || !e.contains("path") || !e["path"].is_string() || !e.contains("rows") ||
        !e["rows"].is_number_integer() || !e.contains("profile_digest") ||
        !e["profile_digest"].is_string()) {
      return InvalidArgument("profile index: an entry lacks path, rows or profile_digest");
    }
    const std::string path = e["path"].get<std::string>();
    auto it = std::find_if(files.begin(), files.end(),
                           [&](const VersionFile& f) { return f.path == path; });
    if (it == files.end()) {
      return InvalidArgument("profile index: names '" + path + "', not a file of the version");
    }
    it->rows = e["rows"].get<int64_t>();
    it->profile_digest = e["profile_digest"].get<std::string>();
  }
  return Status::Ok();
}

}  // namespace cairn::datasets
