#include "data/csv_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace cairn::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Rows = std::vector<std::vector<std::string>>;

// Records what the parser hands over, copying the (short-lived) views.
class Collector : public CsvVisitor {
 public:
  Status OnHeader(std::span<const std::string> names) override {
    header.assign(names.begin(), names.end());
    return Status();
  }
  Status OnRow(std::span<const std::string_view> fields, int64_t line) override {
    rows.emplace_back(fields.begin(), fields.end());
    lines.push_back(line);
    return Status();
  }
  std::vector<std::string> header;
  Rows rows;
  std::vector<int64_t> lines;
};

struct Parsed {
  Status status;
  std::vector<std::string> header;
  Rows rows;
  std::vector<int64_t> lines;
};

Parsed ParseWhole(std::string_view data) {
  Collector c;
  Status s = ParseCsv(data, c);
  return {s, c.header, c.rows, c.lines};
}

// Feeds `data` in pieces cut at `cuts` (increasing offsets).
Parsed ParsePieces(std::string_view data, const std::vector<size_t>& cuts) {
  Collector c;
  CsvParser parser(c);
  Status s;
  size_t at = 0;
  for (size_t cut : cuts) {
    if (s.ok()) s = parser.Feed(data.substr(at, cut - at));
    at = cut;
  }
  if (s.ok()) s = parser.Feed(data.substr(at));
  if (s.ok()) s = parser.Finish();
  return {s, c.header, c.rows, c.lines};
}

std::string ErrorOf(std::string_view data) {
  Parsed p = ParseWhole(data);
  EXPECT_FALSE(p.status.ok()) << "no error for: " << data;
  EXPECT_EQ(p.status.code(), StatusCode::kInvalidArgument);
  return p.status.message();
}

// ---------------------------------------------------------------------------------------------
// RFC 4180

TEST(CsvParser, PlainRowsWithHeader) {
  Parsed p = ParseWhole("a,b,c\n1,2,3\n4,5,6\n");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_THAT(p.header, ElementsAre("a", "b", "c"));
  EXPECT_EQ(p.rows, (Rows{{"1", "2", "3"}, {"4", "5", "6"}}));
  EXPECT_THAT(p.lines, ElementsAre(2, 3));
}

TEST(CsvParser, QuotedFieldsWithCommasQuotesAndNewlines) {
  Parsed p = ParseWhole(
      "name,note\n"
      "\"Smith, J\",\"said \"\"hi\"\"\"\n"
      "\"multi\nline\",\"\"\"\"\n"
      "\"cr\rlf\r\nend\",\"\"\n");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.rows,
            (Rows{{"Smith, J", "said \"hi\""}, {"multi\nline", "\""}, {"cr\rlf\r\nend", ""}}));
  EXPECT_THAT(p.lines, ElementsAre(2, 3, 5));
}

TEST(CsvParser, QuotedHeaderNames) {
  Parsed p = ParseWhole("\"a b\",\"c,d\",\"e\"\"f\"\n1,2,3\n");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_THAT(p.header, ElementsAre("a b", "c,d", "e\"f"));
}

TEST(CsvParser, CrlfAndLfGiveTheSameRows) {
  const std::string lf = "a,b\n1,\"x\ny\"\n\"3\",4\n";
  std::string crlf;
  for (char c : lf) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  Parsed a = ParseWhole(lf);
  Parsed b = ParseWhole(crlf);
  ASSERT_TRUE(a.status.ok());
  ASSERT_TRUE(b.status.ok()) << b.status.ToString();
  EXPECT_EQ(a.header, b.header);
  EXPECT_EQ(a.lines, b.lines);
  // The embedded newline is data and stays as written.
  EXPECT_EQ(a.rows, (Rows{{"1", "x\ny"}, {"3", "4"}}));
  EXPECT_EQ(b.rows, (Rows{{"1", "x\r\ny"}, {"3", "4"}}));
}

TEST(CsvParser, ByteOrderMarkIsSkipped) {
  Parsed p = ParseWhole("\xEF\xBB\xBFid,v\n1,2\n");
  ASSERT_TRUE(p.status.ok());
  EXPECT_THAT(p.header, ElementsAre("id", "v"));
  // Only at the start: elsewhere it is data.
  Parsed q = ParseWhole("id,v\n\xEF\xBB\xBF,2\n");
  ASSERT_TRUE(q.status.ok());
  EXPECT_EQ(q.rows[0][0], "\xEF\xBB\xBF");
}

