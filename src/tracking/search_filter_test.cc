#include "tracking/search_filter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

namespace cairn::tracking {
namespace {

using store::CompareOp;
using store::Comparison;
using store::EntityKind;
using store::OrderKey;
using Value = std::variant<double, std::string, std::vector<std::string>>;

Comparison C(EntityKind kind, std::string key, CompareOp op, Value value) {
  return Comparison{kind, std::move(key), op, std::move(value)};
}
Comparison Metric(std::string key, CompareOp op, double v) {
  return C(EntityKind::kMetric, std::move(key), op, v);
}
Comparison Param(std::string key, CompareOp op, std::string v) {
  return C(EntityKind::kParam, std::move(key), op, std::move(v));
}
Comparison Tag(std::string key, CompareOp op, std::string v) {
  return C(EntityKind::kTag, std::move(key), op, std::move(v));
}
Comparison Attr(std::string key, CompareOp op, Value v) {
  return C(EntityKind::kAttribute, std::move(key), op, std::move(v));
}

std::string Describe(const Comparison& c) {
  static const char* kKinds[] = {"metric", "param", "tag", "attribute"};
  static const char* kOps[] = {"=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN"};
  std::ostringstream out;
  out << kKinds[static_cast<int>(c.kind)] << "[" << c.key << "] " << kOps[static_cast<int>(c.op)]
      << " ";
  if (const double* d = std::get_if<double>(&c.value)) {
    out << "num:" << *d;
  } else if (const std::string* s = std::get_if<std::string>(&c.value)) {
    out << "str:'" << *s << "'";
  } else {
    out << "list:(";
    for (const std::string& item : std::get<std::vector<std::string>>(c.value)) {
      out << "'" << item << "' ";
    }
    out << ")";
  }
  return out.str();
}

std::vector<std::string> Describe(const std::vector<Comparison>& cs) {
  std::vector<std::string> out;
  for (const Comparison& c : cs) out.push_back(Describe(c));
  return out;
}

// Expects `filter` to parse into exactly `expected`.
void ExpectRunFilter(std::string_view filter, const std::vector<Comparison>& expected) {
  SCOPED_TRACE(std::string("filter: ") + std::string(filter));
  auto parsed = ParseRunFilter(filter);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(Describe(*parsed), Describe(expected));
}

// Expects `filter` to be rejected with kInvalidArgument and a message containing `message`.
template <typename R>
void ExpectError(const R& result, std::string_view input, std::string_view message) {
  SCOPED_TRACE(std::string("input: ") + std::string(input));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find(message), std::string::npos)
      << "message: " << result.status().message() << "\nexpected to contain: " << message;
}
void ExpectRunFilterError(std::string_view filter, std::string_view message) {
  ExpectError(ParseRunFilter(filter), filter, message);
}

void ExpectOrder(Result<OrderKey> r, EntityKind kind, std::string key, bool ascending,
                 std::string_view input) {
  SCOPED_TRACE(std::string("order_by: ") + std::string(input));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->kind, kind);
  EXPECT_EQ(r->key, key);
  EXPECT_EQ(r->ascending, ascending);
}

// ----- Golden cases from MLflow's tests/utils/test_search_utils.py (test_filter) -------------

