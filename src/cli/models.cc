// cairn models list | show | versions | register | alias | tag | stage | download | delete
// (and compare, from compare.cc). Wherever a model is named, a models:/ URI works too:
// models:/NAME, models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/latest, models:/NAME/STAGE.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>
#include <system_error>

#include "cli/command.h"
#include "cli/output.h"
#include "client/registry_client.h"
#include "core/clock.h"
#include "wire/mlflow_entities.h"
#include "wire/mlflow_registry.h"
#include "wire/model_uri.h"

namespace cairn::cli {
namespace {

namespace fs = std::filesystem;
using client::Json;
using client::ModelVersion;
using client::RegisteredModel;
using client::RegistryClient;

constexpr std::string_view kRegistrationTag = "cairn.registration.model";
constexpr std::string_view kRegisteredFromTag = "cairn.registration.source";

Result<std::unique_ptr<RegistryClient>> Registry(Session& s) {
  return RegistryClient::Connect(s.tracking_uri());
}

// A model as named on the command line: NAME or a models:/ URI. `uri` is set when the URI names
// a version (by number, alias, stage or latest).
struct ModelRef {
  std::string name;
  std::optional<std::string> uri;
};

Result<ModelRef> ParseModelRef(const std::string& text) {
  if (text.empty()) return InvalidArgument("no model named");
  if (!wire::IsModelUri(text)) return ModelRef{text, std::nullopt};
  constexpr std::string_view kPrefix = "models:/";
  if (text.rfind(kPrefix, 0) == 0) {
    std::string rest = text.substr(kPrefix.size());
    if (!rest.empty() && rest.find_first_of("/@") == std::string::npos) {
      return ModelRef{rest, std::nullopt};  // models:/NAME: the model itself
    }
  }
  CAIRN_TRY(wire::ModelUri parsed, wire::ParseModelUri(text));
  return ModelRef{parsed.name, text};
}

Result<int64_t> ParseVersionArg(const std::string& text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 1) {
    return InvalidArgument("'" + text + "' is not a model version number");
  }
  return v;
}

bool IsVersionNumber(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](char c) { return c >= '0' && c <= '9'; });
}

// The version a command names: a models:/ URI naming one, or NAME plus a VERSION argument.
Result<ModelVersion> ResolveVersion(RegistryClient& c, const ModelRef& ref,
                                    const std::string& version_arg) {
  if (ref.uri && !version_arg.empty()) {
    return InvalidArgument("give either a models:/ URI with a version or NAME VERSION, not both");
  }
  if (ref.uri) return c.ResolveModelUri(*ref.uri);
  CAIRN_TRY(int64_t v, ParseVersionArg(version_arg));
  return c.GetModelVersion(ref.name, v);
}

// A filter term matching the model name exactly, quoted so any name reads back.
Result<std::string> NameFilter(const std::string& name) {
  if (name.find('\'') == std::string::npos) return "name = '" + name + "'";
  if (name.find('"') == std::string::npos) return "name = \"" + name + "\"";
  return InvalidArgument("model name " + name + " has both kinds of quote; it cannot be searched");
}

Result<std::vector<ModelVersion>> VersionsOf(RegistryClient& c, const std::string& name,
                                             const std::string& filter = "",
                                             size_t limit = 0) {
  client::SearchModelVersionsRequest req;
  CAIRN_TRY(req.filter, NameFilter(name));
  if (!filter.empty()) req.filter += " AND " + filter;
  req.max_results = 1000;
  return c.SearchAllModelVersions(req, limit);
}

std::string JoinAliases(const std::vector<std::string>& aliases) {
  std::string out;
  for (const auto& a : aliases) out += (out.empty() ? "@" : ", @") + a;
  return out;
}

std::string Or(const std::string& s, const std::string& fallback = "-") {
  return s.empty() ? fallback : s;
}

int64_t LatestVersion(const RegisteredModel& m) {
  int64_t latest = 0;
  for (const auto& v : m.latest_versions) latest = std::max(latest, v.version);
  return latest;
}

