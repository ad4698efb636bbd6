// cairn data snapshot | list | versions | show | diff | get
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "cli/output.h"
#include "client/dataset_client.h"

namespace cairn::cli {
namespace {

using client::DatasetClient;
using client::Json;

Result<std::unique_ptr<DatasetClient>> Connect(Session& s) {
  return DatasetClient::Connect(s.tracking_uri());
}

std::string Label(const store::DatasetVersion& v) {
  return v.name + " v" + std::to_string(v.version);
}

std::string Rows(int64_t rows) { return rows < 0 ? "-" : std::to_string(rows); }

std::string Percent(double share) {
  if (std::isnan(share)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", share * 100);
  return buf;
}

Json VersionJson(const store::DatasetVersion& v) {
  return {{"name", v.name},
          {"version", v.version},
          {"version_id", v.version_id},
          {"profile_digest", v.profile_digest},
          {"size_bytes", v.size_bytes},
          {"row_count", v.row_count},
          {"description", v.description},
          {"created_by", v.created_by},
          {"creation_time", v.creation_time}};
}

Json FileJson(const client::DatasetFile& f) {
  Json j = {{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}};
  if (f.rows >= 0) j["rows"] = f.rows;
  return j;
}

// The profile without its sketches (samples, KLL levels …): what a reader of `show` wants.
Json ProfileSummaryJson(const data::DatasetProfile& p) {
  Json j = data::ToJson(p);
  for (auto& c : j["columns"]) c.erase("sketches");
  return j;
}

// A progress line on stderr, redrawn in place; only when stderr is a terminal.
class ProgressBar {
 public:
  explicit ProgressBar(std::string title)
      : title_(std::move(title)),
        enabled_(::isatty(STDERR_FILENO) == 1),
        start_(std::chrono::steady_clock::now()) {}
  ~ProgressBar() { Clear(); }

  void Update(const client::SnapshotProgressInfo& p) {
    if (!enabled_ || p.bytes_total == 0) return;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    double share = double(p.bytes_done) / double(p.bytes_total);
    constexpr int kWidth = 24;
    int filled = int(share * kWidth);
    std::string bar(size_t(filled), '#');
    bar += std::string(size_t(kWidth - filled), '-');
    char rate[32] = "";
    if (secs > 0.05) std::snprintf(rate, sizeof rate, "  %.1f MB/s", double(p.bytes_done) / secs / 1e6);
    std::fprintf(stderr, "\r\033[K%s [%s] %3d%%  %s / %s%s", title_.c_str(), bar.c_str(),
                 int(share * 100), FormatBytes(int64_t(p.bytes_done)).c_str(),
                 FormatBytes(int64_t(p.bytes_total)).c_str(), rate);
    std::fflush(stderr);
    drawn_ = true;
  }

  void Clear() {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
    drawn_ = false;
  }

 private:
  std::string title_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

// --- snapshot ---------------------------------------------------------------------------------

struct SnapshotArgs {
  std::string name;
  std::string path;
  std::string description;
};

Status Snapshot(Session& s, const SnapshotArgs& a) {
  CAIRN_TRY(auto c, Connect(s));
  client::SnapshotOptions options;
  options.description = a.description;
  client::SnapshotResult r;
  {
    ProgressBar bar("snapshot " + a.name);
    CAIRN_TRY(r, c->Snapshot(a.name, a.path, options,
                             [&](const client::SnapshotProgressInfo& p) { bar.Update(p); }));
  }
  const int64_t stored = r.stored_chunk_bytes;
  if (s.json()) {
    s.out() << RenderJson({{"version", VersionJson(r.version)},
                           {"created", r.created},
                           {"files", r.files},
                           {"total_bytes", r.total_bytes},
                           {"chunks", r.chunks},
                           {"uploaded_bytes", r.uploaded_bytes},
                           {"stored_chunk_bytes", stored},
                           {"stored_metadata_bytes", r.stored_metadata_bytes}});
    return Status::Ok();
  }
  if (!r.created) {
    s.out() << a.name << " unchanged, still v" << r.version.version << " (id "
            << r.version.version_id.substr(0, 12) << ")\n";
    return Status::Ok();
  }
  double share = r.total_bytes > 0 ? double(stored) / double(r.total_bytes) : 0;
  s.out() << "Created " << Label(r.version) << "\n"
          << RenderKeyValues(
                 {{"id", r.version.version_id},
                  {"files", std::to_string(r.files)},
                  {"rows", Rows(r.version.row_count)},
                  {"size", FormatBytes(r.total_bytes)},
                  {"new bytes", FormatBytes(stored) + " of " + FormatBytes(r.total_bytes) + " (" +
                                    Percent(share) + "), plus " +
                                    FormatBytes(r.stored_metadata_bytes) +
                                    " of manifests and profiles"}});
  return Status::Ok();
}

// --- list, versions ---------------------------------------------------------------------------

Status List(Session& s) {
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(auto datasets, c->List());
  if (s.json()) {
    Json arr = Json::array();
    for (const auto& d : datasets) {
      arr.push_back({{"name", d.name},
                     {"latest_version", d.latest_version},
                     {"version_count", d.version_count},
                     {"last_update_time", d.last_update_time},
                     {"description", d.description}});
    }
    s.out() << RenderJson(arr);
    return Status::Ok();
  }
  Table t({"NAME", "LATEST", "VERSIONS", "UPDATED", "DESCRIPTION"});
  t.SetRightAligned(2);
  for (const auto& d : datasets) {
    t.AddRow({d.name, "v" + std::to_string(d.latest_version), std::to_string(d.version_count),
              FormatTimestamp(d.last_update_time), OneLine(d.description)});
  }
  s.out() << t.Render();
  return Status::Ok();
}

Status Versions(Session& s, const std::string& name) {
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(auto versions, c->Versions(name));
  if (s.json()) {
    Json arr = Json::array();
    for (const auto& v : versions) arr.push_back(VersionJson(v));
    s.out() << RenderJson(arr);
    return Status::Ok();
  }
  Table t({"VERSION", "ID", "ROWS", "SIZE", "CREATED", "BY", "DESCRIPTION"});
  t.SetRightAligned(2);
  t.SetRightAligned(3);
  for (const auto& v : versions) {
    t.AddRow({"v" + std::to_string(v.version), v.version_id.substr(0, 12), Rows(v.row_count),
              FormatBytes(v.size_bytes), FormatTimestamp(v.creation_time), v.created_by,
              OneLine(v.description)});
  }
  s.out() << t.Render();
  return Status::Ok();
}

// --- show -------------------------------------------------------------------------------------

std::string TopValues(const data::ColumnProfile& c) {
  std::string out;
  for (size_t i = 0; i < c.top.size() && i < 3; ++i) {
    if (!out.empty()) out += ", ";
    double share = c.count > 0 ? double(c.top[i].count) / double(c.count) : 0;
    out += OneLine(c.top[i].value) + " " + Percent(share);
  }
  return out.empty() ? "-" : out;
}

std::string Stat(const data::ColumnProfile& c, double v) {
  return c.numeric() && !std::isnan(v) ? FormatDouble(v) : "-";
}

std::string ProfileTable(const data::DatasetProfile& p) {
  Table t({"COLUMN", "TYPE", "MISSING", "DISTINCT", "MIN", "P50", "MAX", "MEAN", "TOP VALUES"});
  for (size_t i = 2; i <= 7; ++i) t.SetRightAligned(i);
  for (const auto& c : p.columns) {
    double p50 = c.quantiles.size() > 3 ? c.quantiles[3] : std::nan("");
    std::string distinct = FormatDouble(std::round(c.distinct));
    if (!c.distinct_exact) distinct = "~" + distinct;
    t.AddRow({OneLine(c.name), std::string(data::ColumnTypeName(c.type)),
              std::to_string(c.missing), distinct, Stat(c, c.min), Stat(c, p50), Stat(c, c.max),
              Stat(c, c.mean), TopValues(c)});
  }
  return t.Render();
}

Status Show(Session& s, const std::string& ref_text) {
  CAIRN_TRY(client::DatasetRef ref, client::ParseDatasetRef(ref_text));
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(client::DatasetVersionInfo info, c->Get(ref, /*include_profiles=*/true));
  if (s.json()) {
    Json files = Json::array(), profiles = Json::array();
    for (const auto& f : info.files) files.push_back(FileJson(f));
    for (const auto& p : info.profiles) {
      profiles.push_back({{"path", p.path}, {"profile", ProfileSummaryJson(p.profile)}});
    }
    s.out() << RenderJson({{"version", VersionJson(info.version)},
                           {"files", std::move(files)},
                           {"profiles", std::move(profiles)}});
    return Status::Ok();
  }
  const auto& v = info.version;
  s.out() << RenderKeyValues({{"Dataset", Label(v)},
                              {"ID", v.version_id},
                              {"Rows", Rows(v.row_count)},
                              {"Size", FormatBytes(v.size_bytes)},
                              {"Files", std::to_string(info.files.size())},
                              {"Created", FormatTimestamp(v.creation_time)},
                              {"Created by", v.created_by.empty() ? "-" : v.created_by},
                              {"Description", v.description.empty() ? "-" : OneLine(v.description)}});
  if (info.files.size() > 1) {
    Table files({"FILE", "SIZE", "ROWS", "SHA256"});
    files.SetRightAligned(1);
    files.SetRightAligned(2);
    for (const auto& f : info.files) {
      files.AddRow({OneLine(f.path), FormatBytes(int64_t(f.size)), Rows(f.rows),
                    f.sha256.substr(0, 12)});
    }
    s.out() << "\n" << files.Render();
  }
  for (const auto& p : info.profiles) {
    s.out() << "\n" << OneLine(p.path) << ": " << p.profile.rows << " rows, "
            << p.profile.columns.size() << " columns\n"
            << ProfileTable(p.profile);
  }
  return Status::Ok();
}

// --- diff -------------------------------------------------------------------------------------

std::string ChangeText(const data::StatChange& st) {
  if (st.statistic == "psi") return "";
  if (std::isnan(st.from) || std::isnan(st.to)) return "";
  double delta = st.to - st.from;
  if (st.statistic == "missing_rate" || st.statistic == "top_share") {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.1f pt", delta * 100);
    return buf;
  }
  if (st.statistic == "distinct") delta = std::round(st.to) - std::round(st.from);
  std::string out = (delta >= 0 ? "+" : "") + FormatDouble(delta);
  if (st.from != 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " (%+.1f%%)", delta / std::abs(st.from) * 100);
    out += buf;
  }
  return out;
}

std::string StatValue(const data::StatChange& st, double v, bool from_side) {
  if (std::isnan(v)) return "-";
  if (st.statistic == "psi" && from_side) return "-";  // PSI is one number, of `to` against `from`
  if (st.statistic == "missing_rate" || st.statistic == "top_share") return Percent(v);
  if (st.statistic == "distinct") return FormatDouble(std::round(v));
  return FormatDouble(v);
}

std::string StatName(const data::StatChange& st) {
  if (st.statistic == "top_share") return "share of " + OneLine(st.value);
  return st.statistic;
}

std::string ProfileDiffText(const data::ProfileDiff& d, bool all) {
  std::string out;
  out += "rows: " + std::to_string(d.rows_from) + " -> " + std::to_string(d.rows_to) + "\n";
  for (const auto& c : d.added) {
    out += "+ column " + OneLine(c.name) + " (" + std::string(data::ColumnTypeName(c.type)) +
           ")\n";
  }
  for (const auto& c : d.removed) {
    out += "- column " + OneLine(c.name) + " (" + std::string(data::ColumnTypeName(c.type)) +
           ")\n";
  }
  for (const auto& c : d.type_changed) {
    out += "~ column " + OneLine(c.name) + ": " + std::string(data::ColumnTypeName(c.from)) +
           " -> " + std::string(data::ColumnTypeName(c.to)) + "\n";
  }
  Table t({"COLUMN", "STATISTIC", "FROM", "TO", "CHANGE", "SHIFT"});
  t.SetRightAligned(2);
  t.SetRightAligned(3);
  t.SetRightAligned(4);
  size_t changed = 0, flagged = 0;
  for (const auto& c : d.columns) {
    changed += c.changed();
    flagged += c.flagged();
    for (const auto& st : c.stats) {
      if (!all && !st.changed() && !st.flagged) continue;
      t.AddRow({OneLine(c.name), StatName(st), StatValue(st, st.from, true),
                StatValue(st, st.to, false),
                ChangeText(st), st.flagged ? "large" : ""});
    }
  }
  if (t.rows() > 0) out += t.Render();
  out += std::to_string(changed) + " of " + std::to_string(d.columns.size()) +
         " common columns changed, " + std::to_string(flagged) + " with a large shift\n";
  return out;
}

Status Diff(Session& s, const std::string& a, const std::string& b, bool all) {
  CAIRN_TRY(client::DatasetRef from, client::ParseDatasetRef(a));
  CAIRN_TRY(client::DatasetRef to, client::ParseDatasetRef(b));
  if (from.name != to.name) {
    return InvalidArgument("diff compares two versions of one dataset: got '" + from.name +
                           "' and '" + to.name + "'");
  }
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(store::DatasetVersion vf, c->Resolve(from));
  CAIRN_TRY(store::DatasetVersion vt, c->Resolve(to));
  CAIRN_TRY(client::DatasetDiff diff, c->Diff(from.name, vf.version, vt.version));
  if (s.json()) {
    Json files = Json::array();
    for (const auto& f : diff.files) {
      Json j = {{"path", f.path},
                {"from_path", f.from_path},
                {"change", f.change},
                {"from", f.from ? FileJson(*f.from) : Json(nullptr)},
                {"to", f.to ? FileJson(*f.to) : Json(nullptr)}};
      if (f.profile) j["profile_diff"] = data::ToJson(*f.profile);
      files.push_back(std::move(j));
    }
    s.out() << RenderJson({{"from", VersionJson(diff.from)},
                           {"to", VersionJson(diff.to)},
                           {"files", std::move(files)}});
    return Status::Ok();
  }
  s.out() << diff.from.name << " v" << diff.from.version << " -> v" << diff.to.version << "\n";
  for (const auto& f : diff.files) {
    std::string name = f.path.empty() ? f.from_path : f.path;
    if (!f.from_path.empty() && !f.path.empty() && f.from_path != f.path) {
      name = f.from_path + " -> " + f.path;
    }
    s.out() << "\n" << OneLine(name) << ": " << f.change;
    if (f.from && f.to && f.change == "changed") {
      s.out() << " (" << FormatBytes(int64_t(f.from->size)) << " -> "
              << FormatBytes(int64_t(f.to->size)) << ")";
    }
    s.out() << "\n";
    if (f.profile) s.out() << ProfileDiffText(*f.profile, all);
  }
  return Status::Ok();
}

// --- get --------------------------------------------------------------------------------------

Status Get(Session& s, const std::string& ref_text, const std::string& to) {
  CAIRN_TRY(client::DatasetRef ref, client::ParseDatasetRef(ref_text));
  CAIRN_TRY(auto c, Connect(s));
  CAIRN_TRY(store::DatasetVersion version, c->Resolve(ref));
  ref.version = version.version;  // exactly this version, even if a newer one lands meanwhile
  CAIRN_TRY(client::RestoreResult r, c->Restore(ref, to));
  if (s.json()) {
    s.out() << RenderJson({{"version", VersionJson(version)},
                           {"written", r.written},
                           {"unchanged", r.unchanged},
                           {"bytes", r.bytes}});
    return Status::Ok();
  }
  for (const auto& p : r.written) s.out() << p << "\n";
  s.out() << "Restored " << Label(version) << " to " << to << ": " << r.written.size()
          << (r.written.size() == 1 ? " file" : " files") << " written ("
          << FormatBytes(r.bytes) << "), " << r.unchanged.size()
          << " already up to date; SHA-256 verified\n";
  return Status::Ok();
}

}  // namespace

void AddDataCommands(CLI::App& app, GlobalOptions& g) {
  CLI::App* noun = app.add_subcommand("data", "Versioned dataset snapshots");
  noun->require_subcommand(1);

  auto snap = std::make_shared<SnapshotArgs>();
  CLI::App* sn = noun->add_subcommand(
      "snapshot", "Make the next version of dataset NAME from a file or folder");
  sn->add_option("name", snap->name, "Dataset name")->required();
  sn->add_option("path", snap->path, "File or folder")->required();
  sn->add_option("--description,-d", snap->description, "What this version is");
  sn->callback([&g, snap] { SetCommand(g, [snap](Session& s) { return Snapshot(s, *snap); }); });

  CLI::App* ls = noun->add_subcommand("list", "List datasets");
  ls->callback([&g] { SetCommand(g, [](Session& s) { return List(s); }); });

  auto versions_name = std::make_shared<std::string>();
  CLI::App* vs = noun->add_subcommand("versions", "List the versions of a dataset, newest first");
  vs->add_option("name", *versions_name, "Dataset name")->required();
  vs->callback([&g, versions_name] {
    SetCommand(g, [versions_name](Session& s) { return Versions(s, *versions_name); });
  });

  auto show_ref = std::make_shared<std::string>();
  CLI::App* sh = noun->add_subcommand(
      "show", "Show a version's files, schema and profile (NAME means its latest version)");
  sh->add_option("dataset", *show_ref, "NAME[@VERSION]")->required();
  sh->callback([&g, show_ref] {
    SetCommand(g, [show_ref](Session& s) { return Show(s, *show_ref); });
  });

  struct DiffArgs {
    std::string from, to;
    bool all = false;
  };
  auto diff = std::make_shared<DiffArgs>();
  CLI::App* df = noun->add_subcommand(
      "diff", "Compare two versions of a dataset: files, schema and column statistics");
  df->add_option("from", diff->from, "NAME@VERSION (the baseline)")->required();
  df->add_option("to", diff->to, "NAME@VERSION")->required();
  df->add_flag("--all", diff->all, "Show every statistic compared, not only the changed ones");
  df->callback([&g, diff] {
    SetCommand(g, [diff](Session& s) { return Diff(s, diff->from, diff->to, diff->all); });
  });

  struct GetArgs {
    std::string ref, to;
  };
  auto get = std::make_shared<GetArgs>();
  CLI::App* gt = noun->add_subcommand(
      "get", "Restore a version's files into a folder, verified against their SHA-256");
  gt->add_option("dataset", get->ref, "NAME[@VERSION]")->required();
  gt->add_option("--to", get->to, "Folder to write into")->required();
  gt->callback([&g, get] { SetCommand(g, [get](Session& s) { return Get(s, get->ref, get->to); }); });
}

}  // namespace cairn::cli
