#include "serving/batch_scorer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ml/trainer.h"

namespace cairn::serving {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kData = CAIRN_SOURCE_DIR "/../shared/data/";

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteText(const fs::path& path, std::string_view text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// Serves a string in pieces of at most `piece` bytes, counting what was read (readable from any
// thread).
class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string data, size_t piece = 1 << 16)
      : data_(std::move(data)), piece_(piece) {}
  Result<size_t> Read(char* buffer, size_t size) override {
    const size_t pos = pos_.load();
    const size_t n = std::min({size, piece_, data_.size() - pos});
    std::copy_n(data_.data() + pos, n, buffer);
    pos_.store(pos + n);
    return n;
  }
  std::string Name() const override { return "in.csv"; }
  size_t read() const { return pos_.load(); }

 private:
  std::string data_;
  size_t piece_;
  std::atomic<size_t> pos_ = 0;
};

class StringSink : public ByteSink {
 public:
  Status Write(std::string_view bytes) override {
    if (on_write) on_write();
    out.append(bytes);
    ++writes;
    return Status();
  }
  std::string out;
  int writes = 0;
  std::function<void()> on_write;
};

ml::LoadedModel TrainModel(const std::string& file, const std::string& target, int rounds) {
  auto table = data::LoadCsvFile(kData + file);
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  ml::TrainOptions options;
  options.target = target;
  options.num_boost_round = rounds;
  options.early_stopping_rounds = 0;
  options.shap_rows = 0;
  auto result = ml::Train(*table, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  auto model = ml::LoadedModel::FromParts(result->preprocessing, result->booster);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return std::move(*model);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

float ToFloat(const data::CsvColumn& c, int64_t row) {
  return static_cast<float>(c.numbers[static_cast<size_t>(row)]);
}

// The data rows of `csv` (its header dropped), repeated `times`.
std::string Repeat(const std::string& csv, int times) {
  const size_t header_end = csv.find('\n') + 1;
  std::string out = csv.substr(0, header_end);
  for (int i = 0; i < times; ++i) out.append(csv, header_end);
  return out;
}

class BatchScorerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    telco_ = new std::string(ReadText(kData + "telco_churn.csv"));
    churn_ = new ml::LoadedModel(TrainModel("telco_churn.csv", "churn", 30));
  }
  static void TearDownTestSuite() {
    delete churn_;
    delete telco_;
  }

  static Result<std::string> Score(const ml::LoadedModel& model, std::string input,
                                   BatchScoreOptions options = {}, size_t piece = 1 << 16) {
    StringSource source(std::move(input), piece);
    StringSink sink;
    CAIRN_TRY(BatchScoreSummary summary, BatchScore(model, source, sink, options));
    (void)summary;
    return sink.out;
  }

  static std::string* telco_;
  static ml::LoadedModel* churn_;
};
std::string* BatchScorerTest::telco_ = nullptr;
ml::LoadedModel* BatchScorerTest::churn_ = nullptr;

TEST_F(BatchScorerTest, KeepsOrderOverManyBlocksAndEqualsPredictOnTheWholeTable) {
  BatchScoreOptions options;
  options.block_bytes = 4096;  // ~30 rows: 230 blocks, scored by 3 workers out of order
  options.threads = 3;
  // Pieces of 1000 bytes: rows split across reads, and blocks across pieces.
  auto out = Score(*churn_, *telco_, options, 1000);
  ASSERT_TRUE(out.ok()) << out.status().ToString();

  // Every input line comes back, in order, followed by the predictions.
  const std::vector<std::string> in_lines = Lines(*telco_);
  const std::vector<std::string> out_lines = Lines(*out);
  ASSERT_EQ(out_lines.size(), in_lines.size());
  EXPECT_EQ(out_lines[0], in_lines[0] + ",prediction,predicted_label");
  for (size_t i = 1; i < in_lines.size(); ++i) {
    ASSERT_THAT(out_lines[i], StartsWith(in_lines[i] + ",")) << "line " << i + 1;
  }

  auto input = data::LoadCsv(*telco_);
  ASSERT_TRUE(input.ok());
  auto expected = churn_->Predict(*input);
  ASSERT_TRUE(expected.ok());
  auto labels = churn_->Labels(*expected);
  ASSERT_TRUE(labels.ok());
  auto table = data::LoadCsv(*out);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ASSERT_EQ(table->rows, input->rows);
  const data::CsvColumn* prediction = table->Find("prediction");
  const data::CsvColumn* label = table->Find("predicted_label");
  ASSERT_NE(prediction, nullptr);
  ASSERT_NE(label, nullptr);
  int64_t positives = 0;
  for (int64_t r = 0; r < table->rows; ++r) {
    ASSERT_EQ(ToFloat(*prediction, r), expected->values[static_cast<size_t>(r)]) << "row " << r;
    const std::string& l = label->dictionary[static_cast<size_t>(label->codes[static_cast<size_t>(r)])];
    ASSERT_EQ(l, (*labels)[static_cast<size_t>(r)]) << "row " << r;
    positives += l == "Yes";
  }
  EXPECT_GT(positives, 0);
  EXPECT_LT(positives, table->rows);
}

