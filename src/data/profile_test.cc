#include "data/profile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace cairn::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kDataDir = CAIRN_SOURCE_DIR "/../shared/data/";
const std::vector<std::string> kSharedFiles = {"telco_churn.csv", "penguins.csv", "credit_data.csv",
                                               "lending_club.csv", "ames_housing.csv"};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

DatasetProfile Profile(std::string_view csv, const ProfileOptions& options = {}) {
  Result<DatasetProfile> profile = ProfileCsv(csv, options);
  EXPECT_TRUE(profile.ok()) << profile.status().ToString();
  return profile.ok() ? std::move(profile).value() : DatasetProfile{};
}

const ColumnProfile& Column(const DatasetProfile& profile, std::string_view name) {
  const ColumnProfile* c = profile.Find(name);
  if (c == nullptr) {
    ADD_FAILURE() << "no column " << name;
    static const ColumnProfile kNone;
    return kNone;
  }
  return *c;
}

// The stated bounds for the default options.
const double kRankError = KllSketch::NormalizedRankError(KllSketch::kDefaultK);
const double kBinError = KllSketch::NormalizedRankError(KllSketch::kDefaultK, true);
const double kHllError = 3 * HyperLogLog(HyperLogLog::kDefaultPrecision).StandardError();

// The expected values below were computed independently with Python's csv module (missing =
// "", NA, N/A, NaN, null, NULL; sample standard deviation; distinct numbers by value). The
// quantile bands are the sorted values at ranks q ± 1.33 % (the KLL bound).
TEST(ProfileTest, TelcoChurnMatchesExactValues) {
  const DatasetProfile p = Profile(ReadFile(kDataDir + "telco_churn.csv"));
  EXPECT_EQ(p.rows, 7043);
  ASSERT_EQ(p.columns.size(), 20u);
  for (const ColumnProfile& c : p.columns) {
    EXPECT_EQ(c.missing, c.name == "total_charges" ? 11 : 0) << c.name;
    EXPECT_EQ(c.count + c.missing, 7043) << c.name;
  }

  const ColumnProfile& contract = Column(p, "contract");
  EXPECT_EQ(contract.type, ColumnType::kString);
  EXPECT_TRUE(contract.distinct_exact);
  EXPECT_EQ(contract.distinct, 3);
  EXPECT_THAT(contract.top, ElementsAre(FrequentValues::Entry{"Month-to-month", 3875, 0},
                                        FrequentValues::Entry{"Two year", 1695, 0},
                                        FrequentValues::Entry{"One year", 1473, 0}));
  EXPECT_TRUE(std::isnan(contract.mean));
  EXPECT_TRUE(contract.quantiles.empty());
  EXPECT_EQ(Column(p, "payment_method").distinct, 4);
  EXPECT_EQ(Column(p, "churn").distinct, 2);

  const ColumnProfile& female = Column(p, "female");
  EXPECT_EQ(female.type, ColumnType::kInteger);
  EXPECT_EQ(female.distinct, 2);
  EXPECT_TRUE(female.distinct_exact);
  EXPECT_NEAR(female.mean, 0.4952435042, 1e-9);

  struct Numeric {
    const char* name;
    ColumnType type;
    double distinct, min, max, mean, stddev;
    double p25_lo, p25_hi, p50_lo, p50_hi, p75_lo, p75_hi;
  };
  const Numeric kNumeric[] = {
      {"tenure", ColumnType::kInteger, 73, 0, 72, 32.37114866, 24.55948102, 8, 10, 27, 30, 54, 57},
      {"monthly_charges", ColumnType::kFloat, 1585, 18.25, 118.75, 64.76169246, 30.0900471, 30.4,
       40.3, 69.85, 71.05, 89.25, 90.55},
      {"total_charges", ColumnType::kFloat, 6530, 18.8, 8684.8, 2283.300441, 2266.771362, 357.75,
       438.05, 1336.8, 1453.1, 3608.0, 3969.35},
  };
  for (const Numeric& want : kNumeric) {
    SCOPED_TRACE(want.name);
    const ColumnProfile& c = Column(p, want.name);
    EXPECT_EQ(c.type, want.type);
    EXPECT_EQ(c.min, want.min);
    EXPECT_EQ(c.max, want.max);
    EXPECT_NEAR(c.mean, want.mean, 1e-8 * std::abs(want.mean));
    EXPECT_NEAR(c.stddev, want.stddev, 1e-8 * want.stddev);
    // Up to 1024 distinct values they are counted exactly; beyond, a HyperLogLog estimate.
    EXPECT_EQ(c.distinct_exact, want.distinct <= 1024);
    if (c.distinct_exact) {
      EXPECT_EQ(c.distinct, want.distinct);
    } else {
      EXPECT_NEAR(c.distinct, want.distinct, kHllError * want.distinct);
    }
    ASSERT_EQ(c.quantiles.size(), kProfileQuantiles.size());
    EXPECT_GE(c.quantiles[2], want.p25_lo);
    EXPECT_LE(c.quantiles[2], want.p25_hi);
    EXPECT_GE(c.quantiles[3], want.p50_lo);
    EXPECT_LE(c.quantiles[3], want.p50_hi);
    EXPECT_GE(c.quantiles[4], want.p75_lo);
    EXPECT_LE(c.quantiles[4], want.p75_hi);
    EXPECT_TRUE(std::is_sorted(c.quantiles.begin(), c.quantiles.end()));
    EXPECT_EQ(c.moments.count(), static_cast<uint64_t>(c.count));
    EXPECT_EQ(c.quantile_sketch.count(), static_cast<uint64_t>(c.count));
    EXPECT_TRUE(c.top.empty());
  }
}