TEST(RunFilterGolden, ValidFilters) {
  using enum CompareOp;
  ExpectRunFilter("metric.acc >= 0.94", {Metric("acc", kGe, 0.94)});
  ExpectRunFilter("metric.acc>=100", {Metric("acc", kGe, 100)});
  ExpectRunFilter("params.m!='tf'", {Param("m", kNe, "tf")});
  ExpectRunFilter("params.\"m\"!=\"tf\"", {Param("m", kNe, "tf")});
  ExpectRunFilter("metric.\"legit name\" >= 0.243", {Metric("legit name", kGe, 0.243)});
  ExpectRunFilter("metrics.XYZ = 3", {Metric("XYZ", kEq, 3)});
  ExpectRunFilter("params.\"cat dog\" = \"pets\"", {Param("cat dog", kEq, "pets")});
  ExpectRunFilter("metrics.\"X-Y-Z\" = 3", {Metric("X-Y-Z", kEq, 3)});
  ExpectRunFilter("metrics.\"X//Y#$$@&Z\" = 3", {Metric("X//Y#$$@&Z", kEq, 3)});
  ExpectRunFilter("params.model = 'LinearRegression'", {Param("model", kEq, "LinearRegression")});
  ExpectRunFilter("metrics.rmse < 1 and params.model_class = 'LR'",
                  {Metric("rmse", kLt, 1), Param("model_class", kEq, "LR")});
  ExpectRunFilter("", {});
  ExpectRunFilter("`metric`.a >= 0.1", {Metric("a", kGe, 0.1)});
  ExpectRunFilter("tags.version = 'commit-hash'", {Tag("version", kEq, "commit-hash")});
  ExpectRunFilter("`tags`.source_name = 'a notebook'", {Tag("source_name", kEq, "a notebook")});
  ExpectRunFilter("metrics.\"accuracy.2.0\" > 5", {Metric("accuracy.2.0", kGt, 5)});
  ExpectRunFilter("metrics.`spacey name` > 5", {Metric("spacey name", kGt, 5)});
  ExpectRunFilter("params.\"p.a.r.a.m\" != \"a\"", {Param("p.a.r.a.m", kNe, "a")});
  ExpectRunFilter("tags.\"t.a.g\" = \"a\"", {Tag("t.a.g", kEq, "a")});
  ExpectRunFilter("attribute.artifact_uri = '1/23/4'", {Attr("artifact_uri", kEq, "1/23/4")});
  ExpectRunFilter("attribute.start_time >= 1234", {Attr("start_time", kGe, 1234.0)});
  ExpectRunFilter("run.status = 'RUNNING'", {Attr("status", kEq, "RUNNING")});
}

TEST(RunFilterGolden, QuoteTrimming) {
  using enum CompareOp;
  ExpectRunFilter("params.m = 'LR'", {Param("m", kEq, "LR")});
  ExpectRunFilter("params.m = \"LR\"", {Param("m", kEq, "LR")});
  ExpectRunFilter("params.m = \"L'Hosp\"", {Param("m", kEq, "L'Hosp")});
}

TEST(RunFilterGolden, ErrorFilter) {
  ExpectRunFilterError("metric.acc >= 0.94; metrics.rmse < 1",
                       "Search filter contained multiple expression");
  ExpectRunFilterError("m.acc >= 0.94", "Invalid entity type");
  ExpectRunFilterError("acc >= 0.94", "Invalid attribute key");
  ExpectRunFilterError("p.model >= 'LR'", "Invalid entity type");
  ExpectRunFilterError("attri.x != 1", "Invalid entity type");
  ExpectRunFilterError("a.x != 1", "Invalid entity type");
  ExpectRunFilterError("model >= 'LR'", "Invalid attribute key");
  ExpectRunFilterError("metrics.A > 0.1 OR params.B = 'LR'", "Invalid clause(s) in filter string");
  ExpectRunFilterError("metrics.A > 0.1 NAND params.B = 'LR'",
                       "Invalid clause(s) in filter string");
  ExpectRunFilterError("metrics.A > 0.1 AND (params.B = 'LR')",
                       "Invalid clause(s) in filter string");
  ExpectRunFilterError("`metrics.A > 0.1", "Invalid clause(s) in filter string");
  ExpectRunFilterError("param`.A > 0.1", "Invalid clause(s) in filter string");
  ExpectRunFilterError("`dummy.A > 0.1", "Invalid clause(s) in filter string");
  ExpectRunFilterError("dummy`.A > 0.1", "Invalid clause(s) in filter string");
  ExpectRunFilterError("attribute.start != 1", "Invalid attribute key");
  ExpectRunFilterError("attribute.experiment_id != 1", "Invalid attribute key");
  ExpectRunFilterError("attribute.name != 1", "Invalid attribute key");
  ExpectRunFilterError("attribute.time != 1", "Invalid attribute key");
  ExpectRunFilterError("attribute._status != 'RUNNING'", "Invalid attribute key");
  ExpectRunFilterError("attribute.status = true", "Invalid clause(s) in filter string");
  // MLflow has no dataset entity in Cairn's store query.
  ExpectRunFilterError("dataset.name = 'my_dataset'", "Invalid entity type");
}

