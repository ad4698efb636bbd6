#include "data/profile_diff.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

namespace cairn::data {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Below this a PSI is sketch noise: two samples of one distribution score ~1e-6 to 1e-5.
constexpr double kPsiNoise = 1e-4;

bool SameValue(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

bool IsCategorical(ColumnType t) { return t == ColumnType::kString || t == ColumnType::kBoolean; }

bool IsNumeric(ColumnType t) { return t == ColumnType::kInteger || t == ColumnType::kFloat; }

double Ratio(double num, double den) { return den == 0 ? kNaN : num / den; }

// Outside [1/r, r]; a change from zero to non-zero counts as outside.
bool OutsideRatio(double from, double to, double r) {
  if (std::isnan(from) || std::isnan(to)) return false;
  if (from == 0 || to == 0) return from != to;
  double q = to / from;
  return q > r || q < 1 / r;
}

// Shares of each side in from's decile bins.
std::optional<double> NumericPsi(const ColumnProfile& from, const ColumnProfile& to) {
  if (from.quantile_sketch.empty() || to.quantile_sketch.empty()) return std::nullopt;
  std::vector<double> edges = PsiDecileEdges(from.quantile_sketch);
  return PopulationStabilityIndex(PsiBinShares(from.quantile_sketch, edges),
                                  PsiBinShares(to.quantile_sketch, edges));
}

// The count of `value` on a side, when the side's frequent values know it (0 when its counts are
// exact and complete and the value is not among them).
std::optional<double> CountOf(const ColumnProfile& c, const std::string& value) {
  for (const auto& e : c.top) {
    if (e.value == value) return double(e.count);
  }
  for (const auto& e : c.frequent_values.All()) {
    if (e.value == value) return double(e.count);
  }
  if (c.frequent_values.exact() || c.frequent_values.size() == 0) return 0.0;
  return std::nullopt;
}

// Shares of from's top values and "other" on each side.
std::optional<double> CategoricalPsi(const ColumnProfile& from, const ColumnProfile& to) {
  if (from.count == 0 || to.count == 0 || from.top.empty()) return std::nullopt;
  std::vector<double> p, q;
  double p_rest = 1, q_rest = 1;
  for (const auto& e : from.top) {
    std::optional<double> to_count = CountOf(to, e.value);
    if (!to_count) return std::nullopt;  // unknown on `to`: no honest PSI
    p.push_back(double(e.count) / double(from.count));
    q.push_back(*to_count / double(to.count));
    p_rest -= p.back();
    q_rest -= q.back();
  }
  p.push_back(std::max(0.0, p_rest));
  q.push_back(std::max(0.0, q_rest));
  return PopulationStabilityIndex(p, q);
}

nlohmann::json Number(double x) {
  if (std::isnan(x)) return nullptr;
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return x;
}

double NumberFrom(const nlohmann::json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    if (j == "inf") return std::numeric_limits<double>::infinity();
    if (j == "-inf") return -std::numeric_limits<double>::infinity();
  }
  return kNaN;
}

std::optional<ColumnType> TypeFrom(const nlohmann::json& j) {
  if (!j.is_string()) return std::nullopt;
  for (ColumnType t :
       {ColumnType::kInteger, ColumnType::kFloat, ColumnType::kBoolean, ColumnType::kString}) {
    if (j.get<std::string>() == ColumnTypeName(t)) return t;
  }
  return std::nullopt;
}

}  // namespace

double PopulationStabilityIndex(std::span<const double> p, std::span<const double> q) {
  double psi = 0;
  for (size_t i = 0; i < p.size() && i < q.size(); ++i) {
    double a = std::max(p[i], kPsiShareFloor);
    double b = std::max(q[i], kPsiShareFloor);
    psi += (b - a) * std::log(b / a);
  }
  return psi;
}

std::vector<double> PsiDecileEdges(const KllSketch& baseline) {
  if (baseline.empty()) return {};
  static constexpr std::array<double, 9> kDeciles = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
  std::vector<double> edges = baseline.Quantiles(kDeciles);
  std::erase_if(edges, [](double e) { return std::isnan(e); });
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  return edges;
}

std::vector<double> PsiBinShares(const KllSketch& sketch, std::span<const double> edges) {
  std::vector<double> out;
  double below = 0;
  for (double e : edges) {
    double rank = sketch.Rank(e);
    out.push_back(std::max(0.0, rank - below));
    below = rank;
  }
  out.push_back(std::max(0.0, 1 - below));
  return out;
}

std::vector<double> PsiBinShares(std::span<const double> values, std::span<const double> edges) {
  std::vector<double> counts(edges.size() + 1, 0.0);
  double n = 0;
  for (double v : values) {
    if (std::isnan(v)) continue;
    // The bin of v: the number of edges ≤ v ((−inf, e1) is bin 0).
    counts[std::upper_bound(edges.begin(), edges.end(), v) - edges.begin()] += 1;
    n += 1;
  }
  if (n > 0) {
    for (double& c : counts) c /= n;
  }
  return counts;
}

