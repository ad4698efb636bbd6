#include "endpoints/endpoint_service.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <random>
#include <set>

#include "core/ids.h"
#include "endpoints/routing.h"

namespace cairn::endpoints {

namespace {

// Scoring latencies are well under a millisecond; the buckets start at 100 µs.
constexpr std::array<double, 16> kLatencyBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                    0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                    1,      2.5,     5,      10};
constexpr int kMaxStatus = 600;

// A per-thread generator: routing draws cost no lock and no shared cache line.
uint64_t NextRandom() {
  thread_local uint64_t state = [] {
    std::random_device device;
    return (uint64_t(device()) << 32) ^ device() ^ 0x9e3779b97f4a7c15ull;
  }();
  // splitmix64
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double UnitRandom() { return double(NextRandom() >> 11) * (1.0 / double(uint64_t(1) << 53)); }

Status EndpointNotFound(std::string_view name) {
  return NotFound("endpoint '" + std::string(name) + "' does not exist");
}

Status ValidateSampleRate(double rate) {
  if (!std::isfinite(rate) || rate < 0 || rate > 1) {
    return InvalidArgument("sample_rate: must be between 0 and 1 (the share of requests logged)");
  }
  return Status::Ok();
}

Status ValidateThreads(int64_t threads) {
  if (threads < 0 || threads > kMaxThreads) {
    return InvalidArgument("threads: " + std::to_string(threads) + " is out of range; give 1 to " +
                           std::to_string(kMaxThreads) + ", or 0 for no limit of its own");
  }
  return Status::Ok();
}

std::string ModelLabel(const store::Deployment& d) {
  if (!d.model_name.empty()) return d.model_name + "/" + std::to_string(d.model_version);
  return "";
}

std::string FormatSeconds(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

}  // namespace

Status ValidateEndpointName(std::string_view name, std::string_view field) {
  auto bad = [&](std::string why) {
    return InvalidArgument(std::string(field) + ": '" + std::string(name.substr(0, 100)) + "' " +
                           why +
                           "; use 1 to 63 letters, digits, '-', '_' or '.', starting with a "
                           "letter or digit");
  };
  if (name.empty()) return InvalidArgument(std::string(field) + ": required");
  if (name.size() > kMaxNameLength) return bad("is too long");
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name.front())) return bad("does not start with a letter or digit");
  for (char c : name) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return bad("has a character not allowed");
  }
  return Status::Ok();
}

// At most `n` holders at once; others wait their turn.
class ConcurrencyLimit {
 public:
  explicit ConcurrencyLimit(int64_t n) : available_(n) {}
  void Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return available_ > 0; });
    available_--;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      available_++;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t available_;
};

class Permit {
 public:
  explicit Permit(ConcurrencyLimit* limit) : limit_(limit) {
    if (limit_ != nullptr) limit_->Acquire();
  }
  ~Permit() {
    if (limit_ != nullptr) limit_->Release();
  }
  Permit(const Permit&) = delete;
  Permit& operator=(const Permit&) = delete;

 private:
  ConcurrencyLimit* limit_;
};

// Counters of one kind of traffic (live or mirrored) of one deployment. Lock-free.
struct EndpointService::Stats {
  std::array<std::atomic<uint64_t>, kMaxStatus> by_status{};
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size()> buckets{};  // not cumulative
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> sum_us{0};
  std::atomic<uint64_t> rows{0};

  void Observe(int status, int64_t latency_us, int64_t scored_rows) {
    constexpr auto kRelaxed = std::memory_order_relaxed;
    by_status[std::clamp(status, 0, kMaxStatus - 1)].fetch_add(1, kRelaxed);
    const double seconds = double(latency_us) * 1e-6;
    size_t bucket = std::lower_bound(kLatencyBuckets.begin(), kLatencyBuckets.end(), seconds) -
                    kLatencyBuckets.begin();
    if (bucket < buckets.size()) buckets[bucket].fetch_add(1, kRelaxed);
    count.fetch_add(1, kRelaxed);
    sum_us.fetch_add(uint64_t(std::max<int64_t>(latency_us, 0)), kRelaxed);
    if (scored_rows > 0) rows.fetch_add(uint64_t(scored_rows), kRelaxed);
  }
};