TEST(RunFilterGolden, ErrorComparisonClauses) {
  ExpectRunFilterError("metric.model = 'LR'", "Expected numeric value type for metric");
  ExpectRunFilterError("metric.model = '5'", "Expected numeric value type for metric");
  ExpectRunFilterError("params.acc = 5", "Expected a quoted string value for param");
  ExpectRunFilterError("tags.acc = 5", "Expected a quoted string value for tag");
  ExpectRunFilterError("metrics.acc != metrics.acc", "Expected numeric value type for metric");
  ExpectRunFilterError("1.0 > metrics.acc", "Expected 'Identifier' found");
  ExpectRunFilterError("attribute.status = 1", "Expected a quoted string value for attributes");
}

TEST(RunFilterGolden, BadQuotes) {
  const char* kNotQuoted = "value is either not quoted or unidentified quote types";
  ExpectRunFilterError("params.acc = LR", kNotQuoted);
  ExpectRunFilterError("tags.acc = LR", kNotQuoted);
  ExpectRunFilterError("params.acc = `LR`", kNotQuoted);
  const char* kInvalid = "Invalid clause(s) in filter string";
  ExpectRunFilterError("params.'acc = LR", kInvalid);
  ExpectRunFilterError("params.acc = 'LR", kInvalid);
  ExpectRunFilterError("params.acc = LR'", kInvalid);
  ExpectRunFilterError("params.acc = \"LR'", kInvalid);
  ExpectRunFilterError("tags.acc = \"LR'", kInvalid);
  ExpectRunFilterError("tags.acc = = 'LR'", kInvalid);
  ExpectRunFilterError("attribute.status IS 'RUNNING'", kInvalid);
}

TEST(RunFilterGolden, InvalidClauses) {
  ExpectRunFilterError("params.acc LR !=", "Invalid clause(s) in filter string");
  ExpectRunFilterError("params.acc LR", "Invalid clause(s) in filter string");
  ExpectRunFilterError("metric.acc !=", "Invalid clause(s) in filter string");
  ExpectRunFilterError("acc != 1.0", "Invalid attribute key");
  ExpectRunFilterError("1=1", "Expected 'Identifier' found");
  ExpectRunFilterError("1==2", "Expected 'Identifier' found");
}

TEST(RunFilterGolden, BadComparators) {
  struct Case {
    std::string entity, key, value;
    std::vector<std::string> comparators;
  };
  const Case cases[] = {
      {"metrics", "abc", "1.0", {"~", "~="}},
      {"params", "abc", "'my-param-value'", {">", "<", ">=", "<=", "~"}},
      {"tags", "abc", "'my-tag-value'", {">", "<", ">=", "<=", "~"}},
      {"attributes", "status", "'my-tag-value'", {">", "<", ">=", "<=", "~"}},
      {"attributes", "start_time", "1234", {"LIKE", "ILIKE"}},
  };
  for (const Case& c : cases) {
    for (const std::string& op : c.comparators) {
      ExpectRunFilterError(c.entity + "." + c.key + " " + op + " " + c.value,
                           "Invalid comparator '" + op + "'");
    }
  }
  // MLflow accepts these at parse time and rejects them when executing the search.
  ExpectRunFilterError("`params`.model >= 'LR'", "Invalid comparator '>='");
}

// ----- Cairn's own cases --------------------------------------------------------------------

TEST(RunFilter, BriefExamples) {
  using enum CompareOp;
  ExpectRunFilter("metrics.auc > 0.9 and params.depth = '6'",
                  {Metric("auc", kGt, 0.9), Param("depth", kEq, "6")});
  ExpectRunFilter("tags.\"mlflow.source.name\" = 'train.py'",
                  {Tag("mlflow.source.name", kEq, "train.py")});
  ExpectRunFilter("metrics.`my metric` <= 2", {Metric("my metric", kLe, 2)});
  ExpectRunFilter("tags.mlflow.runName = 'r1'", {Tag("mlflow.runName", kEq, "r1")});
}

TEST(RunFilter, EntityAliases) {
  using enum CompareOp;
  ExpectRunFilter("metric.a = 1 AND metrics.b = 2", {Metric("a", kEq, 1), Metric("b", kEq, 2)});
  ExpectRunFilter(
      "param.a = 'x' and params.b = 'x' and parameter.c = 'x' and parameters.d = 'x'",
      {Param("a", kEq, "x"), Param("b", kEq, "x"), Param("c", kEq, "x"), Param("d", kEq, "x")});
  ExpectRunFilter("tag.a = 'x' AnD tags.b = 'x'", {Tag("a", kEq, "x"), Tag("b", kEq, "x")});
  ExpectRunFilter(
      "attribute.status = 'A' and attributes.status = 'B' and attr.status = 'C' and "
      "run.status = 'D'",
      {Attr("status", kEq, "A"), Attr("status", kEq, "B"), Attr("status", kEq, "C"),
       Attr("status", kEq, "D")});
  // Entity types are case-sensitive, as in MLflow.
  ExpectRunFilterError("Metrics.a > 1", "Invalid entity type 'Metrics'");
}

