#include "triggers/trigger_spec.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "triggers/cron.h"

namespace cairn::triggers {

namespace {

using Json = nlohmann::json;

const std::set<std::string> kKinds = {"schedule", "drift", "metric", "dataset"};
const std::set<std::string> kStatistics = {"score", "p_value", "statistic", "psi"};

bool IsName(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

// A number written as a YAML scalar (a string here) or a JSON number.
std::optional<double> Number(const Json& v) {
  if (v.is_number()) return v.get<double>();
  if (!v.is_string()) return std::nullopt;
  const std::string s = v.get<std::string>();
  double d = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

class Checker {
 public:
  std::vector<TriggerProblem> problems;

  void Problem(std::string path, std::string message) {
    problems.push_back({std::move(path), std::move(message)});
  }

  // Checks the keys of a trigger's map; returns false when it is not a map.
  bool Keys(const std::string& path, const Json& v, const std::set<std::string>& allowed,
            const std::vector<std::string>& required) {
    if (!v.is_object()) {
      std::string list;
      for (const auto& k : required) list += (list.empty() ? "" : ", ") + k;
      Problem(path, "expected a map with " + list);
      return false;
    }
    for (const auto& [k, _] : v.items()) {
      if (!allowed.contains(k)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        Problem(path + "." + k, "unknown key (expected " + list + ")");
      }
    }
    for (const auto& k : required) {
      if (!v.contains(k) || v[k].is_null()) Problem(path + "." + k, "required");
    }
    return true;
  }

  void NameField(const std::string& path, const Json& v, const char* key, const char* what) {
    if (!v.contains(key) || v[key].is_null()) return;
    if (!v[key].is_string() || !IsName(v[key].get<std::string>())) {
      Problem(path + "." + key, std::string("expected ") + what +
                                    " (letters, digits, '.', '_' or '-')");
    }
  }

  void Check(const Json& triggers) {
    if (!triggers.is_array()) {
      Problem("triggers", "expected a list of triggers");
      return;
    }
    for (size_t i = 0; i < triggers.size(); ++i) {
      const std::string path = "triggers[" + std::to_string(i) + "]";
      const Json& item = triggers[i];
      if (!item.is_object() || item.size() != 1 || !kKinds.contains(item.begin().key())) {
        Problem(path, "each trigger is one of schedule, drift, metric, dataset");
        continue;
      }
      const std::string kind = item.begin().key();
      const Json& v = item.begin().value();
      const std::string at = path + "." + kind;
      if (kind == "schedule") {
        if (!v.is_string()) {
          Problem(at, "expected a cron expression, e.g. \"0 3 * * *\"");
        } else if (auto cron = CronSchedule::Parse(v.get<std::string>()); !cron.ok()) {
          Problem(at, cron.status().message());
        }
      } else if (kind == "drift") {
        if (!Keys(at, v, {"endpoint", "threshold", "column", "statistic"},
                  {"endpoint", "threshold"})) {
          continue;
        }
        NameField(at, v, "endpoint", "an endpoint name");
        const bool column = v.contains("column") && !v["column"].is_null();
        if (column && (!v["column"].is_string() || v["column"].get<std::string>().empty())) {
          Problem(at + ".column", "expected a column name");
        }
        if (v.contains("statistic") && !v["statistic"].is_null()) {
          if (!v["statistic"].is_string() ||
              !kStatistics.contains(v["statistic"].get<std::string>())) {
            Problem(at + ".statistic", "expected one of score, p_value, statistic, psi");
          } else if (!column) {
            Problem(at + ".statistic", "only with column (the share of drifted columns has no "
                                       "statistic)");
          }
        }
        if (v.contains("threshold") && !v["threshold"].is_null()) {
          const auto t = Number(v["threshold"]);
          if (!t || *t < 0 || (!column && *t > 1)) {
            Problem(at + ".threshold",
                    column ? "expected a number ≥ 0"
                           : "expected a number from 0 to 1 (the share of drifted columns)");
          }
        }
      } else if (kind == "metric") {
        if (!Keys(at, v, {"endpoint", "name", "below", "window", "min_count"},
                  {"endpoint", "name", "below"})) {
          continue;
        }
        NameField(at, v, "endpoint", "an endpoint name");
        if (v.contains("name") && !v["name"].is_null()) {
          bool known = false;
          std::string list;
          for (const char* const* m = kMetricNames; *m != nullptr; ++m) {
            known = known || (v["name"].is_string() && v["name"].get<std::string>() == *m);
            list += (list.empty() ? "" : ", ") + std::string(*m);
          }
          if (!known) Problem(at + ".name", "expected one of " + list);
        }
        if (v.contains("below") && !v["below"].is_null() && !Number(v["below"])) {
          Problem(at + ".below", "expected a number");
        }
        if (v.contains("window") && !v["window"].is_null()) {
          auto w = v["window"].is_string() ? ParseDuration(v["window"].get<std::string>())
                                           : Result<int64_t>(InvalidArgument(""));
          if (!w.ok() || *w < 60'000) {
            Problem(at + ".window", "expected a duration of at least a minute, e.g. 30m, 1h, 7d");
          }
        }
        if (v.contains("min_count") && !v["min_count"].is_null()) {
          const auto n = Number(v["min_count"]);
          if (!n || *n < 1 || *n != std::floor(*n)) {
            Problem(at + ".min_count", "expected a whole number ≥ 1");
          }
        }
      } else {  // dataset
        if (v.is_string()) {
          if (!IsName(v.get<std::string>())) {
            Problem(at, "expected a dataset name (letters, digits, '.', '_' or '-')");
          }
        } else if (Keys(at, v, {"name"}, {"name"})) {
          NameField(at, v, "name", "a dataset name");
        }
      }
    }
  }
};

Json Normalize(const std::string& kind, const Json& v) {
  if (kind == "schedule") return v;
  if (kind == "dataset") return Json{{"name", v.is_string() ? v : v["name"]}};
  Json out = Json::object();
  if (kind == "drift") {
    out["endpoint"] = v["endpoint"];
    out["threshold"] = *Number(v["threshold"]);
    if (v.contains("column") && !v["column"].is_null()) {
      out["column"] = v["column"];
      out["statistic"] = v.contains("statistic") && !v["statistic"].is_null()
                             ? v["statistic"]
                             : Json("score");
    }
    return out;
  }
  out["endpoint"] = v["endpoint"];
  out["name"] = v["name"];
  out["below"] = *Number(v["below"]);
  const std::string window = v.contains("window") && v["window"].is_string()
                                 ? v["window"].get<std::string>()
                                 : "1h";
  out["window"] = window;
  out["window_ms"] = *ParseDuration(window);
  out["min_count"] = v.contains("min_count") && !v["min_count"].is_null()
                         ? static_cast<int64_t>(*Number(v["min_count"]))
                         : int64_t{50};
  return out;
}

}  // namespace

const char* const kMetricNames[] = {"accuracy", "auc",  "log_loss", "precision", "recall",
                                    "positive_rate", "rmse", "mae", nullptr};

std::vector<TriggerProblem> ValidateTriggers(const Json& triggers) {
  Checker c;
  c.Check(triggers);
  return std::move(c.problems);
}

Result<std::vector<TriggerDef>> DeriveTriggers(std::string_view pipeline, const Json& triggers) {
  const auto problems = ValidateTriggers(triggers);
  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p.path + ": " + p.message;
    return InvalidArgument(message);
  }
  std::vector<TriggerDef> out;
  std::map<std::string, int> seen;
  for (size_t i = 0; i < triggers.size(); ++i) {
    const std::string kind = triggers[i].begin().key();
    const int n = ++seen[kind];
    TriggerDef d;
    d.id = std::string(pipeline) + "/" + kind + (n > 1 ? "-" + std::to_string(n) : "");
    d.kind = kind;
    d.position = static_cast<int64_t>(i);
    d.condition = Normalize(kind, triggers[i].begin().value());
    out.push_back(std::move(d));
  }
  return out;
}

bool IsPValue(std::string_view statistic, std::string_view test) {
  if (statistic == "p_value") return true;
  return statistic == "score" && (test == "ks" || test == "chi2" || test == "z");
}

std::string DescribeCondition(std::string_view kind, const Json& c) {
  auto str = [&](const char* key) {
    return c.contains(key) && c[key].is_string() ? c[key].get<std::string>() : std::string();
  };
  auto num = [&](const char* key) {
    return c.contains(key) && c[key].is_number() ? FormatNumber(c[key].get<double>()) : "?";
  };
  if (kind == "schedule") return (c.is_string() ? c.get<std::string>() : "?") + " (UTC)";
  if (kind == "dataset") return "new version of dataset " + str("name");
  if (kind == "drift") {
    if (c.contains("column")) {
      const std::string stat = str("statistic");
      return str("endpoint") + ": column " + str("column") + " " + stat +
             (stat == "p_value" ? " < " : stat == "score" ? " past " : " ≥ ") + num("threshold");
    }
    return str("endpoint") + ": drift share ≥ " + num("threshold");
  }
  if (kind == "metric") {
    return str("endpoint") + ": " + str("name") + " < " + num("below") + " over " + str("window") +
           " (≥ " + (c.contains("min_count") ? c["min_count"].dump() : "50") + " labels)";
  }
  return c.dump();
}

Result<int64_t> ParseDuration(std::string_view text) {
  if (text.empty()) return InvalidArgument("empty duration");
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || n < 0) {
    return InvalidArgument("'" + std::string(text) + "' is not a duration (30s, 15m, 1h, 7d)");
  }
  const std::string_view unit(p, text.data() + text.size() - p);
  int64_t scale = 0;
  if (unit.empty() || unit == "s") {
    scale = 1000;
  } else if (unit == "ms") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60'000;
  } else if (unit == "h") {
    scale = 3'600'000;
  } else if (unit == "d") {
    scale = 86'400'000;
  } else if (unit == "w") {
    scale = 7 * 86'400'000LL;
  } else {
    return InvalidArgument("'" + std::string(text) + "' is not a duration (30s, 15m, 1h, 7d)");
  }
  if (n > (int64_t{1} << 50) / scale) return InvalidArgument("duration '" + std::string(text) + "' is too long");
  return n * scale;
}

std::string FormatDuration(int64_t ms) {
  if (ms % 86'400'000 == 0 && ms > 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms % 3'600'000 == 0 && ms > 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0 && ms > 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace cairn::triggers
