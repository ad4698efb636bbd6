#include "api/mlflow/mlflow_json.h"

#include <simdjson.h>

#include <cmath>

#include "api/mlflow/request_fields.h"
#include "wire/mlflow_entities.h"

namespace cairn::api::mlflow {

namespace {

// simdjson's DOM parser picks the fastest kernel for the CPU at run time.
using simdjson::dom::element;
using simdjson::dom::element_type;

// Errors inside the parser carry the field they concern.
struct FieldError {
  Status status;
};

std::string Shown(element v) { return simdjson::minify(v).substr(0, 200); }

std::string ReadString(element v, std::string_view field) {
  if (v.type() != element_type::STRING) throw FieldError{InvalidField(field, Shown(v), "a string")};
  return std::string(std::string_view(v));
}

double ReadDouble(element v, std::string_view field) {
  switch (v.type()) {
    case element_type::DOUBLE: return double(v);
    case element_type::INT64: return double(int64_t(v));
    case element_type::UINT64: return double(uint64_t(v));
    case element_type::STRING: {
      std::string_view text = v;
      if (auto d = wire::ParseDoubleText(text)) return *d;
      throw FieldError{InvalidField(field, text, "a number")};
    }
    default: throw FieldError{InvalidField(field, Shown(v), "a number")};
  }
}

int64_t ReadInt64(element v, std::string_view field) {
  switch (v.type()) {
    case element_type::INT64: return int64_t(v);
    case element_type::DOUBLE: {
      double d = v;
      if (std::floor(d) == d && std::abs(d) < 9.2e18) return int64_t(d);
      break;
    }
    case element_type::STRING: {
      std::string_view text = v;
      if (auto i = wire::ParseInt64Text(text)) return *i;
      break;
    }
    default: break;
  }
  throw FieldError{InvalidField(field, Shown(v), "a 64-bit integer")};
}

template <typename Fn>
void ForEachObject(element v, std::string_view field, Fn&& fn) {
  if (v.type() == element_type::NULL_VALUE) return;
  if (v.type() != element_type::ARRAY) throw FieldError{InvalidField(field, Shown(v), "a list")};
  for (element item : simdjson::dom::array(v)) {
    if (item.type() != element_type::OBJECT) {
      throw FieldError{InvalidField(field, Shown(item), "a list of objects")};
    }
    fn(simdjson::dom::object(item));
  }
}

store::Metric ReadMetric(simdjson::dom::object object) {
  store::Metric m;
  bool has_key = false, has_value = false, has_timestamp = false;
  for (auto [name, v] : object) {
    if (v.type() == element_type::NULL_VALUE) continue;
    if (name == "key") {
      m.key = ReadString(v, "metrics.key");
      has_key = true;
    } else if (name == "value") {
      m.value = ReadDouble(v, "metrics.value");
      has_value = true;
    } else if (name == "timestamp") {
      m.timestamp = ReadInt64(v, "metrics.timestamp");
      has_timestamp = true;
    } else if (name == "step") {
      m.step = ReadInt64(v, "metrics.step");
    }
  }
  if (!has_key) throw FieldError{MissingField("metrics.key")};
  if (!has_value) {
    throw FieldError{InvalidArgument("Got invalid value None for metric '" + m.key +
                                     "'. Please specify value as a valid double (64-bit "
                                     "floating point)")};
  }
  if (!has_timestamp) {
    throw FieldError{InvalidArgument("Got invalid timestamp None for metric '" + m.key +
                                     "'. Timestamp must be a nonnegative long (64-bit integer)")};
  }
  return m;
}

template <typename KeyValue>
KeyValue ReadKeyValue(simdjson::dom::object object, std::string_view list) {
  KeyValue kv;
  bool has_key = false;
  for (auto [name, v] : object) {
    if (v.type() == element_type::NULL_VALUE) continue;
    if (name == "key") {
      kv.key = ReadString(v, std::string(list) + ".key");
      has_key = true;
    } else if (name == "value") {
      kv.value = ReadString(v, std::string(list) + ".value");
    }
  }
  if (!has_key) throw FieldError{MissingField(std::string(list) + ".key")};
  return kv;
}

}  // namespace

Result<tracking::LogBatchRequest> ParseLogBatch(std::string_view body) {
  thread_local simdjson::dom::parser parser;
  element doc;
  if (auto error = parser.parse(body.data(), body.size()).get(doc); error) {
    return InvalidArgument(std::string("Malformed JSON request body: ") +
                           simdjson::error_message(error));
  }
  if (doc.type() != element_type::OBJECT) {
    return InvalidArgument("The request body must be a JSON object.");
  }
  tracking::LogBatchRequest request;
  try {
    for (auto [name, v] : simdjson::dom::object(doc)) {
      if (name == "run_id" || name == "run_uuid") {
        if (v.type() == element_type::NULL_VALUE) continue;
        std::string id = ReadString(v, name);
        if (request.run_id.empty()) request.run_id = std::move(id);
      } else if (name == "metrics") {
        if (v.type() == element_type::ARRAY) request.metrics.reserve(simdjson::dom::array(v).size());
        ForEachObject(v, "metrics", [&](simdjson::dom::object o) {
          request.metrics.push_back(ReadMetric(o));
        });
      } else if (name == "params") {
        ForEachObject(v, "params", [&](simdjson::dom::object o) {
          request.params.push_back(ReadKeyValue<store::Param>(o, "params"));
        });
      } else if (name == "tags") {
        ForEachObject(v, "tags", [&](simdjson::dom::object o) {
          request.tags.push_back(ReadKeyValue<store::Tag>(o, "tags"));
        });
      }
    }
  } catch (const FieldError& e) {
    return e.status;
  } catch (const simdjson::simdjson_error& e) {
    return InvalidArgument(std::string("Malformed JSON request body: ") + e.what());
  }
  if (request.run_id.empty()) return MissingField("run_id");
  return request;
}

}  // namespace cairn::api::mlflow
