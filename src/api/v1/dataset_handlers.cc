// Handlers of /api/v1/datasets and /api/v1/blobs: parse, one DatasetService call, serialize.
#include "api/error_mapping.h"
#include "api/v1/dataset_json.h"
#include "api/v1/v1_routes.h"
#include "data/profile.h"

namespace cairn::api::v1 {

namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;

std::string NameOf(const HttpRequest& req) { return std::string(req.PathParam("name")); }

Result<std::optional<int64_t>> VersionOf(const HttpRequest& req) {
  return ParseVersion(req.PathParam("version"), "version");
}

json ProfilesJson(const std::vector<datasets::FileProfile>& profiles) {
  json out = json::array();
  for (const auto& p : profiles) {
    out.push_back({{"path", p.path}, {"profile", data::ToJson(p.profile)}});
  }
  return out;
}

class DatasetHandlers {
 public:
  explicit DatasetHandlers(datasets::DatasetService& service) : service_(service) {}

  HttpResponse List(HttpRequest&) {
    CAIRN_TRY_RESPOND(auto summaries, service_.ListDatasets());
    json out = json::array();
    for (const auto& s : summaries) out.push_back(ToJson(s));
    return http::JsonResponse(200, Dump(json{{"datasets", std::move(out)}}));
  }

  HttpResponse Versions(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto versions, service_.ListVersions(NameOf(req)));
    json out = json::array();
    for (const auto& v : versions) out.push_back(ToJson(v));
    return http::JsonResponse(200,
                              Dump(json{{"name", NameOf(req)}, {"versions", std::move(out)}}));
  }

  HttpResponse Create(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto request, ParseNewVersion(req.body, NameOf(req)));
    CAIRN_TRY_RESPOND(auto created, service_.CreateVersion(request));
    return http::JsonResponse(200, Dump(json{{"version", ToJson(created.version)},
                                             {"created", created.created},
                                             {"stored_bytes", created.stored_bytes}}));
  }

  HttpResponse Get(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto version, VersionOf(req));
    bool include_profile = req.QueryParam("include_profile").value_or("true") != "false";
    CAIRN_TRY_RESPOND(auto details, service_.GetVersion(NameOf(req), version));
    json files = json::array();
    for (const auto& f : details.files) files.push_back(ToJson(f));
    json out = {{"version", ToJson(details.version)}, {"files", std::move(files)}};
    if (include_profile) {
      // The profiles of exactly the version just read (not whatever is latest now).
      CAIRN_TRY_RESPOND(auto profiles,
                        service_.GetProfiles(details.version.name, details.version.version));
      out["profiles"] = ProfilesJson(profiles);
    }
    return http::JsonResponse(200, Dump(out));
  }

  HttpResponse Profile(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto version, VersionOf(req));
    CAIRN_TRY_RESPOND(auto profiles,
                      service_.GetProfiles(NameOf(req), version, req.QueryParam("path")));
    return http::JsonResponse(200, Dump(json{{"files", ProfilesJson(profiles)}}));
  }

  HttpResponse Manifest(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto version, VersionOf(req));
    CAIRN_TRY_RESPOND(auto manifest,
                      service_.GetFileManifest(NameOf(req), version, req.PathParam("path")));
    return http::TextResponse(200, data::SerializeManifest(manifest));
  }

  HttpResponse File(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto version, VersionOf(req));
    CAIRN_TRY_RESPOND(auto reader, service_.OpenFile(NameOf(req), version, req.PathParam("path")));
    // The first chunk is read here, so a file that cannot be read at all is an error answer
    // rather than a truncated body. A later failure ends the body early; the size and SHA-256
    // headers let the client tell (the client library checks both).
    auto first = std::make_shared<std::string>();
    CAIRN_RESPOND_IF_ERROR(reader->Read(*first));
    HttpResponse response;
    response.status = 200;
    response.SetHeader("content-type", "application/octet-stream");
    response.SetHeader("x-cairn-sha256", reader->sha256());
    response.SetHeader("x-cairn-size", std::to_string(reader->size()));
    auto shared = std::shared_ptr<datasets::DatasetFileReader>(std::move(reader));
    response.body_producer = [shared, first](std::string& chunk) {
      if (!first->empty()) {
        chunk.swap(*first);
        first->clear();
        return true;
      }
      return shared->Read(chunk).ok() && !chunk.empty();
    };
    return response;
  }

  HttpResponse Diff(HttpRequest& req) {
    auto from_text = req.QueryParam("from");
    auto to_text = req.QueryParam("to");
    if (!from_text) return ErrorResponse(InvalidArgument("from: required (a version number)"));
    if (!to_text) return ErrorResponse(InvalidArgument("to: required (a version number)"));
    CAIRN_TRY_RESPOND(auto from, ParseVersion(*from_text, "from"));
    CAIRN_TRY_RESPOND(auto to, ParseVersion(*to_text, "to"));
    CAIRN_TRY_RESPOND(auto diff, service_.Diff(NameOf(req), from, to));
    return http::JsonResponse(200, Dump(ToJson(diff)));
  }

  HttpResponse MissingBlobs(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto digests, ParseDigestList(req.body));
    CAIRN_TRY_RESPOND(auto missing, service_.MissingBlobs(digests));
    return http::JsonResponse(200, Dump(json{{"missing", missing}}));
  }

  HttpResponse PutBlobs(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto entries, ParseBlobPack(req.body));
    CAIRN_TRY_RESPOND(auto result, service_.PutBlobs(entries));
    return http::JsonResponse(200, Dump(json{{"chunks", result.chunks},
                                             {"stored", result.stored},
                                             {"stored_bytes", result.stored_bytes}}));
  }

 private:
  datasets::DatasetService& service_;
};

}  // namespace

