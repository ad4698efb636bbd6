#include "wire/mlflow_registry.h"

#include <utility>

namespace cairn::wire {
namespace {

const Json* Field(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<int64_t> Int64Field(const Json& j, const char* key) {
  const Json* f = Field(j, key);
  if (f == nullptr) return int64_t{0};
  auto v = ParseInt64(*f);
  if (!v.ok()) return InvalidArgument(std::string("'") + key + "': " + v.status().message());
  return *v;
}

Result<store::Tag> TagFromJson(const Json& j) {
  if (!j.is_object()) return InvalidArgument("tag is not an object");
  store::Tag t;
  CAIRN_TRY(t.key, StringField(j, "key"));
  CAIRN_TRY(t.value, StringField(j, "value"));
  return t;
}

Result<std::string> AliasNameFromJson(const Json& j) {
  if (!j.is_string()) return InvalidArgument("'aliases' holds a non-string");
  return j.get<std::string>();
}

Result<store::ModelAlias> AliasFromJson(const Json& j) {
  if (!j.is_object()) return InvalidArgument("alias is not an object");
  store::ModelAlias a;
  CAIRN_TRY(a.alias, StringField(j, "alias"));
  CAIRN_TRY(a.version, Int64Field(j, "version"));
  return a;
}

void PutString(Json& out, const char* key, const std::string& value) {
  if (!value.empty()) out[key] = value;
}

template <typename T>
void PutList(Json& out, const char* key, const std::vector<T>& items) {
  if (items.empty()) return;
  Json list = Json::array();
  for (const T& item : items) list.push_back(ToJson(item));
  out[key] = std::move(list);
}

}  // namespace

Json ToJson(const store::ModelAlias& alias) {
  return {{"alias", alias.alias}, {"version", std::to_string(alias.version)}};
}

Json ToJson(const store::ModelVersion& v) {
  Json out = {{"name", v.name},
              {"version", std::to_string(v.version)},
              {"creation_timestamp", v.creation_timestamp},
              {"last_updated_timestamp", v.last_updated_timestamp},
              {"current_stage", store::ModelStageName(v.current_stage)}};
  PutString(out, "description", v.description);
  out["source"] = v.source;
  PutString(out, "run_id", v.run_id);
  out["status"] = store::ModelVersionStatusName(v.status);
  PutString(out, "status_message", v.status_message);
  PutList(out, "tags", v.tags);
  PutString(out, "run_link", v.run_link);
  if (!v.aliases.empty()) out["aliases"] = v.aliases;
  return out;
}

Json ToJson(const store::RegisteredModel& m) {
  Json out = {{"name", m.name},
              {"creation_timestamp", m.creation_timestamp},
              {"last_updated_timestamp", m.last_updated_timestamp}};
  PutString(out, "description", m.description);
  PutList(out, "latest_versions", m.latest_versions);
  PutList(out, "tags", m.tags);
  PutList(out, "aliases", m.aliases);
  return out;
}

Result<store::ModelVersion> ModelVersionFromJson(const Json& j) {
  if (!j.is_object()) return InvalidArgument("model version is not an object");
  store::ModelVersion v;
  CAIRN_TRY(v.name, StringField(j, "name"));
  CAIRN_TRY(v.version, Int64Field(j, "version"));
  CAIRN_TRY(v.creation_timestamp, Int64Field(j, "creation_timestamp"));
  CAIRN_TRY(v.last_updated_timestamp, Int64Field(j, "last_updated_timestamp"));
  CAIRN_TRY(std::string stage, StringField(j, "current_stage"));
  if (!stage.empty()) {
    auto parsed = store::ParseModelStage(stage);
    if (!parsed) return InvalidArgument("unknown current_stage '" + stage + "'");
    v.current_stage = *parsed;
  }
  CAIRN_TRY(v.description, StringField(j, "description"));
  CAIRN_TRY(v.source, StringField(j, "source"));
  CAIRN_TRY(v.run_id, StringField(j, "run_id"));
  CAIRN_TRY(std::string status, StringField(j, "status"));
  if (!status.empty()) {
    auto parsed = store::ParseModelVersionStatus(status);
    if (!parsed) return InvalidArgument("unknown status '" + status + "'");
    v.status = *parsed;
  }
  CAIRN_TRY(v.status_message, StringField(j, "status_message"));
  CAIRN_TRY(v.tags, ListField<store::Tag>(j, "tags", TagFromJson));
  CAIRN_TRY(v.run_link, StringField(j, "run_link"));
  CAIRN_TRY(v.aliases, ListField<std::string>(j, "aliases", AliasNameFromJson));
  return v;
}

Result<store::RegisteredModel> RegisteredModelFromJson(const Json& j) {
  if (!j.is_object()) return InvalidArgument("registered model is not an object");
  store::RegisteredModel m;
  CAIRN_TRY(m.name, StringField(j, "name"));
  CAIRN_TRY(m.creation_timestamp, Int64Field(j, "creation_timestamp"));
  CAIRN_TRY(m.last_updated_timestamp, Int64Field(j, "last_updated_timestamp"));
  CAIRN_TRY(m.description, StringField(j, "description"));
  CAIRN_TRY(m.latest_versions,
            ListField<store::ModelVersion>(j, "latest_versions", ModelVersionFromJson));
  CAIRN_TRY(m.tags, ListField<store::Tag>(j, "tags", TagFromJson));
  CAIRN_TRY(m.aliases, ListField<store::ModelAlias>(j, "aliases", AliasFromJson));
  return m;
}

}  // namespace cairn::wire
