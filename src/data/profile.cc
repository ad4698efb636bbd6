#include "data/profile.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <set>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/utf8.h"

namespace cairn::data {
namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kFormat = 1;

constexpr uint8_t Bit(FieldKind kind) { return static_cast<uint8_t>(1u << static_cast<int>(kind)); }
constexpr uint8_t kNumberBits = Bit(FieldKind::kInteger) | Bit(FieldKind::kFloat);

// The column type for a set of FieldKinds seen, by csv_reader's own rule: a one-column
// TypeInferrer is shown one representative value of each kind. This keeps the profile's types
// identical to InferTypes' without a second copy of the rule.
ColumnType TypeOfKinds(uint8_t kinds) {
  static constexpr std::pair<FieldKind, std::string_view> kRepresentatives[] = {
      {FieldKind::kInteger, "0"},
      {FieldKind::kFloat, "0.5"},
      {FieldKind::kBoolean, "true"},
      {FieldKind::kString, "x"}};
  TypeInferrer inferrer;
  const std::string name = "c";
  (void)inferrer.OnHeader(std::span<const std::string>(&name, 1));
  for (const auto& [kind, value] : kRepresentatives) {
    if (kinds & Bit(kind)) inferrer.AddRow(std::span<const std::string_view>(&value, 1));
  }
  return inferrer.type(0);
}

// JSON has no NaN or infinity: they travel as strings, as in the sketches' JSON.
json NumberToJson(double x) {
  if (std::isfinite(x)) return x;
  if (std::isnan(x)) return "nan";
  return x > 0 ? "inf" : "-inf";
}

double NumberFromJson(const json& j) {
  if (j.is_number()) return j.get<double>();
  const auto& s = j.get_ref<const std::string&>();  // throws type_error otherwise
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  if (s == "nan") return kNaN;
  throw std::invalid_argument("not a number: " + s);
}

Result<ColumnType> ColumnTypeFromName(std::string_view name) {
  for (ColumnType t :
       {ColumnType::kInteger, ColumnType::kFloat, ColumnType::kBoolean, ColumnType::kString}) {
    if (ColumnTypeName(t) == name) return t;
  }
  return InvalidArgument("unknown column type \"" + std::string(name) + "\"");
}

// Equal-width edges from min to max, counts from the KLL sketch's rank function. Cumulative
// counts are rounded, then differenced, so the bins are non-negative and sum to n exactly.
ProfileHistogram HistogramFromSketch(const KllSketch& sketch, double min, double max, int bins) {
  ProfileHistogram h;
  if (sketch.empty()) return h;
  h.edges = EqualWidthEdges(min, max, bins);
  if (h.edges.empty()) return h;
  const uint64_t n = sketch.count();
  const size_t nbins = h.edges.size() - 1;
  uint64_t previous = 0;
  for (size_t i = 1; i <= nbins; ++i) {
    uint64_t below = n;  // the last bin closes at max, which every value is at or below
    if (i < nbins) {
      below = static_cast<uint64_t>(std::llround(static_cast<double>(n) * sketch.Rank(h.edges[i])));
      below = std::clamp(below, previous, n);
    }
    h.counts.push_back(below - previous);
    previous = below;
  }
  return h;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Building

// A column's running state. The string sketches see every non-missing value; the numeric ones
// only while the column could still end as an integer, float or boolean column.
struct ProfileBuilder::Column {
  Column(std::string column_name, const ProfileOptions& o, uint64_t seed)
      : name(std::move(column_name)),
        string_hll(o.hll_precision),
        frequent(o.frequent_capacity),
        string_sample(o.sample_capacity, seed),
        kll(o.kll_k, Mix64(seed + 1)),
        number_hll(o.hll_precision),
        number_sample(o.sample_capacity, seed) {}

  // The column can no longer be numeric or boolean: free the numeric sketches.
  void DropNumbers() {
    numeric_live = false;
    moments = Moments();
    kll = KllSketch(KllSketch::kMinK);
    number_hll = HyperLogLog(HyperLogLog::kMinPrecision);
    number_sample = NumericReservoir(1);
  }

  std::string name;
  uint8_t kinds = 0;  // FieldKinds seen, as TypeInferrer keeps them
  int64_t missing = 0;

  HyperLogLog string_hll;
  FrequentValues frequent;
  StringReservoir string_sample;

  bool numeric_live = true;
  Moments moments;  // numbers, or booleans as 0/1
  KllSketch kll;    // numbers only
  HyperLogLog number_hll;
  NumericReservoir number_sample;
  uint64_t trues = 0;
  uint64_t falses = 0;
};

ProfileBuilder::ProfileBuilder(const ProfileOptions& options) : options_(options) {
  CAIRN_CHECK(options.histogram_bins >= 1);
}

ProfileBuilder::~ProfileBuilder() = default;

Status ProfileBuilder::OnHeader(std::span<const std::string> names) {
  columns_.clear();
  columns_.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    columns_.emplace_back(names[i], options_, Mix64(options_.seed + i));
  }
  rows_ = 0;
  return Status();
}

Status ProfileBuilder::OnRow(std::span<const std::string_view> fields, int64_t /*line*/) {
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string_view f = fields[i];
    Column& c = columns_[i];
    const FieldKind kind = ClassifyField(f);
    if (kind == FieldKind::kMissing) {
      ++c.missing;
      if (c.numeric_live) c.moments.AddMissing();
      continue;
    }
    c.kinds |= Bit(kind);
    c.string_hll.Add(f);
    c.frequent.Add(f);
    c.string_sample.Add(f);
    if (!c.numeric_live) continue;
    switch (kind) {
      case FieldKind::kInteger:
      case FieldKind::kFloat: {
        if (c.kinds & Bit(FieldKind::kBoolean)) {
          c.DropNumbers();
          break;
        }
        const double v =
            kind == FieldKind::kInteger ? static_cast<double>(*ParseInteger(f)) : *ParseFloat(f);
        c.moments.Add(v);
        c.kll.Add(v);
        c.number_hll.Add(v);
        c.number_sample.Add(v);
        break;
      }
      case FieldKind::kBoolean: {
        if (c.kinds & kNumberBits) {
          c.DropNumbers();
          break;
        }
        const bool b = *ParseBoolean(f);
        ++(b ? c.trues : c.falses);
        c.moments.Add(b ? 1.0 : 0.0);
        c.number_sample.Add(b ? 1.0 : 0.0);
        break;
      }
      default:
        c.DropNumbers();
        break;
    }
  }
  ++rows_;
  return Status();
}

