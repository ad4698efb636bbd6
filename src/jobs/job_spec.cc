#include "jobs/job_spec.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace cairn::jobs {

namespace {

using nlohmann::json;

const std::set<std::string> kTopKeys = {"name",    "command",   "code",
                                        "inputs",  "outputs",   "environment",
                                        "compute", "resources", "experiment"};
const std::set<std::string> kResourceKeys = {"cpus", "memory", "timeout"};
const std::set<std::string> kComputes = {"local", "slurm"};

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

bool IsEnvName(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// "NAME", "NAME@latest", "NAME@vN", "NAME@N".
Status ParseDatasetInput(std::string_view ref, InputSpec& out) {
  out.kind = InputKind::kDataset;
  std::string_view name = ref, version;
  size_t at = ref.find('@');
  if (at != std::string_view::npos) {
    name = ref.substr(0, at);
    version = ref.substr(at + 1);
  }
  if (name.empty()) return InvalidArgument("'dataset:" + std::string(ref) + "' names no dataset");
  out.dataset_name = std::string(name);
  out.dataset_version.reset();
  if (!version.empty() && version != "latest") {
    std::string_view digits = version;
    if (digits[0] == 'v') digits.remove_prefix(1);
    int64_t v = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || v < 1) {
      return InvalidArgument("'dataset:" + std::string(ref) +
                             "': the version must be vN (N >= 1) or latest");
    }
    out.dataset_version = v;
  } else if (at != std::string_view::npos && version.empty()) {
    return InvalidArgument("'dataset:" + std::string(ref) + "': empty version after '@'");
  }
  out.value = out.dataset_name + "@" +
              (out.dataset_version ? "v" + std::to_string(*out.dataset_version) : "latest");
  return Status::Ok();
}

// An input given as text: "dataset:REF" or a path.
Status InputFromText(std::string_view text, InputSpec& out) {
  if (text.substr(0, 8) == "dataset:") return ParseDatasetInput(text.substr(8), out);
  if (text.empty()) return InvalidArgument("an empty path");
  out.kind = InputKind::kPath;
  out.value = std::string(text);
  return Status::Ok();
}

Status CheckReferences(const JobSpec& spec) {
  CAIRN_TRY(auto refs, FindReferences(spec.command));
  for (const auto& r : refs) {
    bool known =
        r.scope == "inputs" ? spec.inputs.count(r.name) > 0 : spec.outputs.count(r.name) > 0;
    if (!known) {
      return InvalidArgument("command: ${{" + r.scope + "." + r.name + "}} names no declared " +
                             (r.scope == "inputs" ? "input" : "output"));
    }
  }
  return Status::Ok();
}

// --- YAML --------------------------------------------------------------------------------------

class YamlReader {
 public:
  explicit YamlReader(std::string_view file) : file_(file) {}

  Status Error(const YAML::Node& node, std::string_view field, std::string_view what) const {
    return InvalidArgument(file_ + ":" + std::to_string(node.Mark().line + 1) + ": " +
                           std::string(field) + ": " + std::string(what));
  }

  Result<std::string> Scalar(const YAML::Node& node, std::string_view field) const {
    if (!node.IsScalar()) return Error(node, field, "expected a single value");
    return node.Scalar();
  }

  // Plain (unquoted) numbers and booleans, as YAML reads them.
  static bool IsPlainNumberOrBool(const YAML::Node& node) {
    if (!node.IsScalar() || node.Tag() != "?") return false;
    const std::string& s = node.Scalar();
    if (s == "true" || s == "false" || s == "True" || s == "False") return true;
    char* end = nullptr;
    std::strtod(s.c_str(), &end);
    return !s.empty() && end == s.c_str() + s.size();
  }