TEST(CsvParser, LastLineWithoutNewline) {
  for (std::string_view data : {"a,b\n1,2", "a,b\n1,\"2\"", "a,b\r\n1,2\r", "a,b\n1,"}) {
    Parsed p = ParseWhole(data);
    ASSERT_TRUE(p.status.ok()) << data << ": " << p.status.ToString();
    ASSERT_EQ(p.rows.size(), 1u) << data;
    EXPECT_EQ(p.rows[0][0], "1");
  }
}

TEST(CsvParser, EmptyLinesAtTheEndAreIgnored) {
  Parsed p = ParseWhole("a,b\n1,2\n\n\r\n\n");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.rows.size(), 1u);
  Parsed header_only = ParseWhole("a,b\n\n");
  ASSERT_TRUE(header_only.status.ok());
  EXPECT_TRUE(header_only.rows.empty());
  EXPECT_THAT(header_only.header, ElementsAre("a", "b"));
}

TEST(CsvParser, EmptyLineInsideIsARaggedRowOrAMissingValue) {
  EXPECT_EQ(ErrorOf("a,b\n1,2\n\n3,4\n"), "line 3: empty line, the header has 2 fields");
  // With one column an empty line is a row whose value is missing.
  Parsed p = ParseWhole("a\n1\n\n\n2\n\n");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.rows, (Rows{{"1"}, {""}, {""}, {"2"}}));
  EXPECT_THAT(p.lines, ElementsAre(2, 3, 4, 5));
}

TEST(CsvParser, EmptyFieldsAndTrailingComma) {
  Parsed p = ParseWhole("a,b,c\n,,\n\"\",,\"\"\n");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.rows, (Rows{{"", "", ""}, {"", "", ""}}));
}

TEST(CsvParser, FieldsAreNotTrimmed) {
  Parsed p = ParseWhole("a,b\n 1 , x\n");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.rows, (Rows{{" 1 ", " x"}}));
}

TEST(CsvParser, UnescapedFieldsPointIntoTheInput) {
  const std::string data = "a,b\n\"plain\",\"has \"\"q\"\"\"\n";
  struct Check : CsvVisitor {
    const std::string* data;
    bool plain_in_input = false;
    std::string escaped;
    Status OnRow(std::span<const std::string_view> f, int64_t) override {
      plain_in_input = f[0].data() >= data->data() && f[0].data() < data->data() + data->size();
      escaped = std::string(f[1]);
      return Status();
    }
  } check;
  check.data = &data;
  ASSERT_TRUE(ParseCsv(data, check).ok());
  EXPECT_TRUE(check.plain_in_input);
  EXPECT_EQ(check.escaped, "has \"q\"");
}

TEST(CsvParser, VisitorErrorStopsTheParse) {
  struct StopAtTwo : CsvVisitor {
    int seen = 0;
    Status OnRow(std::span<const std::string_view>, int64_t line) override {
      if (++seen == 2) return InvalidArgument("stop at line " + std::to_string(line));
      return Status();
    }
  } stop;
  Status s = ParseCsv("a\n1\n2\n3\n", stop);
  EXPECT_EQ(s.message(), "stop at line 3");
  EXPECT_EQ(stop.seen, 2);
}

// ---------------------------------------------------------------------------------------------
// Errors name the line and column.

TEST(CsvParserErrors, EmptyFile) {
  EXPECT_EQ(ErrorOf(""), "the file is empty: no header row");
  EXPECT_EQ(ErrorOf("\xEF\xBB\xBF"), "the file is empty: no header row");
  EXPECT_EQ(ErrorOf("\n\r\n\n"), "the file is empty: no header row");
  EXPECT_EQ(ErrorOf("\nA,B\n"), "line 1: empty line before the header row");
}

TEST(CsvParserErrors, RaggedRows) {
  EXPECT_EQ(ErrorOf("a,b,c\n1,2,3\n1,2\n"), "line 3: 2 fields, the header has 3");
  EXPECT_EQ(ErrorOf("a,b\n1,2,3\n"), "line 2: 3 fields, the header has 2");
  EXPECT_EQ(ErrorOf("a,b\n1\n"), "line 2: 1 field, the header has 2");
  // Lines counted through embedded newlines; a multi-line row reports where it starts.
  EXPECT_EQ(ErrorOf("a,b\n\"x\ny\",1\n\"p\r\nq\",1,2\n"), "line 4: 3 fields, the header has 2");
}