DatasetProfile ProfileBuilder::Build() const {
  DatasetProfile profile;
  profile.rows = rows_;
  for (const Column& c : columns_) {
    ColumnProfile p;
    p.name = c.name;
    p.type = TypeOfKinds(c.kinds);
    p.missing = c.missing;
    p.count = rows_ - c.missing;
    p.min = p.max = p.mean = p.stddev = kNaN;
    if (p.type != ColumnType::kString) {
      CAIRN_CHECK(c.numeric_live);
      p.moments = c.moments;
      p.min = c.moments.min();
      p.max = c.moments.max();
      p.mean = c.moments.mean();
      p.stddev = c.moments.SampleStddev();
      p.numeric_sample = c.number_sample;
    }
    switch (p.type) {
      case ColumnType::kInteger:
      case ColumnType::kFloat: {
        p.quantile_sketch = c.kll;
        p.distinct_sketch = c.number_hll;
        if (!c.kll.empty()) {
          p.quantiles = c.kll.Quantiles(kProfileQuantiles);
          p.histogram = HistogramFromSketch(c.kll, p.min, p.max, options_.histogram_bins);
        }
        p.distinct_exact = c.frequent.exact();
        if (p.distinct_exact) {
          // Every spelling is tracked: count the distinct numbers they stand for.
          std::set<double> numbers;
          for (const FrequentValues::Entry& e : c.frequent.All()) {
            const double v = *ParseFloat(e.value);
            numbers.insert(v == 0 ? 0.0 : v);  // -0 and 0 are one value
          }
          p.distinct = static_cast<double>(numbers.size());
        } else {
          p.distinct = c.number_hll.Estimate();
        }
        break;
      }
      case ColumnType::kBoolean: {
        p.frequent_values = FrequentValues(options_.frequent_capacity);
        p.frequent_values.Add("false", c.falses);
        p.frequent_values.Add("true", c.trues);
        p.top = p.frequent_values.Top(options_.top_k);
        p.distinct = static_cast<double>((c.trues > 0) + (c.falses > 0));
        p.distinct_exact = true;
        break;
      }
      case ColumnType::kString: {
        p.frequent_values = c.frequent;
        p.top = c.frequent.Top(options_.top_k);
        p.distinct_sketch = c.string_hll;
        p.string_sample = c.string_sample;
        p.distinct_exact = c.frequent.exact();
        p.distinct =
            p.distinct_exact ? static_cast<double>(c.frequent.size()) : c.string_hll.Estimate();
        break;
      }
    }
    profile.columns.push_back(std::move(p));
  }
  return profile;
}