  Status CheckKeys(const YAML::Node& map, std::string_view field,
                   const std::set<std::string>& allowed) const {
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      if (allowed.count(key) == 0) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        std::string where = field.empty() ? key : std::string(field) + "." + key;
        return Error(kv.first, where, "unknown key (expected one of: " + list + ")");
      }
    }
    return Status::Ok();
  }

  Result<JobSpec> Read(const YAML::Node& root) {
    if (!root.IsMap()) return Error(root, "job", "expected a mapping of keys (command, code, …)");
    CAIRN_RETURN_IF_ERROR(CheckKeys(root, "", kTopKeys));
    JobSpec spec;
    if (auto n = root["name"]) {
      CAIRN_TRY(spec.name, Scalar(n, "name"));
      if (!IsIdentifier(spec.name)) {
        return Error(n, "name", "'" + spec.name + "' is not a name ([A-Za-z_][A-Za-z0-9_-]*)");
      }
    }
    YAML::Node command = root["command"];
    if (!command) return Error(root, "command", "required (the shell command to run)");
    CAIRN_TRY(spec.command, Scalar(command, "command"));
    if (Trim(spec.command).empty()) return Error(command, "command", "must not be empty");
    if (auto n = root["code"]) {
      CAIRN_TRY(spec.code, Scalar(n, "code"));
    }
    if (auto n = root["experiment"]) {
      CAIRN_TRY(spec.experiment, Scalar(n, "experiment"));
    }
    if (auto n = root["compute"]) {
      CAIRN_TRY(spec.compute, Scalar(n, "compute"));
      if (kComputes.count(spec.compute) == 0) {
        return Error(n, "compute", "'" + spec.compute + "' is not a compute target (local, slurm)");
      }
    }
    if (auto inputs = root["inputs"]) {
      if (!inputs.IsMap()) return Error(inputs, "inputs", "expected a mapping name: value");
      for (const auto& kv : inputs) {
        std::string name = kv.first.Scalar();
        std::string field = "inputs." + name;
        if (!IsIdentifier(name)) return Error(kv.first, field, "not a valid input name");
        InputSpec in;
        const YAML::Node& v = kv.second;
        if (v.IsMap()) {
          CAIRN_RETURN_IF_ERROR(CheckKeys(v, field, {"value"}));
          if (!v["value"]) return Error(v, field + ".value", "required");
          CAIRN_TRY(in.value, Scalar(v["value"], field + ".value"));
          in.kind = InputKind::kLiteral;
        } else if (IsPlainNumberOrBool(v)) {
          in.kind = InputKind::kLiteral;
          in.value = v.Scalar();
        } else {
          CAIRN_TRY(std::string text, Scalar(v, field));
          Status s = InputFromText(text, in);
          if (!s.ok()) return Error(v, field, s.message());
        }
        spec.inputs[name] = std::move(in);
      }
    }
    if (auto outputs = root["outputs"]) {
      if (!outputs.IsMap()) return Error(outputs, "outputs", "expected a mapping name: {type}");
      for (const auto& kv : outputs) {
        std::string name = kv.first.Scalar();
        std::string field = "outputs." + name;
        if (!IsIdentifier(name)) return Error(kv.first, field, "not a valid output name");
        OutputSpec out;
        const YAML::Node& v = kv.second;
        if (v.IsMap()) {
          CAIRN_RETURN_IF_ERROR(CheckKeys(v, field, {"type"}));
          if (auto t = v["type"]) {
            CAIRN_TRY(std::string type, Scalar(t, field + ".type"));
            if (type == "model") {
              out.type = OutputType::kModel;
            } else if (type == "file") {
              out.type = OutputType::kFile;
            } else if (type == "folder") {
              out.type = OutputType::kFolder;
            } else {
              return Error(t, field + ".type",
                           "'" + type + "' is not an output type (model, file, folder)");
            }
          }
        } else if (!v.IsNull()) {
          return Error(v, field, "expected {type: model|file|folder}");
        }
        spec.outputs[name] = out;
      }
    }
    if (auto env = root["environment"]) {
      if (!env.IsMap()) return Error(env, "environment", "expected a mapping with 'vars'");
      CAIRN_RETURN_IF_ERROR(CheckKeys(env, "environment", {"vars"}));
      if (auto vars = env["vars"]) {
        if (!vars.IsMap()) return Error(vars, "environment.vars", "expected a mapping NAME: value");
        for (const auto& kv : vars) {
          std::string name = kv.first.Scalar();
          std::string field = "environment.vars." + name;
          if (!IsEnvName(name)) return Error(kv.first, field, "not a valid variable name");
          CAIRN_TRY(spec.env[name], Scalar(kv.second, field));
        }
      }
    }
    if (auto res = root["resources"]) {
      if (!res.IsMap()) return Error(res, "resources", "expected {cpus, memory, timeout}");
      CAIRN_RETURN_IF_ERROR(CheckKeys(res, "resources", kResourceKeys));
      if (auto n = res["cpus"]) {
        CAIRN_TRY(std::string text, Scalar(n, "resources.cpus"));
        int cpus = 0;
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), cpus);
        if (ec != std::errc() || p != text.data() + text.size() || cpus < 1 || cpus > 4096) {
          return Error(n, "resources.cpus", "'" + text + "' is not a number of cpus (1 or more)");
        }
        spec.cpus = cpus;
      }
      if (auto n = res["memory"]) {
        CAIRN_TRY(std::string text, Scalar(n, "resources.memory"));
        auto bytes = ParseMemory(text);
        if (!bytes.ok()) return Error(n, "resources.memory", bytes.status().message());
        spec.memory_bytes = *bytes;
      }
      if (auto n = res["timeout"]) {
        CAIRN_TRY(std::string text, Scalar(n, "resources.timeout"));
        auto ms = ParseTimeout(text);
        if (!ms.ok()) return Error(n, "resources.timeout", ms.status().message());
        spec.timeout_ms = *ms;
      }
    }
    Status refs = CheckReferences(spec);
    if (!refs.ok()) {
      std::string message = refs.message();
      return Error(command, "command", message.substr(message.find(": ") + 2));
    }
    return spec;
  }

 private:
  std::string file_;
};