// The histogram's counts come from the KLL sketch: each within the double-sided bound of the
// exact counts (LoadCsv's values counted into the same bins), and they sum to the count.
TEST(ProfileTest, HistogramWithinStatedErrorOfExactCounts) {
  const std::string data = ReadFile(kDataDir + "telco_churn.csv");
  const DatasetProfile p = Profile(data);
  Result<CsvTable> table = LoadCsv(data);
  ASSERT_TRUE(table.ok());
  for (const char* name : {"tenure", "monthly_charges", "total_charges"}) {
    SCOPED_TRACE(name);
    const ColumnProfile& c = Column(p, name);
    ASSERT_EQ(c.histogram.edges.size(), 21u);
    EXPECT_EQ(c.histogram.edges.front(), c.min);
    EXPECT_EQ(c.histogram.edges.back(), c.max);
    Result<Histogram> exact = Histogram::Count(c.histogram.edges, table->Find(name)->numbers);
    ASSERT_TRUE(exact.ok());
    uint64_t sum = 0;
    for (size_t i = 0; i < c.histogram.counts.size(); ++i) {
      const double diff =
          static_cast<double>(c.histogram.counts[i]) - static_cast<double>(exact->counts()[i]);
      EXPECT_LE(std::abs(diff), kBinError * static_cast<double>(c.count)) << "bin " << i;
      sum += c.histogram.counts[i];
    }
    EXPECT_EQ(sum, static_cast<uint64_t>(c.count));
  }
}

TEST(ProfileTest, TypesAndMissingAgreeWithInferTypesOnEverySharedFile) {
  for (const std::string& file : kSharedFiles) {
    SCOPED_TRACE(file);
    const std::string data = ReadFile(kDataDir + file);
    Result<std::vector<ColumnSchema>> schema = InferTypes(data);
    ASSERT_TRUE(schema.ok());
    const DatasetProfile p = Profile(data);
    ASSERT_EQ(p.columns.size(), schema->size());
    for (size_t i = 0; i < p.columns.size(); ++i) {
      EXPECT_EQ(p.columns[i].name, (*schema)[i].name);
      EXPECT_EQ(p.columns[i].type, (*schema)[i].type) << p.columns[i].name;
      EXPECT_EQ(p.columns[i].missing, (*schema)[i].missing) << p.columns[i].name;
    }
  }
}

TEST(ProfileTest, SameBytesInAnySplitGiveIdenticalProfile) {
  const std::string data = ReadFile(kDataDir + "telco_churn.csv");
  const std::string whole = ToJson(Profile(data)).dump();
  for (size_t piece : {size_t{1} << 16, size_t{4093}, size_t{97}}) {
    SCOPED_TRACE(piece);
    ProfileBuilder builder;
    CsvParser parser(builder);
    for (size_t at = 0; at < data.size(); at += piece) {
      ASSERT_TRUE(parser.Feed(std::string_view(data).substr(at, piece)).ok());
    }
    ASSERT_TRUE(parser.Finish().ok());
    EXPECT_EQ(ToJson(builder.Build()).dump(), whole);
  }
  // Byte by byte, on a smaller file.
  const std::string penguins = ReadFile(kDataDir + "penguins.csv");
  ProfileBuilder builder;
  CsvParser parser(builder);
  for (char ch : penguins) ASSERT_TRUE(parser.Feed(std::string_view(&ch, 1)).ok());
  ASSERT_TRUE(parser.Finish().ok());
  EXPECT_EQ(ToJson(builder.Build()).dump(), ToJson(Profile(penguins)).dump());
}