bool StatChange::changed() const {
  if (statistic == "psi") return to >= kPsiNoise;
  return !SameValue(from, to);
}

bool ColumnDiff::changed() const {
  if (from_type != to_type) return true;
  return std::any_of(stats.begin(), stats.end(), [](const StatChange& s) { return s.changed(); });
}

bool ColumnDiff::flagged() const {
  return std::any_of(stats.begin(), stats.end(), [](const StatChange& s) { return s.flagged; });
}

ProfileDiff DiffProfiles(const DatasetProfile& from, const DatasetProfile& to,
                         const ProfileDiffOptions& options) {
  ProfileDiff diff;
  diff.rows_from = from.rows;
  diff.rows_to = to.rows;
  for (const auto& c : from.columns) {
    if (to.Find(c.name) == nullptr) diff.removed.push_back({c.name, c.type, c.missing});
  }
  for (const auto& t : to.columns) {
    const ColumnProfile* f = from.Find(t.name);
    if (f == nullptr) {
      diff.added.push_back({t.name, t.type, t.missing});
      continue;
    }
    if (f->type != t.type) diff.type_changed.push_back({t.name, f->type, t.type});

    ColumnDiff column;
    column.name = t.name;
    column.from_type = f->type;
    column.to_type = t.type;
    auto add = [&](std::string statistic, double a, double b, bool flagged) {
      column.stats.push_back({std::move(statistic), "", a, b, flagged});
    };

    double missing_from = Ratio(double(f->missing), double(from.rows));
    double missing_to = Ratio(double(t.missing), double(to.rows));
    add("missing_rate", missing_from, missing_to,
        !std::isnan(missing_from) && !std::isnan(missing_to) &&
            std::abs(missing_to - missing_from) >= options.missing_rate);

    if (IsNumeric(f->type) && IsNumeric(t.type)) {
      double scale = f->stddev;
      bool mean_flag = false;
      if (!std::isnan(f->mean) && !std::isnan(t.mean) && f->mean != t.mean) {
        mean_flag = std::isnan(scale) || scale == 0
                        ? true
                        : std::abs(t.mean - f->mean) / scale >= options.mean_shift;
      }
      add("mean", f->mean, t.mean, mean_flag);
      add("stddev", f->stddev, t.stddev, OutsideRatio(f->stddev, t.stddev, options.stddev_ratio));
      add("min", f->min, t.min, false);
      add("max", f->max, t.max, false);
      for (size_t i = 0; i < kProfileQuantileNames.size(); ++i) {
        double a = i < f->quantiles.size() ? f->quantiles[i] : kNaN;
        double b = i < t.quantiles.size() ? t.quantiles[i] : kNaN;
        add(std::string(kProfileQuantileNames[i]), a, b, false);
      }
    }
    add("distinct", f->distinct, t.distinct,
        OutsideRatio(f->distinct, t.distinct, options.distinct_ratio));

    std::optional<double> psi;
    if (IsCategorical(f->type) && IsCategorical(t.type)) {
      // The top values of either side, from's first, each once.
      std::vector<std::string> values;
      std::set<std::string> seen;
      for (const auto* side : {f, &t}) {
        for (size_t i = 0; i < side->top.size() && i < options.top_values; ++i) {
          if (seen.insert(side->top[i].value).second) values.push_back(side->top[i].value);
        }
      }
      for (const auto& v : values) {
        std::optional<double> a = CountOf(*f, v);
        std::optional<double> b = CountOf(t, v);
        double share_a = a && f->count > 0 ? *a / double(f->count) : kNaN;
        double share_b = b && t.count > 0 ? *b / double(t.count) : kNaN;
        bool flag = !std::isnan(share_a) && !std::isnan(share_b) &&
                    std::abs(share_b - share_a) >= options.top_share;
        column.stats.push_back({"top_share", v, share_a, share_b, flag});
      }
      psi = CategoricalPsi(*f, t);
    } else if (IsNumeric(f->type) && IsNumeric(t.type)) {
      psi = NumericPsi(*f, t);
    }
    if (psi) {
      // Rounding noise of identical sketches is no shift.
      double value = *psi < 1e-12 ? 0.0 : *psi;
      add("psi", 0.0, value, value >= options.psi);
    }
    diff.columns.push_back(std::move(column));
  }
  return diff;
}