TEST_F(BatchScorerTest, StreamsWithBoundedReadAhead) {
  // 20 copies of telco (~19 MB): when the first scored block is written, the reader is only a
  // few blocks ahead, whatever the input's size.
  const std::string input = Repeat(*telco_, 20);
  StringSource source(input);
  StringSink sink;
  size_t read_at_first_block = 0;
  sink.on_write = [&] {
    if (sink.writes == 1) read_at_first_block = source.read();  // writes[0] is the header
  };
  BatchScoreOptions options;
  options.block_bytes = 16 << 10;
  options.threads = 2;
  auto summary = BatchScore(*churn_, source, sink, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows, 20 * 7043);
  EXPECT_EQ(summary->bytes_read, static_cast<int64_t>(input.size()));
  EXPECT_GT(read_at_first_block, 0u);
  EXPECT_LT(read_at_first_block, size_t{2} << 20) << "of " << input.size();
  EXPECT_EQ(Lines(sink.out).size(), 20 * 7043 + 1u);
}

TEST_F(BatchScorerTest, ExplainContributionsSumToTheMargin) {
  BatchScoreOptions options;
  options.explain = true;
  options.predictions_only = true;
  options.block_bytes = 50000;
  auto out = Score(*churn_, *telco_, options);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  auto table = data::LoadCsv(*out);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  const std::vector<std::string> features = churn_->preprocessing().FeatureNames();
  ASSERT_EQ(table->columns.size(), 2 + features.size() + 1);
  EXPECT_EQ(table->columns[0].name, "prediction");
  EXPECT_EQ(table->columns[2].name, "shap_" + features[0]);
  EXPECT_EQ(table->columns.back().name, "shap_bias");

  auto input = data::LoadCsv(*telco_);
  ASSERT_TRUE(input.ok());
  auto matrix = churn_->preprocessing().Transform(*input);
  ASSERT_TRUE(matrix.ok());
  auto dmatrix = ml::XgboostMatrix::Create(matrix->values, matrix->rows, matrix->cols);
  ASSERT_TRUE(dmatrix.ok());
  auto margins = churn_->booster().Predict(*dmatrix, /*output_margin=*/true);
  ASSERT_TRUE(margins.ok());
  for (int64_t r = 0; r < table->rows; ++r) {
    double sum = 0;
    for (size_t c = 2; c < table->columns.size(); ++c) sum += table->columns[c].numbers[r];
    const double margin = (*margins)[static_cast<size_t>(r)];
    ASSERT_NEAR(sum, margin, 1e-4 * std::max(1.0, std::abs(margin))) << "row " << r;
    // And the probability is the sigmoid of that margin.
    ASSERT_NEAR(table->columns[0].numbers[r], 1 / (1 + std::exp(-margin)), 1e-5);
  }
}

