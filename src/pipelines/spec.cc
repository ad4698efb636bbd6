#include "pipelines/spec.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <set>

#include "pipelines/expression.h"
#include "triggers/trigger_spec.h"

namespace cairn::pipelines {

namespace {

using Json = nlohmann::json;

int LineOf(const YAML::Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

// YAML → JSON keeping scalars as the text written (numbers and booleans stay strings, so a step
// sees exactly what the file says).
Json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = ToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(ToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar:
      return node.Scalar();
    default:
      return nullptr;
  }
}

// The lines of a `triggers` node's items and fields, by path ("triggers[0].drift.threshold").
void TriggerLines(const YAML::Node& triggers, std::map<std::string, int>& lines) {
  lines["triggers"] = LineOf(triggers);
  auto item = [&](const std::string& path, const YAML::Node& key, const YAML::Node& value) {
    if (!key.IsScalar()) return;
    const std::string at = path + "." + key.Scalar();
    lines[at] = LineOf(value);
    if (value.IsMap()) {
      for (const auto& kv : value) {
        if (kv.first.IsScalar()) lines[at + "." + kv.first.Scalar()] = LineOf(kv.second);
      }
    }
  };
  if (triggers.IsSequence()) {
    for (size_t i = 0; i < triggers.size(); ++i) {
      const std::string path = "triggers[" + std::to_string(i) + "]";
      lines[path] = LineOf(triggers[i]);
      if (triggers[i].IsMap()) {
        for (const auto& kv : triggers[i]) item(path, kv.first, kv.second);
      }
    }
  } else if (triggers.IsMap()) {
    size_t i = 0;
    for (const auto& kv : triggers) {
      const std::string path = "triggers[" + std::to_string(i++) + "]";
      lines[path] = LineOf(kv.first);
      item(path, kv.first, kv.second);
    }
  }
}

bool IsStepId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

class Validator {
 public:
  Validator(std::string_view file, const StepTable& table) : file_(file), table_(table) {}

  ParsedPipeline Run(std::string_view yaml) {
    out_.spec.file = file_;
    YAML::Node root;
    try {
      root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
      Error(e.mark.line + 1, "", "not valid YAML: " + e.msg);
      return std::move(out_);
    }
    if (!root.IsMap()) {
      Error(LineOf(root), "", "expected a map with name, params, triggers and steps");
      return std::move(out_);
    }
    // The checks below read nodes as scalars where the file should have them; a node of another
    // shape where a scalar is read (a map as a key, say) throws, and is reported, not a crash.
    try {
      Check(root);
    } catch (const YAML::Exception& e) {
      Error(e.mark.line + 1, "", "unexpected YAML here: " + e.msg);
    }
    return std::move(out_);
  }

 private:
  void Check(const YAML::Node& root) {
    static const std::set<std::string> kTop = {"name", "description", "experiment", "params",
                                               "triggers", "steps"};
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      if (!kTop.contains(key)) {
        Error(LineOf(kv.first), "", "unknown key '" + key +
                                        "' (expected name, description, experiment, params, "
                                        "triggers, steps)");
      }
    }
    ReadHeader(root);
    ReadSteps(root["steps"], root);
    if (!out_.errors.empty() && out_.spec.steps.empty()) return;
    CheckSteps();
  }

  void Error(int line, const std::string& step, std::string message) {
    out_.errors.push_back({file_, line, step, std::move(message)});
  }