TEST(RunFilter, AttributesAndAliases) {
  using enum CompareOp;
  ExpectRunFilter("attributes.run_id = 'abc'", {Attr("run_id", kEq, "abc")});
  ExpectRunFilter("attributes.run_name LIKE 'exp%'", {Attr("run_name", kLike, "exp%")});
  ExpectRunFilter("attributes.user_id ILIKE 'BOB'", {Attr("user_id", kILike, "BOB")});
  ExpectRunFilter("attributes.artifact_uri != 's3://b/x'", {Attr("artifact_uri", kNe, "s3://b/x")});
  ExpectRunFilter("attributes.lifecycle_stage = 'active'",
                  {Attr("lifecycle_stage", kEq, "active")});
  ExpectRunFilter("attributes.end_time < 5", {Attr("end_time", kLt, 5.0)});
  ExpectRunFilter("attributes.created > 10", {Attr("start_time", kGt, 10.0)});
  ExpectRunFilter("attributes.Created >= 10", {Attr("start_time", kGe, 10.0)});
  ExpectRunFilter("attributes.`Run Name` = 'x'", {Attr("run_name", kEq, "x")});
  ExpectRunFilter("attributes.\"run name\" = 'x'", {Attr("run_name", kEq, "x")});
  // No entity type means "attribute", as in MLflow.
  ExpectRunFilter("status = 'FINISHED' and start_time > 0",
                  {Attr("status", kEq, "FINISHED"), Attr("start_time", kGt, 0.0)});
  ExpectRunFilterError("attributes.start_time = '5'",
                       "Expected numeric value type for numeric attribute: start_time. Found '5'");
  ExpectRunFilterError("attributes.created = 'x'",
                       "Expected numeric value type for numeric attribute: created");
  ExpectRunFilterError("attributes.Status = 'x'", "Invalid attribute key 'Status' specified");
}

TEST(RunFilter, OperatorsAreCaseInsensitive) {
  using enum CompareOp;
  ExpectRunFilter("params.a like 'x%' and tags.b ILike '%y' and params.c LIKE 'z'",
                  {Param("a", kLike, "x%"), Tag("b", kILike, "%y"), Param("c", kLike, "z")});
  ExpectRunFilter("attributes.run_id in ('a', \"b\") AND attributes.status not in ('X')",
                  {Attr("run_id", kIn, std::vector<std::string>{"a", "b"}),
                   Attr("status", kNotIn, std::vector<std::string>{"X"})});
  ExpectRunFilter("run_id IN ('a','b','c')",
                  {Attr("run_id", kIn, std::vector<std::string>{"a", "b", "c"})});
}

TEST(RunFilter, AllNumericOperators) {
  using enum CompareOp;
  ExpectRunFilter(
      "metrics.m = 1 and metrics.m != 2 and metrics.m > 3 and metrics.m >= 4 and "
      "metrics.m < 5 and metrics.m <= 6",
      {Metric("m", kEq, 1), Metric("m", kNe, 2), Metric("m", kGt, 3), Metric("m", kGe, 4),
       Metric("m", kLt, 5), Metric("m", kLe, 6)});
  ExpectRunFilterError("metrics.m <> 1", "Invalid comparator '<>'");
  ExpectRunFilterError("metrics.m == 1", "Invalid comparator '=='");
  ExpectRunFilterError("metrics.m LIKE 1", "Invalid comparator 'LIKE'");
  ExpectRunFilterError("metrics.m IN ('1')", "Invalid comparator 'IN'");
  ExpectRunFilterError("params.p IN ('1')", "Invalid comparator 'IN'");
  ExpectRunFilterError("tags.t NOT IN ('1')", "Invalid comparator 'NOT IN'");
}

