#include "api/mlflow/request_fields.h"

#include "core/utf8.h"

#include "wire/mlflow_entities.h"

namespace cairn::api::mlflow {

using nlohmann::json;

Status InvalidField(std::string_view name, std::string_view value, std::string_view expected) {
  std::string shown(value.substr(0, 200));
  return InvalidArgument("Invalid value " + shown + " for parameter '" + std::string(name) +
                         "' supplied. Expected " + std::string(expected) + ".");
}

Status MissingField(std::string_view name) {
  return InvalidArgument("Missing value for required parameter '" + std::string(name) + "'.");
}

Result<RequestFields> RequestFields::FromJson(std::string_view body) {
  if (body.empty()) return RequestFields(json::object());
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return InvalidArgument("Malformed JSON request body: could not parse it as JSON.");
  }
  if (!parsed.is_object()) return InvalidArgument("The request body must be a JSON object.");
  return RequestFields(std::move(parsed));
}

Result<RequestFields> RequestFields::FromRequest(const http::HttpRequest& request) {
  if (request.method != "GET" || !request.body.empty()) return FromJson(request.body);
  // Query parameters: a repeated name becomes an array of its values.
  json object = json::object();
  for (auto& [name, value] : request.QueryPairs()) {
    if (!IsValidUtf8(name) || !IsValidUtf8(value)) {
      return InvalidArgument("The query string is not valid UTF-8.");
    }
    if (!object.contains(name)) {
      object[name] = std::move(value);
    } else {
      if (!object[name].is_array()) object[name] = json::array({object[name]});
      object[name].push_back(std::move(value));
    }
  }
  return RequestFields(std::move(object));
}

const json* RequestFields::Find(std::string_view name) const {
  auto it = json_.find(name);
  if (it == json_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool RequestFields::Has(std::string_view name) const { return Find(name) != nullptr; }

Result<std::optional<std::string>> RequestFields::String(std::string_view name) const {
  const json* v = Find(name);
  if (!v) return std::optional<std::string>();
  if (v->is_string()) return std::optional<std::string>(v->get<std::string>());
  // Ids are strings in MLflow's protos, but some clients send integers for them.
  if (v->is_number_integer() && name.find("_id") != std::string_view::npos) {
    return std::optional<std::string>(v->dump());
  }
  return InvalidField(name, v->dump(), "a string");
}

Result<std::string> RequestFields::RequiredString(std::string_view name) const {
  CAIRN_TRY(auto value, String(name));
  if (!value || value->empty()) return MissingField(name);
  return *value;
}

Result<std::string> RequestFields::RequiredStringOf(std::string_view name,
                                                   std::string_view alias) const {
  CAIRN_TRY(auto value, String(name));
  if (value && !value->empty()) return *value;
  CAIRN_TRY(auto alias_value, String(alias));
  if (alias_value && !alias_value->empty()) return *alias_value;
  return MissingField(name);
}

Result<std::optional<int64_t>> RequestFields::Int64(std::string_view name) const {
  const json* v = Find(name);
  if (!v) return std::optional<int64_t>();
  auto parsed = wire::ParseInt64(*v);
  if (!parsed.ok()) return InvalidField(name, v->dump(), "a 64-bit integer");
  return std::optional<int64_t>(*parsed);
}

Result<std::optional<double>> RequestFields::Double(std::string_view name) const {
  const json* v = Find(name);
  if (!v) return std::optional<double>();
  auto parsed = wire::ParseDouble(*v);
  if (!parsed.ok()) return InvalidField(name, v->dump(), "a number");
  return std::optional<double>(*parsed);
}

Result<std::vector<std::string>> RequestFields::StringList(std::string_view name) const {
  const json* v = Find(name);
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
    return out;
  }
  if (!v->is_array()) return InvalidField(name, v->dump(), "a list of strings");
  for (const auto& item : *v) {
    if (item.is_string()) {
      out.push_back(item.get<std::string>());
    } else if (item.is_number_integer()) {
      out.push_back(item.dump());
    } else {
      return InvalidField(name, v->dump(), "a list of strings");
    }
  }
  return out;
}

Result<std::vector<store::Tag>> RequestFields::Tags(std::string_view name) const {
  const json* v = Find(name);
  std::vector<store::Tag> out;
  if (!v) return out;
  if (!v->is_array()) return InvalidField(name, v->dump(), "a list of {key, value} objects");
  for (const auto& item : *v) {
    if (!item.is_object()) return InvalidField(name, item.dump(), "a {key, value} object");
    auto key = item.find("key");
    auto value = item.find("value");
    if (key == item.end() || !key->is_string()) {
      return InvalidField(std::string(name) + ".key", item.dump(), "a string");
    }
    store::Tag tag{key->get<std::string>(), ""};
    if (value != item.end() && !value->is_null()) {
      if (!value->is_string()) {
        return InvalidField(std::string(name) + ".value", item.dump(), "a string");
      }
      tag.value = value->get<std::string>();
    }
    out.push_back(std::move(tag));
  }
  return out;
}

}  // namespace cairn::api::mlflow
