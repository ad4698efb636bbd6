// Pipeline files: parsing the YAML into a PipelineSpec and validating it against the step table,
// before anything runs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "pipelines/step.h"

namespace cairn::pipelines {

struct StepSpec {
  std::string id;
  std::string uses;
  std::vector<std::string> needs;
  nlohmann::json with = nlohmann::json::object();  // scalars as strings
  std::string if_expr;                             // empty: always runs
  int line = 0;                                    // 1-based line of the step
};

struct PipelineSpec {
  std::string file;  // as named in errors
  std::string name;
  std::string experiment;  // the runs' MLflow experiment; empty: "pipelines"
  // Declared parameters and their defaults; nullopt: the run must give a value.
  std::map<std::string, std::optional<std::string>> params;
  // Kept as written (a list of one-key maps), validated by triggers/trigger_spec.h; the trigger
  // service derives the stored triggers from it.
  nlohmann::json triggers = nlohmann::json::array();
  std::vector<StepSpec> steps;  // in the file's order

  const StepSpec* FindStep(std::string_view id) const;
};

// One problem in a pipeline file. ToString(): "FILE:LINE: step 'ID': MESSAGE" (without the step
// part for problems outside a step).
struct SpecError {
  std::string file;
  int line = 0;
  std::string step;
  std::string message;
  std::string ToString() const;
};

// Parses and validates `yaml`. Problems are collected, not stopped at: unknown step types, unknown
// or cyclic needs, references to steps that are not ancestors or to outputs a step type does not
// produce, unknown params, missing required or unknown `with` inputs, bad `if` expressions.
struct ParsedPipeline {
  PipelineSpec spec;
  std::vector<SpecError> errors;
};
ParsedPipeline ParsePipeline(std::string_view yaml, std::string_view file,
                             const StepTable& table);

// The spec, or kInvalidArgument listing every problem (one per line).
Result<PipelineSpec> LoadPipeline(std::string_view yaml, std::string_view file,
                                  const StepTable& table);

// The run's parameter values: the defaults overridden by `given`. kInvalidArgument for a
// parameter the pipeline does not declare, or a declared one without default nor value.
Result<std::map<std::string, std::string>> ResolveParams(
    const PipelineSpec& spec, const std::map<std::string, std::string>& given);

// Step ids whose `needs` lead, directly or not, to `id`'s ancestors (not including `id`).
std::vector<std::string> Ancestors(const PipelineSpec& spec, std::string_view id);

}  // namespace cairn::pipelines