TEST(RunFilter, Numbers) {
  using enum CompareOp;
  ExpectRunFilter("metrics.m > -1", {Metric("m", kGt, -1)});
  ExpectRunFilter("metrics.m>-2.5", {Metric("m", kGt, -2.5)});
  ExpectRunFilter("metrics.m = 1e3", {Metric("m", kEq, 1000)});
  ExpectRunFilter("metrics.m = 1.5E-3", {Metric("m", kEq, 0.0015)});
  ExpectRunFilter("metrics.m = 2e+2", {Metric("m", kEq, 200)});
  ExpectRunFilter("metrics.m = .5", {Metric("m", kEq, 0.5)});
  ExpectRunFilter("metrics.m = -.5", {Metric("m", kEq, -0.5)});
  ExpectRunFilter("metrics.m = 5.", {Metric("m", kEq, 5)});
  ExpectRunFilter("metrics.m < 1e999", {Metric("m", kLt, INFINITY)});
  ExpectRunFilter("metrics.m > 1e-999", {Metric("m", kGt, 0)});
  ExpectRunFilter("attributes.start_time >= 1700000000000",
                  {Attr("start_time", kGe, 1700000000000.0)});
  ExpectRunFilterError("metrics.m = 1abc", "Invalid clause(s) in filter string");
  ExpectRunFilterError("metrics.m = 1.2.3", "Invalid clause(s) in filter string");
  ExpectRunFilterError("metrics.m = - 1", "Invalid clause(s) in filter string");
  ExpectRunFilterError("metrics.m = nan", "Expected numeric value type for metric. Found nan");
  ExpectRunFilterError("metrics.m = \"5\"", "Expected numeric value type for metric");
}

TEST(RunFilter, StringValues) {
  using enum CompareOp;
  ExpectRunFilter("params.p = ''", {Param("p", kEq, "")});
  ExpectRunFilter("params.p = 'a AND b = c'", {Param("p", kEq, "a AND b = c")});
  ExpectRunFilter("params.p = 'say \"hi\"'", {Param("p", kEq, "say \"hi\"")});
  ExpectRunFilter("params.p = 'héllo ✓'", {Param("p", kEq, "héllo ✓")});
  ExpectRunFilter("params.p = '5' and tags.t = '0.1'",
                  {Param("p", kEq, "5"), Tag("t", kEq, "0.1")});
  ExpectRunFilter("  params.p   =\t'x'\n AND\r\ntags.t='y'  ",
                  {Param("p", kEq, "x"), Tag("t", kEq, "y")});
  ExpectRunFilterError("params.p = 5", "Expected a quoted string value for parameter");
  ExpectRunFilterError("params.p = 'a' 'b'", "Invalid clause(s) in filter string");
  ExpectRunFilterError("params.p = null", "Invalid clause(s) in filter string");
  ExpectRunFilterError("params.p = 'it''s'", "Invalid clause(s) in filter string");
}

TEST(RunFilter, Lists) {
  using enum CompareOp;
  ExpectRunFilter("attributes.run_id IN ('a')",
                  {Attr("run_id", kIn, std::vector<std::string>{"a"})});
  ExpectRunFilter("attributes.status NOT IN ( 'A' , \"B\" )",
                  {Attr("status", kNotIn, std::vector<std::string>{"A", "B"})});
  ExpectRunFilterError("attributes.run_id IN ()", "but got empty list");
  ExpectRunFilterError("attributes.run_id IN ('a',)", "got different type in list: ('a',)");
  ExpectRunFilterError("attributes.run_id IN ('a', 1)", "got different type in list");
  ExpectRunFilterError("attributes.run_id IN ('a' 'b')", "got different type in list");
  ExpectRunFilterError("attributes.run_id IN (('a'))", "got different type in list");
  ExpectRunFilterError("attributes.run_id IN ('a'", "Invalid clause(s) in filter string");
  ExpectRunFilterError("attributes.run_id IN 'a'", "Invalid clause(s) in filter string");
  ExpectRunFilterError("attributes.run_id = ('a')", "Invalid clause(s) in filter string");
  ExpectRunFilterError("attributes.start_time IN (1)", "got different type in list");
  ExpectRunFilterError("attributes.start_time IN ('1')", "Invalid comparator 'IN'");
  ExpectRunFilterError("attributes.run_id NOT ('a')", "Invalid clause(s) in filter string");
}