TEST(ProfileTest, JsonRoundTrips) {
  const std::string csv =
      "n,x,b,s,empty\n"
      "1,2.5,true,a,\n"
      "2,inf,False,b,NA\n"
      "3,-1e300,TRUE,\"with \"\"quote\"\"\",\n";
  for (const DatasetProfile& p : {Profile(ReadFile(kDataDir + "penguins.csv")), Profile(csv)}) {
    const nlohmann::json j = ToJson(p);
    Result<DatasetProfile> back = ProfileFromJson(nlohmann::json::parse(j.dump()));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(ToJson(*back).dump(), j.dump());
    // The restored sketches answer as the originals do.
    for (size_t i = 0; i < p.columns.size(); ++i) {
      const ColumnProfile& a = p.columns[i];
      const ColumnProfile& b = back->columns[i];
      EXPECT_EQ(a.numeric_sample.items(), b.numeric_sample.items());
      EXPECT_EQ(a.string_sample.items(), b.string_sample.items());
      EXPECT_EQ(a.frequent_values.All(), b.frequent_values.All());
      if (a.numeric() && a.count > 0) {
        EXPECT_EQ(a.quantile_sketch.Quantile(0.5), b.quantile_sketch.Quantile(0.5));
        EXPECT_EQ(a.distinct_sketch.Estimate(), b.distinct_sketch.Estimate());
      }
    }
  }
  // Readable summary fields.
  const nlohmann::json j = ToJson(Profile(csv));
  EXPECT_EQ(j["rows"], 3);
  EXPECT_EQ(j["columns"][0]["quantiles"]["p50"], 2);
  EXPECT_EQ(j["columns"][1]["max"], "inf");
  EXPECT_EQ(j["columns"][2]["top"][0]["value"], "true");
  EXPECT_EQ(j["columns"][2]["top"][0]["count"], 2);
}

TEST(ProfileTest, JsonErrorsNameTheColumn) {
  nlohmann::json j = ToJson(Profile("a,b\n1,x\n"));
  j["columns"][1]["type"] = "complex";
  Result<DatasetProfile> p = ProfileFromJson(j);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("column 2 (b)"));
  EXPECT_THAT(p.status().message(), HasSubstr("complex"));

  j = ToJson(Profile("a,b\n1,x\n"));
  j["columns"][0]["sketches"].erase("kll");
  EXPECT_FALSE(ProfileFromJson(j).ok());
  EXPECT_FALSE(ProfileFromJson(nlohmann::json::array()).ok());
}

// penguins.csv has 344 rows: every reservoir holds every non-missing value, in file order.
TEST(ProfileTest, ReservoirHoldsEveryValueOfASmallFile) {
  const std::string data = ReadFile(kDataDir + "penguins.csv");
  const DatasetProfile p = Profile(data);
  Result<CsvTable> table = LoadCsv(data);
  ASSERT_TRUE(table.ok());
  ASSERT_EQ(p.rows, 344);
  for (const CsvColumn& column : table->columns) {
    SCOPED_TRACE(column.name);
    const ColumnProfile& c = Column(p, column.name);
    if (column.type == ColumnType::kString) {
      std::vector<std::string> values;
      for (int32_t code : column.codes) {
        if (code >= 0) values.push_back(column.dictionary[static_cast<size_t>(code)]);
      }
      EXPECT_EQ(c.string_sample.items(), values);
      EXPECT_TRUE(c.numeric_sample.items().empty());
    } else {
      std::vector<double> values;
      for (double v : column.numbers) {
        if (!std::isnan(v)) values.push_back(v);
      }
      EXPECT_EQ(c.numeric_sample.items(), values);
      EXPECT_TRUE(c.string_sample.items().empty());
    }
    EXPECT_EQ(c.numeric() ? c.numeric_sample.count() : c.string_sample.count(),
              static_cast<uint64_t>(c.count));
  }
}

