#include "tracking/search_filter.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <span>
#include <string>
#include <system_error>

namespace cairn::tracking {
namespace {

using store::CompareOp;
using store::Comparison;
using store::EntityKind;
using store::OrderKey;

// ---------------------------------------------------------------------------------------------
// Grammar tables: which entities and attributes each search accepts.

struct EntitySpec {
  std::string_view name;
  EntityKind kind;
};

struct AttributeSpec {
  std::string_view name;        // as the user writes it
  std::string_view normalized;  // as store::Comparison carries it
  bool numeric;
  bool filterable;  // false: order_by only
};

constexpr EntitySpec kRunEntities[] = {
    {"metric", EntityKind::kMetric},
    {"metrics", EntityKind::kMetric},
    {"parameter", EntityKind::kParam},
    {"parameters", EntityKind::kParam},
    {"param", EntityKind::kParam},
    {"params", EntityKind::kParam},
    {"tag", EntityKind::kTag},
    {"tags", EntityKind::kTag},
    {"attribute", EntityKind::kAttribute},
    {"attributes", EntityKind::kAttribute},
    {"attr", EntityKind::kAttribute},
    {"run", EntityKind::kAttribute},
};

constexpr AttributeSpec kRunAttributes[] = {
    {"run_id", "run_id", false, true},
    {"run_name", "run_name", false, true},
    {"status", "status", false, true},
    {"user_id", "user_id", false, true},
    {"artifact_uri", "artifact_uri", false, true},
    {"lifecycle_stage", "lifecycle_stage", false, true},
    {"start_time", "start_time", true, true},
    {"end_time", "end_time", true, true},
    // Aliases MLflow accepts (column titles of its UI).
    {"created", "start_time", true, true},
    {"Created", "start_time", true, true},
    {"run name", "run_name", false, true},
    {"Run name", "run_name", false, true},
    {"Run Name", "run_name", false, true},
};

constexpr EntitySpec kExperimentEntities[] = {
    {"attribute", EntityKind::kAttribute},
    {"attributes", EntityKind::kAttribute},
    {"tag", EntityKind::kTag},
    {"tags", EntityKind::kTag},
};

constexpr AttributeSpec kExperimentAttributes[] = {
    {"name", "name", false, true},
    {"creation_time", "creation_time", true, true},
    {"last_update_time", "last_update_time", true, true},
    {"experiment_id", "experiment_id", false, false},
};

// The model registry (MLflow's SearchModelUtils / SearchModelVersionUtils).
constexpr EntitySpec kRegistryEntities[] = {
    {"attribute", EntityKind::kAttribute},
    {"tag", EntityKind::kTag},
    {"tags", EntityKind::kTag},
};

constexpr AttributeSpec kRegisteredModelAttributes[] = {
    {"name", "name", false, true},
    {"creation_timestamp", "creation_timestamp", true, false},
    {"last_updated_timestamp", "last_updated_timestamp", true, false},
    {"timestamp", "last_updated_timestamp", true, false},
};

constexpr AttributeSpec kModelVersionAttributes[] = {
    {"name", "name", false, true},
    {"version_number", "version_number", true, true},
    {"run_id", "run_id", false, true},
    {"source_path", "source_path", false, true},
    {"creation_timestamp", "creation_timestamp", true, false},
    {"last_updated_timestamp", "last_updated_timestamp", true, false},
};

struct Grammar {
  std::span<const EntitySpec> entities;
  std::string_view entity_names;  // for error messages
  std::span<const AttributeSpec> attributes;
  bool string_attributes_allow_in;
  bool order_by_attributes_only;
};

constexpr Grammar kRunGrammar = {kRunEntities, "['metric', 'parameter', 'tag', 'attribute']",
                                 kRunAttributes, true, false};
constexpr Grammar kExperimentGrammar = {kExperimentEntities,
                                        "('attribute', 'attributes', 'tag', 'tags')",
                                        kExperimentAttributes, false, true};
constexpr Grammar kRegisteredModelGrammar = {kRegistryEntities, "('attribute', 'tag', 'tags')",
                                             kRegisteredModelAttributes, false, true};
constexpr Grammar kModelVersionGrammar = {kRegistryEntities, "('attribute', 'tag', 'tags')",
                                          kModelVersionAttributes, true, true};

// ---------------------------------------------------------------------------------------------
// Tokenizer.

enum class TokenKind {
  kIdent,   // adjacent bare / "quoted" / `quoted` segments: metrics.auc, params."a b", AND
  kNumber,  // -1, 0.5, .5, 1e-3
  kString,  // 'single quoted'
  kOp,      // a run of < > = ~ ! (validated later, as MLflow does)
  kLParen,
  kRParen,
  kComma,
  kSemicolon,
  kBad,  // unterminated quote, stray character, malformed number
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view text;  // raw source text, quotes included
  size_t pos = 0;
  int segments = 0;  // kIdent: number of bare/quoted segments
};

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsNonAscii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
bool IsNameStart(char c) { return IsAlpha(c) || c == '_' || IsNonAscii(c); }
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c) || c == '.' || c == '$' || c == '#'; }
bool IsOpChar(char c) { return c == '<' || c == '>' || c == '=' || c == '~' || c == '!'; }

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  std::vector<Token> Run() {
    std::vector<Token> out;
    while (true) {
      while (i_ < s_.size() && IsSpace(s_[i_])) ++i_;
      if (i_ >= s_.size()) break;
      out.push_back(Next());
    }
    out.push_back({TokenKind::kEnd, s_.substr(s_.size()), s_.size(), 0});
    return out;
  }

 private:
  Token Make(TokenKind kind, size_t start, int segments = 0) {
    return {kind, s_.substr(start, i_ - start), start, segments};
  }

  // Advances past a quoted run starting at i_ (the opening quote); false if unterminated.
  bool SkipQuoted() {
    size_t close = s_.find(s_[i_], i_ + 1);
    if (close == std::string_view::npos) return false;
    i_ = close + 1;
    return true;
  }

  Token Next() {
    const size_t start = i_;
    const char c = s_[i_];
    switch (c) {
      case '(':
        ++i_;
        return Make(TokenKind::kLParen, start);
      case ')':
        ++i_;
        return Make(TokenKind::kRParen, start);
      case ',':
        ++i_;
        return Make(TokenKind::kComma, start);
      case ';':
        ++i_;
        return Make(TokenKind::kSemicolon, start);
      case '\'':
        if (!SkipQuoted()) return RestIsBad(start);
        return Make(TokenKind::kString, start);
      default:
        break;
    }
    if (IsOpChar(c)) {
      while (i_ < s_.size() && IsOpChar(s_[i_])) ++i_;
      return Make(TokenKind::kOp, start);
    }
    if (IsDigit(c) || ((c == '-' || c == '.') && StartsNumber(i_))) return LexNumber(start);
    if (IsNameStart(c) || c == '`' || c == '"') return LexIdent(start);
    ++i_;
    return Make(TokenKind::kBad, start);
  }

  Token RestIsBad(size_t start) {
    i_ = s_.size();
    return Make(TokenKind::kBad, start);
  }

  bool DigitAt(size_t j) const { return j < s_.size() && IsDigit(s_[j]); }

  // '-' or '.' at j begins a number: -1, -.5, .5
  bool StartsNumber(size_t j) const {
    if (s_[j] == '-') ++j;
    if (DigitAt(j)) return true;
    return j < s_.size() && s_[j] == '.' && DigitAt(j + 1);
  }

  Token LexNumber(size_t start) {
    if (s_[i_] == '-') ++i_;
    while (DigitAt(i_)) ++i_;
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      while (DigitAt(i_)) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      size_t j = i_ + 1;
      if (j < s_.size() && (s_[j] == '+' || s_[j] == '-')) ++j;
      if (DigitAt(j)) {
        i_ = j;
        while (DigitAt(i_)) ++i_;
      }
    }
    // "1abc", "1.2.3", "5'x'": not a number.
    if (i_ < s_.size() &&
        (IsNameChar(s_[i_]) || s_[i_] == '`' || s_[i_] == '"' || s_[i_] == '\'')) {
      while (i_ < s_.size() && IsNameChar(s_[i_])) ++i_;
      if (i_ == start) ++i_;
      return Make(TokenKind::kBad, start);
    }
    return Make(TokenKind::kNumber, start);
  }

  Token LexIdent(size_t start) {
    int segments = 0;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '`' || c == '"') {
        if (!SkipQuoted()) return RestIsBad(start);
      } else if (IsNameChar(c)) {
        while (i_ < s_.size() && IsNameChar(s_[i_])) ++i_;
      } else {
        break;
      }
      ++segments;
    }
    return Make(TokenKind::kIdent, start, segments);
  }

  std::string_view s_;
  size_t i_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Helpers.

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool IsWord(const Token& t, std::string_view word) {
  return t.kind == TokenKind::kIdent && EqualsIgnoreCase(t.text, word);
}