// What a deployment serves with. Immutable; replaced as a whole when the model or limit changes.
struct EndpointService::Serving {
  store::Deployment record;
  std::shared_ptr<const serving::ScoringModel> model;  // null when it failed to load
  std::string error;
  std::string model_label;                  // "churn/3"; "" for run URIs
  std::string v2_version;                   // the version the v2 protocol answers with
  std::shared_ptr<ConcurrencyLimit> limit;  // null: no limit of its own
};

// A deployment in this server: outlives the routing snapshots that name it, so its counters and
// model carry across traffic changes.
struct EndpointService::Deployment {
  explicit Deployment(std::string n, std::shared_ptr<const Serving> s)
      : name(std::move(n)), serving(std::move(s)) {}
  const std::string name;
  std::atomic<std::shared_ptr<const Serving>> serving;
  Stats live;
  Stats mirror;
};

// One endpoint's routing snapshot. Immutable.
struct EndpointService::Endpoint {
  store::Endpoint record;
  std::map<std::string, std::shared_ptr<Deployment>, std::less<>> deployments;
  std::map<std::string, std::pair<int64_t, int64_t>> shares;  // name → (live %, mirror %)
  std::vector<Deployment*> live_targets;
  WeightedTargets live;
  std::vector<std::pair<Deployment*, int64_t>> mirrors;
  std::shared_ptr<std::atomic<uint64_t>> mirror_dropped;  // carried across snapshots
};

EndpointService::EndpointService(store::MetadataStore& store, ModelProvider& models,
                                 monitoring::PredictionLog* log, const Clock& clock,
                                 EndpointServiceOptions options)
    : store_(store),
      models_(models),
      log_(log),
      clock_(clock),
      endpoints_(std::make_shared<const EndpointMap>()),
      mirrors_(options.mirror_queue, options.mirror_threads) {}

EndpointService::~EndpointService() { mirrors_.WaitIdle(); }

// --- runtime state --------------------------------------------------------------------------

Result<std::shared_ptr<const EndpointService::Serving>> EndpointService::LoadServing(
    const store::Deployment& record) {
  ModelSource source{record.model_uri, record.model_name, record.model_version, record.run_id,
                     record.storage_location};
  CAIRN_TRY(auto model, models_.Load(source));
  auto s = std::make_shared<Serving>();
  s->record = record;
  s->model = std::move(model);
  s->model_label = ModelLabel(record);
  s->v2_version = record.model_version > 0 ? std::to_string(record.model_version) : "";
  if (record.threads > 0) s->limit = std::make_shared<ConcurrencyLimit>(record.threads);
  return std::shared_ptr<const Serving>(std::move(s));
}

std::shared_ptr<const EndpointService::Serving> EndpointService::FailedServing(
    const store::Deployment& record, Status why) {
  auto s = std::make_shared<Serving>();
  s->record = record;
  s->error = why.message();
  s->model_label = ModelLabel(record);
  return s;
}

Result<std::shared_ptr<const EndpointService::Endpoint>> EndpointService::BuildEndpoint(
    const store::Endpoint& record, const std::vector<store::Deployment>& deployments,
    const Endpoint* previous, const std::map<std::string, std::shared_ptr<const Serving>>& fresh) {
  auto ep = std::make_shared<Endpoint>();
  ep->record = record;
  ep->mirror_dropped =
      previous != nullptr ? previous->mirror_dropped : std::make_shared<std::atomic<uint64_t>>(0);
  std::vector<int64_t> percents;
  for (const store::Deployment& d : deployments) {
    std::shared_ptr<Deployment> runtime;
    if (previous != nullptr) {
      auto it = previous->deployments.find(d.name);
      if (it != previous->deployments.end()) runtime = it->second;
    }
    auto f = fresh.find(d.name);
    if (f != fresh.end()) {
      if (runtime) {
        runtime->serving.store(f->second);  // the swap: requests from now on score on it
      } else {
        runtime = std::make_shared<Deployment>(d.name, f->second);
      }
    } else if (!runtime) {
      runtime = std::make_shared<Deployment>(
          d.name, FailedServing(d, Internal("the model was never loaded in this server")));
    }
    ep->deployments.emplace(d.name, runtime);
    ep->shares[d.name] = {d.traffic, d.mirror};
    if (d.traffic > 0) {
      ep->live_targets.push_back(runtime.get());
      percents.push_back(d.traffic);
    }
    if (d.mirror > 0) ep->mirrors.emplace_back(runtime.get(), d.mirror);
  }
  ep->live = WeightedTargets::FromPercents(percents);
  return std::shared_ptr<const Endpoint>(std::move(ep));
}

