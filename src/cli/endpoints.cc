// cairn endpoints create | list | show | update | traffic | invoke | predictions | delete
// cairn deployments create | list | show | update | delete
#include <CLI/CLI.hpp>
#include <charconv>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>

#include "cli/command.h"
#include "cli/output.h"
#include "client/endpoint_client.h"
#include "core/clock.h"

namespace cairn::cli {
namespace {

using client::DeploymentInfo;
using client::EndpointClient;
using client::EndpointInfo;
using client::Json;

Result<std::unique_ptr<EndpointClient>> Connect(Session& s) {
  return EndpointClient::Connect(s.tracking_uri());
}

std::string Or(const std::string& s, const std::string& fallback = "-") {
  return s.empty() ? fallback : s;
}

// "blue=90, green=10"
std::string SharesText(const std::vector<DeploymentInfo>& deployments, bool mirror) {
  std::string out;
  for (const auto& d : deployments) {
    int64_t p = mirror ? d.deployment.mirror : d.deployment.traffic;
    if (p > 0) out += (out.empty() ? "" : ", ") + d.deployment.name + "=" + std::to_string(p);
  }
  return out;
}

std::string VersionText(const store::Deployment& d) {
  if (!d.model_name.empty()) return d.model_name + "/" + std::to_string(d.model_version);
  return d.run_id.empty() ? "-" : "run " + d.run_id.substr(0, 8);
}

Json ToJson(const DeploymentInfo& info) {
  const store::Deployment& d = info.deployment;
  Json j = {{"name", d.name},
            {"endpoint", d.endpoint},
            {"model_uri", d.model_uri},
            {"model_name", d.model_name},
            {"model_version", d.model_version},
            {"run_id", d.run_id},
            {"storage_location", d.storage_location},
            {"threads", d.threads},
            {"traffic", d.traffic},
            {"mirror", d.mirror},
            {"state", info.state},
            {"model", info.model},
            {"creation_time", d.creation_time},
            {"last_update_time", d.last_update_time}};
  if (!info.error.empty()) j["error"] = info.error;
  return j;
}

Json ToJson(const EndpointInfo& info) {
  Json traffic = Json::object(), mirror = Json::object(), deployments = Json::array();
  for (const auto& d : info.deployments) {
    if (d.deployment.traffic > 0) traffic[d.deployment.name] = d.deployment.traffic;
    if (d.deployment.mirror > 0) mirror[d.deployment.name] = d.deployment.mirror;
    deployments.push_back(ToJson(d));
  }
  const store::Endpoint& e = info.endpoint;
  return {{"name", e.name},
          {"description", e.description},
          {"sample_rate", e.sample_rate},
          {"traffic", traffic},
          {"mirror", mirror},
          {"traffic_version", e.traffic_version},
          {"scoring_path", info.scoring_path},
          {"v2_path", info.v2_path},
          {"creation_time", e.creation_time},
          {"last_update_time", e.last_update_time},
          {"deployments", deployments}};
}

std::string DeploymentsTable(const std::vector<DeploymentInfo>& deployments) {
  Table t({"DEPLOYMENT", "MODEL", "VERSION", "TRAFFIC", "MIRROR", "THREADS", "STATE"});
  t.SetRightAligned(3);
  t.SetRightAligned(4);
  t.SetRightAligned(5);
  for (const auto& info : deployments) {
    const store::Deployment& d = info.deployment;
    std::string state = info.state;
    if (!info.error.empty()) state += ": " + OneLine(info.error);
    t.AddRow({d.name, d.model_uri, VersionText(d), std::to_string(d.traffic) + "%",
              d.mirror > 0 ? std::to_string(d.mirror) + "%" : "-",
              d.threads > 0 ? std::to_string(d.threads) : "-", state});
  }
  return t.Render();
}

void PrintEndpoint(Session& s, const EndpointInfo& info) {
  if (s.json()) {
    s.out() << RenderJson(ToJson(info));
    return;
  }
  const store::Endpoint& e = info.endpoint;
  s.out() << RenderKeyValues({{"Endpoint", e.name},
                              {"Description", Or(OneLine(e.description))},
                              {"Scoring URI", s.tracking_uri() + info.scoring_path},
                              {"V2 URI", s.tracking_uri() + info.v2_path},
                              {"Traffic", Or(SharesText(info.deployments, false), "none")},
                              {"Mirror", Or(SharesText(info.deployments, true), "none")},
                              {"Sample rate", FormatDouble(e.sample_rate)},
                              {"Traffic version", std::to_string(e.traffic_version)},
                              {"Created", FormatTimestamp(e.creation_time)},
                              {"Updated", FormatTimestamp(e.last_update_time)}});
  if (!info.deployments.empty()) s.out() << "\n" << DeploymentsTable(info.deployments);
}

void PrintDeployment(Session& s, const DeploymentInfo& info) {
  if (s.json()) {
    s.out() << RenderJson(ToJson(info));
    return;
  }
  const store::Deployment& d = info.deployment;
  s.out() << RenderKeyValues({{"Deployment", d.name},
                              {"Endpoint", d.endpoint},
                              {"Model URI", d.model_uri},
                              {"Version", VersionText(d)},
                              {"Run", Or(d.run_id)},
                              {"Location", Or(d.storage_location)},
                              {"Traffic", std::to_string(d.traffic) + "%"},
                              {"Mirror", std::to_string(d.mirror) + "%"},
                              {"Threads", d.threads > 0 ? std::to_string(d.threads) : "no limit"},
                              {"State", info.state},
                              {"Error", Or(OneLine(info.error))},
                              {"Model", Or(OneLine(info.model))},
                              {"Created", FormatTimestamp(d.creation_time)},
                              {"Updated", FormatTimestamp(d.last_update_time)}});
}

// "blue=90" → {blue, 90}; kInvalidArgument naming the argument otherwise.
Result<store::TrafficShare> ParseShare(const std::string& text) {
  size_t eq = text.find('=');
  int64_t percent = 0;
  if (eq != std::string::npos && eq > 0) {
    std::string_view p = std::string_view(text).substr(eq + 1);
    if (!p.empty() && p.back() == '%') p.remove_suffix(1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), percent);
    if (!p.empty() && ec == std::errc() && end == p.data() + p.size()) {
      return store::TrafficShare{text.substr(0, eq), percent};
    }
  }
  return InvalidArgument("expected DEPLOYMENT=PERCENT (e.g. blue=90), got '" + text + "'");
}

Result<std::vector<store::TrafficShare>> ParseShares(const std::vector<std::string>& args) {
  std::vector<store::TrafficShare> out;
  for (const auto& a : args) {
    CAIRN_TRY(store::TrafficShare share, ParseShare(a));
    out.push_back(std::move(share));
  }
  return out;
}

// "30s", "10m", "2h", "7d" before now → ms since the epoch; anything else is passed on as given
// (ms since the epoch, RFC 3339), for the server to check.
std::string ResolveSince(const std::string& text) {
  if (text.size() < 2) return text;
  const char unit = text.back();
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
  if (ec != std::errc() || end != text.data() + text.size() - 1) return text;
  int64_t ms = 0;
  switch (unit) {
    case 's':
      ms = n * 1000;
      break;
    case 'm':
      ms = n * 60 * 1000;
      break;
    case 'h':
      ms = n * 3600 * 1000;
      break;
    case 'd':
      ms = n * 86400 * 1000;
      break;
    default:
      return text;
  }
  return std::to_string(SystemClock::Instance().NowMillis() - ms);
}

// --- endpoints ----------------------------------------------------------------------------------

struct CreateOptions {
  std::string name;
  std::string description;
  std::optional<double> sample_rate;
};

Status Create(Session& s, const CreateOptions& o) {
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(EndpointInfo info, c->CreateEndpoint(o.name, o.description, o.sample_rate));
  PrintEndpoint(s, info);
  return Status::Ok();
}

Status List(Session& s) {
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(auto endpoints, c->ListEndpoints());
  if (s.json()) {
    Json arr = Json::array();
    for (const auto& e : endpoints) arr.push_back(ToJson(e));
    s.out() << RenderJson(arr);
    return Status::Ok();
  }
  Table t({"ENDPOINT", "TRAFFIC", "MIRROR", "DEPLOYMENTS", "SAMPLE RATE", "UPDATED"});
  t.SetRightAligned(3);
  for (const auto& e : endpoints) {
    t.AddRow({e.endpoint.name, Or(SharesText(e.deployments, false), "none"),
              Or(SharesText(e.deployments, true)), std::to_string(e.deployments.size()),
              FormatDouble(e.endpoint.sample_rate), FormatTimestamp(e.endpoint.last_update_time)});
  }
  s.out() << t.Render();
  return Status::Ok();
}

Status Show(Session& s, const std::string& name) {
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(EndpointInfo info, c->GetEndpoint(name));
  PrintEndpoint(s, info);
  return Status::Ok();
}

struct UpdateOptions {
  std::string name;
  std::optional<std::string> description;
  std::optional<double> sample_rate;
};

Status Update(Session& s, const UpdateOptions& o) {
  if (!o.description && !o.sample_rate) {
    return InvalidArgument("nothing to change: give --description or --sample-rate");
  }
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(EndpointInfo info, c->UpdateEndpoint(o.name, o.description, o.sample_rate));
  PrintEndpoint(s, info);
  return Status::Ok();
}

Status Delete(Session& s, const std::string& name) {
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_RETURN_IF_ERROR(c->DeleteEndpoint(name));
  if (s.json()) {
    s.out() << RenderJson({{"deleted", name}});
  } else {
    s.out() << "Deleted endpoint " << name << " and its deployments\n";
  }
  return Status::Ok();
}

struct TrafficOptions {
  std::string name;
  std::vector<std::string> weights;
  std::vector<std::string> mirror;
  bool no_mirror = false;
};

Status Traffic(Session& s, const TrafficOptions& o) {
  if (!o.mirror.empty() && o.no_mirror) return InvalidArgument("give --mirror or --no-mirror");
  if (o.weights.empty() && o.mirror.empty() && !o.no_mirror) {
    return InvalidArgument(
        "give the weights (e.g. blue=90 green=10), --mirror DEPLOYMENT=PERCENT or --no-mirror");
  }
  std::optional<std::vector<store::TrafficShare>> live, mirror;
  if (!o.weights.empty()) {
    CAIRN_TRY(live, ParseShares(o.weights));
  }
  if (!o.mirror.empty()) {
    CAIRN_TRY(mirror, ParseShares(o.mirror));
  }
  if (o.no_mirror) mirror = std::vector<store::TrafficShare>{};
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(EndpointInfo info, c->SetTraffic(o.name, live, mirror));
  PrintEndpoint(s, info);
  return Status::Ok();
}

struct InvokeCommandOptions {
  std::string name;
  std::string data;
  std::string file;
  client::InvokeOptions invoke;
};

Status Invoke(Session& s, const InvokeCommandOptions& o) {
  if (o.data.empty() == o.file.empty()) {
    return InvalidArgument("give the request as --data JSON or --file PATH (one of them)");
  }
  std::string body = o.data;
  if (!o.file.empty()) {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) return NotFound("cannot read " + o.file);
    std::ostringstream text;
    text << in.rdbuf();
    body = text.str();
  }
  client::InvokeOptions options = o.invoke;
  if (!o.file.empty() && o.file.ends_with(".csv")) options.content_type = "text/csv";
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(client::InvokeResult r, c->Invoke(o.name, body, options));
  if (r.status < 200 || r.status >= 300) {
    // The server's message, whichever protocol's error shape it came in.
    Json error = Json::parse(r.body, nullptr, false);
    std::string message = r.body;
    if (error.is_object() && error.contains("message") && error["message"].is_string()) {
      message = error["message"].get<std::string>();
    } else if (error.is_object() && error.contains("error") && error["error"].is_string()) {
      message = error["error"].get<std::string>();
    }
    return InvalidArgument("HTTP " + std::to_string(r.status) + ": " + message);
  }
  if (s.json()) {
    Json response = Json::parse(r.body, nullptr, false);
    s.out() << RenderJson({{"deployment", r.deployment},
                           {"request_id", r.request_id},
                           {"response", response.is_discarded() ? Json(r.body) : response}});
  } else {
    s.out() << r.body << (r.body.ends_with("\n") ? "" : "\n");
  }
  return Status::Ok();
}