std::string ModelsTable(const std::vector<RegisteredModel>& models) {
  Table t({"NAME", "LATEST", "ALIASES", "STAGES", "UPDATED", "DESCRIPTION"});
  for (const RegisteredModel& m : models) {
    std::string aliases;
    for (const auto& a : m.aliases) {
      aliases += (aliases.empty() ? "@" : ", @") + a.alias + "=v" + std::to_string(a.version);
    }
    std::string stages;
    for (const auto& v : m.latest_versions) {
      if (v.current_stage == client::ModelStage::kNone) continue;
      stages += (stages.empty() ? "" : ", ") + std::string(store::ModelStageName(v.current_stage)) +
                "=v" + std::to_string(v.version);
    }
    int64_t latest = LatestVersion(m);
    t.AddRow({m.name, latest ? "v" + std::to_string(latest) : "-", Or(aliases), Or(stages),
              FormatTimestamp(m.last_updated_timestamp), Or(m.description)});
  }
  return t.Render();
}

std::string VersionsTable(const std::vector<ModelVersion>& versions) {
  Table t({"VERSION", "STAGE", "ALIASES", "STATUS", "RUN", "SOURCE", "CREATED", "DESCRIPTION"});
  t.SetRightAligned(0);
  for (const ModelVersion& v : versions) {
    t.AddRow({std::to_string(v.version), std::string(store::ModelStageName(v.current_stage)),
              Or(JoinAliases(v.aliases)), std::string(store::ModelVersionStatusName(v.status)),
              Or(v.run_id), v.source, FormatTimestamp(v.creation_timestamp), Or(v.description)});
  }
  return t.Render();
}

std::string TagsTable(const std::vector<client::Tag>& tags) {
  Table t({"TAG", "VALUE"});
  for (const auto& tag : tags) t.AddRow({tag.key, tag.value});
  return t.Render();
}

std::string VersionDetails(const ModelVersion& v, const std::string& download_uri) {
  std::string out = RenderKeyValues({{"Model", v.name},
                                     {"Version", std::to_string(v.version)},
                                     {"Stage", std::string(store::ModelStageName(v.current_stage))},
                                     {"Aliases", Or(JoinAliases(v.aliases))},
                                     {"Status", std::string(store::ModelVersionStatusName(v.status))},
                                     {"Source", v.source},
                                     {"Location", Or(download_uri)},
                                     {"Run", Or(v.run_id)},
                                     {"Run link", Or(v.run_link)},
                                     {"Description", Or(v.description)},
                                     {"Created", FormatTimestamp(v.creation_timestamp)},
                                     {"Last updated", FormatTimestamp(v.last_updated_timestamp)}});
  if (!v.tags.empty()) out += "\n" + TagsTable(v.tags);
  return out;
}

// --- list / show / versions --------------------------------------------------------------------

struct ListOptions {
  std::string filter;
  int64_t max_results = 1000;
};

Status List(Session& s, const ListOptions& o) {
  CAIRN_TRY(auto c, Registry(s));
  client::SearchRegisteredModelsRequest req;
  req.filter = o.filter;
  req.max_results = std::min<int64_t>(o.max_results, 1000);
  CAIRN_TRY(std::vector<RegisteredModel> models,
            c->SearchAllRegisteredModels(req, static_cast<size_t>(o.max_results)));
  if (s.json()) {
    Json arr = Json::array();
    for (const auto& m : models) arr.push_back(wire::ToJson(m));
    s.out() << RenderJson(arr);
  } else {
    s.out() << ModelsTable(models);
  }
  return Status::Ok();
}