  void ReadHeader(const YAML::Node& root) {
    PipelineSpec& spec = out_.spec;
    if (const YAML::Node name = root["name"]; name && name.IsScalar() && !name.Scalar().empty()) {
      spec.name = name.Scalar();
    } else {
      Error(name ? LineOf(name) : 1, "", "name: required (a non-empty string)");
    }
    if (const YAML::Node e = root["experiment"]) {
      if (e.IsScalar()) {
        spec.experiment = e.Scalar();
      } else {
        Error(LineOf(e), "", "experiment: expected an experiment name");
      }
    }
    if (const YAML::Node params = root["params"]) {
      if (!params.IsMap()) {
        Error(LineOf(params), "", "params: expected a map of parameter names to defaults");
      } else {
        for (const auto& kv : params) {
          const std::string key = kv.first.as<std::string>();
          if (!IsStepId(key)) {
            Error(LineOf(kv.first), "", "params: '" + key +
                                            "' is not a valid name (letters, digits, _ and -)");
          }
          if (kv.second.IsNull()) {
            spec.params[key] = std::nullopt;
          } else if (kv.second.IsScalar()) {
            spec.params[key] = kv.second.Scalar();
          } else {
            Error(LineOf(kv.second), "", "params." + key + ": expected a single value");
          }
        }
      }
    }
    if (const YAML::Node triggers = root["triggers"]) {
      // Kept as written: a list of {schedule|drift|metric|dataset: …}, or one such map.
      Json t = ToJson(triggers);
      if (t.is_object()) {
        Json list = Json::array();
        for (auto& [k, v] : t.items()) list.push_back(Json{{k, v}});
        t = list;
      }
      if (!t.is_array()) {
        Error(LineOf(triggers), "", "triggers: expected a list of triggers");
      } else {
        // Each problem at the line of the field it names (or of its nearest enclosing one).
        std::map<std::string, int> lines;
        TriggerLines(triggers, lines);
        for (const triggers::TriggerProblem& p : triggers::ValidateTriggers(t)) {
          std::string path = p.path;
          while (!lines.contains(path) && !path.empty()) {
            const size_t cut = path.find_last_of(".[");
            path = cut == std::string::npos ? "" : path.substr(0, cut);
          }
          Error(path.empty() ? LineOf(triggers) : lines[path], "", p.path + ": " + p.message);
        }
        spec.triggers = t;
      }
    }
  }

  void ReadStep(const std::string& id, const YAML::Node& node, int line) {
    StepSpec step;
    step.id = id;
    step.line = line;
    if (!IsStepId(id)) {
      Error(line, id, "step ids are 1 to 64 letters, digits, '_' or '-'");
    }
    if (!node.IsMap()) {
      Error(line, id, "expected a map with uses, needs, with, if");
      out_.spec.steps.push_back(std::move(step));
      return;
    }
    static const std::set<std::string> kKeys = {"id", "uses", "needs", "with", "if", "name"};
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      if (!kKeys.contains(key)) {
        Error(LineOf(kv.first), id, "unknown key '" + key + "' (expected uses, needs, with, if)");
      }
    }
    if (const YAML::Node uses = node["uses"]; uses && uses.IsScalar()) {
      step.uses = uses.Scalar();
      uses_lines_[id] = LineOf(uses);
    } else {
      Error(line, id, "uses: required (the step type, e.g. train.xgboost)");
    }
    if (const YAML::Node needs = node["needs"]) {
      needs_lines_[id] = LineOf(needs);
      if (needs.IsScalar()) {
        step.needs.push_back(needs.Scalar());
      } else if (needs.IsSequence()) {
        for (const auto& n : needs) {
          if (n.IsScalar()) {
            step.needs.push_back(n.Scalar());
          } else {
            Error(LineOf(n), id, "needs: expected step ids");
          }
        }
      } else {
        Error(LineOf(needs), id, "needs: expected a step id or a list of step ids");
      }
    }
    if (const YAML::Node with = node["with"]) {
      if (with.IsMap()) {
        step.with = ToJson(with);
        for (const auto& kv : with) {
          with_lines_[id][kv.first.as<std::string>()] = LineOf(kv.first);
        }
      } else if (!with.IsNull()) {
        Error(LineOf(with), id, "with: expected a map of inputs");
      }
    }
    if (const YAML::Node cond = node["if"]) {
      if_lines_[id] = LineOf(cond);
      if (cond.IsScalar()) {
        step.if_expr = cond.Scalar();
      } else {
        Error(LineOf(cond), id, "if: expected an expression");
      }
    }
    out_.spec.steps.push_back(std::move(step));
  }

  void ReadSteps(const YAML::Node& steps, const YAML::Node& root) {
    if (!steps) {
      Error(1, "", "steps: required (at least one step)");
      return;
    }
    std::set<std::string> seen;
    auto add = [&](const std::string& id, const YAML::Node& node, int line) {
      if (!seen.insert(id).second) {
        Error(line, id, "duplicate step id");
        return;
      }
      ReadStep(id, node, line);
    };
    if (steps.IsMap()) {
      for (const auto& kv : steps) add(kv.first.as<std::string>(), kv.second, LineOf(kv.first));
    } else if (steps.IsSequence()) {
      for (const auto& item : steps) {
        const YAML::Node id = item.IsMap() ? item["id"] : YAML::Node();
        if (!id || !id.IsScalar()) {
          Error(LineOf(item), "", "a step in a list needs an 'id'");
          continue;
        }
        add(id.Scalar(), item, LineOf(item));
      }
    } else {
      Error(LineOf(steps), "", "steps: expected a map (or list) of steps");
    }
    if (steps.IsDefined() && steps.size() == 0 && (steps.IsMap() || steps.IsSequence())) {
      Error(LineOf(steps), "", "steps: at least one step is needed");
    }
    (void)root;
  }

