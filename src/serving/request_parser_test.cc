#include "serving/request_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace cairn::serving {
namespace {

using ::testing::HasSubstr;
using ml::Cell;
using ml::FeatureKind;

// tenure (integer), charges (number), contract (categorical), paperless (boolean), and an
// optional note.
InputSchema Schema() {
  return InputSchema({{"tenure", FeatureKind::kNumeric, true, false},
                      {"charges", FeatureKind::kNumeric, false, false},
                      {"contract", FeatureKind::kCategorical, false, false},
                      {"paperless", FeatureKind::kBoolean, false, false},
                      {"note", FeatureKind::kCategorical, false, true}});
}

double Num(const Cell& c) { return std::get<double>(c); }
std::string_view Str(const Cell& c) { return std::get<std::string_view>(c); }
bool Missing(const Cell& c) { return std::holds_alternative<std::monostate>(c); }

class Parser : public ::testing::Test {
 protected:
  Status Mlflow(const std::string& body) {
    auto r = parser_.ParseMlflowJson(schema_, body);
    if (r.ok()) input_ = *r;
    return r.status();
  }
  Status V2(const std::string& body) {
    auto r = parser_.ParseV2Json(schema_, body);
    if (r.ok()) input_ = *r;
    return r.status();
  }
  Status Csv(const std::string& body) {
    auto r = parser_.ParseCsv(schema_, body);
    if (r.ok()) input_ = *r;
    return r.status();
  }
  void ExpectError(const Status& s, const std::string& needle) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << needle;
    EXPECT_THAT(s.message(), HasSubstr(needle));
  }
  // The two rows every accepted format below carries.
  void ExpectTwoRows() {
    ASSERT_NE(input_, nullptr);
    ASSERT_EQ(input_->rows, 2);
    ASSERT_EQ(input_->cells.size(), 10u);
    const auto& c = input_->cells;
    EXPECT_EQ(Num(c[0]), 12);
    EXPECT_EQ(Num(c[1]), 29.5);
    EXPECT_EQ(Str(c[2]), "One year");
    EXPECT_EQ(std::get<bool>(c[3]), true);
    EXPECT_TRUE(Missing(c[4]));
    EXPECT_EQ(Num(c[5]), 3);
    EXPECT_TRUE(Missing(c[6]));
    EXPECT_EQ(Str(c[7]), "Month-to-month");
    EXPECT_EQ(std::get<bool>(c[8]), false);
    EXPECT_EQ(Str(c[9]), "vip");
  }

  InputSchema schema_ = Schema();
  RequestParser parser_;
  const ScoringInput* input_ = nullptr;
};

TEST_F(Parser, DataframeSplitInAnyColumnOrderWithExtraColumns) {
  ASSERT_TRUE(Mlflow(R"({"dataframe_split": {"index": [7, 8],
      "columns": ["paperless", "extra", "contract", "charges", "tenure", "note"],
      "data": [[true, 1, "One year", 29.5, 12, null],
               [false, 2, "Month-to-month", null, 3, "vip"]]}})")
                  .ok());
  ExpectTwoRows();
  EXPECT_EQ(input_->predict, PredictKind::kDefault);
}

TEST_F(Parser, DataframeRecordsInstancesAndInputs) {
  const std::string records =
      R"([{"tenure": 12, "charges": 29.5, "contract": "One year", "paperless": true},
          {"tenure": 3, "charges": null, "contract": "Month-to-month", "paperless": false,
           "note": "vip", "unused": [1, 2]}])";
  ASSERT_TRUE(Mlflow(R"({"dataframe_records": )" + records + "}").ok());
  ExpectTwoRows();
  ASSERT_TRUE(Mlflow(R"({"instances": )" + records + "}").ok());
  ExpectTwoRows();
  ASSERT_TRUE(Mlflow(R"({"inputs": )" + records + "}").ok());
  ExpectTwoRows();
  // Positional rows, in the model's column order.
  ASSERT_TRUE(Mlflow(R"({"instances": [[12, 29.5, "One year", true, null],
                                       [3, null, "Month-to-month", false, "vip"]]})")
                  .ok());
  ExpectTwoRows();
  // Columnar inputs.
  ASSERT_TRUE(Mlflow(R"({"inputs": {"tenure": [12, 3], "charges": [29.5, null],
      "contract": ["One year", "Month-to-month"], "paperless": [true, false],
      "note": [null, "vip"]}})")
                  .ok());
  ExpectTwoRows();
}