Status Show(Session& s, const std::string& model) {
  CAIRN_TRY(ModelRef ref, ParseModelRef(model));
  CAIRN_TRY(auto c, Registry(s));
  if (ref.uri) {
    CAIRN_TRY(ModelVersion v, c->ResolveModelUri(*ref.uri));
    if (s.json()) {
      s.out() << RenderJson({{"model_version", wire::ToJson(v)}});
      return Status::Ok();
    }
    auto uri = c->GetModelVersionDownloadUri(v.name, v.version);
    s.out() << VersionDetails(v, uri.ok() ? *uri : "");
    return Status::Ok();
  }
  CAIRN_TRY(RegisteredModel m, c->GetRegisteredModel(ref.name));
  CAIRN_TRY(std::vector<ModelVersion> versions, VersionsOf(*c, m.name));
  if (s.json()) {
    Json arr = Json::array();
    for (const auto& v : versions) arr.push_back(wire::ToJson(v));
    s.out() << RenderJson({{"registered_model", wire::ToJson(m)}, {"model_versions", arr}});
    return Status::Ok();
  }
  int64_t latest = LatestVersion(m);
  s.out() << RenderKeyValues({{"Name", m.name},
                              {"Description", Or(m.description)},
                              {"Latest version", latest ? std::to_string(latest) : "-"},
                              {"Created", FormatTimestamp(m.creation_timestamp)},
                              {"Last updated", FormatTimestamp(m.last_updated_timestamp)}});
  if (!m.tags.empty()) s.out() << "\n" << TagsTable(m.tags);
  if (!m.aliases.empty()) {
    Table aliases({"ALIAS", "VERSION", "URI"});
    for (const auto& a : m.aliases) {
      aliases.AddRow({a.alias, std::to_string(a.version), "models:/" + m.name + "@" + a.alias});
    }
    s.out() << "\n" << aliases.Render();
  }
  s.out() << "\n";
  if (versions.empty()) {
    s.out() << "No versions yet: cairn models register RUN_ID --name " << m.name << "\n";
  } else {
    s.out() << VersionsTable(versions);
  }
  return Status::Ok();
}

struct VersionsOptions {
  std::string model;
  std::string filter;
  int64_t max_results = 1000;
};

Status Versions(Session& s, const VersionsOptions& o) {
  CAIRN_TRY(ModelRef ref, ParseModelRef(o.model));
  CAIRN_TRY(auto c, Registry(s));
  CAIRN_RETURN_IF_ERROR(c->GetRegisteredModel(ref.name).status());  // unknown model: say so
  CAIRN_TRY(std::vector<ModelVersion> versions,
            VersionsOf(*c, ref.name, o.filter, static_cast<size_t>(o.max_results)));
  if (s.json()) {
    Json arr = Json::array();
    for (const auto& v : versions) arr.push_back(wire::ToJson(v));
    s.out() << RenderJson(arr);
  } else {
    s.out() << VersionsTable(versions);
  }
  return Status::Ok();
}

// --- register ----------------------------------------------------------------------------------

struct RegisterOptions {
  std::string from;  // run id, runs:/ URI, models:/ URI, or a local model file or directory
  std::string name;
  std::string artifact_path = "model";
  std::string description;
  std::vector<std::string> tags;
  std::string alias;
};

Result<client::Tag> ParseKeyValue(const std::string& kv) {
  size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) {
    return InvalidArgument("expected KEY=VALUE, got '" + kv + "'");
  }
  return client::Tag{kv.substr(0, eq), kv.substr(eq + 1)};
}

// Uploads a local model as the artifacts of a new run in the Default experiment, tagged as a
// registration; returns the run id.
Result<std::string> UploadLocalModel(client::TrackingClient& t, const RegisterOptions& o) {
  std::error_code ec;
  fs::path abs = fs::absolute(o.from, ec);
  std::string local = ec ? o.from : abs.lexically_normal().string();
  client::CreateRunRequest req;
  req.experiment_id = "0";
  req.run_name = "register-" + o.name;
  req.tags = {{std::string(kRegistrationTag), o.name},
              {std::string(kRegisteredFromTag), local},
              {"mlflow.source.type", "LOCAL"},
              {"mlflow.source.name", local}};
  CAIRN_TRY(client::Run run, t.CreateRun(req));
  const std::string& run_id = run.info.run_id;
  auto uploaded = t.UploadArtifacts(run_id, o.from, o.artifact_path);
  client::RunUpdate done;
  done.run_id = run_id;
  done.status = uploaded.ok() ? client::RunStatus::kFinished : client::RunStatus::kFailed;
  done.end_time = SystemClock::Instance().NowMillis();
  (void)t.UpdateRun(done);  // best effort: the upload's outcome is what the user needs to hear
  if (!uploaded.ok()) {
    return Status(uploaded.status().code(),
                  "uploading " + local + " failed: " + uploaded.status().message());
  }
  if (uploaded->empty()) {
    return InvalidArgument(local + " holds no files to register");
  }
  return run_id;
}