  int WithLine(const StepSpec& s, const std::string& key) const {
    auto it = with_lines_.find(s.id);
    if (it != with_lines_.end()) {
      auto k = it->second.find(key);
      if (k != it->second.end()) return k->second;
    }
    return s.line;
  }
  int LineIn(const std::map<std::string, int>& lines, const StepSpec& s) const {
    auto it = lines.find(s.id);
    return it == lines.end() ? s.line : it->second;
  }

  // Checks a reference made by step `s` at `line`.
  void CheckReference(const StepSpec& s, const Reference& ref, int line,
                      const std::set<std::string>& ancestors, const std::string& where) {
    if (ref.kind == Reference::Kind::kParam) {
      if (!out_.spec.params.contains(ref.name)) {
        Error(line, s.id, where + ": unknown parameter 'params." + ref.name +
                              "' (declare it under params)");
      }
      return;
    }
    const StepSpec* target = out_.spec.FindStep(ref.step);
    if (target == nullptr) {
      Error(line, s.id, where + ": '" + ref.ToString() + "' refers to unknown step '" + ref.step +
                            "'");
      return;
    }
    if (!ancestors.contains(ref.step)) {
      Error(line, s.id, where + ": '" + ref.ToString() + "' refers to step '" + ref.step +
                            "', which this step does not need (add it to needs)");
      return;
    }
    const StepType* type = table_.Find(target->uses);
    if (type != nullptr && !type->Produces(ref.name)) {
      std::string list;
      for (const std::string& o : type->outputs) list += (list.empty() ? "" : ", ") + o;
      Error(line, s.id, where + ": step '" + ref.step + "' (" + target->uses +
                            ") has no output '" + ref.name + "' (outputs: " + list + ")");
    }
  }

  void CheckValueRefs(const StepSpec& s, const Json& v, int line,
                      const std::set<std::string>& ancestors, const std::string& where) {
    if (v.is_string()) {
      Result<std::vector<Reference>> refs = FindReferences(v.get<std::string>());
      if (!refs.ok()) {
        Error(line, s.id, where + ": " + refs.status().message());
        return;
      }
      for (const Reference& r : *refs) CheckReference(s, r, line, ancestors, where);
    } else if (v.is_array() || v.is_object()) {
      for (const auto& item : v) CheckValueRefs(s, item, line, ancestors, where);
    }
  }

  void CheckSteps() {
    PipelineSpec& spec = out_.spec;
    std::vector<std::string> known = table_.Names();
    // Step types and inputs.
    for (const StepSpec& s : spec.steps) {
      if (s.uses.empty()) continue;
      const StepType* type = table_.Find(s.uses);
      const int uses_line = LineIn(uses_lines_, s);
      if (type == nullptr) {
        std::string list;
        for (const std::string& n : known) list += (list.empty() ? "" : ", ") + n;
        Error(uses_line, s.id, "unknown step type '" + s.uses + "' (known: " + list + ")");
        continue;
      }
      if (!type->unavailable.empty()) Error(uses_line, s.id, type->unavailable);
      for (const InputSpec& in : type->inputs) {
        if (in.required && (!s.with.contains(in.name) || s.with[in.name].is_null())) {
          Error(s.line, s.id, "with." + in.name + ": required by " + s.uses);
        }
      }
      for (const auto& [key, value] : s.with.items()) {
        bool declared = false;
        for (const InputSpec& in : type->inputs) declared = declared || in.name == key;
        if (!declared) {
          std::string list;
          for (const InputSpec& in : type->inputs) list += (list.empty() ? "" : ", ") + in.name;
          Error(WithLine(s, key), s.id,
                "with." + key + ": unknown input of " + s.uses + " (inputs: " + list + ")");
        }
      }
      if (type->check) {
        for (const std::string& problem : type->check(s.with)) {
          const std::string key = problem.substr(0, problem.find(':'));
          Error(WithLine(s, key), s.id, "with." + problem);
        }
      }
    }
    // Needs: known, not self, no cycles.
    for (const StepSpec& s : spec.steps) {
      for (const std::string& n : s.needs) {
        if (n == s.id) {
          Error(LineIn(needs_lines_, s), s.id, "needs: a step cannot need itself");
        } else if (spec.FindStep(n) == nullptr) {
          Error(LineIn(needs_lines_, s), s.id, "needs: unknown step '" + n + "'");
        }
      }
    }
    CheckCycles();  // unknown needs are passed over
    // References (in with and if) and the if expressions.
    for (const StepSpec& s : spec.steps) {
      const std::vector<std::string> anc = Ancestors(spec, s.id);
      const std::set<std::string> ancestors(anc.begin(), anc.end());
      for (const auto& [key, value] : s.with.items()) {
        CheckValueRefs(s, value, WithLine(s, key), ancestors, "with." + key);
      }
      if (!s.if_expr.empty()) {
        Result<Expression> e = Expression::Parse(s.if_expr);
        const int line = LineIn(if_lines_, s);
        if (!e.ok()) {
          Error(line, s.id, "if: " + e.status().message());
        } else {
          for (const Reference& r : e->references()) CheckReference(s, r, line, ancestors, "if");
        }
      }
    }
  }