TEST(CsvParserErrors, CharacterAfterClosingQuote) {
  EXPECT_EQ(ErrorOf("id,name,tenure\n1,a,2\n2,\"b\nc\",\"3\"x\n"),
            "line 4, column 3 (tenure): unexpected character 'x' after a closing quote");
  EXPECT_EQ(ErrorOf("a,b\n\"x\" ,1\n"),
            "line 2, column 1 (a): unexpected character ' ' after a closing quote");
}

TEST(CsvParserErrors, QuoteInsideUnquotedField) {
  EXPECT_EQ(ErrorOf("a,b\n1,x\"y\"\n"),
            "line 2, column 2 (b): quote character inside an unquoted field");
}

TEST(CsvParserErrors, UnterminatedQuote) {
  EXPECT_EQ(ErrorOf("a,b\n1,2\n3,\"open\nstill open\n"),
            "line 5, column 2 (b): unterminated quoted field (the quote opened on line 3)");
  EXPECT_EQ(ErrorOf("a,\"b"),
            "line 1, column 2: unterminated quoted field (the quote opened on line 1)");
}

TEST(CsvParserErrors, LoneCarriageReturn) {
  EXPECT_EQ(ErrorOf("a,b\n1,2\r3,4\n"),
            "line 2, column 2 (b): carriage return not followed by a line feed outside quotes");
}

TEST(CsvParserErrors, BadHeaders) {
  EXPECT_EQ(ErrorOf("a,,c\n1,2,3\n"), "line 1, column 2: empty column name in the header");
  EXPECT_EQ(ErrorOf("a,\"\"\n"), "line 1, column 2: empty column name in the header");
  EXPECT_EQ(ErrorOf("id,x,id\n"), "line 1, column 3: duplicate column name \"id\" (also column 1)");
}

TEST(CsvParserErrors, ErrorsAreSticky) {
  Collector c;
  CsvParser parser(c);
  Status first = parser.Feed("a,b\n1\n");
  EXPECT_FALSE(first.ok());
  EXPECT_EQ(parser.Feed("2,3\n").message(), first.message());
  EXPECT_EQ(parser.Finish().message(), first.message());
}

TEST(CsvParserErrors, LineNumbersAfterManyEmbeddedNewlines) {
  std::string data = "k,v\n";
  for (int i = 0; i < 10; ++i) data += std::to_string(i) + ",\"a\nb\r\nc\"\n";  // 3 lines each
  data += "10,\"bad\"!\n";
  EXPECT_EQ(ErrorOf(data), "line 32, column 2 (v): unexpected character '!' after a closing quote");
}

// ---------------------------------------------------------------------------------------------
// Streaming: any split gives what one piece gives.

const char* const kStreamingCases[] = {
    "\xEF\xBB\xBFid,\"na,me\",v\r\n1,\"a\"\"b\",2.5\r\n2,\"multi\r\nline\",\r\n3,,NA",
    "a,b\n\"x\ny\",\"\"\"\"\n\"\",1\n\n\n",
    "a\n1\n\n2\r\n\r\n",
    "a,b\n1,\"2\"\r",
    "a,b\n1,2\n3,\"x\"y\n",          // error
    "a,b\n1,2\n3,\"unterminated\n",  // error
    "a,b\n1,2\r3,4\n",               // error
    "x,x\n",                         // error
    "\xEF\xBB",                      // a BOM prefix, not a BOM: a one-column header
};

TEST(CsvParserStreaming, EverySplitPointGivesTheSameResult) {
  for (std::string_view data : kStreamingCases) {
    Parsed whole = ParseWhole(data);
    for (size_t cut = 0; cut <= data.size(); ++cut) {
      Parsed split = ParsePieces(data, {cut});
      EXPECT_EQ(split.status.message(), whole.status.message()) << data << " cut at " << cut;
      EXPECT_EQ(split.header, whole.header) << cut;
      EXPECT_EQ(split.rows, whole.rows) << data << " cut at " << cut;
      EXPECT_EQ(split.lines, whole.lines) << cut;
    }
  }
}

TEST(CsvParserStreaming, EveryPairOfSplitPointsAndByteByByte) {
  for (std::string_view data : kStreamingCases) {
    Parsed whole = ParseWhole(data);
    for (size_t i = 0; i <= data.size(); ++i) {
      for (size_t j = i; j <= data.size(); ++j) {
        Parsed split = ParsePieces(data, {i, j});
        ASSERT_EQ(split.status.message(), whole.status.message()) << i << "," << j;
        ASSERT_EQ(split.rows, whole.rows) << i << "," << j;
      }
    }
    std::vector<size_t> every;
    for (size_t i = 1; i < data.size(); ++i) every.push_back(i);
    Parsed bytes = ParsePieces(data, every);
    EXPECT_EQ(bytes.status.message(), whole.status.message());
    EXPECT_EQ(bytes.rows, whole.rows);
    EXPECT_EQ(bytes.lines, whole.lines);
  }
}