struct PredictionsOptions {
  client::PredictionsRequest req;
  bool mirrored = false;
  bool live = false;
};

Status Predictions(Session& s, PredictionsOptions o) {
  if (o.mirrored && o.live) return InvalidArgument("give --mirrored or --live, not both");
  if (o.mirrored) o.req.mirrored = true;
  if (o.live) o.req.mirrored = false;
  o.req.since = ResolveSince(o.req.since);
  o.req.until = ResolveSince(o.req.until);
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(client::PredictionsPage page, c->GetPredictions(o.req));
  if (s.json()) {
    Json out = {{"predictions", page.predictions}};
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    s.out() << RenderJson(out);
    return Status::Ok();
  }
  Table t({"TIME", "REQUEST ID", "DEPLOYMENT", "VERSION", "STATUS", "LATENCY", "OUTPUTS"});
  t.SetRightAligned(4);
  t.SetRightAligned(5);
  t.SetMaxWidth(6, 40);
  for (const Json& p : page.predictions) {
    const int64_t time = p.value("time", int64_t(0));
    std::string deployment = p.value("deployment", "");
    if (p.value("mirrored", false)) deployment += " (mirror)";
    const auto outputs = p.find("outputs");
    t.AddRow({FormatTimestamp(time), p.value("request_id", ""), deployment,
              Or(p.value("model_version", "")), std::to_string(p.value("status", 0)),
              std::to_string(p.value("latency_us", int64_t(0))) + "µs",
              outputs == p.end() || outputs->is_null() ? "-" : OneLine(outputs->dump())});
  }
  s.out() << t.Render();
  if (!page.next_page_token.empty()) {
    s.out() << "(more: --page-token " << page.next_page_token << ")\n";
  }
  return Status::Ok();
}