Status EndpointService::Publish(
    std::string_view name, const std::map<std::string, std::shared_ptr<const Serving>>& fresh) {
  auto current = Snapshot();
  auto next = std::make_shared<EndpointMap>(*current);
  auto record = store_.GetEndpoint(name);
  if (!record.ok()) {
    if (record.status().code() != StatusCode::kNotFound) return record.status();
    next->erase(std::string(name));
  } else {
    CAIRN_TRY(auto deployments, store_.ListDeployments(name));
    auto it = current->find(name);
    CAIRN_TRY(auto ep, BuildEndpoint(*record, deployments,
                                     it == current->end() ? nullptr : it->second.get(), fresh));
    (*next)[std::string(name)] = std::move(ep);
  }
  endpoints_.store(std::shared_ptr<const EndpointMap>(std::move(next)));
  return Status::Ok();
}

Result<std::vector<std::string>> EndpointService::LoadAll() {
  std::lock_guard lock(admin_mu_);
  std::vector<std::string> problems;
  auto next = std::make_shared<EndpointMap>();
  CAIRN_TRY(auto endpoints, store_.ListEndpoints());
  for (const store::Endpoint& e : endpoints) {
    CAIRN_TRY(auto deployments, store_.ListDeployments(e.name));
    std::map<std::string, std::shared_ptr<const Serving>> fresh;
    for (const store::Deployment& d : deployments) {
      auto serving = LoadServing(d);
      if (serving.ok()) {
        fresh[d.name] = *serving;
      } else {
        problems.push_back("endpoint '" + e.name + "', deployment '" + d.name + "' (" +
                           d.model_uri + "): " + serving.status().message());
        fresh[d.name] = FailedServing(d, serving.status());
      }
    }
    CAIRN_TRY(auto ep, BuildEndpoint(e, deployments, nullptr, fresh));
    (*next)[e.name] = std::move(ep);
  }
  endpoints_.store(std::shared_ptr<const EndpointMap>(std::move(next)));
  return problems;
}

// --- views ------------------------------------------------------------------------------------

DeploymentView EndpointService::ViewOf(const store::Deployment& record,
                                       const Endpoint* runtime) const {
  DeploymentView view;
  view.deployment = record;
  if (runtime == nullptr) return view;
  auto it = runtime->deployments.find(record.name);
  if (it == runtime->deployments.end()) return view;
  auto serving = it->second->serving.load();
  view.ready = serving->model != nullptr;
  view.error = serving->error;
  if (serving->model) view.model = serving->model->Description();
  return view;
}

Result<EndpointView> EndpointService::ViewOf(std::string_view name) {
  EndpointView view;
  CAIRN_TRY(view.endpoint, store_.GetEndpoint(name));
  CAIRN_TRY(auto deployments, store_.ListDeployments(name));
  auto snapshot = Snapshot();
  auto it = snapshot->find(name);
  const Endpoint* runtime = it == snapshot->end() ? nullptr : it->second.get();
  for (const auto& d : deployments) view.deployments.push_back(ViewOf(d, runtime));
  return view;
}

// --- endpoints --------------------------------------------------------------------------------

Result<EndpointView> EndpointService::CreateEndpoint(const CreateEndpointRequest& req) {
  CAIRN_RETURN_IF_ERROR(ValidateEndpointName(req.name));
  store::Endpoint e;
  e.name = req.name;
  e.description = req.description;
  e.sample_rate = req.sample_rate.value_or(1.0);
  CAIRN_RETURN_IF_ERROR(ValidateSampleRate(e.sample_rate));
  std::lock_guard lock(admin_mu_);
  CAIRN_RETURN_IF_ERROR(store_.CreateEndpoint(e).status());
  CAIRN_RETURN_IF_ERROR(Publish(req.name, {}));
  return ViewOf(req.name);
}