TEST(ProfileTest, ReservoirIsBoundedAndSeeded) {
  std::string csv = "id\n";
  for (int i = 0; i < 30000; ++i) csv += std::to_string(i) + "\n";
  const DatasetProfile p = Profile(csv);
  const ColumnProfile& c = p.columns[0];
  EXPECT_EQ(c.numeric_sample.items().size(), 10000u);
  EXPECT_EQ(c.numeric_sample.count(), 30000u);
  EXPECT_FALSE(c.distinct_exact);
  EXPECT_NEAR(c.distinct, 30000, kHllError * 30000);
  // Same seed, same sample; another seed, another sample.
  EXPECT_EQ(Profile(csv).columns[0].numeric_sample.items(), c.numeric_sample.items());
  ProfileOptions other;
  other.seed = 7;
  EXPECT_NE(Profile(csv, other).columns[0].numeric_sample.items(), c.numeric_sample.items());
}

TEST(ProfileTest, ColumnTurningFromNumbersToStringsGetsStringStats) {
  std::string csv = "mixed,bools_then_numbers,ints_then_float\n";
  for (int i = 0; i < 500; ++i) csv += std::to_string(i % 10) + ",true," + std::to_string(i) + "\n";
  csv += "later text,1,0.5\n";
  const DatasetProfile p = Profile(csv);

  const ColumnProfile& mixed = p.columns[0];
  EXPECT_EQ(mixed.type, ColumnType::kString);
  EXPECT_EQ(mixed.count, 501);
  EXPECT_TRUE(mixed.distinct_exact);
  EXPECT_EQ(mixed.distinct, 11);
  ASSERT_EQ(mixed.top.size(), 11u);
  EXPECT_EQ(mixed.top[0], (FrequentValues::Entry{"0", 50, 0}));
  EXPECT_EQ(mixed.top.back(), (FrequentValues::Entry{"later text", 1, 0}));
  EXPECT_TRUE(std::isnan(mixed.min));
  EXPECT_TRUE(mixed.quantiles.empty());
  EXPECT_TRUE(mixed.histogram.edges.empty());
  ASSERT_EQ(mixed.string_sample.items().size(), 501u);
  EXPECT_EQ(mixed.string_sample.items().front(), "0");
  EXPECT_EQ(mixed.string_sample.items().back(), "later text");
  EXPECT_TRUE(mixed.numeric_sample.items().empty());

  // Booleans mixed with numbers make a string column too, as InferTypes says.
  EXPECT_EQ(p.columns[1].type, ColumnType::kString);
  EXPECT_EQ(p.columns[1].top[0], (FrequentValues::Entry{"true", 500, 0}));

  const ColumnProfile& widened = p.columns[2];
  EXPECT_EQ(widened.type, ColumnType::kFloat);
  EXPECT_EQ(widened.min, 0);
  EXPECT_EQ(widened.max, 499);
  EXPECT_EQ(widened.count, 501);
  EXPECT_EQ(widened.numeric_sample.items().back(), 0.5);
  EXPECT_TRUE(widened.distinct_exact);  // 501 values, counted exactly
  EXPECT_EQ(widened.distinct, 501);

  Result<std::vector<ColumnSchema>> schema = InferTypes(csv);
  ASSERT_TRUE(schema.ok());
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(p.columns[i].type, (*schema)[i].type);
}

TEST(ProfileTest, AllMissingColumn) {
  const DatasetProfile p = Profile("id,nothing\n1,\n2,NA\n3,null\n");
  const ColumnProfile& c = Column(p, "nothing");
  EXPECT_EQ(c.type, ColumnType::kFloat);  // as InferTypes (pandas: all NaN)
  EXPECT_EQ(c.count, 0);
  EXPECT_EQ(c.missing, 3);
  EXPECT_EQ(c.distinct, 0);
  EXPECT_TRUE(c.distinct_exact);
  EXPECT_TRUE(std::isnan(c.min));
  EXPECT_TRUE(std::isnan(c.mean));
  EXPECT_TRUE(std::isnan(c.stddev));
  EXPECT_TRUE(c.quantiles.empty());
  EXPECT_TRUE(c.histogram.edges.empty());
  EXPECT_TRUE(c.numeric_sample.items().empty());
  EXPECT_EQ(c.moments.missing(), 3u);
  Result<DatasetProfile> back = ProfileFromJson(ToJson(p));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(std::isnan(back->columns[1].mean));
  EXPECT_EQ(ToJson(*back), ToJson(p));
}