const ColumnProfile* DatasetProfile::Find(std::string_view name) const {
  for (const ColumnProfile& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Result<DatasetProfile> ProfileCsv(std::string_view data, const ProfileOptions& options) {
  ProfileBuilder builder(options);
  CAIRN_RETURN_IF_ERROR(ParseCsv(data, builder));
  return builder.Build();
}

// ---------------------------------------------------------------------------------------------
// JSON

nlohmann::json ToJson(const DatasetProfile& profile) {
  json columns = json::array();
  for (const ColumnProfile& c : profile.columns) {
    json j = {{"name", BytesToJson(c.name)},
              {"type", std::string(ColumnTypeName(c.type))},
              {"count", c.count},
              {"missing", c.missing},
              {"distinct", NumberToJson(c.distinct)},
              {"distinct_exact", c.distinct_exact}};
    json sketches = json::object();
    if (c.type != ColumnType::kString) {
      j["min"] = NumberToJson(c.min);
      j["max"] = NumberToJson(c.max);
      j["mean"] = NumberToJson(c.mean);
      j["stddev"] = NumberToJson(c.stddev);
      sketches["moments"] = c.moments.ToJson();
      sketches["sample"] = c.numeric_sample.ToJson();
    } else {
      sketches["sample"] = c.string_sample.ToJson();
    }
    if (c.numeric()) {
      if (!c.quantiles.empty()) {
        json q = json::object();
        for (size_t i = 0; i < kProfileQuantileNames.size(); ++i) {
          q[std::string(kProfileQuantileNames[i])] = NumberToJson(c.quantiles[i]);
        }
        j["quantiles"] = std::move(q);
      }
      if (!c.histogram.edges.empty()) {
        json edges = json::array();
        for (double e : c.histogram.edges) edges.push_back(NumberToJson(e));
        j["histogram"] = {{"edges", std::move(edges)}, {"counts", c.histogram.counts}};
      }
      sketches["kll"] = c.quantile_sketch.ToJson();
      sketches["hll"] = c.distinct_sketch.ToJson();
    } else {
      json top = json::array();
      for (const FrequentValues::Entry& e : c.top) {
        top.push_back({{"value", BytesToJson(e.value)}, {"count", e.count}, {"error", e.error}});
      }
      j["top"] = std::move(top);
      sketches["frequent"] = c.frequent_values.ToJson();
      if (c.type == ColumnType::kString) sketches["hll"] = c.distinct_sketch.ToJson();
    }
    j["sketches"] = std::move(sketches);
    columns.push_back(std::move(j));
  }
  return {{"format", kFormat}, {"rows", profile.rows}, {"columns", std::move(columns)}};
}

namespace {

template <typename T>
T Take(Result<T> result, std::string_view what) {
  if (!result.ok())
    throw std::invalid_argument(std::string(what) + ": " + result.status().message());
  return std::move(result).value();
}

ColumnProfile ColumnFromJson(const json& j, int64_t rows) {
  ColumnProfile c;
  c.name = BytesFromJson(j.at("name"));
  c.type = Take(ColumnTypeFromName(j.at("type").get<std::string>()), "type");
  c.count = j.at("count").get<int64_t>();
  c.missing = j.at("missing").get<int64_t>();
  if (c.count < 0 || c.missing < 0 || c.count + c.missing != rows) {
    throw std::invalid_argument("count + missing is not the number of rows");
  }
  c.distinct = NumberFromJson(j.at("distinct"));
  c.distinct_exact = j.at("distinct_exact").get<bool>();
  const json& sketches = j.at("sketches");
  c.min = c.max = c.mean = c.stddev = kNaN;
  if (c.type != ColumnType::kString) {
    c.min = NumberFromJson(j.at("min"));
    c.max = NumberFromJson(j.at("max"));
    c.mean = NumberFromJson(j.at("mean"));
    c.stddev = NumberFromJson(j.at("stddev"));
    c.moments = Take(Moments::FromJson(sketches.at("moments")), "moments");
    c.numeric_sample = Take(NumericReservoir::FromJson(sketches.at("sample")), "sample");
  } else {
    c.string_sample = Take(StringReservoir::FromJson(sketches.at("sample")), "sample");
  }
  if (c.numeric()) {
    if (j.contains("quantiles")) {
      const json& q = j.at("quantiles");
      for (std::string_view name : kProfileQuantileNames) {
        c.quantiles.push_back(NumberFromJson(q.at(std::string(name))));
      }
    }
    if (j.contains("histogram")) {
      const json& h = j.at("histogram");
      for (const json& e : h.at("edges")) c.histogram.edges.push_back(NumberFromJson(e));
      c.histogram.counts = h.at("counts").get<std::vector<uint64_t>>();
      if (c.histogram.edges.size() < 2 ||
          c.histogram.counts.size() + 1 != c.histogram.edges.size()) {
        throw std::invalid_argument("histogram: edges and counts do not match");
      }
    }
    c.quantile_sketch = Take(KllSketch::FromJson(sketches.at("kll")), "kll");
    c.distinct_sketch = Take(HyperLogLog::FromJson(sketches.at("hll")), "hll");
  } else {
    for (const json& e : j.at("top")) {
      c.top.push_back({BytesFromJson(e.at("value")), e.at("count").get<uint64_t>(),
                       e.at("error").get<uint64_t>()});
    }
    c.frequent_values = Take(FrequentValues::FromJson(sketches.at("frequent")), "frequent");
    if (c.type == ColumnType::kString) {
      c.distinct_sketch = Take(HyperLogLog::FromJson(sketches.at("hll")), "hll");
    }
  }
  return c;
}

}  // namespace

Result<DatasetProfile> ProfileFromJson(const nlohmann::json& j) {
  DatasetProfile profile;
  size_t column = 0;
  try {
    if (j.at("format").get<int>() != kFormat) {
      return InvalidArgument("profile: unsupported format " + j.at("format").dump());
    }
    profile.rows = j.at("rows").get<int64_t>();
    if (profile.rows < 0) return InvalidArgument("profile: negative row count");
    for (const json& c : j.at("columns")) {
      ++column;
      profile.columns.push_back(ColumnFromJson(c, profile.rows));
    }
  } catch (const std::exception& e) {
    std::string where = "profile";
    if (column > 0) {
      where += ": column " + std::to_string(column);
      const json& c = j.at("columns").at(column - 1);
      if (c.is_object() && c.contains("name") && c.at("name").is_string()) {
        where += " (" + c.at("name").get<std::string>() + ")";
      }
    }
    return InvalidArgument(where + ": " + e.what());
  }
  return profile;
}

}  // namespace cairn::data