Result<EndpointView> EndpointService::GetEndpoint(std::string_view name) { return ViewOf(name); }

Result<std::vector<EndpointView>> EndpointService::ListEndpoints() {
  CAIRN_TRY(auto endpoints, store_.ListEndpoints());
  std::vector<EndpointView> out;
  for (const auto& e : endpoints) {
    auto view = ViewOf(e.name);
    if (view.ok()) {
      out.push_back(std::move(*view));
    } else if (view.status().code() != StatusCode::kNotFound) {  // deleted meanwhile: skip
      return view.status();
    }
  }
  return out;
}

Result<EndpointView> EndpointService::UpdateEndpoint(const UpdateEndpointRequest& req) {
  if (req.sample_rate) CAIRN_RETURN_IF_ERROR(ValidateSampleRate(*req.sample_rate));
  std::lock_guard lock(admin_mu_);
  CAIRN_TRY(store::Endpoint current, store_.GetEndpoint(req.name));
  CAIRN_RETURN_IF_ERROR(store_
                            .UpdateEndpoint(req.name, req.description.value_or(current.description),
                                            req.sample_rate.value_or(current.sample_rate), 0)
                            .status());
  CAIRN_RETURN_IF_ERROR(Publish(req.name, {}));
  return ViewOf(req.name);
}

Status EndpointService::DeleteEndpoint(std::string_view name) {
  std::lock_guard lock(admin_mu_);
  CAIRN_RETURN_IF_ERROR(store_.DeleteEndpoint(name));
  return Publish(name, {});
}

Result<EndpointView> EndpointService::SetTraffic(const TrafficRequest& req) {
  std::lock_guard lock(admin_mu_);
  CAIRN_TRY(auto deployments, store_.ListDeployments(req.endpoint));
  store::EndpointTraffic traffic;
  std::vector<std::string> names;
  for (const auto& d : deployments) {
    names.push_back(d.name);
    if (!req.live && d.traffic > 0) traffic.live.push_back({d.name, d.traffic});
    if (!req.mirror && d.mirror > 0) traffic.mirror.push_back({d.name, d.mirror});
  }
  if (req.live) traffic.live = *req.live;
  if (req.mirror) traffic.mirror = *req.mirror;
  CAIRN_RETURN_IF_ERROR(ValidateTraffic(req.endpoint, traffic, names));
  CAIRN_RETURN_IF_ERROR(store_.SetEndpointTraffic(req.endpoint, traffic, 0).status());
  CAIRN_RETURN_IF_ERROR(Publish(req.endpoint, {}));
  return ViewOf(req.endpoint);
}

// --- deployments ------------------------------------------------------------------------------

Result<DeploymentView> EndpointService::CreateDeployment(const CreateDeploymentRequest& req) {
  CAIRN_RETURN_IF_ERROR(ValidateEndpointName(req.endpoint, "endpoint"));
  CAIRN_RETURN_IF_ERROR(ValidateEndpointName(req.name, "name"));
  if (req.model_uri.empty()) return InvalidArgument("model: required (a model URI)");
  CAIRN_RETURN_IF_ERROR(ValidateThreads(req.threads));
  // Cheap refusals first: loading a model takes a while.
  CAIRN_RETURN_IF_ERROR(store_.GetEndpoint(req.endpoint).status());
  if (store_.GetDeployment(req.endpoint, req.name).ok()) {
    return AlreadyExists("deployment '" + req.name + "' already exists in endpoint '" +
                         req.endpoint + "'");
  }
  CAIRN_TRY(ModelSource source, models_.Resolve(req.model_uri));
  store::Deployment record;
  record.endpoint = req.endpoint;
  record.name = req.name;
  record.model_uri = source.uri;
  record.model_name = source.model_name;
  record.model_version = source.model_version;
  record.run_id = source.run_id;
  record.storage_location = source.storage_location;
  record.threads = req.threads;
  CAIRN_TRY(auto serving, LoadServing(record));

  std::lock_guard lock(admin_mu_);
  CAIRN_TRY(store::Deployment created, store_.CreateDeployment(record));
  CAIRN_RETURN_IF_ERROR(Publish(req.endpoint, {{req.name, serving}}));
  auto snapshot = Snapshot();
  auto it = snapshot->find(req.endpoint);
  return ViewOf(created, it == snapshot->end() ? nullptr : it->second.get());
}