Status Field(std::string_view field, const Status& s) {
  if (s.ok()) return s;
  return InvalidArgument(std::string(field) + ": " + s.message());
}

}  // namespace

std::string_view InputKindName(InputKind kind) {
  switch (kind) {
    case InputKind::kDataset:
      return "dataset";
    case InputKind::kPath:
      return "path";
    case InputKind::kLiteral:
      return "literal";
  }
  return "literal";
}

std::string_view OutputTypeName(OutputType type) {
  switch (type) {
    case OutputType::kModel:
      return "model";
    case OutputType::kFile:
      return "file";
    case OutputType::kFolder:
      return "folder";
  }
  return "folder";
}

Result<JobSpec> ParseJobSpec(std::string_view yaml, std::string_view file_name) {
  YamlReader reader(file_name);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (!root || root.IsNull()) {
      return InvalidArgument(std::string(file_name) + ":1: command: required (the file is empty)");
    }
    return reader.Read(root);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string(file_name) + ":" + std::to_string(e.mark.line + 1) +
                           ": not valid YAML: " + e.msg);
  }
}

Result<JobSpec> LoadJobSpec(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read job file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  CAIRN_TRY(JobSpec spec, ParseJobSpec(text.str(), path));
  if (spec.name.empty()) {
    std::string stem = std::filesystem::path(path).stem().string();
    spec.name = IsIdentifier(stem) ? stem : "job";
  }
  return spec;
}