TEST(CsvParserStreaming, RealFileInOddSizedPieces) {
  std::ifstream in(CAIRN_SOURCE_DIR "/../shared/data/penguins.csv", std::ios::binary);
  ASSERT_TRUE(in.good());
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Parsed whole = ParseWhole(data);
  ASSERT_TRUE(whole.status.ok());
  for (size_t piece : {1u, 7u, 64u, 4093u}) {
    std::vector<size_t> cuts;
    for (size_t at = piece; at < data.size(); at += piece) cuts.push_back(at);
    Parsed split = ParsePieces(data, cuts);
    ASSERT_TRUE(split.status.ok());
    EXPECT_EQ(split.rows, whole.rows) << piece;
  }
}

// ---------------------------------------------------------------------------------------------
// Values and types

TEST(CsvValues, MissingMarkers) {
  for (std::string_view m : {"", "NA", "N/A", "NaN", "null", "NULL"})
    EXPECT_TRUE(IsMissing(m)) << m;
  for (std::string_view m : {"na", "nan", "None", " ", "NA ", "-"}) EXPECT_FALSE(IsMissing(m)) << m;
}

TEST(CsvValues, Integers) {
  EXPECT_EQ(ParseInteger("0"), 0);
  EXPECT_EQ(ParseInteger("-17"), -17);
  EXPECT_EQ(ParseInteger("+17"), 17);
  EXPECT_EQ(ParseInteger("007"), 7);
  EXPECT_EQ(ParseInteger("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(ParseInteger("-9223372036854775808"), INT64_MIN);
  for (std::string_view s :
       {"9223372036854775808", "", "+", "-", "+-1", "1.0", "1e3", " 1", "1 ", "0x10", "1,000"}) {
    EXPECT_FALSE(ParseInteger(s).has_value()) << s;
  }
}

TEST(CsvValues, Floats) {
  EXPECT_EQ(ParseFloat("1.5"), 1.5);
  EXPECT_EQ(ParseFloat("-2e-3"), -2e-3);
  EXPECT_EQ(ParseFloat("+1E3"), 1000.0);
  EXPECT_EQ(ParseFloat(".5"), 0.5);
  EXPECT_EQ(ParseFloat("5."), 5.0);
  EXPECT_EQ(ParseFloat("42"), 42.0);
  EXPECT_EQ(ParseFloat("9223372036854775808"), 9223372036854775808.0);
  EXPECT_EQ(ParseFloat("inf"), INFINITY);
  EXPECT_EQ(ParseFloat("-Infinity"), -INFINITY);
  EXPECT_EQ(ParseFloat("1e999"), INFINITY);
  for (std::string_view s : {"nan", "-nan", ".", "e5", "1e", "--1", "1.2.3", "1,5", "0x1p3", " 1",
                             "1_000", "inf1", "+"}) {
    EXPECT_FALSE(ParseFloat(s).has_value()) << s;
  }
}

TEST(CsvValues, Booleans) {
  for (std::string_view s : {"true", "True", "TRUE", "tRuE"}) EXPECT_EQ(ParseBoolean(s), true) << s;
  for (std::string_view s : {"false", "False", "FALSE"}) EXPECT_EQ(ParseBoolean(s), false) << s;
  for (std::string_view s : {"yes", "no", "0", "1", "t", "f", "truee"}) {
    EXPECT_FALSE(ParseBoolean(s).has_value()) << s;
  }
}

TEST(CsvValues, ClassifyField) {
  EXPECT_EQ(ClassifyField("NA"), FieldKind::kMissing);
  EXPECT_EQ(ClassifyField("12"), FieldKind::kInteger);
  EXPECT_EQ(ClassifyField("1"), FieldKind::kInteger);
  EXPECT_EQ(ClassifyField("1.25"), FieldKind::kFloat);
  EXPECT_EQ(ClassifyField("False"), FieldKind::kBoolean);
  EXPECT_EQ(ClassifyField("Yes"), FieldKind::kString);
}

std::vector<ColumnType> TypesOf(std::string_view data) {
  Result<std::vector<ColumnSchema>> schema = InferTypes(data);
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  std::vector<ColumnType> types;
  if (schema.ok()) {
    for (const ColumnSchema& c : *schema) types.push_back(c.type);
  }
  return types;
}

constexpr char kTyped[] =
    "int,float,bool,mixed,allmissing,boolnum,intfloat,str,sci\n"
    "1,1.5,true,1,,true,1,a,1e3\n"
    "NA,NA,NA,NA,NA,NA,NA,NA,NA\n"
    "-3,,False,x,null,1,2.5,\"b\",-2.5E-2\n"
    "+4,2,TRUE,2.5,N/A,0,3,a,inf\n"
    "\"5\",-0.25,,,NaN,,,,\n";

TEST(CsvTypes, InferenceOverAllRows) {
  using T = ColumnType;
  EXPECT_EQ(TypesOf(kTyped),
            (std::vector<T>{T::kInteger, T::kFloat, T::kBoolean, T::kString, T::kFloat, T::kString,
                            T::kFloat, T::kString, T::kFloat}));
  Result<std::vector<ColumnSchema>> schema = InferTypes(kTyped);
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ((*schema)[0].name, "int");
  EXPECT_EQ((*schema)[0].missing, 1);
  EXPECT_EQ((*schema)[1].missing, 2);
  EXPECT_EQ((*schema)[4].missing, 5);
  EXPECT_EQ(ColumnTypeName(T::kBoolean), "boolean");
}

TEST(CsvTypes, ALateValueDecides) {
  std::string data = "x\n";
  for (int i = 0; i < 1000; ++i) data += std::to_string(i) + "\n";
  EXPECT_EQ(TypesOf(data), std::vector<ColumnType>{ColumnType::kInteger});
  EXPECT_EQ(TypesOf(data + "0.5\n"), std::vector<ColumnType>{ColumnType::kFloat});
  EXPECT_EQ(TypesOf(data + "zero\n"), std::vector<ColumnType>{ColumnType::kString});
}

TEST(CsvTable, LoadsTypedColumns) {
  Result<CsvTable> table = LoadCsv(kTyped, {.exact_integers = true});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->rows, 5);
  ASSERT_EQ(table->columns.size(), 9u);

  const CsvColumn& i = *table->Find("int");
  EXPECT_EQ(i.type, ColumnType::kInteger);
  EXPECT_THAT(i.integers, ElementsAre(1, 0, -3, 4, 5));
  ASSERT_EQ(i.numbers.size(), 5u);
  EXPECT_EQ(i.numbers[0], 1.0);
  EXPECT_TRUE(std::isnan(i.numbers[1]));
  EXPECT_EQ(i.numbers[4], 5.0);
  EXPECT_EQ(i.missing, 1);

  const CsvColumn& f = *table->Find("float");
  EXPECT_EQ(f.type, ColumnType::kFloat);
  EXPECT_TRUE(f.integers.empty());
  ASSERT_EQ(f.numbers.size(), 5u);
  EXPECT_EQ(f.numbers[0], 1.5);
  EXPECT_TRUE(std::isnan(f.numbers[2]));
  EXPECT_EQ(f.numbers[3], 2.0);
  EXPECT_EQ(f.numbers[4], -0.25);

  const CsvColumn& b = *table->Find("bool");
  EXPECT_EQ(b.type, ColumnType::kBoolean);
  ASSERT_EQ(b.numbers.size(), 5u);
  EXPECT_EQ(b.numbers[0], 1.0);
  EXPECT_EQ(b.numbers[2], 0.0);
  EXPECT_TRUE(std::isnan(b.numbers[4]));

  // Numbers first, then a string: re-read as strings, values as written.
  const CsvColumn& m = *table->Find("mixed");
  EXPECT_EQ(m.type, ColumnType::kString);
  EXPECT_TRUE(m.numbers.empty());
  EXPECT_THAT(m.dictionary, ElementsAre("1", "x", "2.5"));
  EXPECT_THAT(m.codes, ElementsAre(0, -1, 1, 2, -1));
  EXPECT_EQ(m.missing, 2);

  const CsvColumn& a = *table->Find("allmissing");
  EXPECT_EQ(a.type, ColumnType::kFloat);
  EXPECT_EQ(a.missing, 5);
  ASSERT_EQ(a.numbers.size(), 5u);
  for (double v : a.numbers) EXPECT_TRUE(std::isnan(v));

  const CsvColumn& s = *table->Find("str");
  EXPECT_EQ(s.type, ColumnType::kString);
  EXPECT_THAT(s.dictionary, ElementsAre("a", "b"));
  EXPECT_THAT(s.codes, ElementsAre(0, -1, 1, 0, -1));

  const CsvColumn& sci = *table->Find("sci");
  EXPECT_EQ(sci.numbers[0], 1000.0);
  EXPECT_EQ(sci.numbers[2], -0.025);
  EXPECT_EQ(sci.numbers[3], INFINITY);

  EXPECT_EQ(table->Find("nope"), nullptr);
}

TEST(CsvTable, ExactIntegersBeyondDoublePrecision) {
  const char* data = "id\n9007199254740993\n-9223372036854775808\nNA\n";
  Result<CsvTable> table = LoadCsv(data, {.exact_integers = true});
  ASSERT_TRUE(table.ok());
  EXPECT_THAT(table->columns[0].integers, ElementsAre(9007199254740993LL, INT64_MIN, 0));
  // Off by default: only the doubles.
  Result<CsvTable> doubles = LoadCsv(data);
  ASSERT_TRUE(doubles.ok());
  EXPECT_TRUE(doubles->columns[0].integers.empty());
  EXPECT_EQ(doubles->columns[0].numbers[0], 9007199254740992.0);
}

TEST(CsvTable, ManyDistinctStrings) {
  std::string data = "k\n";
  for (int i = 0; i < 5000; ++i) data += "s" + std::to_string(i % 1777) + "\n";
  Result<CsvTable> table = LoadCsv(data);
  ASSERT_TRUE(table.ok());
  const CsvColumn& k = table->columns[0];
  ASSERT_EQ(k.dictionary.size(), 1777u);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_EQ(k.dictionary[static_cast<size_t>(k.codes[static_cast<size_t>(i)])],
              "s" + std::to_string(i % 1777));
  }
}

