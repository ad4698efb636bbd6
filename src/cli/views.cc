#include "cli/views.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>

#include "store/records.h"

namespace cairn::cli {
namespace {

using client::Experiment;
using client::FileInfo;
using client::Run;

std::string Stage(client::LifecycleStage s) { return std::string(store::LifecycleStageName(s)); }

std::optional<int64_t> Duration(const client::RunInfo& info) {
  if (!info.end_time || info.start_time <= 0) return std::nullopt;
  return *info.end_time - info.start_time;
}

const client::Metric* FindMetric(const Run& run, std::string_view key) {
  for (const auto& m : run.metrics) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

const client::Param* FindParam(const Run& run, std::string_view key) {
  for (const auto& p : run.params) {
    if (p.key == key) return &p;
  }
  return nullptr;
}

std::string RunName(const Run& run) { return run.info.run_name.empty() ? "-" : run.info.run_name; }

void AddUnique(std::vector<std::string>& v, std::string s) {
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
}

bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
         c == '/';
}

bool SameMetric(const client::Metric* a, const client::Metric* b) {
  if (a == nullptr || b == nullptr) return a == b;
  if (std::isnan(a->value) && std::isnan(b->value)) return true;
  return a->value == b->value;
}

}  // namespace

std::string ExperimentsTable(const std::vector<Experiment>& experiments) {
  Table t({"ID", "NAME", "STAGE", "ARTIFACT LOCATION", "CREATED"});
  for (const Experiment& e : experiments) {
    t.AddRow({e.experiment_id, e.name, Stage(e.lifecycle_stage), e.artifact_location,
              FormatTimestamp(e.creation_time)});
  }
  return t.Render();
}

std::string ExperimentDetails(const Experiment& e) {
  std::string out = RenderKeyValues({{"ID", e.experiment_id},
                                     {"Name", e.name},
                                     {"Stage", Stage(e.lifecycle_stage)},
                                     {"Artifact location", e.artifact_location},
                                     {"Created", FormatTimestamp(e.creation_time)},
                                     {"Last updated", FormatTimestamp(e.last_update_time)}});
  if (!e.tags.empty()) {
    Table tags({"TAG", "VALUE"});
    for (const auto& tag : e.tags) tags.AddRow({tag.key, tag.value});
    out += "\n" + tags.Render();
  }
  return out;
}

std::string RunsTable(const std::vector<Run>& runs, const ExperimentNames& names,
                      const RunsTableOptions& options) {
  std::vector<std::string> headers = {"RUN ID", "NAME", "EXPERIMENT", "STATUS"};
  if (options.show_stage) headers.push_back("STAGE");
  headers.insert(headers.end(), {"STARTED", "DURATION"});
  size_t first_extra = headers.size();
  for (const auto& m : options.metric_columns) headers.push_back("metrics." + m);
  for (const auto& p : options.param_columns) headers.push_back("params." + p);
  Table t(std::move(headers));
  t.SetRightAligned(first_extra - 1);  // DURATION
  for (size_t i = 0; i < options.metric_columns.size(); ++i) t.SetRightAligned(first_extra + i);
  for (size_t i = 0; i < options.metric_columns.size() + options.param_columns.size(); ++i) {
    t.SetMaxWidth(first_extra + i, 24);
  }
  for (const Run& run : runs) {
    auto it = names.find(run.info.experiment_id);
    std::vector<std::string> row = {run.info.run_id, RunName(run),
                                    it != names.end() ? it->second : run.info.experiment_id,
                                    std::string(store::RunStatusName(run.info.status))};
    if (options.show_stage) row.push_back(Stage(run.info.lifecycle_stage));
    row.push_back(FormatTimestamp(run.info.start_time));
    row.push_back(FormatDuration(Duration(run.info)));
    for (const auto& key : options.metric_columns) {
      const auto* m = FindMetric(run, key);
      row.push_back(m != nullptr ? FormatDouble(m->value) : "-");
    }
    for (const auto& key : options.param_columns) {
      const auto* p = FindParam(run, key);
      row.push_back(p != nullptr ? p->value : "-");
    }
    t.AddRow(std::move(row));
  }
  return t.Render();
}

std::string RunDetails(const Run& run, std::string_view experiment_name) {
  const auto& info = run.info;
  std::string experiment = experiment_name.empty()
                               ? info.experiment_id
                               : std::string(experiment_name) + " (" + info.experiment_id + ")";
  std::string out = RenderKeyValues({{"Run ID", info.run_id},
                                     {"Name", RunName(run)},
                                     {"Experiment", experiment},
                                     {"Status", std::string(store::RunStatusName(info.status))},
                                     {"Stage", Stage(info.lifecycle_stage)},
                                     {"User", info.user_id.empty() ? "-" : info.user_id},
                                     {"Started", FormatTimestamp(info.start_time)},
                                     {"Ended", FormatTimestamp(info.end_time.value_or(0))},
                                     {"Duration", FormatDuration(Duration(info))},
                                     {"Artifact URI", info.artifact_uri}});
  if (!run.params.empty()) {
    Table t({"PARAM", "VALUE"});
    for (const auto& p : run.params) t.AddRow({p.key, p.value});
    out += "\n" + t.Render();
  }
  if (!run.metrics.empty()) {
    Table t({"METRIC", "VALUE", "STEP", "TIMESTAMP"});
    t.SetRightAligned(1);
    t.SetRightAligned(2);
    for (const auto& m : run.metrics) {
      t.AddRow(
          {m.key, FormatDouble(m.value), std::to_string(m.step), FormatTimestamp(m.timestamp)});
    }
    out += "\n" + t.Render();
  }
  if (!run.tags.empty()) {
    Table t({"TAG", "VALUE"});
    for (const auto& tag : run.tags) t.AddRow({tag.key, tag.value});
    out += "\n" + t.Render();
  }
  if (!run.inputs.empty()) {
    Table t({"DATASET", "DIGEST", "SOURCE", "CONTEXT"});
    for (const auto& d : run.inputs) {
      std::string context;
      for (const auto& tag : d.tags) {
        if (tag.key == "mlflow.data.context") context = tag.value;
      }
      t.AddRow({d.name, d.digest, d.source, context});
    }
    out += "\n" + t.Render();
  }
  return out;
}

std::string CompareTable(const std::vector<Run>& runs) {
  std::vector<std::string> headers = {"", "KEY"};
  for (const Run& run : runs) headers.push_back(run.info.run_id.substr(0, 8));
  Table t(std::move(headers));
  for (size_t i = 0; i < runs.size(); ++i) {
    t.SetMaxWidth(2 + i, 24);
    t.SetRightAligned(2 + i);
  }
  auto attribute = [&](std::string key, auto value_of) {
    std::vector<std::string> row = {"", std::move(key)};
    for (const Run& run : runs) row.push_back(value_of(run));
    t.AddRow(std::move(row));
  };
  attribute("name", [](const Run& r) { return RunName(r); });
  attribute("status",
            [](const Run& r) { return std::string(store::RunStatusName(r.info.status)); });
  attribute("duration", [](const Run& r) { return FormatDuration(Duration(r.info)); });

  std::set<std::string> param_keys;
  std::set<std::string> metric_keys;
  for (const Run& run : runs) {
    for (const auto& p : run.params) param_keys.insert(p.key);
    for (const auto& m : run.metrics) metric_keys.insert(m.key);
  }
  for (const std::string& key : param_keys) {
    std::vector<std::string> row = {"", "params." + key};
    bool differs = false;
    const client::Param* first = FindParam(runs.front(), key);
    for (const Run& run : runs) {
      const client::Param* p = FindParam(run, key);
      differs |= (p == nullptr) != (first == nullptr) ||
                 (p != nullptr && first != nullptr && p->value != first->value);
      row.push_back(p != nullptr ? p->value : "-");
    }
    if (differs) row[0] = "*";
    t.AddRow(std::move(row));
  }
  for (const std::string& key : metric_keys) {
    std::vector<std::string> row = {"", "metrics." + key};
    bool differs = false;
    const client::Metric* first = FindMetric(runs.front(), key);
    for (const Run& run : runs) {
      const client::Metric* m = FindMetric(run, key);
      differs |= !SameMetric(m, first);
      row.push_back(m != nullptr ? FormatDouble(m->value) : "-");
    }
    if (differs) row[0] = "*";
    t.AddRow(std::move(row));
  }
  return t.Render();
}

std::string ArtifactsTable(const std::vector<FileInfo>& files) {
  Table t({"PATH", "SIZE"});
  t.SetMaxWidth(0, 100);
  t.SetRightAligned(1);
  for (const FileInfo& f : files) {
    t.AddRow({f.is_dir ? f.path + "/" : f.path,
              f.is_dir ? "-" : (f.file_size ? FormatBytes(*f.file_size) : "?")});
  }
  return t.Render();
}

NamedKeys KeysNamedIn(const std::vector<std::string>& clauses) {
  NamedKeys keys;
  for (const std::string& clause : clauses) {
    size_t i = 0;
    while (i < clause.size()) {
      if (clause[i] == '\'' || clause[i] == '"') {  // a string literal: skip it
        size_t close = clause.find(clause[i], i + 1);
        if (close == std::string::npos) break;
        i = close + 1;
        continue;
      }
      // An identifier starts at a word boundary.
      if (i > 0 && (std::isalnum(static_cast<unsigned char>(clause[i - 1])) ||
                    clause[i - 1] == '_' || clause[i - 1] == '.')) {
        ++i;
        continue;
      }
      std::vector<std::string>* target = nullptr;
      size_t after = 0;
      for (auto [prefix, list] :
           {std::pair<std::string_view, std::vector<std::string>*>{"metrics.", &keys.metrics},
            {"metric.", &keys.metrics},
            {"params.", &keys.params},
            {"param.", &keys.params},
            {"parameters.", &keys.params},
            {"parameter.", &keys.params}}) {
        if (clause.compare(i, prefix.size(), prefix) == 0) {
          target = list;
          after = i + prefix.size();
          break;
        }
      }
      if (target == nullptr) {
        ++i;
        continue;
      }
      std::string key;
      size_t j = after;
      if (j < clause.size() && (clause[j] == '`' || clause[j] == '"')) {
        size_t close = clause.find(clause[j], j + 1);
        if (close == std::string::npos) break;
        key = clause.substr(j + 1, close - j - 1);
        j = close + 1;
      } else {
        while (j < clause.size() && IsKeyChar(clause[j])) ++j;
        key = clause.substr(after, j - after);
      }
      AddUnique(*target, std::move(key));
      i = std::max(j, i + 1);
    }
  }
  return keys;
}

}  // namespace cairn::cli