Status ValidateJobSpec(const JobSpec& spec) {
  if (!spec.name.empty() && !IsIdentifier(spec.name)) {
    return InvalidArgument("name: '" + spec.name + "' is not a name ([A-Za-z_][A-Za-z0-9_-]*)");
  }
  if (Trim(spec.command).empty()) return InvalidArgument("command: required");
  if (kComputes.count(spec.compute) == 0) {
    return InvalidArgument("compute: '" + spec.compute +
                           "' is not a compute target (local, slurm)");
  }
  for (const auto& [name, in] : spec.inputs) {
    if (!IsIdentifier(name)) return InvalidArgument("inputs." + name + ": not a valid input name");
    if (in.kind == InputKind::kDataset && in.dataset_name.empty()) {
      return InvalidArgument("inputs." + name + ": names no dataset");
    }
    if (in.kind == InputKind::kPath && in.value.empty()) {
      return InvalidArgument("inputs." + name + ": an empty path");
    }
  }
  for (const auto& [name, out] : spec.outputs) {
    if (!IsIdentifier(name))
      return InvalidArgument("outputs." + name + ": not a valid output name");
  }
  for (const auto& [name, value] : spec.env) {
    if (!IsEnvName(name)) return InvalidArgument("environment.vars." + name + ": not a valid name");
  }
  if (spec.cpus < 0) return InvalidArgument("resources.cpus: must be 1 or more");
  if (spec.memory_bytes < 0) return InvalidArgument("resources.memory: must be positive");
  if (spec.timeout_ms < 0) return InvalidArgument("resources.timeout: must be positive");
  return CheckReferences(spec);
}

Status ApplyParam(JobSpec& spec, std::string_view assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return InvalidArgument("--param '" + std::string(assignment) + "': expected NAME=VALUE");
  }
  std::string name(assignment.substr(0, eq));
  std::string_view value = assignment.substr(eq + 1);
  if (!IsIdentifier(name)) return InvalidArgument("--param " + name + ": not a valid input name");
  auto it = spec.inputs.find(name);
  InputSpec in;
  if ((it != spec.inputs.end() && it->second.kind != InputKind::kLiteral) ||
      value.substr(0, 8) == "dataset:") {
    Status s = InputFromText(value, in);
    if (!s.ok()) return InvalidArgument("--param " + name + ": " + s.message());
  } else {
    in.kind = InputKind::kLiteral;
    in.value = std::string(value);
  }
  spec.inputs[name] = std::move(in);
  return Status::Ok();
}

Result<int64_t> ParseMemory(std::string_view text) {
  std::string t = Trim(text);
  auto bad = [&] {
    return InvalidArgument("'" + std::string(text) + "' is not a size (like 512M, 4G)");
  };
  if (t.empty()) return bad();
  size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
  std::string number = t.substr(0, i), unit = t.substr(i);
  if (number.empty()) return bad();
  char* end = nullptr;
  double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size()) return bad();
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b') && unit.size() > 1)
    unit.pop_back();
  if (unit.size() == 2 && (unit[1] == 'i' || unit[1] == 'I')) unit.pop_back();
  double scale = 1;
  if (unit.empty() || unit == "B" || unit == "b") {
    scale = 1;
  } else if (unit == "K" || unit == "k") {
    scale = 1024.0;
  } else if (unit == "M" || unit == "m") {
    scale = 1024.0 * 1024;
  } else if (unit == "G" || unit == "g") {
    scale = 1024.0 * 1024 * 1024;
  } else if (unit == "T" || unit == "t") {
    scale = 1024.0 * 1024 * 1024 * 1024;
  } else {
    return bad();
  }
  double bytes = value * scale;
  if (!(bytes >= 1) || bytes > 9.0e18) return bad();
  return static_cast<int64_t>(std::llround(bytes));
}

Result<int64_t> ParseTimeout(std::string_view text) {
  std::string t = Trim(text);
  auto bad = [&] {
    return InvalidArgument("'" + std::string(text) + "' is not a duration (like 30s, 10m, 1h)");
  };
  if (t.empty()) return bad();
  int64_t total = 0;
  size_t i = 0;
  bool any = false;
  while (i < t.size()) {
    size_t start = i;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
    if (i == start) return bad();
    int64_t n = 0;
    auto [p, ec] = std::from_chars(t.data() + start, t.data() + i, n);
    if (ec != std::errc() || n > 100000000) return bad();
    size_t ustart = i;
    while (i < t.size() && std::isalpha(static_cast<unsigned char>(t[i]))) ++i;
    std::string unit = t.substr(ustart, i - ustart);
    int64_t scale = 0;
    if (unit.empty()) {
      if (any || i != t.size()) return bad();  // a bare number is seconds, alone
      scale = 1000;
    } else if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60 * 1000;
    } else if (unit == "h") {
      scale = 3600 * 1000;
    } else if (unit == "d") {
      scale = 24 * 3600 * 1000;
    } else {
      return bad();
    }
    total += n * scale;
    any = true;
  }
  if (total <= 0) return bad();
  return total;
}