TEST(CsvTable, StringsOfEveryLength) {
  // Lengths around the interner's word sizes (4, 8, 16 and multiples), as distinct values.
  std::string data = "k\n";
  std::vector<std::string> values;
  for (size_t n = 1; n <= 70; ++n) {
    values.push_back(std::string(n, 'x'));
    values.push_back(std::string(n - 1, 'x') + "y");
  }
  for (int round = 0; round < 2; ++round) {
    for (const std::string& v : values) data += v + "\n";
  }
  Result<CsvTable> table = LoadCsv(data);
  ASSERT_TRUE(table.ok());
  const CsvColumn& k = table->columns[0];
  ASSERT_EQ(k.dictionary.size(), values.size());
  for (size_t i = 0; i < k.codes.size(); ++i) {
    EXPECT_EQ(k.dictionary[static_cast<size_t>(k.codes[i])], values[i % values.size()]);
  }
}

TEST(CsvTable, ErrorsPassThrough) {
  Result<CsvTable> table = LoadCsv("a,b\n1,2\n3\n");
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().message(), "line 3: 1 field, the header has 2");
  Result<CsvTable> missing = LoadCsvFile("/nonexistent/x.csv");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(CsvTable, FileErrorsNameThePath) {
  const std::string path = ::testing::TempDir() + "/csv_reader_test_bad.csv";
  {
    std::ofstream out(path, std::ios::binary);
    out << "a,b\n1,2\n3,\"4\"5\n";
  }
  Result<CsvTable> table = LoadCsvFile(path);
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().message(),
            path + ": line 3, column 2 (b): unexpected character '5' after a closing quote");
  { std::ofstream out(path, std::ios::binary | std::ios::trunc); }
  Collector c;
  EXPECT_EQ(ParseCsvFile(path, c).message(), path + ": the file is empty: no header row");
  std::remove(path.c_str());
}