TEST(RunFilter, Structure) {
  ExpectRunFilter("   ", {});
  ExpectRunFilterError("metrics.a > 1 and", "Invalid clause(s) in filter string: 'and'");
  ExpectRunFilterError("and metrics.a > 1", "Invalid clause(s) in filter string");
  ExpectRunFilterError("metrics.a > 1 and and metrics.b > 1", "Invalid clause(s)");
  ExpectRunFilterError("metrics.a > 1 metrics.b > 1", "Invalid clause(s)");
  ExpectRunFilterError("metrics.a > 1 or metrics.b > 1",
                       "Invalid clause(s) in filter string: 'metrics.a > 1 or metrics.b > 1'");
  ExpectRunFilterError("(metrics.a > 1)", "Invalid clause(s) in filter string");
  ExpectRunFilterError("metrics.a > 1;", "Invalid clause(s) in filter string");
  ExpectRunFilterError("metrics.a", "Invalid clause(s) in filter string");
  ExpectRunFilterError("metrics. > 1", "Invalid identifier 'metrics.'");
  ExpectRunFilterError("metrics.\"\" > 1", "Invalid identifier");
  ExpectRunFilterError("metrics.\"a\"b > 1", "Invalid identifier");
  ExpectRunFilterError("metrics.a-b > 1", "Invalid clause(s) in filter string");
  ExpectRunFilterError("'x' = params.a", "Expected 'Identifier' found ''x''");
  ExpectRunFilterError("metrics.a > 1 AND params.b ~ 'x'", "Invalid comparator '~'");
}

TEST(RunFilter, HostileInputNeverCrashes) {
  const std::string inputs[] = {
      "'",
      "\"",
      "`",
      "=",
      "!=",
      "(",
      ")",
      ",",
      ";",
      ";;;",
      "-",
      ".",
      "-.",
      "1e",
      "metrics.",
      ".metrics",
      "metrics.a >",
      "metrics.a > 'unterminated",
      "params.a = \"unterminated",
      "params.`unterminated = 'x'",
      "attributes.run_id IN (",
      "attributes.run_id IN ('a',",
      "attributes.run_id NOT",
      "NOT IN",
      "AND",
      "and and and",
      std::string("params.a = 'x\0y'", 16),
      std::string("params.a\0 = 'x'", 15),
      std::string("\0", 1),
      std::string(1, '\xff'),
      "\xc3",
      "params.\xff\xfe = '\xff'",
      "\x01\x02\x03",
      "metrics.a > 1 AND",
      std::string(10000, '('),
      std::string(10000, '\''),
      std::string(10000, '='),
      std::string(10000, 'a'),
      std::string(10000, '.'),
      std::string(10000, '-'),
      std::string(10000, '9'),
  };
  for (const std::string& in : inputs) {
    SCOPED_TRACE(testing::PrintToString(in.substr(0, 40)));
    auto r = ParseRunFilter(in);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_LE(r.status().message().size(), 1000u);  // user text is echoed truncated
    }
    auto e = ParseExperimentFilter(in);
    if (!e.ok()) {
      EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    }
    auto o = ParseRunOrderBy(in);
    if (!o.ok()) {
      EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
    }
    auto eo = ParseExperimentOrderBy(in);
    if (!eo.ok()) {
      EXPECT_EQ(eo.status().code(), StatusCode::kInvalidArgument);
    }
  }
  // Echoed user text has control characters replaced.
  auto r = ParseRunFilter(std::string("metrics.a > 1 or \0\n", 19));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find('\0'), std::string::npos);
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
}

TEST(RunFilter, HugeInputIsLinear) {
  std::string filter;
  const int kClauses = 20000;
  for (int i = 0; i < kClauses; ++i) {
    if (i) filter += " AND ";
    filter += "metrics.`m " + std::to_string(i) + "` >= " + std::to_string(i) + ".5";
  }
  const auto start = std::chrono::steady_clock::now();
  auto parsed = ParseRunFilter(filter);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->size(), static_cast<size_t>(kClauses));
  EXPECT_EQ(Describe(parsed->back()), Describe(Metric("m 19999", CompareOp::kGe, 19999.5)));
  EXPECT_LT(elapsed, std::chrono::seconds(2));  // ~1 MB; a few ms in practice

  // An error deep in a huge filter: bounded message.
  auto bad = ParseRunFilter(filter + " OR " + std::string(100000, 'x'));
  ASSERT_FALSE(bad.ok());
  EXPECT_LT(bad.status().message().size(), 400u);
}