// kNotFound unless the run has an artifact (file or directory) at `path`.
Status CheckRunHasArtifact(client::TrackingClient& t, const std::string& run_id,
                           const std::string& path) {
  if (path.empty()) return Status::Ok();
  size_t slash = path.rfind('/');
  std::string parent = slash == std::string::npos ? "" : path.substr(0, slash);
  CAIRN_TRY(std::vector<client::FileInfo> entries, t.ListAllArtifacts(run_id, parent));
  std::string names;
  for (const auto& f : entries) {
    // MLflow lists paths from the artifact root; other servers from the listed directory.
    std::string full = parent.empty() || f.path.rfind(parent + "/", 0) == 0
                           ? f.path
                           : parent + "/" + f.path;
    if (full == path) return Status::Ok();
    names += (names.empty() ? "" : ", ") + full;
  }
  return NotFound("run " + run_id + " has no artifact '" + path + "'" +
                  (names.empty() ? std::string(" (it has no artifacts there)")
                                 : " (found: " + names + "); choose one with --artifact-path"));
}

Status Register(Session& s, const RegisterOptions& o) {
  CAIRN_TRY(client::TrackingClient * t, s.Client());
  CAIRN_TRY(auto c, Registry(s));
  std::vector<client::Tag> tags;
  for (const auto& kv : o.tags) {
    CAIRN_TRY(client::Tag tag, ParseKeyValue(kv));
    tags.push_back(std::move(tag));
  }
  client::CreateModelVersionRequest req;
  req.name = o.name;
  req.description = o.description;
  req.tags = tags;
  std::error_code ec;
  if (wire::IsModelUri(o.from)) {
    CAIRN_TRY(ModelVersion from, c->ResolveModelUri(o.from));
    req.source = "models:/" + from.name + "/" + std::to_string(from.version);
    req.run_id = from.run_id;
  } else if (wire::IsRunsUri(o.from)) {
    CAIRN_TRY(wire::RunsUri uri, wire::ParseRunsUri(o.from));
    CAIRN_RETURN_IF_ERROR(t->GetRun(uri.run_id).status());
    CAIRN_RETURN_IF_ERROR(CheckRunHasArtifact(*t, uri.run_id, uri.artifact_path));
    req.source = o.from;
    req.run_id = uri.run_id;
  } else if (fs::exists(o.from, ec)) {
    CAIRN_TRY(req.run_id, UploadLocalModel(*t, o));
    req.source = "runs:/" + req.run_id + "/" + o.artifact_path;
  } else {
    auto run = t->GetRun(o.from);
    if (!run.ok()) {
      if (run.status().code() == StatusCode::kNotFound) {
        return NotFound("'" + o.from + "' is neither a run id nor a local file or directory");
      }
      return run.status();
    }
    CAIRN_RETURN_IF_ERROR(CheckRunHasArtifact(*t, o.from, o.artifact_path));
    req.run_id = o.from;
    req.source = "runs:/" + o.from + "/" + o.artifact_path;
  }

  bool created_model = false;
  auto model = c->GetRegisteredModel(o.name);
  if (model.status().code() == StatusCode::kNotFound) {
    CAIRN_RETURN_IF_ERROR(c->CreateRegisteredModel(o.name).status());
    created_model = true;
  } else if (!model.ok()) {
    return model.status();
  }
  CAIRN_TRY(ModelVersion v, c->CreateModelVersion(req));
  if (!o.alias.empty()) {
    CAIRN_RETURN_IF_ERROR(c->SetRegisteredModelAlias(v.name, o.alias, v.version));
    CAIRN_TRY(v, c->GetModelVersion(v.name, v.version));
  }
  if (s.json()) {
    s.out() << RenderJson(wire::ToJson(v));
    return Status::Ok();
  }
  if (created_model) s.out() << "Created registered model '" << v.name << "'\n";
  s.out() << "Registered " << v.name << " version " << v.version << " from " << v.source << "\n";
  if (!o.alias.empty()) {
    s.out() << "Alias @" << o.alias << " -> version " << v.version << " (models:/" << v.name << "@"
            << o.alias << ")\n";
  }
  return Status::Ok();
}

// --- alias / tag / stage -----------------------------------------------------------------------

struct AliasOptions {
  std::string model;
  std::string alias;
  std::string version;
  bool remove = false;
};