TEST_F(Parser, ParamsAskForLabels) {
  ASSERT_TRUE(Mlflow(R"({"params": {"predict": "labels"}, "dataframe_records":
      [{"tenure": 1, "charges": 2, "contract": "x", "paperless": "true"}]})")
                  .ok());
  EXPECT_EQ(input_->predict, PredictKind::kLabels);
  ExpectError(Mlflow(R"({"params": {"predict": "classes"}, "instances": [[1,2,"x",true,null]]})"),
              "params.predict must be \"labels\" or \"probabilities\"");
  ExpectError(Mlflow(R"({"params": {"top_k": 3}, "instances": [[1,2,"x",true,null]]})"),
              "params: unknown parameter 'top_k'");
}

TEST_F(Parser, MissingColumnsNameTheColumnAndRow) {
  ExpectError(Mlflow(R"({"dataframe_split": {"columns": ["tenure", "charges", "paperless"],
                                             "data": [[1, 2, true]]}})"),
              "row 1: column 'contract' is missing");
  ExpectError(Mlflow(R"({"dataframe_records": [
      {"tenure": 1, "charges": 2, "contract": "x", "paperless": true},
      {"tenure": 1, "contract": "x", "paperless": true}]})"),
              "row 2: column 'charges' is missing");
  ExpectError(Mlflow(R"({"inputs": {"tenure": [1], "charges": [2], "contract": ["x"]}})"),
              "row 1: column 'paperless' is missing");
  ExpectError(Csv("tenure,charges,paperless\n1,2,true\n"),
              "row 1: column 'contract' is missing from the CSV header");
}

TEST_F(Parser, WrongTypesNameTheColumnAndRow) {
  const std::string head = R"({"dataframe_split": {"columns": ["tenure", "charges", "contract",
      "paperless"], "data": [[1, 2, "x", true], )";
  ExpectError(Mlflow(head + R"([2, "lots", "x", true]]}})"),
              "row 2, column 'charges': got the string 'lots', but the model takes numbers");
  ExpectError(Mlflow(head + R"([2, 3, "x", "maybe"]]}})"),
              "row 2, column 'paperless': got the string 'maybe', but the model takes true or "
              "false");
  ExpectError(Mlflow(head + R"([2, 3, "x", 7]]}})"),
              "row 2, column 'paperless': got the number 7");
  ExpectError(Mlflow(head + R"([2.5, 3, "x", true]]}})"),
              "row 2, column 'tenure': got 2.5, but the model takes integers");
  ExpectError(Mlflow(head + R"([true, 3, "x", true]]}})"),
              "row 2, column 'tenure': got the boolean true, but the model takes numbers");
  ExpectError(Mlflow(head + R"([2, [3], "x", true]]}})"),
              "row 2, column 'charges': got an array");
  ExpectError(Mlflow(head + R"([2, 1e39, "x", true]]}})"),
              "row 2, column 'charges': 1e+39 is beyond the range");
  ExpectError(Mlflow(head + R"([2, 3, "x"]]}})"),
              "row 2 has 3 values, but dataframe_split.columns names 4");
  // Long values are cut in messages.
  const std::string long_text(10000, 'z');
  auto s = Mlflow(head + R"([2, ")" + long_text + R"(", "x", true]]}})");
  ExpectError(s, "row 2, column 'charges'");
  EXPECT_LT(s.message().size(), 300u);
  // Categorical columns take numbers and booleans too (matched by their text).
  EXPECT_TRUE(Mlflow(head + R"([2, 3, 12, 1]]}})").ok());
}

