#include "endpoints/rollout.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

namespace cairn::endpoints {

namespace {

using store::TrafficShare;

std::string Percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", share * 100);
  return buf;
}

std::string Millis(double ms) {
  if (std::isinf(ms)) return "over 10 s";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g ms", ms);
  return buf;
}

const DeploymentCounters* Find(const std::vector<DeploymentCounters>& all,
                               const std::string& name) {
  for (const auto& c : all) {
    if (c.deployment == name) return &c;
  }
  return nullptr;
}

}  // namespace

Result<RolloutStrategy> ParseRolloutStrategy(std::string_view name) {
  for (auto s : {RolloutStrategy::kReplace, RolloutStrategy::kBlueGreen, RolloutStrategy::kCanary,
                 RolloutStrategy::kAb, RolloutStrategy::kShadow}) {
    if (RolloutStrategyName(s) == name) return s;
  }
  return InvalidArgument("strategy: '" + std::string(name) +
                         "' is not one of replace, blue-green, canary, ab, shadow");
}

std::string_view RolloutStrategyName(RolloutStrategy strategy) {
  switch (strategy) {
    case RolloutStrategy::kReplace: return "replace";
    case RolloutStrategy::kBlueGreen: return "blue-green";
    case RolloutStrategy::kCanary: return "canary";
    case RolloutStrategy::kAb: return "ab";
    case RolloutStrategy::kShadow: return "shadow";
  }
  return "replace";
}

WindowFigures Window(const DeploymentCounters& before, const DeploymentCounters& after,
                     double baseline_4xx_rate) {
  WindowFigures w;
  w.requests = after.count - before.count;
  w.status_5xx = after.status_5xx - before.status_5xx;
  w.status_4xx = after.status_4xx - before.status_4xx;
  if (w.requests <= 0) return w;
  w.excess_4xx = std::max(0.0, double(w.status_4xx) - baseline_4xx_rate * double(w.requests));
  w.error_rate = (double(w.status_5xx) + w.excess_4xx) / double(w.requests);
  // p99: the bound of the bucket where the cumulative count reaches 99 % of the answers.
  const double target = 0.99 * double(w.requests);
  double cumulative = 0;
  w.p99_ms = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < after.buckets.size() && i < before.buckets.size(); ++i) {
    cumulative += double(after.buckets[i] - before.buckets[i]);
    if (cumulative >= target) {
      w.p99_ms = after.bucket_bounds_seconds[i] * 1000;
      break;
    }
  }
  return w;
}

