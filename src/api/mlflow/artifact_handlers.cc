// Handlers of MLflow's artifact proxy and artifacts/list: uploads stream into the blob store,
// downloads stream out of it.
#include "api/error_mapping.h"
#include "api/mlflow/mlflow_routes.h"
#include "api/mlflow/request_fields.h"
#include "wire/mlflow_entities.h"

namespace cairn::api::mlflow {

namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;

constexpr std::string_view kProxyPrefixes[] = {"/api/2.0/mlflow-artifacts/artifacts",
                                               "/ajax-api/2.0/mlflow-artifacts/artifacts"};

// The artifact path of a proxy request: what follows ".../artifacts/".
std::string ProxyPath(const HttpRequest& req) {
  std::string_view param = req.PathParam("path");
  if (!param.empty()) return std::string(param);
  for (std::string_view prefix : kProxyPrefixes) {
    if (req.path.size() > prefix.size() + 1 && req.path.compare(0, prefix.size(), prefix) == 0) {
      return req.path.substr(prefix.size() + 1);
    }
  }
  return "";
}

class UploadSink : public http::BodySink {
 public:
  explicit UploadSink(std::unique_ptr<tracking::ArtifactUpload> upload)
      : upload_(std::move(upload)) {}
  bool Write(std::string_view chunk) override {
    status_ = upload_->Write(chunk);
    return status_.ok();
  }
  tracking::ArtifactUpload& upload() { return *upload_; }

 private:
  std::unique_ptr<tracking::ArtifactUpload> upload_;
  Status status_;
};

std::string ContentTypeOf(std::string_view path) {
  auto ends_with = [&](std::string_view suffix) {
    return path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
  };
  if (ends_with(".json")) return "application/json";
  if (ends_with(".txt") || ends_with(".log") || ends_with("MLmodel") || ends_with(".yaml") ||
      ends_with(".yml") || ends_with(".csv") || ends_with(".md")) {
    return "text/plain; charset=utf-8";
  }
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".png")) return "image/png";
  return "application/octet-stream";
}

class ArtifactHandlers {
 public:
  explicit ArtifactHandlers(tracking::ArtifactService& service) : service_(service) {}

  std::shared_ptr<http::BodySink> NewSink(const HttpRequest& req) {
    auto upload = service_.BeginUpload(ProxyPath(req));
    if (!upload.ok()) return nullptr;
    return std::make_shared<UploadSink>(std::move(upload).value());
  }

  HttpResponse Upload(HttpRequest& req) {
    auto* sink = dynamic_cast<UploadSink*>(req.body_sink.get());
    if (sink == nullptr) {
      // The sink was refused: answer with the reason.
      CAIRN_RESPOND_IF_ERROR(tracking::ValidateArtifactPath(ProxyPath(req)));
      return ErrorResponse(Internal("the upload could not be started"));
    }
    CAIRN_TRY_RESPOND(auto entry, sink->upload().Finish());
    (void)entry;
    return http::JsonResponse(200, "{}");
  }

  HttpResponse Download(HttpRequest& req) {
    // ".../artifacts?path=dir" (no trailing path) is a listing.
    if (ProxyPath(req).empty()) return List(req);
    CAIRN_TRY_RESPOND(auto download, service_.Open(ProxyPath(req)));
    HttpResponse response;
    response.status = 200;
    response.SetHeader("content-type", ContentTypeOf(download.entry.path));
    response.SetHeader("x-cairn-digest", download.entry.digest);
    auto reader = std::shared_ptr<blob::BlobReader>(std::move(download.reader));
    response.body_producer = [reader](std::string& chunk) {
      return reader->Read(chunk, 1 << 16).ok() && !chunk.empty();
    };
    return response;
  }

  HttpResponse List(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto path, f.String("path"));
    std::string dir = path.value_or("");
    while (!dir.empty() && dir.back() == '/') dir.pop_back();
    CAIRN_TRY_RESPOND(auto entries, service_.List(dir));
    json files = json::array();
    for (const auto& e : entries) files.push_back(wire::ToJson(e));
    return http::JsonResponse(200, wire::Dump(json{{"files", std::move(files)}}));
  }

  HttpResponse Delete(HttpRequest& req) {
    CAIRN_RESPOND_IF_ERROR(service_.Delete(ProxyPath(req)));
    return http::JsonResponse(200, "{}");
  }

  HttpResponse ListRunArtifacts(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto run_id, f.RequiredStringOf("run_id", "run_uuid"));
    CAIRN_TRY_RESPOND(auto path, f.String("path"));
    std::string dir = path.value_or("");
    while (!dir.empty() && dir.back() == '/') dir.pop_back();
    CAIRN_TRY_RESPOND(auto listing, service_.ListRunArtifacts(run_id, dir));
    json out = {{"root_uri", listing.root_uri}};
    if (!listing.files.empty()) {
      json files = json::array();
      for (const auto& e : listing.files) files.push_back(wire::ToJson(e));
      out["files"] = std::move(files);
    }
    return http::JsonResponse(200, wire::Dump(out));
  }

 private:
  tracking::ArtifactService& service_;
};

}  // namespace

void RegisterArtifactRoutes(http::Router& router, tracking::ArtifactService& artifacts,
                            const RouteLimits& limits) {
  auto h = std::make_shared<ArtifactHandlers>(artifacts);
  http::RouteOptions json_options;
  json_options.max_body_bytes = limits.max_json_body_bytes;
  http::RouteOptions upload_options;
  upload_options.max_body_bytes = limits.max_artifact_bytes;
  upload_options.body_sink_factory = [h](const HttpRequest& req) { return h->NewSink(req); };

  for (std::string_view prefix : kProxyPrefixes) {
    std::string base(prefix);
    router.Add("GET", base, [h](HttpRequest& r) { return h->List(r); }, json_options);
    router.Add("PUT", base + "/{path...}", [h](HttpRequest& r) { return h->Upload(r); },
               upload_options);
    router.Add("GET", base + "/{path...}", [h](HttpRequest& r) { return h->Download(r); },
               json_options);
    router.Add("DELETE", base + "/{path...}", [h](HttpRequest& r) { return h->Delete(r); },
               json_options);
  }
  for (const char* prefix : {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"}) {
    router.Add("GET", std::string(prefix) + "artifacts/list",
               [h](HttpRequest& r) { return h->ListRunArtifacts(r); }, json_options);
  }
}

}  // namespace cairn::api::mlflow