  void CheckCycles() {
    const PipelineSpec& spec = out_.spec;
    std::map<std::string, int> state;  // 0 new, 1 on the path, 2 done
    std::vector<std::string> path;
    std::set<std::string> reported;
    std::function<void(const StepSpec&)> visit = [&](const StepSpec& s) {
      state[s.id] = 1;
      path.push_back(s.id);
      for (const std::string& n : s.needs) {
        const StepSpec* next = spec.FindStep(n);
        if (next == nullptr) continue;
        if (state[n] == 1) {
          std::string cycle;
          auto it = std::find(path.begin(), path.end(), n);
          for (; it != path.end(); ++it) cycle += *it + " → ";
          cycle += n;
          if (reported.insert(s.id).second) {
            Error(LineIn(needs_lines_, s), s.id, "needs: cycle " + cycle);
          }
        } else if (state[n] == 0) {
          visit(*next);
        }
      }
      path.pop_back();
      state[s.id] = 2;
    };
    for (const StepSpec& s : spec.steps) {
      if (state[s.id] == 0) visit(s);
    }
  }

  std::string file_;
  const StepTable& table_;
  ParsedPipeline out_;
  std::map<std::string, int> uses_lines_, needs_lines_, if_lines_;
  std::map<std::string, std::map<std::string, int>> with_lines_;
};

}  // namespace

const StepSpec* PipelineSpec::FindStep(std::string_view id) const {
  for (const StepSpec& s : steps) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

std::string SpecError::ToString() const {
  std::string out = file + ":" + std::to_string(line) + ": ";
  if (!step.empty()) out += "step '" + step + "': ";
  return out + message;
}

ParsedPipeline ParsePipeline(std::string_view yaml, std::string_view file,
                             const StepTable& table) {
  return Validator(file, table).Run(yaml);
}

Result<PipelineSpec> LoadPipeline(std::string_view yaml, std::string_view file,
                                  const StepTable& table) {
  ParsedPipeline parsed = ParsePipeline(yaml, file, table);
  if (parsed.errors.empty()) return std::move(parsed.spec);
  std::string message;
  for (const SpecError& e : parsed.errors) message += (message.empty() ? "" : "\n") + e.ToString();
  return InvalidArgument(message);
}

Result<std::map<std::string, std::string>> ResolveParams(
    const PipelineSpec& spec, const std::map<std::string, std::string>& given) {
  std::map<std::string, std::string> values;
  for (const auto& [key, value] : given) {
    if (!spec.params.contains(key)) {
      std::string list;
      for (const auto& [k, v] : spec.params) list += (list.empty() ? "" : ", ") + k;
      return InvalidArgument("param '" + key + "': pipeline '" + spec.name +
                             "' declares no such parameter" +
                             (list.empty() ? "" : " (params: " + list + ")"));
    }
    values[key] = value;
  }
  for (const auto& [key, def] : spec.params) {
    if (values.contains(key)) continue;
    if (!def) {
      return InvalidArgument("param '" + key + "': required (the pipeline gives no default); "
                             "pass --param " + key + "=VALUE");
    }
    values[key] = *def;
  }
  return values;
}

std::vector<std::string> Ancestors(const PipelineSpec& spec, std::string_view id) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::vector<std::string> stack;
  if (const StepSpec* s = spec.FindStep(id)) stack = s->needs;
  while (!stack.empty()) {
    std::string next = std::move(stack.back());
    stack.pop_back();
    if (next == id || !seen.insert(next).second) continue;
    out.push_back(next);
    if (const StepSpec* s = spec.FindStep(next)) {
      for (const std::string& n : s->needs) stack.push_back(n);
    }
  }
  return out;
}

}  // namespace cairn::pipelines