TEST_F(BatchScorerTest, MulticlassProbabilitiesLabelsAndPerClassShap) {
  ml::LoadedModel penguins = TrainModel("penguins.csv", "species", 10);
  const std::string csv = ReadText(kData + "penguins.csv");
  BatchScoreOptions options;
  options.explain = true;
  options.output_columns = {"island"};
  options.block_bytes = 500;
  auto out = Score(penguins, csv, options);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  auto table = data::LoadCsv(*out);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  const std::vector<std::string> features = penguins.preprocessing().FeatureNames();
  ASSERT_EQ(table->columns.size(), 1 + 3 + 1 + 3 * (features.size() + 1));
  EXPECT_EQ(table->columns[0].name, "island");
  EXPECT_EQ(table->columns[1].name, "proba_Adelie");
  EXPECT_EQ(table->columns[3].name, "proba_Gentoo");
  EXPECT_EQ(table->columns[4].name, "predicted_label");
  EXPECT_EQ(table->columns[5].name, "shap_Adelie_" + features[0]);
  EXPECT_EQ(table->columns.back().name, "shap_Gentoo_bias");

  auto input = data::LoadCsv(csv);
  ASSERT_TRUE(input.ok());
  auto expected = penguins.Predict(*input);
  ASSERT_TRUE(expected.ok());
  auto labels = penguins.Labels(*expected);
  ASSERT_TRUE(labels.ok());
  const size_t group = features.size() + 1;
  for (int64_t r = 0; r < table->rows; ++r) {
    double total = 0;
    double exp_margins[3];
    for (size_t k = 0; k < 3; ++k) {
      ASSERT_EQ(ToFloat(table->columns[1 + k], r), expected->values[r * 3 + k]);
      double margin = 0;
      for (size_t j = 0; j < group; ++j) margin += table->columns[5 + k * group + j].numbers[r];
      exp_margins[k] = std::exp(margin);
      total += exp_margins[k];
    }
    for (size_t k = 0; k < 3; ++k) {
      ASSERT_NEAR(exp_margins[k] / total, expected->values[r * 3 + k], 1e-4) << "row " << r;
    }
    const data::CsvColumn& l = table->columns[4];
    ASSERT_EQ(l.dictionary[static_cast<size_t>(l.codes[r])], (*labels)[r]);
    const data::CsvColumn& island = table->columns[0];
    const data::CsvColumn& in_island = *input->Find("island");
    ASSERT_EQ(island.dictionary[island.codes[r]], in_island.dictionary[in_island.codes[r]]);
  }
}

TEST_F(BatchScorerTest, RegressionPredictsValues) {
  ml::LoadedModel ames = TrainModel("ames_housing.csv", "Sale_Price", 10);
  const std::string csv = ReadText(kData + "ames_housing.csv");
  BatchScoreOptions options;
  options.predictions_only = true;
  options.block_bytes = 20000;
  auto out = Score(ames, csv, options);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  auto table = data::LoadCsv(*out);
  ASSERT_TRUE(table.ok());
  ASSERT_EQ(table->columns.size(), 1u);
  EXPECT_EQ(table->columns[0].name, "prediction");
  auto expected = ames.Predict(*data::LoadCsv(csv));
  ASSERT_TRUE(expected.ok());
  ASSERT_EQ(table->rows, expected->rows);
  for (int64_t r = 0; r < table->rows; ++r) {
    ASSERT_EQ(ToFloat(table->columns[0], r), expected->values[r]);
  }
}

TEST_F(BatchScorerTest, ChosenColumnsAreQuotedWhenNeeded) {
  // Columns in another order, extra columns, a quoted newline, CRLF endings and a BOM.
  std::string csv = "\xEF\xBB\xBFid,note,";
  const std::vector<std::string> features = churn_->preprocessing().FeatureNames();
  auto table = data::LoadCsv(*telco_);
  ASSERT_TRUE(table.ok());
  for (size_t f = features.size(); f-- > 0;) csv += features[f] + (f ? "," : "\r\n");
  for (int64_t r = 0; r < 3; ++r) {
    const std::string note = r == 0 ? "a, \"quoted\"\r\nnote" : r == 1 ? "" : "plain";
    csv += "id-" + std::to_string(r) + ",";
    csv += r == 0 ? "\"a, \"\"quoted\"\"\r\nnote\"," : note + ",";
    for (size_t f = features.size(); f-- > 0;) {
      const data::CsvColumn* c = table->Find(features[f]);
      std::string v;
      if (c->type == data::ColumnType::kString) {
        if (c->codes[r] >= 0) v = c->dictionary[c->codes[r]];
      } else if (!std::isnan(c->numbers[r])) {
        v = ml::CanonicalText(c->numbers[r]);
      }
      csv += v + (f ? "," : "\r\n");
    }
  }
  BatchScoreOptions options;
  options.output_columns = {"note", "id"};
  auto out = Score(*churn_, csv, options);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const std::vector<std::string> lines = Lines(*out);
  ASSERT_EQ(lines.size(), 5u) << *out;  // the quoted newline spans two lines
  EXPECT_EQ(lines[0], "note,id,prediction,predicted_label");
  EXPECT_THAT(lines[1], StartsWith("\"a, \"\"quoted\"\"\r"));
  EXPECT_THAT(lines[2], StartsWith("note\",id-0,"));
  EXPECT_THAT(lines[3], StartsWith(",id-1,"));
  EXPECT_THAT(lines[4], StartsWith("plain,id-2,"));
  auto expected = churn_->Predict(*table);
  ASSERT_TRUE(expected.ok());
  auto scored = data::LoadCsv(*out);
  ASSERT_TRUE(scored.ok()) << scored.status().ToString();
  for (int64_t r = 0; r < 3; ++r) {
    EXPECT_EQ(ToFloat(*scored->Find("prediction"), r), expected->values[r]) << r;
  }
}