Result<DeploymentView> EndpointService::GetDeployment(std::string_view endpoint,
                                                      std::string_view name) {
  CAIRN_TRY(store::Deployment record, store_.GetDeployment(endpoint, name));
  auto snapshot = Snapshot();
  auto it = snapshot->find(endpoint);
  return ViewOf(record, it == snapshot->end() ? nullptr : it->second.get());
}

Result<std::vector<DeploymentView>> EndpointService::ListDeployments(std::string_view endpoint) {
  CAIRN_TRY(EndpointView view, ViewOf(endpoint));
  return std::move(view.deployments);
}

Result<DeploymentView> EndpointService::UpdateDeployment(const UpdateDeploymentRequest& req) {
  if (req.threads) CAIRN_RETURN_IF_ERROR(ValidateThreads(*req.threads));
  if (req.model_uri && req.model_uri->empty()) {
    return InvalidArgument("model: empty; give a model URI to swap to");
  }
  CAIRN_TRY(store::Deployment record, store_.GetDeployment(req.endpoint, req.name));
  if (req.threads) record.threads = *req.threads;
  std::shared_ptr<const Serving> serving;
  if (req.model_uri) {
    CAIRN_TRY(ModelSource source, models_.Resolve(*req.model_uri));
    record.model_uri = source.uri;
    record.model_name = source.model_name;
    record.model_version = source.model_version;
    record.run_id = source.run_id;
    record.storage_location = source.storage_location;
    CAIRN_TRY(serving, LoadServing(record));  // fully loaded before anything changes
  }

  std::lock_guard lock(admin_mu_);
  if (!serving) {
    // Same model, new limit: share the loaded model.
    auto snapshot = Snapshot();
    auto ep = snapshot->find(req.endpoint);
    std::shared_ptr<const Serving> current;
    if (ep != snapshot->end()) {
      auto d = ep->second->deployments.find(req.name);
      if (d != ep->second->deployments.end()) current = d->second->serving.load();
    }
    auto next = std::make_shared<Serving>(current ? *current : Serving{});
    next->record = record;
    next->limit = record.threads > 0 ? std::make_shared<ConcurrencyLimit>(record.threads) : nullptr;
    if (!current) next->error = "the model was never loaded in this server";
    serving = std::move(next);
  }
  CAIRN_TRY(store::Deployment updated, store_.UpdateDeployment(record, 0));
  CAIRN_RETURN_IF_ERROR(Publish(req.endpoint, {{req.name, serving}}));
  auto snapshot = Snapshot();
  auto it = snapshot->find(req.endpoint);
  return ViewOf(updated, it == snapshot->end() ? nullptr : it->second.get());
}

Status EndpointService::DeleteDeployment(std::string_view endpoint, std::string_view name) {
  std::lock_guard lock(admin_mu_);
  CAIRN_RETURN_IF_ERROR(store_.DeleteDeployment(endpoint, name));
  return Publish(endpoint, {});
}

// --- scoring ----------------------------------------------------------------------------------

Result<EndpointService::Deployment*> EndpointService::Route(const Endpoint& endpoint,
                                                            const http::HttpRequest& req,
                                                            bool* named) const {
  const std::string_view wanted = req.Header(kDeploymentHeader);
  if (!wanted.empty()) {
    *named = true;
    auto it = endpoint.deployments.find(wanted);
    if (it == endpoint.deployments.end()) {
      return NotFound(std::string(kDeploymentHeader) + ": deployment '" +
                      std::string(wanted.substr(0, 100)) + "' of endpoint '" +
                      endpoint.record.name + "' does not exist");
    }
    return it->second.get();
  }
  *named = false;
  const std::string_view key = req.Header(kRouteKeyHeader);
  auto pick = endpoint.live.Pick(key.empty() ? NextRandom() % 100 : RouteKeyPoint(key));
  if (!pick) {
    return Unavailable("endpoint '" + endpoint.record.name +
                       "' takes no traffic yet: set its traffic (e.g. blue=100), or name a "
                       "deployment in the " +
                       std::string(kDeploymentHeader) + " header");
  }
  return endpoint.live_targets[*pick];
}