TEST(ProfileTest, BooleanColumn) {
  const DatasetProfile p = Profile("flag\ntrue\nFALSE\nTrue\n\ntrue\n");
  const ColumnProfile& c = p.columns[0];
  EXPECT_EQ(c.type, ColumnType::kBoolean);
  EXPECT_EQ(c.count, 4);
  EXPECT_EQ(c.missing, 1);
  EXPECT_EQ(c.mean, 0.75);
  EXPECT_THAT(c.top, ElementsAre(FrequentValues::Entry{"true", 3, 0},
                                 FrequentValues::Entry{"false", 1, 0}));
  EXPECT_EQ(c.distinct, 2);
  EXPECT_THAT(c.numeric_sample.items(), ElementsAre(1, 0, 1, 1));
  EXPECT_TRUE(c.quantiles.empty());
}

TEST(ProfileTest, SmallColumnIsExactAndHistogramOfOneValue) {
  const DatasetProfile p = Profile("x,k\n1,5\n2,5\n3,5\n4,5\n1.0,5\n");
  const ColumnProfile& x = p.columns[0];
  EXPECT_EQ(x.type, ColumnType::kFloat);
  EXPECT_EQ(x.distinct, 4);  // "1" and "1.0" are one number
  EXPECT_TRUE(x.distinct_exact);
  EXPECT_THAT(x.quantiles, ElementsAre(1, 1, 1, 2, 3, 4, 4));
  ASSERT_EQ(x.histogram.counts.size(), 20u);
  EXPECT_EQ(x.histogram.counts.front(), 2u);
  EXPECT_EQ(x.histogram.counts.back(), 1u);
  const ColumnProfile& k = p.columns[1];
  EXPECT_THAT(k.histogram.edges, ElementsAre(5, 5));
  EXPECT_THAT(k.histogram.counts, ElementsAre(5));
}

TEST(ProfileTest, ParserErrorsPassThrough) {
  Result<DatasetProfile> p = ProfileCsv("a,b\n1,2\n3\n");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("line 3"));
  EXPECT_FALSE(ProfileCsv("").ok());
}

}  // namespace
}  // namespace cairn::data

namespace cairn::data {
namespace {

// Raw bytes that are not UTF-8 (a Latin-1 export, say) survive the profile's JSON byte for byte.
TEST(ProfileTest, NonUtf8NamesAndValuesRoundTrip) {
  std::string csv = "id,caf\xe9\n1,\xff\n2,\xfe\n3,\xff\n";
  auto profile = ProfileCsv(csv);
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  nlohmann::json j = ToJson(*profile);
  std::string text = j.dump();  // must not throw
  auto back = ProfileFromJson(nlohmann::json::parse(text));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->columns.size(), 2u);
  EXPECT_EQ(back->columns[1].name, "caf\xe9");
  ASSERT_EQ(back->columns[1].top.size(), 2u);
  EXPECT_EQ(back->columns[1].top[0].value, "\xff");
  EXPECT_EQ(back->columns[1].top[1].value, "\xfe");
  EXPECT_EQ(ToJson(*back), j);
}

}  // namespace
}  // namespace cairn::data

// ---------------------------------------------------------------------------------------------
// The fast path (ProfileCsv) against the streaming reference (CsvParser feeding a
// ProfileBuilder): the same profile, bit for bit, whatever the threads and block sizes.