// ----- order_by -----------------------------------------------------------------------------

TEST(RunOrderByGolden, Valid) {
  using enum EntityKind;
  // From test_correct_sorting and test_space_order_by_search_runs.
  ExpectOrder(ParseRunOrderBy("tags.noSuchTag"), kTag, "noSuchTag", true, "tags.noSuchTag");
  ExpectOrder(ParseRunOrderBy("attributes.status"), kAttribute, "status", true, "status");
  ExpectOrder(ParseRunOrderBy("attributes.start_time"), kAttribute, "start_time", true, "start");
  ExpectOrder(ParseRunOrderBy("metrics.key1 asc"), kMetric, "key1", true, "key1 asc");
  ExpectOrder(ParseRunOrderBy("metrics.\"key1\"  desc"), kMetric, "key1", false, "key1 desc");
  ExpectOrder(ParseRunOrderBy("params.my_param"), kParam, "my_param", true, "my_param");
  ExpectOrder(ParseRunOrderBy("params.my_param aSc"), kParam, "my_param", true, "aSc");
  ExpectOrder(ParseRunOrderBy("attributes.status  ASC"), kAttribute, "status", true, "ASC");
  ExpectOrder(ParseRunOrderBy("attributes.status DESC"), kAttribute, "status", false, "DESC");
  ExpectOrder(ParseRunOrderBy("params.`my_param` DESC"), kParam, "my_param", false, "`my_param`");
  ExpectOrder(ParseRunOrderBy("tags.tag1    DESC"), kTag, "tag1", false, "tag1");
  ExpectOrder(ParseRunOrderBy("metrics.`Mean Square Error`"), kMetric, "Mean Square Error", true,
              "MSE");
  ExpectOrder(ParseRunOrderBy("metrics.`Mean Square Error` ASC"), kMetric, "Mean Square Error",
              true, "MSE ASC");
  ExpectOrder(ParseRunOrderBy("metrics.`Mean Square Error` DESC"), kMetric, "Mean Square Error",
              false, "MSE DESC");
}

TEST(RunOrderByGolden, Invalid) {
  const std::pair<const char*, const char*> cases[] = {
      {"m.acc", "Invalid entity type"},
      {"acc", "Invalid attribute key"},
      {"attri.x", "Invalid entity type"},
      {"`metrics.A", "Invalid order_by clause"},
      {"`metrics.A`", "Invalid entity type"},
      {"attribute.start", "Invalid attribute key"},
      {"attribute.experiment_id", "Invalid attribute key"},
      {"metrics.A != 1", "Invalid order_by clause"},
      {"params.my_param ", "Invalid order_by clause"},
      {"attribute.run_id ACS", "Invalid ordering key"},
      {"attribute.run_id decs", "Invalid ordering key"},
  };
  for (const auto& [clause, message] : cases) ExpectError(ParseRunOrderBy(clause), clause, message);
}

TEST(RunOrderBy, More) {
  using enum EntityKind;
  ExpectOrder(ParseRunOrderBy("metrics.auc DESC"), kMetric, "auc", false, "auc");
  ExpectOrder(ParseRunOrderBy("params.`a b` asc"), kParam, "a b", true, "a b");
  ExpectOrder(ParseRunOrderBy("attributes.created"), kAttribute, "start_time", true, "created");
  ExpectOrder(ParseRunOrderBy("attr.end_time desc"), kAttribute, "end_time", false, "end");
  ExpectOrder(ParseRunOrderBy("run.run_name"), kAttribute, "run_name", true, "run_name");
  ExpectOrder(ParseRunOrderBy("start_time"), kAttribute, "start_time", true, "bare");
  ExpectOrder(ParseRunOrderBy("tags.\"mlflow.runName\""), kTag, "mlflow.runName", true, "tag");
  ExpectOrder(ParseRunOrderBy("tags.mlflow.user DESC"), kTag, "mlflow.user", false, "tag2");
  const std::pair<const char*, const char*> bad[] = {
      {"", "Invalid order_by clause ''. Could not be parsed."},
      {" metrics.a", "Invalid order_by clause"},
      {"metrics.a DESC ASC", "Invalid order_by clause"},
      {"metrics.a 1", "Invalid order_by clause"},
      {"metrics.a 'desc'", "Invalid order_by clause"},
      {"metrics.a, metrics.b", "Invalid order_by clause"},
      {"5", "Invalid order_by clause"},
      {"dataset.name", "Invalid entity type"},
      {"metrics.", "Invalid identifier"},
  };
  for (const auto& [clause, message] : bad) ExpectError(ParseRunOrderBy(clause), clause, message);
}

