#include "pipelines/step.h"

#include <algorithm>
#include <charconv>

namespace cairn::pipelines {

std::string StepContext::Input(const std::string& key, const std::string& fallback) const {
  if (!with.contains(key) || with[key].is_null()) return fallback;
  const nlohmann::json& v = with[key];
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

bool StepType::Produces(std::string_view output) const {
  for (const std::string& o : outputs) {
    if (!o.empty() && o.back() == '*') {
      const std::string_view prefix(o.data(), o.size() - 1);
      if (output.size() > prefix.size() && output.substr(0, prefix.size()) == prefix) return true;
    } else if (o == output) {
      return true;
    }
  }
  return false;
}

void StepTable::Add(StepType type) {
  std::string name = type.name;
  types_[name] = std::move(type);
}

const StepType* StepTable::Find(std::string_view name) const {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : &it->second;
}

StepType* StepTable::Mutable(std::string_view name) {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : &it->second;
}

std::vector<std::string> StepTable::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, type] : types_) names.push_back(name);
  return names;
}

Status StepTable::SetMaker(std::string_view name, std::function<std::unique_ptr<Step>()> make) {
  StepType* type = Mutable(name);
  if (type == nullptr) return NotFound("no step type '" + std::string(name) + "'");
  type->make = std::move(make);
  return Status::Ok();
}

namespace {

bool HasReference(const nlohmann::json& v) {
  return v.is_string() && v.get<std::string>().find("${{") != std::string::npos;
}

// A literal input that must be one of `allowed`.
void CheckOneOf(const nlohmann::json& with, const std::string& key,
                const std::vector<std::string>& allowed, std::vector<std::string>& errors) {
  if (!with.contains(key) || HasReference(with[key])) return;
  const std::string v = with[key].is_string() ? with[key].get<std::string>() : with[key].dump();
  if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return;
  std::string list;
  for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
  errors.push_back(key + ": '" + v + "' is not one of " + list);
}

bool ParseNumber(const std::string& s, double& out) {
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && p == end;
}

// A literal number within [lo, hi].
void CheckNumber(const nlohmann::json& with, const std::string& key, double lo, double hi,
                 std::vector<std::string>& errors) {
  if (!with.contains(key) || HasReference(with[key])) return;
  const nlohmann::json& v = with[key];
  double d = 0;
  if (v.is_number()) {
    d = v.get<double>();
  } else if (!v.is_string() || !ParseNumber(v.get<std::string>(), d)) {
    errors.push_back(key + ": '" + (v.is_string() ? v.get<std::string>() : v.dump()) +
                     "' is not a number");
    return;
  }
  if (d < lo || d > hi) {
    errors.push_back(key + ": " + (v.is_string() ? v.get<std::string>() : v.dump()) +
                     " is outside [" + nlohmann::json(lo).dump() + ", " +
                     nlohmann::json(hi).dump() + "]");
  }
}

StepType Type(std::string name, std::vector<InputSpec> inputs, std::vector<std::string> outputs,
              std::function<std::vector<std::string>(const nlohmann::json&)> check = {}) {
  StepType t;
  t.name = std::move(name);
  t.inputs = std::move(inputs);
  t.outputs = std::move(outputs);
  t.check = std::move(check);
  return t;
}

StepType Approval(std::string name, std::vector<InputSpec> inputs,
                  std::vector<std::string> outputs,
                  std::function<std::vector<std::string>(const nlohmann::json&)> check) {
  StepType t = Type(std::move(name), std::move(inputs), std::move(outputs), std::move(check));
  t.kind = StepType::Kind::kApproval;
  return t;
}

}  // namespace