// Words that cannot stand for an identifier or a value (sqlparse treats them as keywords).
bool IsReservedWord(const Token& t) {
  for (std::string_view w :
       {"AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL", "TRUE", "FALSE"}) {
    if (IsWord(t, w)) return true;
  }
  return false;
}

// User text for an error message: bounded, control characters replaced.
std::string Echo(std::string_view text) {
  constexpr size_t kMax = 200;
  std::string out(text.substr(0, kMax));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (text.size() > kMax) out += "...";
  return out;
}

bool IsQuotedWith(std::string_view s, char q) {
  return s.size() >= 2 && s.front() == q && s.back() == q;
}

// A single quoted segment: the quote character appears only at both ends.
bool IsOneQuotedSegment(std::string_view s, char q) {
  return IsQuotedWith(s, q) && s.substr(1, s.size() - 2).find(q) == std::string_view::npos;
}

// A "double quoted" value (sqlparse reads it as an identifier; MLflow strips the quotes).
bool IsDoubleQuotedString(const Token& t) {
  return t.kind == TokenKind::kIdent && t.segments == 1 && IsQuotedWith(t.text, '"');
}

std::string_view Unquote(std::string_view s) { return s.substr(1, s.size() - 2); }

Result<double> ToDouble(std::string_view text) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    // ±inf on overflow, 0 on underflow, as Python's float() gives.
    value = std::strtod(std::string(text).c_str(), nullptr);
  } else if (ec != std::errc() || ptr != text.data() + text.size()) {
    return InvalidArgument("Invalid numeric value '" + Echo(text) + "'");
  }
  return value;
}