std::string FormatMemory(int64_t bytes) {
  const char* units[] = {"", "K", "M", "G", "T"};
  int u = 0;
  int64_t v = bytes;
  while (u < 4 && v >= 1024 && v % 1024 == 0) {
    v /= 1024;
    ++u;
  }
  return std::to_string(v) + units[u];
}

std::string FormatDuration(int64_t ms) {
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  int64_t s = ms / 1000;
  std::string out;
  if (s >= 3600) out += std::to_string(s / 3600) + "h", s %= 3600;
  if (s >= 60) out += std::to_string(s / 60) + "m", s %= 60;
  if (s > 0 || out.empty()) out += std::to_string(s) + "s";
  return out;
}

json ToJson(const JobSpec& spec) {
  json inputs = json::object(), outputs = json::object();
  for (const auto& [name, in] : spec.inputs) {
    inputs[name] = {{"kind", InputKindName(in.kind)}, {"value", in.value}};
  }
  for (const auto& [name, out] : spec.outputs) outputs[name] = {{"type", OutputTypeName(out.type)}};
  return {
      {"name", spec.name},
      {"command", spec.command},
      {"code", spec.code},
      {"inputs", inputs},
      {"outputs", outputs},
      {"env", spec.env},
      {"compute", spec.compute},
      {"resources",
       {{"cpus", spec.cpus}, {"memory_bytes", spec.memory_bytes}, {"timeout_ms", spec.timeout_ms}}},
      {"experiment", spec.experiment}};
}