Result<http::HttpResponse> EndpointService::Score(std::string_view name, serving::Protocol protocol,
                                                  const http::HttpRequest& req) {
  const int64_t start_us = clock_.MonotonicMicros();
  auto snapshot = Snapshot();
  auto it = snapshot->find(name);
  if (it == snapshot->end()) return EndpointNotFound(name);
  const std::shared_ptr<const Endpoint>& endpoint = it->second;
  bool named = false;
  CAIRN_TRY(Deployment * deployment, Route(*endpoint, req, &named));
  std::shared_ptr<const Serving> serving = deployment->serving.load();
  if (!serving->model) {
    deployment->live.Observe(503, 0, 0);
    return Unavailable("deployment '" + deployment->name + "' of endpoint '" +
                       endpoint->record.name + "' has no model loaded: " + serving->error);
  }
  std::string request_id = req.request_id;
  if (request_id.empty()) request_id = std::string(req.Header(kRequestIdHeader));
  if (request_id.empty()) request_id = NewUuidHex();
  const double rate = endpoint->record.sample_rate;
  const bool sampled = log_ != nullptr && rate > 0 && (rate >= 1 || UnitRandom() < rate);
  const int64_t time = clock_.NowMillis();

  serving::ScoringOptions options;
  options.capture = sampled;
  options.model_name = endpoint->record.name;
  options.model_version = serving->v2_version;
  serving::ScoringOutcome outcome;
  {
    Permit permit(serving->limit.get());
    outcome = serving->model->Score(protocol, req, options);
  }
  const int64_t latency_us = clock_.MonotonicMicros() - start_us;
  const int status = outcome.response.status;
  deployment->live.Observe(status, latency_us, outcome.rows);

  if (!named && !endpoint->mirrors.empty()) {
    const std::string_view key = req.Header(kRouteKeyHeader);
    for (const auto& [mirror, percent] : endpoint->mirrors) {
      const uint64_t point = key.empty() ? NextRandom() % 100 : RouteKeyMirrorPoint(key);
      if (int64_t(point) < percent) {
        Mirror(endpoint, *mirror, protocol, req, request_id, sampled, time);
      }
    }
  }
  if (sampled) {
    log_->Append(monitoring::PredictionEntry{time, request_id, endpoint->record.name,
                                             deployment->name, serving->record.model_uri,
                                             serving->model_label, latency_us, status, false,
                                             outcome.inputs_json, outcome.outputs_json});
  }
  outcome.response.SetHeader(std::string(kDeploymentHeader), deployment->name);
  outcome.response.SetHeader(std::string(kRequestIdHeader), request_id);
  return std::move(outcome.response);
}

void EndpointService::Mirror(const std::shared_ptr<const Endpoint>& endpoint,
                             Deployment& deployment, serving::Protocol protocol,
                             const http::HttpRequest& req, const std::string& request_id,
                             bool sampled, int64_t time) {
  // The copy owns what it needs: the routing snapshot (and so the deployment) and the request.
  auto copy = std::make_shared<http::HttpRequest>(req);
  copy->body_sink.reset();
  Deployment* target = &deployment;
  bool posted =
      mirrors_.TryPost([this, endpoint, target, protocol, copy, request_id, sampled, time] {
        std::shared_ptr<const Serving> serving = target->serving.load();
        if (!serving->model) {
          target->mirror.Observe(503, 0, 0);
          return;
        }
        const int64_t start_us = clock_.MonotonicMicros();
        serving::ScoringOptions options;
        options.capture = sampled;
        options.model_name = endpoint->record.name;
        options.model_version = serving->v2_version;
        serving::ScoringOutcome outcome;
        {
          Permit permit(serving->limit.get());
          outcome = serving->model->Score(protocol, *copy, options);
        }
        const int64_t latency_us = clock_.MonotonicMicros() - start_us;
        target->mirror.Observe(outcome.response.status, latency_us, outcome.rows);
        if (sampled && log_ != nullptr) {
          log_->Append(monitoring::PredictionEntry{
              time, request_id, endpoint->record.name, target->name, serving->record.model_uri,
              serving->model_label, latency_us, outcome.response.status, true, outcome.inputs_json,
              outcome.outputs_json});
        }
      });
  if (!posted) endpoint->mirror_dropped->fetch_add(1, std::memory_order_relaxed);
}

