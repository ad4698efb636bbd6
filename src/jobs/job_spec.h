// JobSpec: what a job file (YAML) declares, its validation, its JSON form (what the API carries
// and the job service persists) and the expansion of ${{inputs.x}} / ${{outputs.y}} in its
// command. Pure logic: used by the CLI (client side) and the job service alike.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace cairn::jobs {

// An input is a dataset version, a local file or folder (uploaded with the code), or a literal
// value (a YAML number or boolean, or {value: TEXT}).
enum class InputKind { kDataset, kPath, kLiteral };
std::string_view InputKindName(InputKind kind);  // "dataset" | "path" | "literal"

struct InputSpec {
  InputKind kind = InputKind::kLiteral;
  // kDataset: "NAME@latest" / "NAME@vN" as written after "dataset:" (see dataset_name/version);
  // kPath: the path as written (relative to the job file's folder); kLiteral: the value.
  std::string value;
  std::string dataset_name;                // kDataset
  std::optional<int64_t> dataset_version;  // kDataset; nullopt: the latest
  bool operator==(const InputSpec&) const = default;
};

enum class OutputType { kModel, kFile, kFolder };
std::string_view OutputTypeName(OutputType type);  // "model" | "file" | "folder"

struct OutputSpec {
  OutputType type = OutputType::kFolder;
  bool operator==(const OutputSpec&) const = default;
};

struct JobSpec {
  std::string name;     // "" : the job file's stem
  std::string command;  // required; run by /bin/sh -c
  std::string code;     // folder snapshotted with the job ("" : none), relative to the file
  std::map<std::string, InputSpec> inputs;
  std::map<std::string, OutputSpec> outputs;
  std::map<std::string, std::string> env;  // environment.vars
  std::string compute = "local";
  int cpus = 0;              // 0: not limited
  int64_t memory_bytes = 0;  // 0: not limited
  int64_t timeout_ms = 0;    // 0: none
  std::string experiment;    // "" : the Default experiment
  bool operator==(const JobSpec&) const = default;
};

// Parses a job file. Errors are kInvalidArgument "FILE:LINE: FIELD: what is wrong" for YAML
// syntax, unknown keys, wrong types, a missing command, bad sizes/durations/cpus/compute/output
// types/dataset references, and ${{inputs.x}} / ${{outputs.y}} naming nothing declared.
// `file_name` is only used in messages.
Result<JobSpec> ParseJobSpec(std::string_view yaml, std::string_view file_name);
// Reads and parses the file at `path` (kNotFound naming it when it cannot be read).
Result<JobSpec> LoadJobSpec(const std::string& path);

// The checks ParseJobSpec makes that do not need the YAML (what the server repeats on a spec
// received as JSON): errors "FIELD: what is wrong".
Status ValidateJobSpec(const JobSpec& spec);

// Applies a `--param K=V`: input K (declared or not) becomes V, read the way the input's kind
// reads text (an undeclared or literal input stays literal; "dataset:…" makes a dataset input).
Status ApplyParam(JobSpec& spec, std::string_view assignment);

// "4G", "512M", "1.5G", "1024K", "4096" (bytes) → bytes; binary units. kInvalidArgument.
Result<int64_t> ParseMemory(std::string_view text);
// "30s", "10m", "1h", "1h30m", "500ms", "90" (seconds) → milliseconds. kInvalidArgument.
Result<int64_t> ParseTimeout(std::string_view text);
std::string FormatMemory(int64_t bytes);
std::string FormatDuration(int64_t ms);

// The JSON form: {"name", "command", "code", "inputs": {x: {"kind", "value"}}, "outputs":
// {y: {"type"}}, "env": {…}, "compute", "resources": {"cpus", "memory_bytes", "timeout_ms"},
// "experiment"}.
nlohmann::json ToJson(const JobSpec& spec);
// Parses and validates the JSON form; errors name the field ("spec.inputs.train.kind: …").
Result<JobSpec> JobSpecFromJson(const nlohmann::json& j);

// The ${{inputs.x}} / ${{outputs.y}} references in `command` (whitespace inside the braces is
// allowed), in order.
struct Reference {
  std::string scope;  // "inputs" | "outputs"
  std::string name;
  size_t begin = 0, end = 0;  // the byte range of "${{…}}" in the command
};
Result<std::vector<Reference>> FindReferences(std::string_view command);
// Replaces each reference by the value `lookup` gives (kInvalidArgument naming an unknown one).
// Values are inserted as they are: the caller quotes paths for the shell (ShellQuote).
Result<std::string> ExpandCommand(std::string_view command,
                                  const std::map<std::string, std::string>& inputs,
                                  const std::map<std::string, std::string>& outputs);
// 'text' with embedded single quotes escaped, unless `text` needs no quoting.
std::string ShellQuote(std::string_view text);

}  // namespace cairn::jobs
