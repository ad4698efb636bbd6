// EndpointService: the workspace's scoring endpoints — their deployments, traffic split, sticky
// routing, mirroring, zero-drop model swaps, the prediction log and per-deployment metrics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "endpoints/endpoint_types.h"
#include "endpoints/mirror_queue.h"
#include "endpoints/model_provider.h"
#include "http/http_types.h"
#include "monitoring/prediction_log.h"
#include "serving/scoring_model.h"
#include "store/metadata_store.h"

namespace cairn::endpoints {

struct EndpointServiceOptions {
  // Mirrored copies waiting to be scored; past this they are dropped (and counted) so that the
  // live path never waits for a shadow.
  size_t mirror_queue = 256;
  int mirror_threads = 1;
};

// Thread-safe. Endpoints and deployments persist in the store; this server's routing state is an
// immutable snapshot behind an atomic pointer, rebuilt and swapped by every change, so a request
// routes on one consistent configuration and a change never waits for requests or they for it.
// A deployment's model is swapped the same way: loaded fully first, then its pointer replaced;
// requests in flight finish on the model they started with.
class EndpointService {
 public:
  // `log` may be null (no prediction log). The store, provider, log and clock must outlive it.
  EndpointService(store::MetadataStore& store, ModelProvider& models,
                  monitoring::PredictionLog* log, const Clock& clock,
                  EndpointServiceOptions options = {});
  ~EndpointService();

  // Loads every endpoint and each deployment's model, as recorded (a deployment made from an
  // alias keeps the version it resolved to). A model that fails to load leaves its deployment
  // failed — it answers 503 until updated — and is reported in the returned messages; the others
  // serve. Call once, before serving.
  Result<std::vector<std::string>> LoadAll();

  // --- management (kInvalidArgument naming the field, kNotFound, kAlreadyExists, …) ---
  Result<EndpointView> CreateEndpoint(const CreateEndpointRequest& req);
  Result<EndpointView> GetEndpoint(std::string_view name);
  Result<std::vector<EndpointView>> ListEndpoints();
  Result<EndpointView> UpdateEndpoint(const UpdateEndpointRequest& req);
  // Deletes the endpoint with its deployments (the prediction log stays, for audit).
  Status DeleteEndpoint(std::string_view name);
  // Validates the resulting configuration (routing.h: ValidateTraffic) and applies it at once.
  Result<EndpointView> SetTraffic(const TrafficRequest& req);

  // Resolves the model URI and loads the model fully before recording the deployment, which
  // starts with no traffic (a request may name it in x-cairn-deployment).
  Result<DeploymentView> CreateDeployment(const CreateDeploymentRequest& req);
  Result<DeploymentView> GetDeployment(std::string_view endpoint, std::string_view name);
  Result<std::vector<DeploymentView>> ListDeployments(std::string_view endpoint);
  // A new model URI is resolved and loaded fully, then swapped in under load.
  Result<DeploymentView> UpdateDeployment(const UpdateDeploymentRequest& req);
  // kFailedPrecondition while it takes live or mirrored traffic.
  Status DeleteDeployment(std::string_view endpoint, std::string_view name);

  // --- scoring ---
  // Routes `req` to a deployment of `endpoint` — the one named in x-cairn-deployment, else by
  // the route key's stable hash (x-cairn-route-key) or a random draw over the live weights —
  // and scores it with the protocol. The answer (the model's, 200 or its 4xx) carries
  // x-cairn-deployment and x-request-id. A share of requests not naming a deployment is copied
  // to the mirrors, scored on a worker after this returns, and only logged. Sampled requests
  // (the endpoint's sample rate) go to the prediction log. Errors, before any scoring: kNotFound
  // for an unknown endpoint or named deployment, kUnavailable when the endpoint takes no
  // traffic or the deployment has no model loaded.
  Result<http::HttpResponse> Score(std::string_view endpoint, serving::Protocol protocol,
                                   const http::HttpRequest& req);
  // The v2 metadata (JSON) of the model that would answer `req` (routed as Score, not mirrored).
  Result<std::string> ModelMetadata(std::string_view endpoint, const http::HttpRequest& req);
  // OK when some request to `endpoint` would be scored (live traffic on a loaded model).
  Status Ready(std::string_view endpoint);

  // --- monitoring ---
  // The endpoint's logged predictions (written out first, so a client reads its own requests).
  // kNotFound for an unknown endpoint; kUnavailable when the log is off.
  Result<monitoring::PredictionPage> Predictions(const monitoring::PredictionQuery& query);
  // Prometheus exposition: per endpoint and deployment, requests by status, latency histograms,
  // predictions, traffic shares, readiness, dropped mirror copies; and the log's counters.
  std::string RenderMetrics() const;
  // The live-traffic counters of each deployment of `endpoint` in this server (by name), for
  // rollouts that judge a deployment over a window. kNotFound for an unknown endpoint.
  Result<std::vector<DeploymentCounters>> Counters(std::string_view endpoint) const;
  // Returns once no mirrored copy is queued or being scored (tests).
  void WaitForMirrors();

 private:
  struct Stats;
  struct Serving;
  struct Deployment;
  struct Endpoint;
  using EndpointMap = std::map<std::string, std::shared_ptr<const Endpoint>, std::less<>>;

  Result<std::shared_ptr<const Serving>> LoadServing(const store::Deployment& record);
  std::shared_ptr<const Serving> FailedServing(const store::Deployment& record, Status why);
  using FreshServing = std::map<std::string, std::shared_ptr<const Serving>>;
  // Rebuilds `name`'s routing snapshot from the store (absent: removed) and publishes it; the
  // deployments in `fresh` switch to the given serving state. Caller holds admin_mu_.
  Status Publish(std::string_view name, const FreshServing& fresh);
  Result<std::shared_ptr<const Endpoint>> BuildEndpoint(
      const store::Endpoint& record, const std::vector<store::Deployment>& deployments,
      const Endpoint* previous, const FreshServing& fresh);
  std::shared_ptr<const EndpointMap> Snapshot() const { return endpoints_.load(); }
  Result<EndpointView> ViewOf(std::string_view name);
  DeploymentView ViewOf(const store::Deployment& record, const Endpoint* runtime) const;
  // The deployment `req` goes to (x-cairn-deployment, else the route key or a random draw).
  Result<Deployment*> Route(const Endpoint& endpoint, const http::HttpRequest& req,
                            bool* named) const;
  void Mirror(const std::shared_ptr<const Endpoint>& endpoint, Deployment& deployment,
              serving::Protocol protocol, const http::HttpRequest& req,
              const std::string& request_id, bool sampled, int64_t time);

  store::MetadataStore& store_;
  ModelProvider& models_;
  monitoring::PredictionLog* log_;
  const Clock& clock_;
  std::mutex admin_mu_;  // serializes changes: store write, then the matching snapshot
  std::atomic<std::shared_ptr<const EndpointMap>> endpoints_;
  // Last: destroyed first, so that mirrored copies in flight finish while the rest is alive.
  MirrorQueue mirrors_;
};

}  // namespace cairn::endpoints