TEST_F(BatchScorerTest, DefaultOutputKeepsTheInputsOwnText) {
  // The whole telco file with CRLF line endings: rows copied, CR dropped.
  std::string crlf;
  for (const std::string& line : Lines(*telco_)) crlf += line + "\r\n";
  auto out = Score(*churn_, crlf, {});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  auto lf = Score(*churn_, *telco_, {});
  ASSERT_TRUE(lf.ok());
  EXPECT_EQ(*out, *lf);
  EXPECT_EQ(out->find('\r'), std::string::npos);
}

TEST_F(BatchScorerTest, OneColumnFileEmptyLinesAreMissingValues) {
  // A model on one feature; a one-column file whose empty lines are missing values.
  const std::string train = [] {
    std::string s = "x,y\n";
    for (int i = 0; i < 200; ++i) s += std::to_string(i) + "," + (i < 100 ? "0" : "1") + "\n";
    return s;
  }();
  auto t = data::LoadCsv(train);
  ASSERT_TRUE(t.ok());
  ml::TrainOptions to;
  to.target = "y";
  to.num_boost_round = 5;
  to.early_stopping_rounds = 0;
  to.shap_rows = 0;
  auto trained = ml::Train(*t, to);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  auto model = ml::LoadedModel::FromParts(trained->preprocessing, trained->booster);
  ASSERT_TRUE(model.ok());
  std::string input = "x\n";
  for (int i = 0; i < 3000; ++i) input += i % 7 == 0 ? "\n" : std::to_string(i % 200) + "\n";
  input += "\n\n";  // trailing empty lines are not rows
  BatchScoreOptions options;
  options.block_bytes = 1000;
  auto out = Score(*model, input, options);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  auto scored = data::LoadCsv(*out);
  ASSERT_TRUE(scored.ok()) << scored.status().ToString();
  ASSERT_EQ(scored->rows, 3000);
  auto in = data::LoadCsv(input);
  ASSERT_TRUE(in.ok());
  auto expected = model->Predict(*in);
  ASSERT_TRUE(expected.ok());
  for (int64_t r = 0; r < 3000; ++r) {
    ASSERT_EQ(ToFloat(*scored->Find("prediction"), r), expected->values[r]) << r;
    ASSERT_EQ(std::isnan(scored->Find("x")->numbers[r]), r % 7 == 0) << r;
  }

  // A bad value after the switch still names its line.
  auto bad = Score(*model, "x\n\n1\n2\nabc\n3\n", options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "in.csv: line 5, column 1 (x): 'abc' is not a number, and the model takes numbers "
            "there");
}