Result<std::string> EndpointService::ModelMetadata(std::string_view name,
                                                   const http::HttpRequest& req) {
  auto snapshot = Snapshot();
  auto it = snapshot->find(name);
  if (it == snapshot->end()) return EndpointNotFound(name);
  bool named = false;
  CAIRN_TRY(Deployment * deployment, Route(*it->second, req, &named));
  auto serving = deployment->serving.load();
  if (!serving->model) {
    return Unavailable("deployment '" + deployment->name + "' of endpoint '" + std::string(name) +
                       "' has no model loaded: " + serving->error);
  }
  serving::ScoringOptions options;
  options.model_name = std::string(name);
  options.model_version = serving->v2_version;
  return serving->model->MetadataV2Json(options);
}

Status EndpointService::Ready(std::string_view name) {
  auto snapshot = Snapshot();
  auto it = snapshot->find(name);
  if (it == snapshot->end()) return EndpointNotFound(name);
  const Endpoint& ep = *it->second;
  if (ep.live_targets.empty()) {
    return Unavailable("endpoint '" + std::string(name) + "' takes no traffic yet");
  }
  for (Deployment* d : ep.live_targets) {
    auto serving = d->serving.load();
    if (!serving->model) {
      return Unavailable("deployment '" + d->name + "' of endpoint '" + std::string(name) +
                         "' has no model loaded: " + serving->error);
    }
  }
  return Status::Ok();
}

// --- monitoring -------------------------------------------------------------------------------

Result<monitoring::PredictionPage> EndpointService::Predictions(
    const monitoring::PredictionQuery& query) {
  CAIRN_RETURN_IF_ERROR(store_.GetEndpoint(query.endpoint).status());
  if (log_ == nullptr) return Unavailable("the prediction log is off in this server");
  log_->Flush();
  return log_->Read(query);
}

Result<std::vector<DeploymentCounters>> EndpointService::Counters(
    std::string_view endpoint) const {
  std::shared_ptr<const EndpointMap> snapshot = Snapshot();
  auto it = snapshot->find(endpoint);
  if (it == snapshot->end()) {
    return NotFound("endpoint '" + std::string(endpoint) + "' does not exist");
  }
  constexpr auto kRelaxed = std::memory_order_relaxed;
  std::vector<DeploymentCounters> out;
  for (const auto& [name, d] : it->second->deployments) {
    DeploymentCounters c;
    c.deployment = name;
    const Stats& stats = d->live;
    for (int status = 0; status < kMaxStatus; ++status) {
      const int64_t n = int64_t(stats.by_status[status].load(kRelaxed));
      if (n == 0) continue;
      if (status >= 200 && status < 300) c.status_2xx += n;
      if (status >= 400 && status < 500) c.status_4xx += n;
      if (status >= 500) c.status_5xx += n;
      c.count += n;
    }
    c.bucket_bounds_seconds.assign(kLatencyBuckets.begin(), kLatencyBuckets.end());
    for (const auto& b : stats.buckets) c.buckets.push_back(int64_t(b.load(kRelaxed)));
    out.push_back(std::move(c));
  }
  return out;
}

void EndpointService::WaitForMirrors() { mirrors_.WaitIdle(); }