Result<RolloutResult> Rollout(EndpointService& service, const RolloutRequest& request,
                              const RolloutHooks& hooks) {
  if (request.model_uri.empty()) return InvalidArgument("model: required");
  CAIRN_RETURN_IF_ERROR(ValidateEndpointName(request.endpoint, "endpoint"));
  if (!request.deployment.empty()) {
    CAIRN_RETURN_IF_ERROR(ValidateEndpointName(request.deployment, "deployment"));
  }
  const auto log = [&](const std::string& line) {
    if (hooks.log) hooks.log(line);
  };

  Result<EndpointView> found = service.GetEndpoint(request.endpoint);
  if (!found.ok() && found.status().code() != StatusCode::kNotFound) return found.status();
  if (!found.ok()) {
    if (request.strategy == RolloutStrategy::kShadow) {
      return FailedPrecondition("endpoint '" + request.endpoint +
                                "' does not exist: a shadow needs a live deployment to copy");
    }
    CreateEndpointRequest create;
    create.name = request.endpoint;
    CAIRN_RETURN_IF_ERROR(service.CreateEndpoint(create).status());
    log("created endpoint " + request.endpoint);
    found = service.GetEndpoint(request.endpoint);
    if (!found.ok()) return found.status();
  }

  // The deployment that takes (most of) the live traffic now.
  std::string old;
  int64_t old_share = 0;
  for (const DeploymentView& d : found->deployments) {
    if (d.deployment.traffic > old_share) {
      old = d.deployment.name;
      old_share = d.deployment.traffic;
    }
  }
  auto exists = [&](const std::string& name) {
    for (const DeploymentView& d : found->deployments) {
      if (d.deployment.name == name) return true;
    }
    return false;
  };
  auto put_model = [&](const std::string& name) -> Status {
    if (exists(name)) {
      UpdateDeploymentRequest update;
      update.endpoint = request.endpoint;
      update.name = name;
      update.model_uri = request.model_uri;
      CAIRN_RETURN_IF_ERROR(service.UpdateDeployment(update).status());
      log("deployment " + name + " now serves " + request.model_uri);
    } else {
      CreateDeploymentRequest create;
      create.endpoint = request.endpoint;
      create.name = name;
      create.model_uri = request.model_uri;
      CAIRN_RETURN_IF_ERROR(service.CreateDeployment(create).status());
      log("created deployment " + name + " serving " + request.model_uri);
    }
    return Status::Ok();
  };
  auto live = [&](std::vector<TrafficShare> shares) -> Status {
    TrafficRequest t;
    t.endpoint = request.endpoint;
    std::string text;
    for (const TrafficShare& s : shares) {
      text += (text.empty() ? "" : ", ") + s.deployment + "=" + std::to_string(s.percent) + "%";
    }
    t.live = std::move(shares);
    CAIRN_RETURN_IF_ERROR(service.SetTraffic(t).status());
    log("traffic: " + text);
    return Status::Ok();
  };

  if (old.empty() || request.strategy == RolloutStrategy::kReplace) {
    if (request.strategy == RolloutStrategy::kShadow) {
      return FailedPrecondition("endpoint '" + request.endpoint +
                                "' takes no live traffic: a shadow needs a live deployment");
    }
    // Nothing live (a first deployment), or a swap in place: the zero-drop model swap.
    const std::string name =
        !old.empty() ? old : (request.deployment.empty() ? "blue" : request.deployment);
    CAIRN_RETURN_IF_ERROR(put_model(name));
    if (old.empty()) CAIRN_RETURN_IF_ERROR(live({{name, 100}}));
    return RolloutResult{name, old};
  }

  std::string fresh = request.deployment;
  if (fresh.empty()) fresh = old == "blue" ? "green" : "blue";
  if (fresh == old) {
    return InvalidArgument("deployment: '" + fresh + "' takes the live traffic of endpoint '" +
                           request.endpoint + "'; name another deployment for the new model");
  }
  CAIRN_RETURN_IF_ERROR(put_model(fresh));

  switch (request.strategy) {
    case RolloutStrategy::kBlueGreen:
      CAIRN_RETURN_IF_ERROR(live({{fresh, 100}}));
      log("kept " + old + " (no traffic) for a rollback");
      return RolloutResult{fresh, old};
    case RolloutStrategy::kAb: {
      if (request.split < 1 || request.split > 99) {
        return InvalidArgument("split: expected a percent between 1 and 99");
      }
      CAIRN_RETURN_IF_ERROR(live({{fresh, request.split}, {old, 100 - request.split}}));
      return RolloutResult{fresh, old};
    }
    case RolloutStrategy::kShadow: {
      if (request.mirror < 1 || request.mirror > 100) {
        return InvalidArgument("mirror: expected a percent between 1 and 100");
      }
      TrafficRequest t;
      t.endpoint = request.endpoint;
      t.mirror = std::vector<TrafficShare>{{fresh, request.mirror}};
      CAIRN_RETURN_IF_ERROR(service.SetTraffic(t).status());
      log("mirror: " + fresh + "=" + std::to_string(request.mirror) + "% (answers logged only)");
      return RolloutResult{fresh, old};
    }
    case RolloutStrategy::kCanary:
      break;
    case RolloutStrategy::kReplace:
      break;
  }

  // Canary: step by step, judging the new deployment over each step's window.
  if (request.steps.empty() || request.steps.back() != 100) {
    return InvalidArgument("steps: expected increasing percents ending at 100");
  }
  auto rollback = [&](const std::string& why) -> Status {
    Status back = live({{old, 100}});
    log("rolled back to " + old + ": " + why);
    if (!back.ok()) return Status(back.code(), why + "; and the rollback failed: " + back.message());
    return Status::Ok();
  };
  int64_t last = 0;
  for (int64_t percent : request.steps) {
    if (percent <= last || percent > 100) {
      return InvalidArgument("steps: expected increasing percents ending at 100");
    }
    last = percent;
    if (percent == 100) {
      CAIRN_RETURN_IF_ERROR(live({{fresh, 100}}));
      break;
    }
    CAIRN_RETURN_IF_ERROR(live({{fresh, percent}, {old, 100 - percent}}));
    CAIRN_TRY(auto before, service.Counters(request.endpoint));
    const bool go_on = hooks.wait_for ? hooks.wait_for(request.interval_ms) : true;
    CAIRN_TRY(auto after, service.Counters(request.endpoint));
    if (!go_on) {
      const std::string why = "the rollout was cancelled at " + std::to_string(percent) + "%";
      CAIRN_RETURN_IF_ERROR(rollback(why));
      return Unavailable(why + "; " + old + " takes all traffic again");
    }
    const DeploymentCounters* nb = Find(before, fresh);
    const DeploymentCounters* na = Find(after, fresh);
    const DeploymentCounters* ob = Find(before, old);
    const DeploymentCounters* oa = Find(after, old);
    if (nb == nullptr || na == nullptr || ob == nullptr || oa == nullptr) {
      return Internal("the counters of deployments " + fresh + " and " + old + " are missing");
    }
    const WindowFigures baseline = Window(*ob, *oa, 0);
    const double baseline_4xx =
        baseline.requests > 0 ? double(baseline.status_4xx) / double(baseline.requests) : 0;
    const WindowFigures w = Window(*nb, *na, baseline_4xx);
    std::string figures = std::to_string(w.requests) + " answers, error rate " +
                          Percent(w.error_rate) + " (" + std::to_string(w.status_5xx) + " 5xx, " +
                          std::to_string(w.status_4xx) + " 4xx against " + old + "'s 4xx rate " +
                          Percent(baseline_4xx) + "), p99 " + Millis(w.p99_ms);
    log("canary at " + std::to_string(percent) + "%: " + fresh + " " + figures);
    if (w.requests < request.min_requests) {
      log("canary at " + std::to_string(percent) + "%: fewer than " +
          std::to_string(request.min_requests) + " answers; not judged");
      continue;
    }
    std::string breach;
    if (w.error_rate > request.max_error_rate) {
      breach = "error rate " + Percent(w.error_rate) + " above max_error_rate " +
               Percent(request.max_error_rate);
    } else if (request.max_p99_ms > 0 && w.p99_ms > request.max_p99_ms) {
      breach = "p99 " + Millis(w.p99_ms) + " above max_p99_ms " + Millis(request.max_p99_ms);
    }
    if (!breach.empty()) {
      const std::string why = "canary " + fresh + " at " + std::to_string(percent) + "%: " +
                              breach + " (" + figures + ")";
      CAIRN_RETURN_IF_ERROR(rollback(why));
      return FailedPrecondition(why + "; rolled back: " + old + " takes all traffic again");
    }
  }
  log("kept " + old + " (no traffic) for a rollback");
  return RolloutResult{fresh, old};
}

}  // namespace cairn::endpoints