namespace cairn::data {
namespace {

std::string ReferenceJson(std::string_view csv) {
  ProfileBuilder builder;
  Status parsed = ParseCsv(csv, builder);
  EXPECT_TRUE(parsed.ok()) << parsed.ToString();
  return ToJson(builder.Build()).dump();
}

// The fast path only (no fallback to CsvParser), as JSON.
std::string FastJson(std::string_view csv, unsigned threads, size_t block_bytes) {
  ProfileRun run;
  run.threads = threads;
  run.block_bytes = block_bytes;
  run.no_fallback = true;
  Result<DatasetProfile> p = ProfileCsv(csv, {}, run);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? ToJson(*p).dump() : "";
}

struct RunConfig {
  unsigned threads;
  size_t block_bytes;
};
constexpr RunConfig kConfigs[] = {{1, 0}, {2, 0}, {2, 4096}, {3, 333}, {1, 64}};

TEST(ProfileFastPathTest, EqualsTheStreamingReferenceOnEverySharedFile) {
  for (const std::string& file : kSharedFiles) {
    SCOPED_TRACE(file);
    const std::string data = ReadFile(kDataDir + file);
    const std::string want = ReferenceJson(data);
    for (const RunConfig& config : kConfigs) {
      SCOPED_TRACE(testing::Message()
                   << config.threads << " threads, blocks of " << config.block_bytes << " bytes");
      EXPECT_EQ(FastJson(data, config.threads, config.block_bytes), want);
    }
  }
}

// Quoted fields with line breaks, commas and "" — across block boundaries, CRLF and LF rows,
// a UTF-8 byte order mark and no line ending at the end.
TEST(ProfileFastPathTest, QuotedLineBreaksAndEscapesAtBlockBoundaries) {
  std::string csv =
      "\xEF\xBB\xBF"
      "id,\"te,xt\",amount,flag\r\n";
  for (int i = 0; i < 600; ++i) {
    csv += std::to_string(i) + ",";
    switch (i % 4) {
      case 0:
        csv += "\"two\nlines " + std::to_string(i % 7) + "\"";
        break;
      case 1:
        csv += "\"say \"\"hi\"\", \r\nthen go\"";
        break;
      case 2:
        csv += "plain";
        break;
      default:
        csv += "\"\"";
        break;  // empty: missing
    }
    csv += "," + std::to_string(i * 0.25) + "," + (i % 3 ? "true" : "FALSE");
    csv += i % 5 ? "\r\n" : "\n";
  }
  csv += "600,last,1.5,true";  // no line ending
  const std::string want = ReferenceJson(csv);
  for (const RunConfig& config : kConfigs) {
    SCOPED_TRACE(testing::Message() << config.threads << " threads, " << config.block_bytes);
    EXPECT_EQ(FastJson(csv, config.threads, config.block_bytes), want);
  }
  for (size_t block : {17, 50, 101, 257}) EXPECT_EQ(FastJson(csv, 2, block), want) << block;
  const DatasetProfile p = Profile(csv);
  EXPECT_EQ(p.rows, 601);
  EXPECT_EQ(p.columns[1].name, "te,xt");
  EXPECT_EQ(p.columns[1].missing, 150);
  EXPECT_EQ(Column(p, "te,xt").top[0], (FrequentValues::Entry{"plain", 150, 0}));
  EXPECT_EQ(Column(p, "flag").type, ColumnType::kBoolean);
}

// A column read as numbers (or booleans) that meets a string late — blocks after the first —
// is read again from the start as strings: the same profile as the reference's.
TEST(ProfileFastPathTest, ColumnsTurningToStringsLateAreReadAgain) {
  std::string csv = "late_text,late_number,numbers,empty,late_bool\n";
  for (int i = 0; i < 20000; ++i) {
    csv += (i == 19999 ? std::string("oops") : std::to_string(i % 97)) + ",";
    csv += (i == 15000 ? std::string("3") : std::string(i % 2 ? "true" : "false")) + ",";
    csv += (i % 10 == 0 ? std::string("NA") : std::to_string(i * 1.5)) + ",,";
    csv += i == 12000 ? "True" : (i < 12000 ? "7" : "8");
    csv += "\n";
  }
  const std::string want = ReferenceJson(csv);
  for (const RunConfig& config : kConfigs) {
    SCOPED_TRACE(testing::Message() << config.threads << " threads, " << config.block_bytes);
    EXPECT_EQ(FastJson(csv, config.threads, config.block_bytes), want);
  }
  const DatasetProfile p = Profile(csv);
  const ColumnProfile& text = Column(p, "late_text");
  EXPECT_EQ(text.type, ColumnType::kString);
  EXPECT_EQ(text.count, 20000);
  EXPECT_TRUE(text.distinct_exact);
  EXPECT_EQ(text.distinct, 98);
  EXPECT_EQ(text.top[0], (FrequentValues::Entry{"0", 207, 0}));
  EXPECT_EQ(text.string_sample.count(), 20000u);
  EXPECT_EQ(Column(p, "late_number").type, ColumnType::kString);
  EXPECT_EQ(Column(p, "late_bool").type, ColumnType::kString);
  EXPECT_EQ(Column(p, "numbers").type, ColumnType::kFloat);
  EXPECT_EQ(Column(p, "numbers").missing, 2000);
  EXPECT_EQ(Column(p, "empty").missing, 20000);
}

// Every spelling of a number reads as ParseInteger/ParseFloat read it (the fast path parses
// plain decimals itself), and every other spelling is classified as ClassifyField does.
TEST(ProfileFastPathTest, NumbersParseExactlyAsTheReader) {
  std::mt19937_64 gen(42);
  auto digits = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += static_cast<char>('0' + gen() % 10);
    return s;
  };
  const std::vector<std::string> kFixed = {"0",
                                           "-0",
                                           "+0",
                                           "-0.0",
                                           "0.",
                                           ".5",
                                           "-.5",
                                           "+.5",
                                           "007",
                                           "1.",
                                           "123456789012345678",
                                           "1234567890123456789",
                                           "99999999999999999999",
                                           "9007199254740993",
                                           "0.1",
                                           "0.3",
                                           "1e5",
                                           "1E-3",
                                           "-2.5e+10",
                                           "1e400",
                                           "1e-400",
                                           "inf",
                                           "-Infinity",
                                           "1.7976931348623157e308",
                                           "4.9406564584124654e-324",
                                           "123456.7890123456",
                                           "1234567890.123456789",
                                           ".0000000000000001"};
  std::vector<std::string> numbers = kFixed;
  while (numbers.size() < 6000) {
    std::string s = std::vector<std::string>{"", "-", "+"}[gen() % 3];
    const size_t whole = gen() % 12, decimals = gen() % 12;
    s += digits(whole);
    if (gen() % 3) s += "." + digits(decimals);
    if (gen() % 8 == 0) s += "e" + std::to_string(static_cast<int>(gen() % 40) - 20);
    if (ClassifyField(s) == FieldKind::kInteger || ClassifyField(s) == FieldKind::kFloat) {
      numbers.push_back(s);
    }
  }
  const std::vector<std::string> kOthers = {"1.5.2", "1e",  "--1",  "+-1", "0x10",
                                            "1_000", " 12", "12 ",  ".",   "-",
                                            "+",     "nan", "TRUE", "NA",  "e5"};
  std::string csv = "number,anything\n";
  for (size_t i = 0; i < numbers.size(); ++i) {
    csv += numbers[i] + "," + (i % 3 == 0 ? kOthers[i % kOthers.size()] : numbers[i]) + "\n";
  }
  const std::string want = ReferenceJson(csv);
  EXPECT_EQ(FastJson(csv, 1, 0), want);
  EXPECT_EQ(FastJson(csv, 2, 1000), want);
  const DatasetProfile p = Profile(csv);
  const ColumnProfile& number = Column(p, "number");
  EXPECT_EQ(number.type, ColumnType::kFloat);
  ASSERT_EQ(number.numeric_sample.items().size(), numbers.size());  // all of them, in order
  for (size_t i = 0; i < numbers.size(); ++i) {
    const double expected = *ParseFloat(numbers[i]);
    const double got = number.numeric_sample.items()[i];
    EXPECT_TRUE(std::memcmp(&expected, &got, sizeof got) == 0 || (expected == 0 && got == 0))
        << numbers[i] << ": " << got << " != " << expected;
  }
  EXPECT_EQ(Column(p, "anything").type, ColumnType::kString);
}

// A malformed file fails with the reader's own error (line, column), wherever the fault is.
TEST(ProfileFastPathTest, MalformedFilesFailWithTheReadersError) {
  std::string good = "a,b,c\n";
  for (int i = 0; i < 3000; ++i)
    good += std::to_string(i) + ",\"x" + std::to_string(i) + "\",1.5\n";
  const std::vector<std::string> kBad = {
      good + "1,2\n3,4,5\n",                 // a short row
      good + "1,2,3,4\n",                    // a long row
      good + "1,x\"y,3\n",                   // a quote inside an unquoted field
      good + "1,\"x\"y,3\n",                 // a character after a closing quote
      good + "1,2,3\r4,5,6\n",               // a lone CR
      good + "1,\"unterminated,3\n4,5,6\n",  // a quote never closed
      good + "\n1,2,3\n",                    // an empty line in a three-column file
      "a,b,a\n1,2,3\n",                      // a duplicate name
      "",                                    // nothing
  };
  for (const std::string& csv : kBad) {
    SCOPED_TRACE(csv.substr(csv.size() > 40 ? csv.size() - 40 : 0));
    TypeInferrer inferrer;
    const Status want = ParseCsv(csv, inferrer);
    ASSERT_FALSE(want.ok());
    ProfileRun run;
    run.threads = 2;
    run.block_bytes = 512;
    Result<DatasetProfile> p = ProfileCsv(csv, {}, run);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(p.status().message(), want.message());
  }
}

// One column: an empty line is a missing value; empty lines at the end are not rows.
TEST(ProfileFastPathTest, EmptyLinesInAOneColumnFile) {
  const std::string csv = "x\n1\n\n2\r\n\r\n3\n\n\n";
  const std::string want = ReferenceJson(csv);
  EXPECT_EQ(FastJson(csv, 1, 0), want);
  EXPECT_EQ(FastJson(csv, 2, 3), want);
  const DatasetProfile p = Profile(csv);
  EXPECT_EQ(p.rows, 5);
  EXPECT_EQ(p.columns[0].missing, 2);
  EXPECT_EQ(p.columns[0].type, ColumnType::kInteger);
}

TEST(ProfileFastPathTest, ReportsProgressAndStopsWhenCancelled) {
  const std::string data = ReadFile(kDataDir + "telco_churn.csv");
  std::atomic<uint64_t> done{0};
  ProfileRun run;
  run.threads = 2;
  run.block_bytes = 4096;
  run.bytes_done = &done;
  ASSERT_TRUE(ProfileCsv(data, {}, run).ok());
  EXPECT_EQ(done.load(), data.size());

  std::atomic<bool> cancel{true};
  run.cancel = &cancel;
  Result<DatasetProfile> cancelled = ProfileCsv(data, {}, run);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.status().code(), StatusCode::kUnavailable);
}