std::string EndpointService::RenderMetrics() const {
  auto snapshot = Snapshot();
  std::string requests, latency, predictions, traffic, ready, dropped;
  for (const auto& [name, ep] : *snapshot) {
    const std::string endpoint_label = "endpoint=\"" + name + "\"";
    dropped += "cairn_endpoint_mirror_dropped_total{" + endpoint_label + "} " +
               std::to_string(ep->mirror_dropped->load(std::memory_order_relaxed)) + "\n";
    for (const auto& [dname, d] : ep->deployments) {
      const std::string labels = endpoint_label + ",deployment=\"" + dname + "\"";
      const auto [live_share, mirror_share] = ep->shares.at(dname);
      traffic += "cairn_endpoint_traffic_percent{" + labels + ",traffic=\"live\"} " +
                 std::to_string(live_share) + "\n";
      traffic += "cairn_endpoint_traffic_percent{" + labels + ",traffic=\"mirror\"} " +
                 std::to_string(mirror_share) + "\n";
      ready += "cairn_endpoint_deployment_ready{" + labels + "} " +
               (d->serving.load()->model ? "1" : "0") + "\n";
      for (const auto& [kind, stats] :
           {std::pair<const char*, const Stats*>{"live", &d->live},
            std::pair<const char*, const Stats*>{"mirror", &d->mirror}}) {
        const std::string klabels = labels + ",traffic=\"" + kind + "\"";
        for (int status = 0; status < kMaxStatus; ++status) {
          uint64_t n = stats->by_status[status].load(std::memory_order_relaxed);
          if (n == 0) continue;
          requests += "cairn_endpoint_requests_total{" + klabels + ",status=\"" +
                      std::to_string(status) + "\"} " + std::to_string(n) + "\n";
        }
        const uint64_t count = stats->count.load(std::memory_order_relaxed);
        predictions += "cairn_endpoint_predictions_total{" + klabels + "} " +
                       std::to_string(stats->rows.load(std::memory_order_relaxed)) + "\n";
        if (count == 0 && std::string_view(kind) == "mirror") continue;
        uint64_t cumulative = 0;
        for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
          cumulative += stats->buckets[i].load(std::memory_order_relaxed);
          latency += "cairn_endpoint_request_duration_seconds_bucket{" + klabels + ",le=\"" +
                     FormatSeconds(kLatencyBuckets[i]) + "\"} " + std::to_string(cumulative) + "\n";
        }
        // Read after the buckets: +Inf must not be below any bucket taken before it.
        const uint64_t total = std::max(count, cumulative);
        latency += "cairn_endpoint_request_duration_seconds_bucket{" + klabels + ",le=\"+Inf\"} " +
                   std::to_string(total) + "\n";
        latency += "cairn_endpoint_request_duration_seconds_sum{" + klabels + "} " +
                   FormatSeconds(double(stats->sum_us.load(std::memory_order_relaxed)) * 1e-6) +
                   "\n";
        latency += "cairn_endpoint_request_duration_seconds_count{" + klabels + "} " +
                   std::to_string(total) + "\n";
      }
    }
  }
  std::string out;
  auto family = [&](const char* metric, const char* type, const char* help,
                    const std::string& samples) {
    out += std::string("# HELP ") + metric + " " + help + "\n";
    out += std::string("# TYPE ") + metric + " " + type + "\n";
    out += samples;
  };
  family("cairn_endpoint_requests_total", "counter",
         "Scoring requests answered, by endpoint, deployment, traffic (live or mirror) and "
         "status.",
         requests);
  family("cairn_endpoint_request_duration_seconds", "histogram",
         "Scoring latency on the server, by endpoint, deployment and traffic.", latency);
  family("cairn_endpoint_predictions_total", "counter",
         "Rows scored, by endpoint, deployment and traffic.", predictions);
  family("cairn_endpoint_traffic_percent", "gauge",
         "The share of an endpoint's requests a deployment takes, live or mirrored.", traffic);
  family("cairn_endpoint_deployment_ready", "gauge",
         "1 when the deployment's model is loaded and scoring.", ready);
  family("cairn_endpoint_mirror_dropped_total", "counter",
         "Mirrored copies dropped because the mirror queue was full, by endpoint.", dropped);
  if (log_ != nullptr) out += log_->RenderMetrics();
  return out;
}

}  // namespace cairn::endpoints