TEST_F(BatchScorerTest, RowsPastALongRowGoRowByRowWithTheSameResults) {
  // Row 3000's churn field (not a feature) is 5000 bytes with quotes, commas and line breaks;
  // past long_row_bytes the rest of the file is parsed row by row.
  std::vector<std::string> lines = Lines(*telco_);
  std::string long_value;
  for (int i = 0; i < 500; ++i) long_value += i % 50 == 0 ? "\"x\",\r\n" : "abcdefghi,";
  std::string quoted;
  AppendCsvField(quoted, long_value);
  lines[3000].replace(0, lines[3000].find(','), quoted);
  std::string input;
  for (const std::string& l : lines) input += l + "\n";
  BatchScoreOptions options;
  options.block_bytes = 4096;
  options.long_row_bytes = 100;
  options.threads = 2;
  auto out = Score(*churn_, input, options);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  auto scored = data::LoadCsv(*out);
  ASSERT_TRUE(scored.ok()) << scored.status().ToString();
  auto in = data::LoadCsv(input);
  ASSERT_TRUE(in.ok());
  ASSERT_EQ(scored->rows, in->rows);
  auto expected = churn_->Predict(*in);
  ASSERT_TRUE(expected.ok());
  for (int64_t r = 0; r < scored->rows; ++r) {
    ASSERT_EQ(ToFloat(*scored->Find("prediction"), r), expected->values[r]) << r;
  }
  const data::CsvColumn* churn = scored->Find("churn");
  EXPECT_EQ(churn->dictionary[churn->codes[2999]], long_value);
  const data::CsvColumn* in_churn = in->Find("churn");
  EXPECT_EQ(churn->dictionary[churn->codes[3000]], in_churn->dictionary[in_churn->codes[3000]]);

  // A bad value after the switch names its line (the long row spans 11 lines).
  std::string& row = lines[5000];
  const size_t p = row.find(',', row.find(',') + 1) + 1;  // senior_citizen
  row.replace(p, 1, "old");
  input.clear();
  for (const std::string& l : lines) input += l + "\n";
  out = Score(*churn_, input, options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(),
            "in.csv: line 5011, column 3 (senior_citizen): 'old' is not a number, and the model "
            "takes numbers there");
  // And a malformed row too.
  lines[5000] = "\"No\",1,0";
  input.clear();
  for (const std::string& l : lines) input += l + "\n";
  out = Score(*churn_, input, options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(), "in.csv: line 5011: 3 fields, the header has 20");
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST_F(BatchScorerTest, ABadValueNamesItsLineAndColumnInAnyBlock) {
  std::string input = Repeat(*telco_, 3);
  // A row far into the file (line 15000, after some rows with quoted line breaks).
  std::vector<std::string> lines = Lines(input);
  lines[100].replace(0, lines[100].find(','), "\"No\nreally\"");  // churn: not a feature
  const size_t bad = 15000;
  const size_t tenure = 5;  // 0-based column of tenure
  std::string& row = lines[bad];
  size_t pos = 0;
  for (size_t c = 0; c < tenure; ++c) pos = row.find(',', pos) + 1;
  row.replace(pos, row.find(',', pos) - pos, "ten");
  input.clear();
  for (const std::string& l : lines) input += l + "\n";
  BatchScoreOptions options;
  options.block_bytes = 8192;
  options.threads = 2;
  auto out = Score(*churn_, input, options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(),
            "in.csv: line " + std::to_string(bad + 2) +
                ", column 6 (tenure): 'ten' is not a number, and the model takes numbers there");
}

TEST_F(BatchScorerTest, TheFirstErrorInTheFileWins) {
  std::vector<std::string> lines = Lines(Repeat(*telco_, 2));
  // A malformed row late, a bad value early: the bad value is reported.
  lines[12000] = "\"No\",1,0,1,0,1,0,x\"y,\"DSL\"";
  std::string& early = lines[500];
  size_t p = 0;
  for (int c = 0; c < 16; ++c) p = early.find(',', p) + 1;  // paperless_billing (boolean)
  early.replace(p, early.find(',', p) - p, "maybe");
  std::string input;
  for (const std::string& l : lines) input += l + "\n";
  BatchScoreOptions options;
  options.block_bytes = 4096;
  options.threads = 3;
  auto out = Score(*churn_, input, options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(),
            "in.csv: line 501, column 17 (paperless_billing): 'maybe' is not a number, and the "
            "model takes numbers there");

  // Without it, the malformed row is reported as CsvParser reports it.
  lines[500] = Lines(*telco_)[500];
  input.clear();
  for (const std::string& l : lines) input += l + "\n";
  out = Score(*churn_, input, options);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(),
              StartsWith("in.csv: line 12001, column 8 (multiple_lines): quote character"));
}

TEST_F(BatchScorerTest, RaggedRowsAndEmptyLinesAreErrorsNamingTheLine) {
  std::vector<std::string> lines = Lines(*telco_);
  lines[3000] = "";
  std::string input;
  for (const std::string& l : lines) input += l + "\n";
  BatchScoreOptions options;
  options.block_bytes = 4096;
  auto out = Score(*churn_, input, options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(), "in.csv: line 3001: empty line, the header has 20 fields");

  lines[3000] = "\"No\",1,0";
  input.clear();
  for (const std::string& l : lines) input += l + "\n";
  out = Score(*churn_, input, options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(), "in.csv: line 3001: 3 fields, the header has 20");
}