Result<JobSpec> JobSpecFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgument("spec: expected an object");
  JobSpec spec;
  auto str = [&](const json& obj, const char* key, std::string& out,
                 const std::string& field) -> Status {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return Status::Ok();
    if (!it->is_string()) return InvalidArgument(field + ": expected a string");
    out = it->get<std::string>();
    return Status::Ok();
  };
  auto integer = [&](const json& obj, const char* key, auto& out,
                     const std::string& field) -> Status {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return Status::Ok();
    if (!it->is_number_integer()) return InvalidArgument(field + ": expected an integer");
    out = it->get<std::decay_t<decltype(out)>>();
    return Status::Ok();
  };
  CAIRN_RETURN_IF_ERROR(str(j, "name", spec.name, "spec.name"));
  CAIRN_RETURN_IF_ERROR(str(j, "command", spec.command, "spec.command"));
  CAIRN_RETURN_IF_ERROR(str(j, "code", spec.code, "spec.code"));
  CAIRN_RETURN_IF_ERROR(str(j, "compute", spec.compute, "spec.compute"));
  if (spec.compute.empty()) spec.compute = "local";
  CAIRN_RETURN_IF_ERROR(str(j, "experiment", spec.experiment, "spec.experiment"));
  if (auto it = j.find("inputs"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidArgument("spec.inputs: expected an object");
    for (const auto& [name, v] : it->items()) {
      std::string field = "spec.inputs." + name;
      if (!v.is_object()) return InvalidArgument(field + ": expected {kind, value}");
      std::string kind, value;
      CAIRN_RETURN_IF_ERROR(str(v, "kind", kind, field + ".kind"));
      CAIRN_RETURN_IF_ERROR(str(v, "value", value, field + ".value"));
      InputSpec in;
      if (kind == "dataset") {
        CAIRN_RETURN_IF_ERROR(Field(field, ParseDatasetInput(value, in)));
      } else if (kind == "path") {
        in.kind = InputKind::kPath;
        in.value = value;
      } else if (kind == "literal") {
        in.kind = InputKind::kLiteral;
        in.value = value;
      } else {
        return InvalidArgument(field + ".kind: '" + kind + "' is not dataset, path or literal");
      }
      spec.inputs[name] = std::move(in);
    }
  }
  if (auto it = j.find("outputs"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidArgument("spec.outputs: expected an object");
    for (const auto& [name, v] : it->items()) {
      std::string field = "spec.outputs." + name;
      std::string type = "folder";
      if (v.is_object()) CAIRN_RETURN_IF_ERROR(str(v, "type", type, field + ".type"));
      OutputSpec out;
      if (type == "model") {
        out.type = OutputType::kModel;
      } else if (type == "file") {
        out.type = OutputType::kFile;
      } else if (type == "folder") {
        out.type = OutputType::kFolder;
      } else {
        return InvalidArgument(field + ".type: '" + type + "' is not model, file or folder");
      }
      spec.outputs[name] = out;
    }
  }
  if (auto it = j.find("env"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidArgument("spec.env: expected an object");
    for (const auto& [name, v] : it->items()) {
      if (!v.is_string()) return InvalidArgument("spec.env." + name + ": expected a string");
      spec.env[name] = v.get<std::string>();
    }
  }
  if (auto it = j.find("resources"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidArgument("spec.resources: expected an object");
    CAIRN_RETURN_IF_ERROR(integer(*it, "cpus", spec.cpus, "spec.resources.cpus"));
    CAIRN_RETURN_IF_ERROR(
        integer(*it, "memory_bytes", spec.memory_bytes, "spec.resources.memory_bytes"));
    CAIRN_RETURN_IF_ERROR(integer(*it, "timeout_ms", spec.timeout_ms, "spec.resources.timeout_ms"));
  }
  CAIRN_RETURN_IF_ERROR(Field("spec", ValidateJobSpec(spec)));
  return spec;
}

Result<std::vector<Reference>> FindReferences(std::string_view command) {
  std::vector<Reference> out;
  size_t pos = 0;
  while ((pos = command.find("${{", pos)) != std::string_view::npos) {
    size_t close = command.find("}}", pos + 3);
    if (close == std::string_view::npos) {
      return InvalidArgument("command: '${{' at byte " + std::to_string(pos) + " is never closed");
    }
    std::string inner = Trim(command.substr(pos + 3, close - pos - 3));
    size_t dot = inner.find('.');
    Reference r;
    r.begin = pos;
    r.end = close + 2;
    if (dot != std::string::npos) {
      r.scope = inner.substr(0, dot);
      r.name = inner.substr(dot + 1);
    }
    if ((r.scope != "inputs" && r.scope != "outputs") || !IsIdentifier(r.name)) {
      return InvalidArgument("command: ${{" + inner +
                             "}} is not ${{inputs.NAME}} or ${{outputs.NAME}}");
    }
    out.push_back(std::move(r));
    pos = close + 2;
  }
  return out;
}

Result<std::string> ExpandCommand(std::string_view command,
                                  const std::map<std::string, std::string>& inputs,
                                  const std::map<std::string, std::string>& outputs) {
  CAIRN_TRY(auto refs, FindReferences(command));
  std::string out;
  size_t last = 0;
  for (const auto& r : refs) {
    const auto& table = r.scope == "inputs" ? inputs : outputs;
    auto it = table.find(r.name);
    if (it == table.end()) {
      return InvalidArgument("command: ${{" + r.scope + "." + r.name + "}} names nothing declared");
    }
    out.append(command.substr(last, r.begin - last));
    out += it->second;
    last = r.end;
  }
  out.append(command.substr(last));
  return out;
}

std::string ShellQuote(std::string_view text) {
  bool plain = !text.empty();
  for (char c : text) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) ||
          std::string_view("/._-+:=@,%").find(c) != std::string_view::npos)) {
      plain = false;
    }
  }
  if (plain) return std::string(text);
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace cairn::jobs