// ---------------------------------------------------------------------------------------------
// The shared data sets. Expected counts come from Python's csv module (a one-off, independent of
// this reader): data rows, columns, and values that are one of the missing markers.

struct DataFile {
  const char* name;
  int64_t rows;
  size_t columns;
  int64_t missing;
};

class SharedData : public ::testing::TestWithParam<DataFile> {};

TEST_P(SharedData, LoadsWithTheExpectedShape) {
  const DataFile& f = GetParam();
  const std::string path = std::string(CAIRN_SOURCE_DIR "/../shared/data/") + f.name;
  Result<CsvTable> table = LoadCsvFile(path);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->rows, f.rows);
  ASSERT_EQ(table->columns.size(), f.columns);
  int64_t missing = 0;
  for (const CsvColumn& c : table->columns) {
    missing += c.missing;
    const size_t n = c.type == ColumnType::kString ? c.codes.size() : c.numbers.size();
    EXPECT_EQ(static_cast<int64_t>(n), f.rows) << c.name;
  }
  EXPECT_EQ(missing, f.missing);

  // Loading agrees with plain inference, and feeding the file in pieces with one-shot parsing.
  TypeInferrer inferrer;
  ASSERT_TRUE(ParseCsvFile(path, inferrer).ok());
  for (size_t i = 0; i < f.columns; ++i) {
    EXPECT_EQ(inferrer.type(i), table->columns[i].type) << table->columns[i].name;
  }
}