struct Identifier {
  EntityKind kind;
  std::string key;             // unquoted; attributes normalized
  std::string_view typed_key;  // attribute key as written (after unquoting), for messages
  bool numeric = false;        // attribute only
};

// MLflow's _get_identifier: split at the first '.', entity type (backticks trimmed) before it,
// key (quotes, then backticks, trimmed) after; no '.' means an attribute.
Result<Identifier> ResolveIdentifier(std::string_view raw, const Grammar& grammar,
                                     bool for_order_by) {
  std::string_view entity = "attribute";
  std::string_view key = raw;
  const size_t dot = raw.find('.');
  if (dot != std::string_view::npos) {
    entity = raw.substr(0, dot);
    key = raw.substr(dot + 1);
    if (IsQuotedWith(entity, '`')) entity = Unquote(entity);
  }
  const EntitySpec* spec = nullptr;
  for (const EntitySpec& e : grammar.entities) {
    if (e.name == entity) spec = &e;
  }
  if (spec == nullptr) {
    return InvalidArgument("Invalid entity type '" + Echo(entity) + "'. Valid values are " +
                           std::string(grammar.entity_names));
  }
  std::string_view unquoted = key;
  if (IsOneQuotedSegment(key, '"') || IsOneQuotedSegment(key, '\'') ||
      IsOneQuotedSegment(key, '`')) {
    unquoted = Unquote(key);
  } else if (key.find_first_of("\"'`") != std::string_view::npos) {
    unquoted = {};  // quotes inside an unquoted key: malformed
  }
  if (unquoted.empty()) {
    return InvalidArgument("Invalid identifier '" + Echo(raw) +
                           "'. Columns should be specified as 'attribute.<key>', "
                           "'metric.<key>', 'tag.<key>', or 'param.<key>'.");
  }
  Identifier id{spec->kind, std::string(unquoted), unquoted, false};
  if (spec->kind != EntityKind::kAttribute) return id;

  std::string valid;
  for (const AttributeSpec& a : grammar.attributes) {
    if (!a.filterable && !for_order_by) continue;
    if (a.name == unquoted) {
      id.key = std::string(a.normalized);
      id.numeric = a.numeric;
      return id;
    }
    valid += valid.empty() ? "'" : ", '";
    valid += a.name;
    valid += "'";
  }
  return InvalidArgument("Invalid attribute key '" + Echo(unquoted) +
                         "' specified. Valid keys are '{" + valid + "}'");
}