// --- deployments --------------------------------------------------------------------------------

struct DeploymentOptions {
  std::string endpoint;
  std::string name;
  std::string model;
  std::optional<int64_t> threads;
};

Status CreateDeployment(Session& s, const DeploymentOptions& o) {
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(DeploymentInfo info,
            c->CreateDeployment(o.endpoint, o.name, o.model, o.threads.value_or(0)));
  PrintDeployment(s, info);
  return Status::Ok();
}

Status ListDeployments(Session& s, const std::string& endpoint) {
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(auto deployments, c->ListDeployments(endpoint));
  if (s.json()) {
    Json arr = Json::array();
    for (const auto& d : deployments) arr.push_back(ToJson(d));
    s.out() << RenderJson(arr);
  } else {
    s.out() << DeploymentsTable(deployments);
  }
  return Status::Ok();
}

Status ShowDeployment(Session& s, const DeploymentOptions& o) {
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(DeploymentInfo info, c->GetDeployment(o.endpoint, o.name));
  PrintDeployment(s, info);
  return Status::Ok();
}

Status UpdateDeployment(Session& s, const DeploymentOptions& o) {
  if (o.model.empty() && !o.threads) {
    return InvalidArgument("nothing to change: give --model URI or --threads N");
  }
  CAIRN_TRY(auto c, Connect(s));
  std::optional<std::string> model;
  if (!o.model.empty()) model = o.model;
  CAIRN_TRY(DeploymentInfo info, c->UpdateDeployment(o.endpoint, o.name, model, o.threads));
  PrintDeployment(s, info);
  return Status::Ok();
}