// ----- experiments --------------------------------------------------------------------------

void ExpectExperimentFilter(std::string_view filter, const std::vector<Comparison>& expected) {
  SCOPED_TRACE(std::string("filter: ") + std::string(filter));
  auto parsed = ParseExperimentFilter(filter);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(Describe(*parsed), Describe(expected));
}

TEST(ExperimentFilter, Valid) {
  using enum CompareOp;
  ExpectExperimentFilter("", {});
  ExpectExperimentFilter("name = 'a'", {Attr("name", kEq, "a")});
  ExpectExperimentFilter("attribute.name != 'a'", {Attr("name", kNe, "a")});
  ExpectExperimentFilter("attributes.`name` LIKE 'a%'", {Attr("name", kLike, "a%")});
  ExpectExperimentFilter("`attribute`.name ilike \"A%\"", {Attr("name", kILike, "A%")});
  ExpectExperimentFilter("creation_time > 123 and attribute.last_update_time <= 4.5e2",
                         {Attr("creation_time", kGt, 123.0), Attr("last_update_time", kLe, 450.0)});
  ExpectExperimentFilter(
      "tags.key = 'value' AND tag.\"k e y\" != 'v' and tags.`x.y` LIKE '%'",
      {Tag("key", kEq, "value"), Tag("k e y", kNe, "v"), Tag("x.y", kLike, "%")});
  ExpectExperimentFilter("name LIKE \"jamie-foo C+%\"", {Attr("name", kLike, "jamie-foo C+%")});
}

TEST(ExperimentFilter, Invalid) {
  const std::pair<const char*, const char*> cases[] = {
      {"invalid = 'x'", "Invalid attribute key 'invalid' specified"},
      {"experiment_id = '1'", "Invalid attribute key"},
      {"attribute.status = 'x'", "Invalid attribute key"},
      {"run.name = 'x'", "Invalid entity type 'run'"},
      {"metrics.x > 1", "Invalid entity type 'metrics'"},
      {"params.x = 'y'", "Invalid entity type"},
      {"name > 'x'", "Invalid comparator '>'"},
      {"name IN ('x')", "Invalid comparator 'IN'"},
      {"tags.t > 'x'", "Invalid comparator '>'"},
      {"creation_time LIKE 5", "Invalid comparator 'LIKE'"},
      {"creation_time = 'x'", "Expected numeric value type for numeric attribute: creation_time"},
      {"name = 5", "Expected a quoted string value for attributes"},
      {"tags.t = 5", "Expected a quoted string value for tag"},
      {"name = x", "not quoted"},
      {"name = 'a' OR name = 'b'", "Invalid clause(s) in filter string"},
      {"name = 'a'; name = 'b'", "Search filter contained multiple expression"},
  };
  for (const auto& [filter, message] : cases) {
    ExpectError(ParseExperimentFilter(filter), filter, message);
  }
}

TEST(ExperimentOrderBy, ValidAndInvalid) {
  using enum EntityKind;
  ExpectOrder(ParseExperimentOrderBy("name"), kAttribute, "name", true, "name");
  ExpectOrder(ParseExperimentOrderBy("experiment_id DESC"), kAttribute, "experiment_id", false,
              "id");
  ExpectOrder(ParseExperimentOrderBy("attribute.creation_time asc"), kAttribute, "creation_time",
              true, "ct");
  ExpectOrder(ParseExperimentOrderBy("last_update_time desc"), kAttribute, "last_update_time",
              false, "lut");
  const std::pair<const char*, const char*> bad[] = {
      {"tags.x", "Invalid order_by entity: tag"},     {"metrics.x", "Invalid entity type"},
      {"artifact_location", "Invalid attribute key"}, {"name ASCENDING", "Invalid ordering key"},
      {"name DESC ", "Invalid order_by clause"},
  };
  for (const auto& [clause, message] : bad) {
    ExpectError(ParseExperimentOrderBy(clause), clause, message);
  }
}

}  // namespace
}  // namespace cairn::tracking