INSTANTIATE_TEST_SUITE_P(Files, SharedData,
                         ::testing::Values(DataFile{"ames_housing.csv", 2930, 74, 0},
                                           DataFile{"credit_data.csv", 4454, 14, 455},
                                           DataFile{"lending_club.csv", 9857, 23, 0},
                                           DataFile{"penguins.csv", 344, 7, 19},
                                           DataFile{"telco_churn.csv", 7043, 20, 11}),
                         [](const ::testing::TestParamInfo<DataFile>& param_info) {
                           std::string n = param_info.param.name;
                           return n.substr(0, n.find('.'));
                         });

TEST(SharedDataValues, TelcoChurn) {
  Result<CsvTable> table =
      LoadCsvFile(CAIRN_SOURCE_DIR "/../shared/data/telco_churn.csv", {.exact_integers = true});
  ASSERT_TRUE(table.ok());
  const CsvColumn& tenure = *table->Find("tenure");
  EXPECT_EQ(tenure.type, ColumnType::kInteger);
  int64_t tenure_sum = 0;
  for (int64_t v : tenure.integers) tenure_sum += v;
  EXPECT_EQ(tenure_sum, 227990);

  const CsvColumn& total = *table->Find("total_charges");
  EXPECT_EQ(total.type, ColumnType::kFloat);
  EXPECT_EQ(total.missing, 11);
  double sum = 0;
  for (double v : total.numbers) {
    if (!std::isnan(v)) sum += v;
  }
  EXPECT_NEAR(sum, 16056168.7, 1e-3);

  const CsvColumn& pay = *table->Find("payment_method");
  EXPECT_EQ(pay.type, ColumnType::kString);
  EXPECT_EQ(pay.dictionary.size(), 4u);
  EXPECT_EQ(pay.dictionary[static_cast<size_t>(pay.codes[0])], "Electronic check");
  EXPECT_EQ(table->Find("churn")->type, ColumnType::kString);
  EXPECT_EQ(table->Find("monthly_charges")->type, ColumnType::kFloat);
}

// ---------------------------------------------------------------------------------------------
// Hostile input: random bytes give rows or an error, never a crash, and splitting changes
// nothing.

TEST(CsvParserHostile, RandomBytes) {
  std::mt19937 rng(12345);
  const char alphabet[] = {',',  '"',    '\n',   '\r',   'a', '1', '.',
                           '\0', '\xEF', '\xBB', '\xBF', 'N', 'A', ' '};
  for (int trial = 0; trial < 3000; ++trial) {
    std::string data;
    const size_t size = rng() % 64;
    for (size_t i = 0; i < size; ++i) {
      data +=
          (trial % 3 == 0) ? static_cast<char>(rng() & 0xFF) : alphabet[rng() % sizeof(alphabet)];
    }
    Parsed whole = ParseWhole(data);
    if (!whole.status.ok()) {
      EXPECT_EQ(whole.status.code(), StatusCode::kInvalidArgument);
      EXPECT_FALSE(whole.status.message().empty());
    } else {
      for (const auto& row : whole.rows) ASSERT_EQ(row.size(), whole.header.size());
    }
    const size_t cut = data.empty() ? 0 : rng() % (data.size() + 1);
    Parsed split = ParsePieces(data, {cut});
    ASSERT_EQ(split.status.message(), whole.status.message()) << trial;
    ASSERT_EQ(split.rows, whole.rows) << trial;
    // Loading agrees with inference on whatever parses.
    Result<CsvTable> table = LoadCsv(data);
    ASSERT_EQ(table.ok(), whole.status.ok());
    if (table.ok()) {
      TypeInferrer inferrer;
      ASSERT_TRUE(ParseCsv(data, inferrer).ok());
      for (size_t i = 0; i < table->columns.size(); ++i) {
        ASSERT_EQ(table->columns[i].type, inferrer.type(i)) << trial;
      }
    }
  }
}

// ----- SplitCsvRows: the fast path -----------------------------------------------------------