StepTable BuiltinStepTypes() {
  StepTable table;
  table.Add(Type("data.snapshot", {{"name", true}, {"path", true}, {"description"}},
             {"version", "digest", "dataset", "created"}));
  table.Add(Type("train.xgboost", {{"data", true}, {"target", true}, {"params"}, {"experiment"},
                        {"register"}, {"alias"}, {"task"}, {"ignore"}, {"file"},
                        {"validation_fraction"}, {"seed"}, {"run_name"}},
             {"run_id", "model_uri", "version", "registered_model", "dataset",
                         "auc", "log_loss", "accuracy", "precision", "recall", "f1", "macro_f1",
                         "rmse", "mae", "r2"},
             [](const nlohmann::json& with) {
               std::vector<std::string> errors;
               CheckOneOf(with, "task", {"auto", "binary", "multiclass", "regression"}, errors);
               CheckNumber(with, "validation_fraction", 0.0001, 0.9999, errors);
               if (with.contains("params") && !with["params"].is_object()) {
                 errors.push_back("params: expected a map of XGBoost parameters");
               }
               if (with.contains("alias") && !with.contains("register")) {
                 errors.push_back("alias: needs 'register' (the model to register)");
               }
               return errors;
             }));
  table.Add(Type("model.compare", {{"candidate", true}, {"baseline", true}, {"data", true}, {"metric"},
                        {"min_improvement"}, {"experiment"}, {"missing_baseline"}},
             {"better", "candidate_*", "baseline_*", "rows_kept", "run_id", "metric",
                         "improvement"},
             [](const nlohmann::json& with) {
               std::vector<std::string> errors;
               CheckNumber(with, "min_improvement", 0, 1e9, errors);
               CheckOneOf(with, "missing_baseline", {"fail", "better"}, errors);
               return errors;
             }));
  table.Add(Type("model.register", {{"model", true}, {"name", true}, {"alias"}, {"description"}},
             {"version", "model_uri"}));
  table.Add(Approval("gate.approval", {{"message"}, {"timeout"}, {"require_other_approver"}},
             {"approved_by", "comment", "decision"},
             [](const nlohmann::json& with) {
               std::vector<std::string> errors;
               CheckOneOf(with, "require_other_approver", {"true", "false"}, errors);
               if (with.contains("timeout") && !HasReference(with["timeout"])) {
                 const std::string t = with["timeout"].is_string()
                                           ? with["timeout"].get<std::string>()
                                           : with["timeout"].dump();
                 Result<int64_t> ms = ParseDurationMillis(t);
                 if (!ms.ok()) errors.push_back("timeout: " + ms.status().message());
               }
               return errors;
             }));
  StepType job = Type("job.command", {{"file"}, {"spec"}, {"compute"}, {"params"}},
                      {"run_id", "status", "job_id", "exit_code", "model_uri", "output_*"},
                      [](const nlohmann::json& with) {
                        std::vector<std::string> errors;
                        if (with.contains("file") == with.contains("spec")) {
                          errors.push_back("file: give either file (a job file) or spec (the "
                                           "job inline), not both or neither");
                        }
                        if (with.contains("spec") && !with["spec"].is_object()) {
                          errors.push_back("spec: expected the job spec as a map");
                        }
                        if (with.contains("params") && !with["params"].is_object()) {
                          errors.push_back("params: expected a map of inputs");
                        }
                        return errors;
                      });
#if !__has_include("client/job_client.h")
  job.unavailable = "job.command needs the jobs service, which this build does not have";
#endif
  table.Add(std::move(job));
  table.Add(Type("endpoint.deploy", {{"endpoint", true}, {"model", true}, {"strategy"}, {"deployment"},
                        {"steps"}, {"interval"}, {"max_error_rate"}, {"max_p99_ms"},
                        {"split"}, {"mirror"}, {"min_requests"}},
             {"deployment", "previous", "strategy"},
             [](const nlohmann::json& with) {
               std::vector<std::string> errors;
               CheckOneOf(with, "strategy", {"replace", "blue-green", "canary", "ab", "shadow"},
                          errors);
               CheckNumber(with, "max_error_rate", 0, 1, errors);
               CheckNumber(with, "max_p99_ms", 0, 1e9, errors);
               CheckNumber(with, "split", 1, 99, errors);
               CheckNumber(with, "mirror", 1, 50, errors);
               if (with.contains("steps")) {
                 const nlohmann::json& s = with["steps"];
                 bool ok = s.is_array() && !s.empty();
                 double last = 0;
                 for (const auto& v : ok ? s : nlohmann::json::array()) {
                   double d = 0;
                   const bool num = v.is_number()   ? (d = v.get<double>(), true)
                                    : v.is_string() ? ParseNumber(v.get<std::string>(), d)
                                                    : false;
                   if (!num || d <= last || d > 100) ok = false;
                   last = d;
                 }
                 if (!ok || last != 100) {
                   errors.push_back("steps: expected increasing percentages ending at 100, e.g. "
                                    "[10, 50, 100]");
                 }
               }
               if (with.contains("interval") && !HasReference(with["interval"])) {
                 const std::string t = with["interval"].is_string()
                                           ? with["interval"].get<std::string>()
                                           : with["interval"].dump();
                 Result<int64_t> ms = ParseDurationMillis(t);
                 if (!ms.ok()) errors.push_back("interval: " + ms.status().message());
               }
               return errors;
             }));
  return table;
}

Result<int64_t> ParseDurationMillis(std::string_view text) {
  if (text.empty()) return InvalidArgument("empty duration");
  int64_t unit = 1000;
  std::string_view digits = text;
  if (text.size() >= 2 && text.substr(text.size() - 2) == "ms") {
    unit = 1;
    digits = text.substr(0, text.size() - 2);
  } else {
    switch (text.back()) {
      case 's': unit = 1000; digits.remove_suffix(1); break;
      case 'm': unit = 60'000; digits.remove_suffix(1); break;
      case 'h': unit = 3'600'000; digits.remove_suffix(1); break;
      case 'd': unit = 86'400'000; digits.remove_suffix(1); break;
      default: break;
    }
  }
  double value = 0;
  if (!ParseNumber(std::string(digits), value) || value < 0) {
    return InvalidArgument("'" + std::string(text) +
                           "' is not a duration (e.g. 30s, 5m, 2h, 1d, 500ms)");
  }
  return static_cast<int64_t>(value * static_cast<double>(unit));
}

}  // namespace cairn::pipelines
