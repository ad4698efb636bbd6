#include "api/mlflow/request_fields.h"

#include <charconv>
#include <cmath>
#include <limits>

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

std::optional<double> ParseDoubleText(std::string_view text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<int64_t> ParseInt64Text(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
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
  std::string_view query = request.query;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name = http::PercentDecode(pair.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? "" : http::PercentDecode(pair.substr(eq + 1), true);
    if (!object.contains(name)) {
      object[name] = value;
    } else {
      if (!object[name].is_array()) object[name] = json::array({object[name]});
      object[name].push_back(value);
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
  if (v->is_number_integer()) return std::optional<int64_t>(v->get<int64_t>());
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (std::floor(d) == d && std::abs(d) < 9.2e18) return std::optional<int64_t>(int64_t(d));
  }
  if (v->is_string()) {
    if (auto parsed = ParseInt64Text(v->get_ref<const std::string&>())) {
      return std::optional<int64_t>(*parsed);
    }
  }
  return InvalidField(name, v->dump(), "a 64-bit integer");
}

Result<std::optional<double>> RequestFields::Double(std::string_view name) const {
  const json* v = Find(name);
  if (!v) return std::optional<double>();
  if (v->is_number()) return std::optional<double>(v->get<double>());
  if (v->is_string()) {
    if (auto parsed = ParseDoubleText(v->get_ref<const std::string&>())) {
      return std::optional<double>(*parsed);
    }
  }
  return InvalidField(name, v->dump(), "a number");
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