// ---------------------------------------------------------------------------------------------
// Filter parser: clause (AND clause)*.

struct OpSpec {
  std::string_view text;
  CompareOp op;
};

constexpr OpSpec kNumericOps[] = {{"=", CompareOp::kEq}, {"!=", CompareOp::kNe},
                                  {">", CompareOp::kGt}, {">=", CompareOp::kGe},
                                  {"<", CompareOp::kLt}, {"<=", CompareOp::kLe}};
constexpr OpSpec kStringOps[] = {{"=", CompareOp::kEq},
                                 {"!=", CompareOp::kNe},
                                 {"LIKE", CompareOp::kLike},
                                 {"ILIKE", CompareOp::kILike}};
constexpr OpSpec kStringListOps[] = {{"=", CompareOp::kEq},      {"!=", CompareOp::kNe},
                                     {"LIKE", CompareOp::kLike}, {"ILIKE", CompareOp::kILike},
                                     {"IN", CompareOp::kIn},     {"NOT IN", CompareOp::kNotIn}};

Result<CompareOp> LookUpOp(std::string_view comparator, std::span<const OpSpec> allowed) {
  std::string names;
  for (const OpSpec& o : allowed) {
    if (o.text == comparator) return o.op;
    names += names.empty() ? "'" : ", '";
    names += o.text;
    names += "'";
  }
  return InvalidArgument("Invalid comparator '" + Echo(comparator) + "' not one of '{" + names +
                         "}'");
}

class FilterParser {
 public:
  FilterParser(std::string_view filter, const Grammar& grammar)
      : filter_(filter), grammar_(grammar), tokens_(Lexer(filter).Run()) {}

  Result<std::vector<Comparison>> Parse() {
    std::vector<Comparison> out;
    if (tokens_.size() == 1) return out;  // empty or blank
    for (const Token& t : tokens_) {
      if (t.kind == TokenKind::kSemicolon && &t + 1 != &tokens_.back()) {
        return InvalidArgument("Search filter contained multiple expression '" + Echo(filter_) +
                               "'. Provide AND-ed expression list.");
      }
    }
    while (true) {
      CAIRN_TRY(Comparison c, ParseClause());
      out.push_back(std::move(c));
      if (Peek().kind == TokenKind::kEnd) return out;
      if (!IsWord(Peek(), "AND")) return InvalidClause(pos_);
      ++pos_;
    }
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }

  // MLflow's catch-all for text that is not `comparison (AND comparison)*`. Quotes the source
  // from token `from` up to the next AND (or the end).
  Status InvalidClause(size_t from) const {
    if (from > 0 && tokens_[from].kind == TokenKind::kEnd) --from;  // "… AND": quote the AND
    size_t to = from + 1;
    while (to < tokens_.size() - 1 && !IsWord(tokens_[to], "AND")) ++to;
    const size_t begin = tokens_[from].pos;
    const size_t end = tokens_[to].pos;
    std::string_view text = filter_.substr(begin, end - begin);
    while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
    return InvalidArgument("Invalid clause(s) in filter string: '" + Echo(text) + "'");
  }