TEST_F(Parser, NotJsonAndNotJsonNumbers) {
  ExpectError(Mlflow("{\"instances\": [[1, 2, \"x\", true, null]"), "not valid JSON");
  ExpectError(Mlflow(R"({"instances": [[NaN, 2, "x", true, null]]})"),
              "NaN and Infinity are not JSON numbers; send null for a missing value");
  ExpectError(Mlflow(R"({"instances": [[Infinity, 2, "x", true, null]]})"), "send null");
  ExpectError(Mlflow(R"({"instances": [[1e400, 2, "x", true, null]]})"), "not valid JSON");
  ExpectError(Mlflow("[1, 2]"), "must be a JSON object");
  ExpectError(Mlflow("{}"), "the body has none of dataframe_split");
  ExpectError(Mlflow(R"({"data": []})"), "unknown field 'data'");
  ExpectError(Mlflow(R"({"instances": [], "inputs": []})"), "send exactly one");
  ExpectError(Mlflow(""), "not valid JSON");
}

TEST_F(Parser, EmptyBatchesAreRejected) {
  ExpectError(Mlflow(R"({"dataframe_split": {"columns": ["tenure"], "data": []}})"),
              "empty batch");
  ExpectError(Mlflow(R"({"dataframe_records": []})"), "empty batch");
  ExpectError(Mlflow(R"({"instances": []})"), "empty batch");
  ExpectError(Mlflow(R"({"inputs": {}})"), "empty batch");
  ExpectError(Csv("tenure,charges,contract,paperless\n"), "empty batch");
  ExpectError(V2(R"({"inputs": [{"name": "tenure", "shape": [0], "datatype": "INT64",
                                   "data": []}]})"),
              "empty batch");
}

TEST_F(Parser, Csv) {
  ASSERT_TRUE(Csv("paperless,contract,charges,tenure,note\n"
                  "true,One year,29.5,12,\n"
                  "false,Month-to-month,NA,3,vip\n")
                  .ok());
  ExpectTwoRows();
  ExpectError(Csv("tenure,charges,contract,paperless\n1,2,x,true\n2,abc,y,false\n"),
              "row 2, column 'charges': got the string 'abc'");
  ExpectError(Csv("tenure,charges,contract,paperless\n1,inf,x,true\n"),
              "row 1, column 'charges': got inf");
  ExpectError(Csv("tenure,charges\n1,\"2\n"), "CSV:");
}

TEST_F(Parser, V2ColumnTensors) {
  ASSERT_TRUE(V2(R"({"id": "req-1", "inputs": [
      {"name": "tenure", "shape": [2], "datatype": "INT64", "data": [12, 3]},
      {"name": "charges", "shape": [2, 1], "datatype": "FP32", "data": [[29.5], [null]]},
      {"name": "contract", "shape": [2], "datatype": "BYTES",
       "data": ["One year", "Month-to-month"]},
      {"name": "paperless", "shape": [2], "datatype": "BOOL", "data": [true, false]},
      {"name": "note", "shape": [2], "datatype": "BYTES", "data": [null, "vip"],
       "parameters": {"content_type": "str"}}],
      "outputs": [{"name": "predict"}, {"name": "label"}]})")
                  .ok());
  ExpectTwoRows();
  EXPECT_EQ(input_->id, "req-1");
  EXPECT_EQ(input_->outputs, (std::vector<std::string>{"predict", "label"}));
}

TEST_F(Parser, V2OneMatrixTensor) {
  schema_ = InputSchema({{"a", FeatureKind::kNumeric, false, false},
                         {"b", FeatureKind::kNumeric, false, false}});
  ASSERT_TRUE(V2(R"({"inputs": [{"name": "input-0", "shape": [2, 2], "datatype": "FP64",
                                  "data": [[1, 2], [3, 4]]}],
                     "parameters": {"predict": "labels"}})")
                  .ok());
  ASSERT_EQ(input_->rows, 2);
  EXPECT_EQ(Num(input_->cells[3]), 4);
  EXPECT_EQ(input_->predict, PredictKind::kLabels);
  ASSERT_TRUE(V2(R"({"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32",
                                  "data": [1, 2, 3, 4]}]})")
                  .ok());
  EXPECT_EQ(Num(input_->cells[2]), 3);
  ExpectError(V2(R"({"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32",
                                  "data": [1, 2, 3]}]})"),
              "the shape [2, 2] holds 4 values, data has 3");
  ExpectError(V2(R"({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32",
                                  "data": [1, 2, 3]}]})"),
              "input 'x' names no column of the model (a, b), and a single input holding "
              "every column needs the shape [N, 2]");
  ExpectError(V2(R"({"inputs": [{"name": "x", "shape": [1, 2], "datatype": "BOOL",
                                  "data": [1, 2]}]})"),
              "row 1, input 'x': got a number, which a BOOL tensor does not hold");
}