nlohmann::json ToJson(const ProfileDiff& diff) {
  using nlohmann::json;
  json added = json::array(), removed = json::array(), type_changed = json::array();
  for (const auto& c : diff.added) {
    added.push_back({{"name", c.name}, {"type", ColumnTypeName(c.type)}});
  }
  for (const auto& c : diff.removed) {
    removed.push_back({{"name", c.name}, {"type", ColumnTypeName(c.type)}});
  }
  for (const auto& c : diff.type_changed) {
    type_changed.push_back(
        {{"name", c.name}, {"from", ColumnTypeName(c.from)}, {"to", ColumnTypeName(c.to)}});
  }
  json columns = json::array();
  for (const auto& c : diff.columns) {
    json stats = json::array();
    for (const auto& s : c.stats) {
      json j = {{"statistic", s.statistic}};
      if (s.statistic == "top_share") j["value"] = s.value;
      j["from"] = Number(s.from);
      j["to"] = Number(s.to);
      j["flagged"] = s.flagged;
      stats.push_back(std::move(j));
    }
    columns.push_back({{"name", c.name},
                       {"from_type", ColumnTypeName(c.from_type)},
                       {"to_type", ColumnTypeName(c.to_type)},
                       {"changed", c.changed()},
                       {"flagged", c.flagged()},
                       {"stats", std::move(stats)}});
  }
  return {{"rows", {{"from", diff.rows_from}, {"to", diff.rows_to}}},
          {"schema",
           {{"added", std::move(added)},
            {"removed", std::move(removed)},
            {"type_changed", std::move(type_changed)}}},
          {"columns", std::move(columns)}};
}

Result<ProfileDiff> ProfileDiffFromJson(const nlohmann::json& j) {
  using nlohmann::json;
  auto bad = [](const std::string& field) {
    return InvalidArgument("profile diff: missing or malformed '" + field + "'");
  };
  auto string_of = [](const json& o, const char* key) -> std::optional<std::string> {
    auto it = o.find(key);
    if (it == o.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  if (!j.is_object() || !j.contains("rows") || !j["rows"].is_object()) return bad("rows");
  ProfileDiff diff;
  const json& rows = j["rows"];
  if (!rows.contains("from") || !rows["from"].is_number_integer() || !rows.contains("to") ||
      !rows["to"].is_number_integer()) {
    return bad("rows");
  }
  diff.rows_from = rows["from"].get<int64_t>();
  diff.rows_to = rows["to"].get<int64_t>();
  if (!j.contains("schema") || !j["schema"].is_object()) return bad("schema");
  const json& schema = j["schema"];
  for (const char* side : {"added", "removed"}) {
    if (!schema.contains(side) || !schema[side].is_array()) return bad(std::string("schema.") + side);
    for (const auto& c : schema[side]) {
      auto name = c.is_object() ? string_of(c, "name") : std::nullopt;
      auto type = c.is_object() && c.contains("type") ? TypeFrom(c["type"]) : std::nullopt;
      if (!name || !type) return bad(std::string("schema.") + side);
      (std::string_view(side) == "added" ? diff.added : diff.removed).push_back({*name, *type, 0});
    }
  }
  if (!schema.contains("type_changed") || !schema["type_changed"].is_array()) {
    return bad("schema.type_changed");
  }
  for (const auto& c : schema["type_changed"]) {
    auto name = c.is_object() ? string_of(c, "name") : std::nullopt;
    auto from = c.is_object() && c.contains("from") ? TypeFrom(c["from"]) : std::nullopt;
    auto to = c.is_object() && c.contains("to") ? TypeFrom(c["to"]) : std::nullopt;
    if (!name || !from || !to) return bad("schema.type_changed");
    diff.type_changed.push_back({*name, *from, *to});
  }
  if (!j.contains("columns") || !j["columns"].is_array()) return bad("columns");
  for (const auto& c : j["columns"]) {
    ColumnDiff column;
    auto name = c.is_object() ? string_of(c, "name") : std::nullopt;
    auto from = c.is_object() && c.contains("from_type") ? TypeFrom(c["from_type"]) : std::nullopt;
    auto to = c.is_object() && c.contains("to_type") ? TypeFrom(c["to_type"]) : std::nullopt;
    if (!name || !from || !to || !c.contains("stats") || !c["stats"].is_array()) {
      return bad("columns");
    }
    column.name = *name;
    column.from_type = *from;
    column.to_type = *to;
    for (const auto& s : c["stats"]) {
      auto statistic = s.is_object() ? string_of(s, "statistic") : std::nullopt;
      if (!statistic || !s.contains("from") || !s.contains("to") || !s.contains("flagged") ||
          !s["flagged"].is_boolean()) {
        return bad("columns[].stats (" + column.name + ")");
      }
      StatChange stat;
      stat.statistic = *statistic;
      stat.value = string_of(s, "value").value_or("");
      stat.from = NumberFrom(s["from"]);
      stat.to = NumberFrom(s["to"]);
      stat.flagged = s["flagged"].get<bool>();
      column.stats.push_back(std::move(stat));
    }
    diff.columns.push_back(std::move(column));
  }
  return diff;
}

}  // namespace cairn::data