  Result<Comparison> ParseClause() {
    const size_t start = pos_;
    const Token& lhs = Peek();
    if (lhs.kind == TokenKind::kNumber || lhs.kind == TokenKind::kString) {
      if (Peek(1).kind == TokenKind::kOp) {
        return InvalidArgument("Invalid comparison clause. Expected 'Identifier' found '" +
                               Echo(lhs.text) + "'");
      }
      return InvalidClause(start);
    }
    if (lhs.kind != TokenKind::kIdent || IsReservedWord(lhs)) return InvalidClause(start);
    ++pos_;

    // Comparator: a symbol run, LIKE, ILIKE, IN, NOT IN.
    std::string comparator;
    const Token& op = Peek();
    if (op.kind == TokenKind::kOp) {
      comparator = std::string(op.text);
      ++pos_;
    } else if (IsWord(op, "LIKE") || IsWord(op, "ILIKE") || IsWord(op, "IN")) {
      for (char c : op.text) comparator += (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
      ++pos_;
    } else if (IsWord(op, "NOT") && IsWord(Peek(1), "IN")) {
      comparator = "NOT IN";
      pos_ += 2;
    } else {
      return InvalidClause(start);
    }
    const bool is_list = comparator == "IN" || comparator == "NOT IN";

    // Value: must be a single operand token (or a parenthesized list for IN).
    const Token& value = Peek();
    std::vector<std::string> list;
    if (is_list) {
      if (value.kind != TokenKind::kLParen) return InvalidClause(start);
      CAIRN_TRY(list, ParseList(start));
    } else {
      const bool operand = value.kind == TokenKind::kNumber || value.kind == TokenKind::kString ||
                           (value.kind == TokenKind::kIdent && !IsReservedWord(value));
      if (!operand) return InvalidClause(start);
      ++pos_;
    }
    // A clause is exactly three parts: "tags.a = = 'x'", "params.a = 'x' 'y'" are not.
    if (Peek().kind != TokenKind::kEnd && !IsWord(Peek(), "AND")) return InvalidClause(start);

    CAIRN_TRY(Identifier id, ResolveIdentifier(lhs.text, grammar_, /*for_order_by=*/false));
    Comparison out;
    out.kind = id.kind;
    out.key = std::move(id.key);
    const bool numeric = id.kind == EntityKind::kMetric || id.numeric;
    std::span<const OpSpec> ops = kStringOps;
    if (numeric) {
      ops = kNumericOps;
    } else if (id.kind == EntityKind::kAttribute && grammar_.string_attributes_allow_in) {
      ops = kStringListOps;
    }
    CAIRN_TRY(out.op, LookUpOp(comparator, ops));

    if (is_list) {
      out.value = std::move(list);
    } else if (numeric) {
      if (value.kind != TokenKind::kNumber) {
        if (id.kind == EntityKind::kMetric) {
          return InvalidArgument("Expected numeric value type for metric. Found " +
                                 Echo(value.text));
        }
        return InvalidArgument("Expected numeric value type for numeric attribute: " +
                               Echo(id.typed_key) + ". Found " + Echo(value.text));
      }
      CAIRN_TRY(out.value, ToDouble(value.text));
    } else {
      CAIRN_TRY(out.value, StringValue(id.kind, value));
    }
    return out;
  }

  // MLflow's _get_value for params, tags and string attributes.
  static Result<std::string> StringValue(EntityKind kind, const Token& value) {
    if (value.kind == TokenKind::kString || IsDoubleQuotedString(value)) {
      return std::string(Unquote(value.text));
    }
    if (value.kind == TokenKind::kIdent) {
      return InvalidArgument(
          "Parameter value is either not quoted or unidentified quote types used for string "
          "value " +
          Echo(value.text) + ". Use either single or double quotes.");
    }
    if (kind == EntityKind::kAttribute) {
      return InvalidArgument("Expected a quoted string value for attributes. Got value " +
                             Echo(value.text));
    }
    return InvalidArgument(std::string("Expected a quoted string value for ") +
                           (kind == EntityKind::kParam ? "parameter" : "tag") +
                           " (e.g. 'my-value'). Got value " + Echo(value.text));
  }

  // "(" string ("," string)* ")" — at pos_, which holds the "(".
  Result<std::vector<std::string>> ParseList(size_t clause_start) {
    const size_t open = pos_++;
    std::vector<std::string> out;
    if (Peek().kind == TokenKind::kRParen) {
      return InvalidArgument(
          "While parsing a list in the query, expected a non-empty list of string values, but "
          "got empty list");
    }
    while (true) {
      const Token& item = Peek();
      if (item.kind == TokenKind::kString || IsDoubleQuotedString(item)) {
        out.emplace_back(Unquote(item.text));
        ++pos_;
      } else if (item.kind == TokenKind::kEnd || item.kind == TokenKind::kBad) {
        return InvalidClause(clause_start);
      } else {
        return IllFormedList(open);
      }
      if (Peek().kind == TokenKind::kRParen) {
        ++pos_;
        return out;
      }
      if (Peek().kind == TokenKind::kEnd) return InvalidClause(clause_start);
      if (Peek().kind != TokenKind::kComma) return IllFormedList(open);
      ++pos_;
    }
  }

  Status IllFormedList(size_t open) const {
    size_t close = open;
    while (close < tokens_.size() - 1 && tokens_[close].kind != TokenKind::kRParen) ++close;
    const size_t end = tokens_[close].pos + tokens_[close].text.size();
    return InvalidArgument(
        "While parsing a list in the query, expected string value, punctuation, or whitespace, "
        "but got different type in list: " +
        Echo(filter_.substr(tokens_[open].pos, end - tokens_[open].pos)));
  }

  std::string_view filter_;
  const Grammar& grammar_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// order_by: identifier [ASC|DESC].

Result<OrderKey> ParseOrderBy(std::string_view clause, const Grammar& grammar) {
  const auto unparsable = [&] {
    return InvalidArgument("Invalid order_by clause '" + Echo(clause) + "'. Could not be parsed.");
  };
  if (clause.empty() || IsSpace(clause.front()) || IsSpace(clause.back())) return unparsable();
  const std::vector<Token> tokens = Lexer(clause).Run();
  const size_t n = tokens.size() - 1;  // without kEnd
  if (n > 2 || tokens[0].kind != TokenKind::kIdent) return unparsable();
  bool ascending = true;
  if (n == 2) {
    const Token& dir = tokens[1];
    if (dir.kind != TokenKind::kIdent) return unparsable();
    if (IsWord(dir, "DESC")) {
      ascending = false;
    } else if (!IsWord(dir, "ASC")) {
      return InvalidArgument("Invalid ordering key in order_by clause '" + Echo(clause) + "'.");
    }
  }
  CAIRN_TRY(Identifier id, ResolveIdentifier(tokens[0].text, grammar, /*for_order_by=*/true));
  if (grammar.order_by_attributes_only && id.kind != EntityKind::kAttribute) {
    return InvalidArgument("Invalid order_by entity: tag");
  }
  return OrderKey{id.kind, std::move(id.key), ascending};
}

}  // namespace

Result<std::vector<Comparison>> ParseRunFilter(std::string_view filter) {
  return FilterParser(filter, kRunGrammar).Parse();
}

Result<OrderKey> ParseRunOrderBy(std::string_view clause) {
  return ParseOrderBy(clause, kRunGrammar);
}

Result<std::vector<Comparison>> ParseExperimentFilter(std::string_view filter) {
  return FilterParser(filter, kExperimentGrammar).Parse();
}

Result<OrderKey> ParseExperimentOrderBy(std::string_view clause) {
  return ParseOrderBy(clause, kExperimentGrammar);
}

Result<std::vector<Comparison>> ParseRegisteredModelFilter(std::string_view filter) {
  return FilterParser(filter, kRegisteredModelGrammar).Parse();
}

Result<OrderKey> ParseRegisteredModelOrderBy(std::string_view clause) {
  return ParseOrderBy(clause, kRegisteredModelGrammar);
}

Result<std::vector<Comparison>> ParseModelVersionFilter(std::string_view filter) {
  return FilterParser(filter, kModelVersionGrammar).Parse();
}

Result<OrderKey> ParseModelVersionOrderBy(std::string_view clause) {
  return ParseOrderBy(clause, kModelVersionGrammar);
}

}  // namespace cairn::tracking