TEST_F(Parser, V2Errors) {
  const std::string tenure =
      R"({"name": "tenure", "shape": [1], "datatype": "INT64", "data": [1]})";
  ExpectError(V2(R"({"inputs": []})"), "inputs must be a non-empty list");
  ExpectError(V2(R"({"id": 5, "inputs": [)" + tenure + "]}"), "id must be a string");
  ExpectError(V2(R"({"inputs": [{"name": "tenure", "shape": [1], "datatype": "INT128",
                                  "data": [1]}]})"),
              "inputs[0].datatype 'INT128' is not a v2 datatype");
  ExpectError(V2(R"({"inputs": [{"name": "tenure", "datatype": "INT64", "data": [1]}]})"),
              "inputs[0].shape is missing");
  // The other required columns, one row each.
  const std::string rest =
      R"({"name": "charges", "shape": [1], "datatype": "FP32", "data": [1]},
         {"name": "contract", "shape": [1], "datatype": "BYTES", "data": ["x"]},
         {"name": "paperless", "shape": [1], "datatype": "BOOL", "data": [true]})";
  ExpectError(V2(R"({"inputs": [{"name": "tenure", "shape": [1], "datatype": "INT64",
                                  "data": [1, 2]}, )" + rest + "]}"),
              "input 'tenure': data has more values than its shape");
  ExpectError(V2(R"({"inputs": [{"name": "tenure", "shape": [1], "datatype": "INT64",
                                  "data": []}, )" + rest + "]}"),
              "input 'tenure': the shape holds 1 values, data has 0");
  ExpectError(V2(R"({"inputs": [{"name": "tenure", "shape": [1], "datatype": "INT64",
                                  "data": [1.5]}, )" + rest + "]}"),
              "row 1, input 'tenure': got a number, which a INT64 tensor does not hold");
  EXPECT_TRUE(V2(R"({"inputs": [)" + tenure + ", " + rest + "]}").ok());
  ExpectError(V2(R"({"inputs": [)" + tenure + R"(,
      {"name": "charges", "shape": [2], "datatype": "FP32", "data": [1, 2]}]})"),
              "input 'charges' has 2 rows, input 'tenure' 1");
  ExpectError(V2(R"({"inputs": [)" + tenure + R"(,
      {"name": "charges", "shape": [1], "datatype": "FP32", "data": [1]}]})"),
              "row 1: column 'contract' is missing");
  ExpectError(V2(R"({"inputs": [)" + tenure + R"(,
      {"name": "charges", "shape": [1], "datatype": "BYTES", "data": ["x"]},
      {"name": "contract", "shape": [1], "datatype": "BYTES", "data": ["x"]},
      {"name": "paperless", "shape": [1], "datatype": "BOOL", "data": [true]}]})"),
              "row 1, column 'charges': got the string 'x', but the model takes numbers");
  ExpectError(V2(R"({"inputs": [)" + tenure + R"(], "outputs": [{"nom": "x"}]})"),
              "outputs[0] must have a name");
  ExpectError(V2(R"({"inputs": [)" + tenure + R"(], "stream": true})"),
              "unknown field 'stream'");
}

// Hostile shapes must not allocate what they claim.
TEST_F(Parser, HugeClaimsAreRefusedCheaply) {
  ExpectError(V2(R"({"inputs": [{"name": "x", "shape": [1000000000, 5], "datatype": "FP32",
                                  "data": [1]}]})"),
              "split it into smaller batches");
  std::string records = R"({"dataframe_records": [)";
  for (int i = 0; i < 20000; ++i) records += i ? ",{}" : "{}";
  records += "]}";
  InputSchema optional_only({{"a", FeatureKind::kNumeric, false, true}});
  auto r = parser_.ParseMlflowJson(optional_only, records);
  ASSERT_TRUE(r.ok()) << r.status().ToString();  // 20000 rows × 1 column: fine
  EXPECT_EQ((*r)->rows, 20000);
}

}  // namespace
}  // namespace cairn::serving