Status Alias(Session& s, const AliasOptions& o) {
  CAIRN_TRY(ModelRef ref, ParseModelRef(o.model));
  if (ref.uri) {
    return InvalidArgument("name the model (NAME or models:/NAME), then ALIAS and VERSION");
  }
  CAIRN_TRY(auto c, Registry(s));
  if (o.remove) {
    if (!o.version.empty()) return InvalidArgument("--delete takes no VERSION");
    auto current = c->GetModelVersionByAlias(ref.name, o.alias);
    if (current.status().code() == StatusCode::kNotFound) {
      CAIRN_RETURN_IF_ERROR(c->GetRegisteredModel(ref.name).status());
      return NotFound("model '" + ref.name + "' has no alias '" + o.alias + "'");
    }
    CAIRN_RETURN_IF_ERROR(current.status());
    CAIRN_RETURN_IF_ERROR(c->DeleteRegisteredModelAlias(ref.name, o.alias));
    if (s.json()) {
      s.out() << RenderJson({{"name", ref.name}, {"alias", o.alias}, {"deleted", true},
                             {"version", std::to_string(current->version)}});
    } else {
      s.out() << "Deleted alias @" << o.alias << " of " << ref.name << " (was version "
              << current->version << ")\n";
    }
    return Status::Ok();
  }
  if (o.version.empty()) return InvalidArgument("give the VERSION the alias points at");
  CAIRN_TRY(int64_t version, ParseVersionArg(o.version));
  CAIRN_RETURN_IF_ERROR(c->SetRegisteredModelAlias(ref.name, o.alias, version));
  if (s.json()) {
    s.out() << RenderJson({{"name", ref.name}, {"alias", o.alias},
                           {"version", std::to_string(version)}});
  } else {
    s.out() << "Alias @" << o.alias << " -> " << ref.name << " version " << version
            << " (models:/" << ref.name << "@" << o.alias << ")\n";
  }
  return Status::Ok();
}

struct TagOptions {
  std::vector<std::string> args;  // NAME [VERSION] KEY=VALUE...
  std::vector<std::string> remove;
};

Status TagCommand(Session& s, const TagOptions& o) {
  if (o.args.empty()) return InvalidArgument("name a model");
  CAIRN_TRY(ModelRef ref, ParseModelRef(o.args[0]));
  size_t next = 1;
  std::string version_arg;
  if (next < o.args.size() && IsVersionNumber(o.args[next])) version_arg = o.args[next++];
  std::vector<client::Tag> tags;
  for (; next < o.args.size(); ++next) {
    CAIRN_TRY(client::Tag tag, ParseKeyValue(o.args[next]));
    tags.push_back(std::move(tag));
  }
  if (tags.empty() && o.remove.empty()) {
    return InvalidArgument("give KEY=VALUE to set, or --delete KEY");
  }
  CAIRN_TRY(auto c, Registry(s));
  if (ref.uri || !version_arg.empty()) {
    CAIRN_TRY(ModelVersion v, ResolveVersion(*c, ref, version_arg));
    for (const auto& tag : tags) {
      CAIRN_RETURN_IF_ERROR(c->SetModelVersionTag(v.name, v.version, tag.key, tag.value));
    }
    for (const auto& key : o.remove) {
      CAIRN_RETURN_IF_ERROR(c->DeleteModelVersionTag(v.name, v.version, key));
    }
    CAIRN_TRY(v, c->GetModelVersion(v.name, v.version));
    if (s.json()) {
      s.out() << RenderJson(wire::ToJson(v));
    } else {
      s.out() << "Tags of " << v.name << " version " << v.version << ":\n"
              << (v.tags.empty() ? std::string("(none)\n") : TagsTable(v.tags));
    }
    return Status::Ok();
  }
  for (const auto& tag : tags) {
    CAIRN_RETURN_IF_ERROR(c->SetRegisteredModelTag(ref.name, tag.key, tag.value));
  }
  for (const auto& key : o.remove) {
    CAIRN_RETURN_IF_ERROR(c->DeleteRegisteredModelTag(ref.name, key));
  }
  CAIRN_TRY(RegisteredModel m, c->GetRegisteredModel(ref.name));
  if (s.json()) {
    s.out() << RenderJson(wire::ToJson(m));
  } else {
    s.out() << "Tags of " << m.name << ":\n"
            << (m.tags.empty() ? std::string("(none)\n") : TagsTable(m.tags));
  }
  return Status::Ok();
}