void RegisterDatasetRoutes(http::Router& router, datasets::DatasetService& service,
                           const DatasetRouteLimits& limits) {
  auto h = std::make_shared<DatasetHandlers>(service);
  http::RouteOptions json_options;
  json_options.max_body_bytes = limits.max_json_body_bytes;
  http::RouteOptions commit_options;
  commit_options.max_body_bytes = limits.max_commit_body_bytes;
  http::RouteOptions pack_options;
  pack_options.max_body_bytes = limits.max_pack_bytes;

  const std::string base = "/api/v1/datasets";
  const std::string version = base + "/{name}/versions/{version}";
  router.Add("GET", base, [h](HttpRequest& r) { return h->List(r); }, json_options);
  router.Add("GET", base + "/{name}", [h](HttpRequest& r) { return h->Versions(r); },
             json_options);
  router.Add("GET", base + "/{name}/versions", [h](HttpRequest& r) { return h->Versions(r); },
             json_options);
  router.Add("POST", base + "/{name}/versions", [h](HttpRequest& r) { return h->Create(r); },
             commit_options);
  router.Add("GET", version, [h](HttpRequest& r) { return h->Get(r); }, json_options);
  router.Add("GET", version + "/profile", [h](HttpRequest& r) { return h->Profile(r); },
             json_options);
  router.Add("GET", version + "/files/{path...}", [h](HttpRequest& r) { return h->File(r); },
             json_options);
  router.Add("GET", version + "/manifests/{path...}",
             [h](HttpRequest& r) { return h->Manifest(r); }, json_options);
  router.Add("GET", base + "/{name}/diff", [h](HttpRequest& r) { return h->Diff(r); },
             json_options);
  router.Add("POST", "/api/v1/blobs/missing", [h](HttpRequest& r) { return h->MissingBlobs(r); },
             json_options);
  router.Add("POST", "/api/v1/blobs", [h](HttpRequest& r) { return h->PutBlobs(r); },
             pack_options);
}

}  // namespace cairn::api::v1