// Past 2^19 values the quantile sketch is fed through a sampler (profile.cc, kSamplerShift);
// the quantiles stay within the stated bound even when every run of the sampler straddles the
// queried ranks (values alternate between the low and the high half).
TEST(ProfileFastPathTest, QuantilesOfAMillionsLongColumnStayWithinTheBound) {
  constexpr int64_t n = 3'000'000;
  std::string csv = "alternating,few\n";
  csv.reserve(static_cast<size_t>(n) * 14);
  std::vector<int64_t> few_counts(100, 0);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = i % 2 == 0 ? i / 2 : n - 1 - i / 2;  // a permutation of 0 … n − 1
    const int64_t f = (i * 7919) % 100;
    ++few_counts[static_cast<size_t>(f)];
    csv += std::to_string(v) + "," + std::to_string(f) + "\n";
  }
  ProfileRun run;
  run.threads = 2;
  Result<DatasetProfile> p = ProfileCsv(csv, {}, run);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const ColumnProfile& alternating = p->columns[0];
  EXPECT_EQ(alternating.quantile_sketch.count(), static_cast<uint64_t>(n));
  EXPECT_EQ(alternating.min, 0);
  EXPECT_EQ(alternating.max, n - 1);
  EXPECT_FALSE(alternating.distinct_exact);
  EXPECT_NEAR(alternating.distinct, n, kHllError * n);
  const double bound = 0.014;  // profile.h: ±1.4 % of n past 2^19 values
  for (size_t i = 0; i < kProfileQuantiles.size(); ++i) {
    EXPECT_NEAR(alternating.quantiles[i] / n, kProfileQuantiles[i], bound) << i;
  }
  // Few distinct values: the sketch comes from exact counts.
  const ColumnProfile& few = p->columns[1];
  EXPECT_TRUE(few.distinct_exact);
  EXPECT_EQ(few.distinct, 100);
  std::vector<int64_t> below(101, 0);
  for (size_t v = 0; v < 100; ++v) below[v + 1] = below[v] + few_counts[v];
  for (size_t i = 0; i < kProfileQuantiles.size(); ++i) {
    const auto v = static_cast<size_t>(few.quantiles[i]);
    // The true rank range of v contains the requested rank, within the KLL bound.
    EXPECT_LE(static_cast<double>(below[v]) / n, kProfileQuantiles[i] + kRankError) << i;
    EXPECT_GE(static_cast<double>(below[v + 1]) / n, kProfileQuantiles[i] - kRankError) << i;
  }
}

}  // namespace
}  // namespace cairn::data