struct StageOptions {
  std::string model;
  std::string version;
  std::string stage;
  bool archive_existing = false;
};

Status Stage(Session& s, const StageOptions& o) {
  CAIRN_TRY(ModelRef ref, ParseModelRef(o.model));
  CAIRN_TRY(auto c, Registry(s));
  CAIRN_TRY(ModelVersion v, ResolveVersion(*c, ref, o.version));
  CAIRN_TRY(v, c->TransitionModelVersionStage(v.name, v.version, o.stage, o.archive_existing));
  if (s.json()) {
    s.out() << RenderJson(wire::ToJson(v));
  } else {
    s.out() << v.name << " version " << v.version << " is now in stage "
            << store::ModelStageName(v.current_stage) << "\n";
  }
  return Status::Ok();
}

// --- download / delete -------------------------------------------------------------------------

struct DownloadOptions {
  std::string model;
  std::string to;
};

Status Download(Session& s, const DownloadOptions& o) {
  CAIRN_TRY(auto c, Registry(s));
  CAIRN_TRY(ModelVersion v, c->ResolveModelUri(o.model));
  CAIRN_TRY(std::vector<std::string> files, c->DownloadModelVersion(v, o.to));
  if (s.json()) {
    s.out() << RenderJson({{"model_version", wire::ToJson(v)}, {"directory", o.to},
                           {"files", files}});
  } else {
    s.out() << "Downloaded " << v.name << " version " << v.version << " (" << files.size()
            << (files.size() == 1 ? " file" : " files") << ") to " << o.to << "\n";
  }
  return Status::Ok();
}

struct DeleteOptions {
  std::string model;
  std::string version;
};

Status Delete(Session& s, const DeleteOptions& o) {
  CAIRN_TRY(ModelRef ref, ParseModelRef(o.model));
  CAIRN_TRY(auto c, Registry(s));
  if (ref.uri || !o.version.empty()) {
    CAIRN_TRY(ModelVersion v, ResolveVersion(*c, ref, o.version));
    CAIRN_RETURN_IF_ERROR(c->DeleteModelVersion(v.name, v.version));
    if (s.json()) {
      s.out() << RenderJson({{"name", v.name}, {"version", std::to_string(v.version)},
                             {"deleted", true}});
    } else {
      s.out() << "Deleted " << v.name << " version " << v.version << "\n";
    }
    return Status::Ok();
  }
  CAIRN_RETURN_IF_ERROR(c->DeleteRegisteredModel(ref.name));
  if (s.json()) {
    s.out() << RenderJson({{"name", ref.name}, {"deleted", true}});
  } else {
    s.out() << "Deleted registered model '" << ref.name << "' and all its versions\n";
  }
  return Status::Ok();
}

}  // namespace