TEST_F(BatchScorerTest, ColumnErrorsNameTheColumn) {
  std::string no_tenure = *telco_;
  no_tenure.replace(no_tenure.find("\"tenure\""), 8, "\"tenor\"");
  auto out = Score(*churn_, no_tenure);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(),
              StartsWith("in.csv: the model's feature column 'tenure' is not in the input"));

  BatchScoreOptions options;
  options.output_columns = {"churn", "nope"};
  out = Score(*churn_, *telco_, options);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("output column 'nope' is not in the input"));

  options.output_columns = {"churn", "churn"};
  out = Score(*churn_, *telco_, options);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("output column 'churn' is named twice"));

  std::string clash = *telco_;
  clash.replace(0, 7, "\"prediction\"");
  out = Score(*churn_, clash);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("the input has a column named 'prediction'"));
  options.output_columns = {"tenure"};
  EXPECT_TRUE(Score(*churn_, clash, options).ok());  // not copied: no clash

  options.predictions_only = true;
  EXPECT_FALSE(Score(*churn_, *telco_, options).ok());

  EXPECT_THAT(Score(*churn_, "").status().message(), HasSubstr("no header row"));
  EXPECT_THAT(Score(*churn_, "a,a\n1,2\n").status().message(),
              HasSubstr("duplicate column name"));
}

TEST_F(BatchScorerTest, HeaderOnlyGivesHeaderOnly) {
  const std::string header = Lines(*telco_)[0] + "\n";
  auto out = Score(*churn_, header);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, Lines(*telco_)[0] + ",prediction,predicted_label\n");
}

TEST_F(BatchScorerTest, FilesAreReplacedOnlyWhenComplete) {
  const fs::path dir = fs::temp_directory_path() / ("cairn-batch-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path in = dir / "in.csv";
  const fs::path out = dir / "out.csv";
  WriteText(in, *telco_);
  BatchScoreOptions options;
  options.block_bytes = 8192;
  auto summary = BatchScoreFile(*churn_, in.string(), out.string(), options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows, 7043);
  EXPECT_EQ(summary->bytes_read, static_cast<int64_t>(telco_->size()));
  const std::string good = ReadText(out);
  EXPECT_EQ(static_cast<int64_t>(good.size()), summary->bytes_written);
  EXPECT_EQ(*Score(*churn_, *telco_), good);
  EXPECT_EQ(fs::status(out).permissions() & fs::perms::owner_read, fs::perms::owner_read);

  // A bad row near the end: the old output stays, and no temporary file is left.
  std::vector<std::string> lines = Lines(*telco_);
  lines[7000] = "\"No\",1,0,1,0,forty,0,\"No\",\"DSL\",\"No\",\"Yes\",\"No\",\"No\",\"No\",\"No\","
                "\"Month-to-month\",1,\"Electronic check\",29.85,29.85";
  std::string bad;
  for (const std::string& l : lines) bad += l + "\n";
  WriteText(in, bad);
  summary = BatchScoreFile(*churn_, in.string(), out.string(), options);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().message(),
            in.string() +
                ": line 7001, column 6 (tenure): 'forty' is not a number, and the model takes "
                "numbers there");
  EXPECT_EQ(ReadText(out), good);
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 2u);

  // A new output is not created at all.
  const fs::path fresh = dir / "fresh.csv";
  EXPECT_FALSE(BatchScoreFile(*churn_, in.string(), fresh.string(), options).ok());
  EXPECT_FALSE(fs::exists(fresh));

  auto missing = BatchScoreFile(*churn_, (dir / "nope.csv").string(), out.string(), options);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("nope.csv: no such file"));
  auto to_dir = BatchScoreFile(*churn_, in.string(), dir.string(), options);
  EXPECT_THAT(to_dir.status().message(), HasSubstr("is a directory"));
  fs::remove_all(dir);
}

TEST(AppendCsvField, QuotesOnlyWhenNeeded) {
  std::string out;
  AppendCsvField(out, "plain");
  out += '|';
  AppendCsvField(out, "a,b");
  out += '|';
  AppendCsvField(out, "say \"hi\"");
  out += '|';
  AppendCsvField(out, "two\nlines");
  EXPECT_EQ(out, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"");
}

}  // namespace
}  // namespace cairn::serving
