#include "data/profile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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
    // More than 64 distinct values: a HyperLogLog estimate.
    EXPECT_FALSE(c.distinct_exact);
    EXPECT_NEAR(c.distinct, want.distinct, kHllError * want.distinct);
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
  EXPECT_FALSE(widened.distinct_exact);  // 501 spellings > 64 counters

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