void AddModelsCommands(CLI::App& app, GlobalOptions& g) {
  CLI::App* noun = app.add_subcommand(
      "models", "The model registry: registered models, versions, aliases, tags, stages");
  noun->require_subcommand(1);

  auto list = std::make_shared<ListOptions>();
  CLI::App* l = noun->add_subcommand("list", "List registered models");
  l->add_option("--filter", list->filter, "e.g. \"name LIKE '%churn%'\" or \"tags.team = 'ml'\"");
  l->add_option("--max-results", list->max_results, "At most this many models (default 1000)")
      ->check(CLI::PositiveNumber);
  l->callback([&g, list] { SetCommand(g, [list](Session& s) { return List(s, *list); }); });

  auto show = std::make_shared<std::string>();
  CLI::App* sh = noun->add_subcommand(
      "show", "Show a model (aliases, versions) or, given a models:/ URI, one version");
  sh->add_option("model", *show, "NAME, models:/NAME/VERSION, models:/NAME@ALIAS, …")->required();
  sh->callback([&g, show] { SetCommand(g, [show](Session& s) { return Show(s, *show); }); });

  auto versions = std::make_shared<VersionsOptions>();
  CLI::App* vs = noun->add_subcommand("versions", "List the versions of a model, newest first");
  vs->add_option("model", versions->model, "NAME or models:/NAME")->required();
  vs->add_option("--filter", versions->filter,
                 "More terms, e.g. \"run_id = 'abc'\" or \"tags.validated = 'yes'\"");
  vs->add_option("--max-results", versions->max_results, "At most this many versions")
      ->check(CLI::PositiveNumber);
  vs->callback(
      [&g, versions] { SetCommand(g, [versions](Session& s) { return Versions(s, *versions); }); });

  auto reg = std::make_shared<RegisterOptions>();
  CLI::App* r = noun->add_subcommand(
      "register",
      "Register a new version: from a run's artifacts (RUN_ID, runs:/RUN_ID/PATH), another "
      "version (models:/…), or a local model directory (uploaded as a new run's artifacts)");
  r->add_option("source", reg->from, "RUN_ID, runs:/RUN_ID/PATH, models:/NAME/VERSION or PATH")
      ->required();
  r->add_option("--name,-n", reg->name, "Registered model name (created if new)")->required();
  r->add_option("--artifact-path", reg->artifact_path,
                "The model's path in the run's artifacts (default: model)");
  r->add_option("--description,-d", reg->description, "Description of the version");
  r->add_option("--tag,-t", reg->tags, "Version tag KEY=VALUE (repeatable)");
  r->add_option("--alias,-a", reg->alias, "Point this alias at the new version");
  r->callback([&g, reg] { SetCommand(g, [reg](Session& s) { return Register(s, *reg); }); });

  auto alias = std::make_shared<AliasOptions>();
  CLI::App* al = noun->add_subcommand("alias", "Point an alias at a version, or --delete it");
  al->add_option("model", alias->model, "NAME")->required();
  al->add_option("alias", alias->alias, "Alias, e.g. champion")->required();
  al->add_option("version", alias->version, "Version number");
  al->add_flag("--delete", alias->remove, "Delete the alias");
  al->callback([&g, alias] { SetCommand(g, [alias](Session& s) { return Alias(s, *alias); }); });

  auto tag = std::make_shared<TagOptions>();
  CLI::App* tg = noun->add_subcommand(
      "tag", "Set (KEY=VALUE) or --delete tags of a model, or of a version if one is named");
  tg->add_option("args", tag->args, "NAME [VERSION] [KEY=VALUE ...], or a models:/ URI")
      ->required();
  tg->add_option("--delete", tag->remove, "Delete this tag (repeatable)");
  tg->callback([&g, tag] { SetCommand(g, [tag](Session& s) { return TagCommand(s, *tag); }); });

  auto stage = std::make_shared<StageOptions>();
  CLI::App* st = noun->add_subcommand("stage", "Move a version to a stage (MLflow's stages)");
  st->add_option("model", stage->model, "NAME or a models:/ URI naming the version")->required();
  st->add_option("version", stage->version, "VERSION (omit with a models:/ URI)");
  st->add_option("--to", stage->stage, "None, Staging, Production or Archived")->required();
  st->add_flag("--archive-existing", stage->archive_existing,
               "Archive the model's other versions in that stage");
  st->callback([&g, stage] { SetCommand(g, [stage](Session& s) { return Stage(s, *stage); }); });

  auto download = std::make_shared<DownloadOptions>();
  CLI::App* dl = noun->add_subcommand("download", "Download a version's model directory");
  dl->add_option("model", download->model, "models:/NAME/VERSION, models:/NAME@ALIAS, NAME, …")
      ->required();
  dl->add_option("--to", download->to, "Local directory")->required();
  dl->callback(
      [&g, download] { SetCommand(g, [download](Session& s) { return Download(s, *download); }); });

  auto del = std::make_shared<DeleteOptions>();
  CLI::App* d = noun->add_subcommand("delete", "Delete a model with all its versions, or one version");
  d->add_option("model", del->model, "NAME or a models:/ URI naming a version")->required();
  d->add_option("version", del->version, "Version number (delete only that version)");
  d->callback([&g, del] { SetCommand(g, [del](Session& s) { return Delete(s, *del); }); });

  AddModelsCompareCommand(*noun, g);
}

}  // namespace cairn::cli
