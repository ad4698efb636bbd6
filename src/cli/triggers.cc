// cairn triggers list | show | enable | disable
#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/output.h"
#include "client/pipeline_client.h"
#include "client/trigger_client.h"
#include "triggers/trigger_spec.h"

namespace cairn::cli {
namespace {

using client::Json;
using client::TriggerClient;

struct TriggerOptions {
  std::string user;
};

Result<std::unique_ptr<TriggerClient>> Connect(Session& s, const TriggerOptions& o) {
  return TriggerClient::Connect(s.tracking_uri(), client::ResolveUser(o.user));
}

Json Parsed(const std::string& text, Json fallback) {
  Json j = Json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

std::string Describe(const store::TriggerRecord& t) {
  return triggers::DescribeCondition(t.kind, Parsed(t.condition, Json()));
}

int64_t NextTime(const store::TriggerRecord& t) {
  const Json state = Parsed(t.state, Json::object());
  if (t.kind != "schedule" || !state.is_object() || !state.contains("next") ||
      !state["next"].is_number_integer()) {
    return 0;
  }
  return state["next"].get<int64_t>();
}

std::string TimeOrDash(int64_t ms) { return ms > 0 ? FormatTimestamp(ms) : "-"; }

}  // namespace

// Shared with `cairn pipelines create/definitions` (pipelines.cc).
Json TriggerJson(const store::TriggerRecord& t) {
  Json j = {{"trigger_id", t.trigger_id},
            {"pipeline", t.pipeline},
            {"kind", t.kind},
            {"condition", Parsed(t.condition, Json())},
            {"description", Describe(t)},
            {"enabled", t.enabled},
            {"state", Parsed(t.state, Json::object())},
            {"last_fired_time", t.last_fired_time},
            {"last_run_id", t.last_run_id},
            {"last_reason", t.last_reason},
            {"held_time", t.held_time},
            {"held_reason", t.held_reason}};
  if (const int64_t next = NextTime(t); next > 0) j["next_time"] = next;
  return j;
}

std::string RenderTriggerTable(const std::vector<store::TriggerRecord>& list) {
  Table table({"TRIGGER", "PIPELINE", "KIND", "CONDITION", "ENABLED", "LAST FIRED", "LAST RUN",
               "LAST REASON"});
  table.SetMaxWidth(3, 48);
  table.SetMaxWidth(7, 60);
  for (const auto& t : list) {
    table.AddRow({t.trigger_id, t.pipeline, t.kind, Describe(t), t.enabled ? "yes" : "no",
                  TimeOrDash(t.last_fired_time),
                  t.last_run_id.empty() ? "-" : t.last_run_id.substr(0, 8),
                  t.last_reason.empty() ? "-" : OneLine(t.last_reason)});
  }
  return table.Render();
}

namespace {

Status List(Session& s, const TriggerOptions& o, const std::string& pipeline) {
  CAIRN_TRY(auto client, Connect(s, o));
  CAIRN_TRY(auto list, client->ListTriggers(pipeline));
  if (s.json()) {
    Json out = Json::array();
    for (const auto& t : list) out.push_back(TriggerJson(t));
    s.out() << RenderJson({{"triggers", out}});
    return Status();
  }
  s.out() << RenderTriggerTable(list);
  if (list.empty()) s.out() << "(no triggers)\n";
  return Status();
}

Status Show(Session& s, const TriggerOptions& o, const std::string& id) {
  CAIRN_TRY(auto client, Connect(s, o));
  CAIRN_TRY(auto details, client->GetTrigger(id));
  const store::TriggerRecord& t = details.trigger;
  if (s.json()) {
    Json j = TriggerJson(t);
    Json firings = Json::array();
    for (const auto& f : details.firings) {
      firings.push_back({{"firing_id", f.firing_id},
                         {"time", f.time},
                         {"reason", f.reason},
                         {"context", Parsed(f.context, Json::object())},
                         {"run_id", f.run_id},
                         {"user", f.user},
                         {"error", f.error}});
    }
    j["firings"] = firings;
    s.out() << RenderJson(j);
    return Status();
  }
  std::vector<std::pair<std::string, std::string>> kv = {
      {"trigger", t.trigger_id},
      {"pipeline", t.pipeline},
      {"kind", t.kind},
      {"condition", Describe(t)},
      {"enabled", t.enabled ? "yes" : "no"}};
  if (const int64_t next = NextTime(t); next > 0 && t.enabled) {
    kv.push_back({"next time", FormatTimestamp(next)});
  }
  kv.push_back({"last fired", TimeOrDash(t.last_fired_time)});
  kv.push_back({"last run", t.last_run_id.empty() ? "-" : t.last_run_id});
  kv.push_back({"last reason", t.last_reason.empty() ? "-" : t.last_reason});
  if (t.held_time > 0) {
    kv.push_back({"last held back", FormatTimestamp(t.held_time) + ": " + t.held_reason});
  }
  s.out() << RenderKeyValues(kv) << "\n";
  Table table({"FIRED", "RUN", "REASON", "CONTEXT"});
  table.SetMaxWidth(2, 60);
  table.SetMaxWidth(3, 60);
  for (const auto& f : details.firings) {
    std::string context;
    const Json c = Parsed(f.context, Json::object());
    for (const auto& [k, v] : c.items()) {
      if (k == "reason" || k == "trigger") continue;
      context += (context.empty() ? "" : " ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    }
    table.AddRow({FormatTimestamp(f.time), f.run_id.empty() ? "(not started)" : f.run_id,
                  OneLine(f.error.empty() ? f.reason : f.reason + "; " + f.error),
                  context.empty() ? "-" : context});
  }
  s.out() << table.Render();
  if (details.firings.empty()) s.out() << "(never fired)\n";
  return Status();
}

Status SetEnabled(Session& s, const TriggerOptions& o, const std::string& id, bool enabled) {
  CAIRN_TRY(auto client, Connect(s, o));
  CAIRN_TRY(auto t, client->SetEnabled(id, enabled));
  if (s.json()) {
    s.out() << RenderJson(TriggerJson(t));
  } else {
    s.out() << "trigger " << t.trigger_id << " " << (enabled ? "enabled" : "disabled") << "\n";
  }
  return Status();
}

}  // namespace

void AddTriggersCommands(CLI::App& app, GlobalOptions& g) {
  CLI::App* noun = app.add_subcommand(
      "triggers", "Retraining triggers of stored pipelines: list, show, enable, disable");
  noun->require_subcommand(1);
  auto o = std::make_shared<TriggerOptions>();
  noun->add_option("--user", o->user, "Who acts; default: $CAIRN_USER, else the login name")
      ->configurable(false);

  auto pipeline = std::make_shared<std::string>();
  CLI::App* l = noun->add_subcommand("list", "List triggers: condition, enabled, last firing");
  l->add_option("--pipeline", *pipeline, "Only the triggers of this stored pipeline");
  l->callback([&g, o, pipeline] {
    SetCommand(g, [o, pipeline](Session& s) { return List(s, *o, *pipeline); });
  });

  auto show = std::make_shared<std::string>();
  CLI::App* sh = noun->add_subcommand("show", "Show a trigger and its recent firings");
  sh->add_option("id", *show, "Trigger id, e.g. churn-retrain/drift")->required();
  sh->callback([&g, o, show] {
    SetCommand(g, [o, show](Session& s) { return Show(s, *o, *show); });
  });

  for (bool enable : {true, false}) {
    auto id = std::make_shared<std::string>();
    CLI::App* c = noun->add_subcommand(
        enable ? "enable" : "disable",
        enable ? "Enable a trigger (a schedule waits for its next time)"
               : "Disable a trigger: it does not fire until enabled again");
    c->add_option("id", *id, "Trigger id, e.g. churn-retrain/drift")->required();
    c->callback([&g, o, id, enable] {
      SetCommand(g, [o, id, enable](Session& s) { return SetEnabled(s, *o, *id, enable); });
    });
  }
}

}  // namespace cairn::cli