Status DeleteDeployment(Session& s, const DeploymentOptions& o) {
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_RETURN_IF_ERROR(c->DeleteDeployment(o.endpoint, o.name));
  if (s.json()) {
    s.out() << RenderJson({{"deleted", o.name}, {"endpoint", o.endpoint}});
  } else {
    s.out() << "Deleted deployment " << o.name << " of endpoint " << o.endpoint << "\n";
  }
  return Status::Ok();
}

template <typename T>
void Run(CLI::App* app, GlobalOptions& g, std::shared_ptr<T> options,
         Status (*fn)(Session&, const T&)) {
  app->callback(
      [&g, options, fn] { SetCommand(g, [options, fn](Session& s) { return fn(s, *options); }); });
}

}  // namespace

void AddEndpointsCommands(CLI::App& app, GlobalOptions& g) {
  CLI::App* noun = app.add_subcommand(
      "endpoints", "Scoring endpoints: traffic split, mirroring, invocations, prediction log");
  noun->require_subcommand(1);

  auto create = std::make_shared<CreateOptions>();
  CLI::App* c = noun->add_subcommand("create", "Create an endpoint (it takes no traffic yet)");
  c->add_option("name", create->name, "Endpoint name (letters, digits, - _ .)")->required();
  c->add_option("--description,-d", create->description, "What it serves");
  c->add_option("--sample-rate", create->sample_rate,
                "Share of requests kept in the prediction log, 0..1 (default 1: all)");
  Run(c, g, create, &Create);

  CLI::App* l = noun->add_subcommand("list", "List endpoints with their traffic");
  l->callback([&g] { SetCommand(g, [](Session& s) { return List(s); }); });

  auto show = std::make_shared<std::string>();
  CLI::App* sh = noun->add_subcommand("show", "Show an endpoint, its traffic and deployments");
  sh->add_option("name", *show, "Endpoint name")->required();
  Run(sh, g, show, &Show);

  auto update = std::make_shared<UpdateOptions>();
  CLI::App* u = noun->add_subcommand("update", "Change an endpoint's description or sample rate");
  u->add_option("name", update->name, "Endpoint name")->required();
  u->add_option("--description,-d", update->description, "New description");
  u->add_option("--sample-rate", update->sample_rate, "Share of requests logged, 0..1");
  Run(u, g, update, &Update);

  auto traffic = std::make_shared<TrafficOptions>();
  CLI::App* t = noun->add_subcommand(
      "traffic",
      "Set the live traffic split (weights sum to 100, or 0) and/or the mirrored share "
      "(at most 50 % per mirror); what is not given stays as it is");
  t->add_option("name", traffic->name, "Endpoint name")->required();
  t->add_option("weights", traffic->weights, "DEPLOYMENT=PERCENT ... (e.g. blue=90 green=10)");
  t->add_option("--mirror", traffic->mirror,
                "DEPLOYMENT=PERCENT: copy that share of requests to it (answers logged only)");
  t->add_flag("--no-mirror", traffic->no_mirror, "Stop mirroring");
  Run(t, g, traffic, &Traffic);

  auto invoke = std::make_shared<InvokeCommandOptions>();
  CLI::App* in = noun->add_subcommand("invoke", "Score a request at an endpoint");
  in->add_option("name", invoke->name, "Endpoint name")->required();
  in->add_option("--data", invoke->data, "The request body (JSON)");
  in->add_option("--file,-f", invoke->file, "A file holding the request body (.json or .csv)");
  in->add_option("--deployment", invoke->invoke.deployment, "Send it to this deployment");
  in->add_option("--route-key", invoke->invoke.route_key,
                 "Sticky routing: the same key always reaches the same deployment");
  in->add_option("--request-id", invoke->invoke.request_id,
                 "Your id for the request (the prediction log's key)");
  in->add_flag("--v2", invoke->invoke.v2, "Use the Open Inference Protocol v2 route");
  Run(in, g, invoke, &Invoke);

  auto predictions = std::make_shared<PredictionsOptions>();
  CLI::App* p = noun->add_subcommand("predictions", "Read an endpoint's prediction log");
  p->add_option("name", predictions->req.endpoint, "Endpoint name")->required();
  p->add_option("--since", predictions->req.since,
                "From: 10m, 2h, 1d ago, ms since the epoch or an RFC 3339 time");
  p->add_option("--until", predictions->req.until, "Before (same forms)");
  p->add_option("--deployment", predictions->req.deployment, "Only this deployment's");
  p->add_option("--request-id", predictions->req.request_id, "Only this request's");
  p->add_flag("--mirrored", predictions->mirrored, "Only mirrored copies");
  p->add_flag("--live", predictions->live, "Only live answers");
  p->add_option("--limit", predictions->req.limit, "At most this many (default 100)")
      ->check(CLI::Range(1, 10000));
  p->add_option("--page-token", predictions->req.page_token, "Continue where a page ended");
  p->callback([&g, predictions] {
    SetCommand(g, [predictions](Session& s) { return Predictions(s, *predictions); });
  });

  auto del = std::make_shared<std::string>();
  CLI::App* d = noun->add_subcommand("delete", "Delete an endpoint with its deployments");
  d->add_option("name", *del, "Endpoint name")->required();
  Run(d, g, del, &Delete);

  // --- deployments ---
  CLI::App* dep = app.add_subcommand(
      "deployments", "Deployments of an endpoint: a model version loaded to score its traffic");
  dep->require_subcommand(1);

  auto add_ids = [](CLI::App* cmd, DeploymentOptions& o) {
    cmd->add_option("--endpoint,-e", o.endpoint, "Endpoint name")->required();
    cmd->add_option("--name,-n", o.name, "Deployment name (e.g. blue)")->required();
  };

  auto dc = std::make_shared<DeploymentOptions>();
  CLI::App* dcreate = dep->add_subcommand(
      "create", "Load a model as a new deployment of an endpoint (it takes no traffic yet)");
  add_ids(dcreate, *dc);
  dcreate
      ->add_option("--model,-m", dc->model,
                   "models:/NAME/VERSION, models:/NAME@ALIAS or runs:/RUN_ID/PATH")
      ->required();
  dcreate
      ->add_option("--threads", dc->threads,
                   "Requests it scores at once (others wait); default: no limit of its own")
      ->check(CLI::Range(1, 1024));
  Run(dcreate, g, dc, &CreateDeployment);

  auto dl = std::make_shared<std::string>();
  CLI::App* dlist = dep->add_subcommand("list", "List an endpoint's deployments");
  dlist->add_option("--endpoint,-e", *dl, "Endpoint name")->required();
  Run(dlist, g, dl, &ListDeployments);

  auto ds = std::make_shared<DeploymentOptions>();
  CLI::App* dshow = dep->add_subcommand("show", "Show a deployment");
  add_ids(dshow, *ds);
  Run(dshow, g, ds, &ShowDeployment);

  auto du = std::make_shared<DeploymentOptions>();
  CLI::App* dupdate = dep->add_subcommand(
      "update", "Swap a deployment's model (loaded fully first, no request dropped) or threads");
  add_ids(dupdate, *du);
  dupdate->add_option("--model,-m", du->model, "The model URI to swap to");
  dupdate->add_option("--threads", du->threads, "Requests it scores at once")
      ->check(CLI::Range(1, 1024));
  Run(dupdate, g, du, &UpdateDeployment);

  auto dd = std::make_shared<DeploymentOptions>();
  CLI::App* ddelete =
      dep->add_subcommand("delete", "Delete a deployment (move its traffic away first)");
  add_ids(ddelete, *dd);
  Run(ddelete, g, dd, &DeleteDeployment);
}

}  // namespace cairn::cli