// The rows SplitCsvRows gives for everything after the header line, in blocks of about
// `target` bytes; nullopt when it refuses.
std::optional<Rows> SplitAll(std::string_view data, size_t columns, size_t target) {
  const std::string_view rows = data.substr(0, TrimCsvEnd(data));
  size_t begin = std::min(rows.size(), data.find('\n') + 1);
  Rows out;
  CsvRowBlock block;
  std::string scratch;
  while (begin < rows.size()) {
    if (!SplitCsvRows(rows, begin, columns, target, &block)) return std::nullopt;
    EXPECT_GT(block.rows, 0u);
    EXPECT_GT(block.end, begin);
    for (size_t r = 0; r < block.rows; ++r) {
      std::vector<std::string> row;
      for (size_t c = 0; c < columns; ++c) row.emplace_back(block.Field(rows, r, c, &scratch));
      out.push_back(std::move(row));
    }
    begin = block.end;
  }
  return out;
}

TEST(SplitCsvRowsTest, TrimCsvEndDropsWhatTheParserIgnores) {
  EXPECT_EQ(TrimCsvEnd("a\n1\n"), 3u);
  EXPECT_EQ(TrimCsvEnd("a\n1\r\n\r\n\n"), 3u);
  EXPECT_EQ(TrimCsvEnd("a\n1\r"), 3u);    // a lone CR as the very last byte ends the row
  EXPECT_EQ(TrimCsvEnd("a\n1\r\r"), 4u);  // not this one: an error the splitter refuses
  EXPECT_EQ(TrimCsvEnd("a\n\"1\""), 5u);
  EXPECT_EQ(TrimCsvEnd(""), 0u);
}

TEST(SplitCsvRowsTest, FieldsAreTheParsersOnTrickyRows) {
  const std::string data =
      "a,b,c\n"
      "1,,\"\"\n"
      "\"x,y\",\"two\nlines\",\"say \"\"hi\"\"\"\r\n"
      "\"\"\"\",\"a\r\nb\",plain\n"
      ",,\n"
      "last,row,\"no line ending\"";
  const Parsed want = ParseWhole(data);
  ASSERT_TRUE(want.status.ok());
  for (size_t target : {1, 7, 64, 1 << 20}) {
    std::optional<Rows> got = SplitAll(data, 3, target);
    ASSERT_TRUE(got.has_value()) << target;
    EXPECT_EQ(*got, want.rows) << target;
  }
}

// On random input close to CSV: wherever CsvParser accepts the input, SplitCsvRows gives the
// same fields; wherever CsvParser rejects it, SplitCsvRows refuses it (so the caller falls back
// to CsvParser and its error).
TEST(SplitCsvRowsTest, AgreesWithTheParserOnRandomInput) {
  std::mt19937_64 rng(2024);
  const char* kUnquoted[] = {"", "a", "1", "a1", "12.5", "NA"};
  const char* kInside[] = {"a", "1", ",", "\n", "\r\n", "\"\"", " "};
  const char* kFaults[] = {"\"", "x\"y", "\"a\"b", "\r", "\"open", "\n"};
  int accepted = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const size_t columns = 1 + rng() % 3;
    std::string data;
    for (size_t c = 0; c < columns; ++c) data += (c ? ",h" : "h") + std::to_string(c);
    data += rng() % 2 ? "\n" : "\r\n";
    const size_t rows = rng() % 12;
    for (size_t r = 0; r < rows; ++r) {
      size_t fields = columns;
      if (rng() % 40 == 0) fields += rng() % 2 ? 1 : -1;
      for (size_t f = 0; f < fields; ++f) {
        if (f > 0) data += ',';
        if (rng() % 60 == 0) {
          data += kFaults[rng() % std::size(kFaults)];
        } else if (rng() % 3 == 0) {
          data += '"';
          for (size_t k = rng() % 4; k > 0; --k) data += kInside[rng() % std::size(kInside)];
          data += '"';
        } else {
          data += kUnquoted[rng() % std::size(kUnquoted)];
        }
      }
      if (r + 1 < rows || rng() % 2) data += rng() % 3 ? "\n" : "\r\n";
    }
    for (size_t k = rng() % 3; k > 0; --k) data += rng() % 2 ? "\n" : "\r\n";
    const Parsed want = ParseWhole(data);
    const size_t target = 1 + rng() % 80;
    std::optional<Rows> got = SplitAll(data, columns, target);
    if (want.status.ok()) {
      ++accepted;
      ASSERT_TRUE(got.has_value()) << trial << ": " << data;
      ASSERT_EQ(*got, want.rows) << trial << ": " << data;
    } else {
      ASSERT_FALSE(got.has_value()) << trial << ": " << want.status.ToString() << "\n" << data;
    }
  }
  EXPECT_GT(accepted, 1000);  // both sides of the property were exercised
}

}  // namespace
}  // namespace cairn::data
