#include "wire/model_uri.h"

#include <charconv>

namespace cairn::wire {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool IsBlank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

Status ImproperModelUri(std::string_view uri) {
  return InvalidArgument(
      "Not a proper models:/ URI: " + std::string(uri) +
      ". Models URIs must be of the form 'models:/model_name/suffix' or "
      "'models:/model_name@alias' where suffix is a model version, stage, or the string "
      "'latest' and where alias is a registered model alias. Only one of suffix or alias can be "
      "defined at a time.");
}

}  // namespace

bool IsModelUri(std::string_view text) { return StartsWith(text, "models:"); }
bool IsRunsUri(std::string_view text) { return StartsWith(text, "runs:"); }

Result<ModelUri> ParseModelUri(std::string_view uri) {
  if (!StartsWith(uri, "models:/") || StartsWith(uri, "models://")) return ImproperModelUri(uri);
  std::string_view path = uri.substr(std::string_view("models:/").size());
  // urlparse stops the path at a query; MLflow would then ignore it — here it is an error.
  if (path.empty() || path.find_first_of("?#") != std::string_view::npos) {
    return ImproperModelUri(uri);
  }
  size_t slash = path.find('/');
  ModelUri out;
  if (slash == std::string_view::npos) {
    size_t at = path.rfind('@');
    if (at == std::string_view::npos) return ImproperModelUri(uri);
    std::string_view name = path.substr(0, at);
    std::string_view alias = path.substr(at + 1);
    if (IsBlank(name) || IsBlank(alias)) return ImproperModelUri(uri);
    out.name = std::string(name);
    out.alias = std::string(alias);
    return out;
  }
  std::string_view name = path.substr(0, slash);
  std::string_view suffix = path.substr(slash + 1);
  if (IsBlank(name) || IsBlank(suffix) || suffix.find('/') != std::string_view::npos) {
    return ImproperModelUri(uri);
  }
  out.name = std::string(name);
  if (AllDigits(suffix)) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(suffix.data(), suffix.data() + suffix.size(), v);
    if (ec != std::errc() || end != suffix.data() + suffix.size()) return ImproperModelUri(uri);
    out.version = v;
  } else if (EqualsIgnoreCase(suffix, "latest")) {
    out.latest = true;
  } else {
    out.stage = std::string(suffix);
  }
  return out;
}

std::string FormatModelUri(const ModelUri& uri) {
  std::string out = "models:/" + uri.name;
  if (!uri.alias.empty()) return out + "@" + uri.alias;
  if (uri.version) return out + "/" + std::to_string(*uri.version);
  if (!uri.stage.empty()) return out + "/" + uri.stage;
  return out + "/latest";
}

Result<RunsUri> ParseRunsUri(std::string_view uri) {
  auto improper = [&] {
    return InvalidArgument("Not a proper runs:/ URI: " + std::string(uri) +
                           ". Runs URIs must be of the form 'runs:/<run_id>/run-relative/path/to/"
                           "artifact'");
  };
  if (!StartsWith(uri, "runs:/") || StartsWith(uri, "runs://")) return improper();
  std::string_view path = uri.substr(std::string_view("runs:/").size());
  if (path.find_first_of("?#") != std::string_view::npos) return improper();
  size_t slash = path.find('/');
  RunsUri out;
  out.run_id = std::string(path.substr(0, slash));
  if (out.run_id.empty()) return improper();
  std::string_view rest = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  // Canonical artifact path: no empty segments.
  size_t start = 0;
  while (start < rest.size()) {
    size_t end = rest.find('/', start);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view seg = rest.substr(start, end - start);
    if (!seg.empty()) {
      if (!out.artifact_path.empty()) out.artifact_path += '/';
      out.artifact_path += seg;
    }
    start = end + 1;
  }
  return out;
}

}  // namespace cairn::wire
