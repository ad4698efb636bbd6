// MLflow's JSON wire format of tracking entities (protobuf JSON), shared by server and client.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "store/records.h"

namespace cairn::wire {

using Json = nlohmann::json;

// --- Values ------------------------------------------------------------------------------------

// A double as MLflow writes it: a number, or "NaN" / "Infinity" / "-Infinity".
Json DoubleToJson(double value);
// Serializes for the wire; bytes that are not UTF-8 become U+FFFD instead of failing.
std::string Dump(const Json& json);
// A decimal number, "NaN", "Infinity" or "-Infinity" (std::from_chars also takes "inf", "nan" in
// any case); std::nullopt for anything else, including surrounding blanks.
std::optional<double> ParseDoubleText(std::string_view text);
// A decimal int64; std::nullopt for anything else.
std::optional<int64_t> ParseInt64Text(std::string_view text);
// A double given as a number or as text ParseDoubleText reads; null is NaN (how some encoders
// write it). kInvalidArgument otherwise.
Result<double> ParseDouble(const Json& j);
// An int64 given as a number (integral doubles included) or as a decimal string.
// kInvalidArgument otherwise.
Result<int64_t> ParseInt64(const Json& j);

// MLflow's FileInfo: one entry of an artifact listing.
struct FileInfo {
  std::string path;
  bool is_dir = false;
  std::optional<int64_t> file_size;  // files only; other servers may leave it out
};

// --- Entities to JSON --------------------------------------------------------------------------
// Protobuf's JSON mapping: empty repeated fields are left out (an experiment without tags has no
// "tags"; a run's "data" and "inputs" are {} when empty), int64 as numbers, unset end_time left
// out. These are the exact shapes the server answers with.

Json ToJson(const store::Tag& tag);
Json ToJson(const store::Param& param);
Json ToJson(const store::Metric& metric);
Json ToJson(const store::Experiment& experiment);
Json ToJson(const store::RunInfo& info);
Json ToJson(const store::DatasetInput& input);  // {dataset: {...}, tags}
Json ToJson(const store::Run& run);             // {info, data, inputs}
Json ToJson(const FileInfo& file);
Json ToJson(const store::ArtifactEntry& entry);  // a FileInfo: file_size for files only
// Always an array, empty or not (request bodies want one).
Json TagsToJson(const std::vector<store::Tag>& tags);

// --- Entities from JSON ------------------------------------------------------------------------
// Fields protobuf JSON leaves out when unset default to empty or zero; a field of the wrong type
// is kInvalidArgument naming it. Run: the name falls back on the tag mlflow.runName (older
// servers); RunInfo: run_id falls back on the deprecated run_uuid.

Result<store::Experiment> ExperimentFromJson(const Json& j);
Result<store::RunInfo> RunInfoFromJson(const Json& j);
Result<store::Run> RunFromJson(const Json& j);
Result<store::Metric> MetricFromJson(const Json& j);
Result<FileInfo> FileInfoFromJson(const Json& j);

// Fields of the messages around the entities (pages, responses), with the same defaults: a
// missing or null field is "" or an empty array; another type is kInvalidArgument naming `key`.
Result<std::string> StringField(const Json& object, const char* key);
Result<const Json*> ArrayField(const Json& object, const char* key);
// The list at `key`, each item read with `parse` (a function of const Json& to Result<T>).
template <typename T, typename Parse>
Result<std::vector<T>> ListField(const Json& object, const char* key, Parse parse) {
  CAIRN_TRY(const Json* items, ArrayField(object, key));
  std::vector<T> out;
  out.reserve(items->size());
  for (const Json& item : *items) {
    CAIRN_TRY(T value, parse(item));
    out.push_back(std::move(value));
  }
  return out;
}

}  // namespace cairn::wire
