#include "golden_runner.h"

#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

namespace cairn::testing {

namespace {

using nlohmann::json;
using Vars = std::map<std::string, std::string>;

std::string Substitute(std::string text, const Vars& vars) {
  for (const auto& [name, value] : vars) {
    std::string token = "${" + name + "}";
    for (size_t pos = text.find(token); pos != std::string::npos; pos = text.find(token, pos)) {
      text.replace(pos, token.size(), value);
      pos += value.size();
    }
  }
  return text;
}

json SubstituteJson(const json& j, const Vars& vars) {
  if (j.is_string()) return Substitute(j.get<std::string>(), vars);
  if (j.is_array()) {
    json out = json::array();
    for (const auto& e : j) out.push_back(SubstituteJson(e, vars));
    return out;
  }
  if (j.is_object()) {
    json out = json::object();
    for (auto it = j.begin(); it != j.end(); ++it) out[it.key()] = SubstituteJson(it.value(), vars);
    return out;
  }
  return j;
}

void Match(const json& expected, const json& actual, const std::string& where, const Vars& vars,
           std::vector<std::string>& errors) {
  if (expected.is_string()) {
    std::string e = expected.get<std::string>();
    if (e == "$any") return;
    if (e == "$string") {
      if (!actual.is_string()) errors.push_back(where + ": expected a string, got " + actual.dump());
      return;
    }
    if (e == "$number") {
      if (!actual.is_number()) errors.push_back(where + ": expected a number, got " + actual.dump());
      return;
    }
    e = Substitute(e, vars);
    if (!actual.is_string() || actual.get<std::string>() != e) {
      errors.push_back(where + ": expected \"" + e + "\", got " + actual.dump());
    }
    return;
  }
  if (expected.is_object()) {
    if (!actual.is_object()) {
      errors.push_back(where + ": expected an object, got " + actual.dump());
      return;
    }
    for (auto it = expected.begin(); it != expected.end(); ++it) {
      bool absent = it.value().is_string() && it.value().get<std::string>() == "$absent";
      if (!actual.contains(it.key())) {
        if (!absent) errors.push_back(where + "." + it.key() + ": missing");
        continue;
      }
      if (absent) {
        errors.push_back(where + "." + it.key() + ": expected absent, got " +
                         actual[it.key()].dump());
        continue;
      }
      Match(it.value(), actual[it.key()], where + "." + it.key(), vars, errors);
    }
    return;
  }
  if (expected.is_array()) {
    if (!actual.is_array() || actual.size() != expected.size()) {
      errors.push_back(where + ": expected " + expected.dump() + ", got " + actual.dump());
      return;
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      Match(expected[i], actual[i], where + "[" + std::to_string(i) + "]", vars, errors);
    }
    return;
  }
  if (expected != actual) {
    errors.push_back(where + ": expected " + expected.dump() + ", got " + actual.dump());
  }
}

const json* Lookup(const json& j, const std::string& dotted) {
  const json* cur = &j;
  std::stringstream ss(dotted);
  std::string part;
  while (std::getline(ss, part, '.')) {
    if (cur->is_array()) {
      size_t index = std::stoul(part);
      if (index >= cur->size()) return nullptr;
      cur = &(*cur)[index];
    } else if (cur->is_object() && cur->contains(part)) {
      cur = &(*cur)[part];
    } else {
      return nullptr;
    }
  }
  return cur;
}

}  // namespace

std::vector<std::string> RunGoldenFile(const std::string& path, const GoldenTransport& transport) {
  std::vector<std::string> errors;
  std::ifstream in(path);
  if (!in) return {"cannot open " + path};
  json steps = json::parse(in, nullptr, false);
  if (!steps.is_array()) return {path + " is not a JSON array of steps"};
  Vars vars;
  for (const auto& step : steps) {
    std::string name = step.value("name", "?");
    std::string target = Substitute(step.value("path", ""), vars);
    std::string body;
    if (step.contains("raw_body")) {
      body = Substitute(step["raw_body"].get<std::string>(), vars);
    } else if (step.contains("body")) {
      body = SubstituteJson(step["body"], vars).dump();
    }
    GoldenReply reply = transport(step.value("method", "GET"), target, body);
    int want = step.value("status", 200);
    if (reply.status != want) {
      errors.push_back(name + ": status " + std::to_string(reply.status) + ", expected " +
                       std::to_string(want) + " (body " + reply.body.substr(0, 300) + ")");
      continue;
    }
    json actual = json::parse(reply.body, nullptr, false);
    if (step.contains("expect")) {
      if (actual.is_discarded()) {
        errors.push_back(name + ": response is not JSON: " + reply.body.substr(0, 300));
        continue;
      }
      std::vector<std::string> step_errors;
      Match(step["expect"], actual, name, vars, step_errors);
      errors.insert(errors.end(), step_errors.begin(), step_errors.end());
    }
    if (step.contains("capture")) {
      for (auto it = step["capture"].begin(); it != step["capture"].end(); ++it) {
        const json* value = Lookup(actual, it.value().get<std::string>());
        if (value == nullptr) {
          errors.push_back(name + ": nothing to capture at " + it.value().get<std::string>());
          continue;
        }
        vars[it.key()] = value->is_string() ? value->get<std::string>() : value->dump();
      }
    }
  }
  return errors;
}

}  // namespace cairn::testing
