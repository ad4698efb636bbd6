#include "pipelines/expression.h"

#include <cctype>
#include <optional>
#include <variant>

namespace cairn::pipelines {

namespace {

bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitDots(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    parts.push_back(s.substr(start, dot == std::string_view::npos ? s.npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

bool IsIdent(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsIdentChar(c)) return false;
  }
  return true;
}

}  // namespace

std::string Reference::ToString() const {
  return kind == Kind::kParam ? "params." + name : "steps." + step + ".outputs." + name;
}

Result<Reference> ParseReference(std::string_view text) {
  const std::string_view t = Trim(text);
  const std::vector<std::string_view> parts = SplitDots(t);
  Reference ref;
  if (parts.size() == 2 && parts[0] == "params" && IsIdent(parts[1])) {
    ref.kind = Reference::Kind::kParam;
    ref.name = std::string(parts[1]);
    return ref;
  }
  if (parts.size() == 4 && parts[0] == "steps" && parts[2] == "outputs" && IsIdent(parts[1]) &&
      IsIdent(parts[3])) {
    ref.kind = Reference::Kind::kStepOutput;
    ref.step = std::string(parts[1]);
    ref.name = std::string(parts[3]);
    return ref;
  }
  return InvalidArgument("bad reference '" + std::string(t) +
                         "': expected steps.ID.outputs.NAME or params.NAME");
}

namespace {

// Calls `on_ref(inner)` for each `${{ inner }}` and `on_text` for the text between.
Status ScanTemplate(std::string_view text,
                    const std::function<Status(std::string_view)>& on_text,
                    const std::function<Status(std::string_view)>& on_ref) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("${{", pos);
    if (open == std::string_view::npos) {
      return on_text(text.substr(pos));
    }
    CAIRN_RETURN_IF_ERROR(on_text(text.substr(pos, open - pos)));
    const size_t close = text.find("}}", open + 3);
    if (close == std::string_view::npos) {
      return InvalidArgument("unclosed '${{' in '" + std::string(text) + "'");
    }
    CAIRN_RETURN_IF_ERROR(on_ref(text.substr(open + 3, close - open - 3)));
    pos = close + 2;
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Reference>> FindReferences(std::string_view text) {
  std::vector<Reference> refs;
  CAIRN_RETURN_IF_ERROR(ScanTemplate(
      text, [](std::string_view) { return Status::Ok(); },
      [&](std::string_view inner) -> Status {
        CAIRN_TRY(Reference ref, ParseReference(inner));
        refs.push_back(std::move(ref));
        return Status::Ok();
      }));
  return refs;
}

Result<std::string> Substitute(std::string_view text, const Resolver& resolve) {
  std::string out;
  CAIRN_RETURN_IF_ERROR(ScanTemplate(
      text,
      [&](std::string_view plain) {
        out += plain;
        return Status::Ok();
      },
      [&](std::string_view inner) -> Status {
        CAIRN_TRY(Reference ref, ParseReference(inner));
        CAIRN_TRY(std::string value, resolve(ref));
        out += value;
        return Status::Ok();
      }));
  return out;
}

// --- expressions -------------------------------------------------------------------------------

struct Expression::Node {
  enum class Op { kLiteral, kRef, kNot, kAnd, kOr, kEq, kNe };
  Op op = Op::kLiteral;
  std::string literal;
  size_t ref = 0;  // index into references_
  std::unique_ptr<Node> left, right;
};

namespace {

using Node = Expression::Node;

struct Token {
  enum class Kind { kEnd, kOpen, kClose, kTemplateOpen, kTemplateClose, kNot, kAnd, kOr, kEq, kNe,
                    kString, kWord };
  Kind kind = Kind::kEnd;
  std::string text;
};

Result<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> tokens;
  size_t i = 0;
  auto starts = [&](std::string_view what) { return s.substr(i, what.size()) == what; };
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (starts("${{")) {
      tokens.push_back({Token::Kind::kTemplateOpen, "${{"});
      i += 3;
    } else if (starts("}}")) {
      tokens.push_back({Token::Kind::kTemplateClose, "}}"});
      i += 2;
    } else if (starts("&&")) {
      tokens.push_back({Token::Kind::kAnd, "&&"});
      i += 2;
    } else if (starts("||")) {
      tokens.push_back({Token::Kind::kOr, "||"});
      i += 2;
    } else if (starts("==")) {
      tokens.push_back({Token::Kind::kEq, "=="});
      i += 2;
    } else if (starts("!=")) {
      tokens.push_back({Token::Kind::kNe, "!="});
      i += 2;
    } else if (c == '!') {
      tokens.push_back({Token::Kind::kNot, "!"});
      ++i;
    } else if (c == '(') {
      tokens.push_back({Token::Kind::kOpen, "("});
      ++i;
    } else if (c == ')') {
      tokens.push_back({Token::Kind::kClose, ")"});
      ++i;
    } else if (c == '\'' || c == '"') {
      const size_t end = s.find(c, i + 1);
      if (end == std::string_view::npos) {
        return InvalidArgument("unterminated string starting at column " + std::to_string(i + 1));
      }
      tokens.push_back({Token::Kind::kString, std::string(s.substr(i + 1, end - i - 1))});
      i = end + 1;
    } else if (IsIdentChar(c) || c == '.') {
      size_t end = i;
      while (end < s.size() && (IsIdentChar(s[end]) || s[end] == '.')) ++end;
      tokens.push_back({Token::Kind::kWord, std::string(s.substr(i, end - i))});
      i = end;
    } else {
      return InvalidArgument(std::string("unexpected '") + c + "' at column " +
                             std::to_string(i + 1));
    }
  }
  tokens.push_back({Token::Kind::kEnd, ""});
  return tokens;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::vector<Reference>& refs)
      : tokens_(std::move(tokens)), refs_(refs) {}

  Result<std::unique_ptr<Node>> ParseAll() {
    CAIRN_TRY(auto node, Or());
    if (Peek().kind != Token::Kind::kEnd) return Unexpected();
    return node;
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() { return tokens_[pos_++]; }
  Status Unexpected() const {
    if (Peek().kind == Token::Kind::kEnd) return InvalidArgument("unexpected end of expression");
    return InvalidArgument("unexpected '" + Peek().text + "'");
  }
  static std::unique_ptr<Node> Binary(Node::Op op, std::unique_ptr<Node> l,
                                      std::unique_ptr<Node> r) {
    auto n = std::make_unique<Node>();
    n->op = op;
    n->left = std::move(l);
    n->right = std::move(r);
    return n;
  }

  Result<std::unique_ptr<Node>> Or() {
    CAIRN_TRY(auto left, And());
    while (Peek().kind == Token::Kind::kOr) {
      Next();
      CAIRN_TRY(auto right, And());
      left = Binary(Node::Op::kOr, std::move(left), std::move(right));
    }
    return left;
  }
  Result<std::unique_ptr<Node>> And() {
    CAIRN_TRY(auto left, Unary());
    while (Peek().kind == Token::Kind::kAnd) {
      Next();
      CAIRN_TRY(auto right, Unary());
      left = Binary(Node::Op::kAnd, std::move(left), std::move(right));
    }
    return left;
  }
  Result<std::unique_ptr<Node>> Unary() {
    if (Peek().kind == Token::Kind::kNot) {
      Next();
      CAIRN_TRY(auto inner, Unary());
      auto n = std::make_unique<Node>();
      n->op = Node::Op::kNot;
      n->left = std::move(inner);
      return n;
    }
    return Compare();
  }
  Result<std::unique_ptr<Node>> Compare() {
    CAIRN_TRY(auto left, Operand());
    const Token::Kind k = Peek().kind;
    if (k == Token::Kind::kEq || k == Token::Kind::kNe) {
      Next();
      CAIRN_TRY(auto right, Operand());
      return Binary(k == Token::Kind::kEq ? Node::Op::kEq : Node::Op::kNe, std::move(left),
                    std::move(right));
    }
    return left;
  }
  Result<std::unique_ptr<Node>> Operand() {
    const Token t = Next();
    switch (t.kind) {
      case Token::Kind::kOpen:
      case Token::Kind::kTemplateOpen: {
        const bool templ = t.kind == Token::Kind::kTemplateOpen;
        CAIRN_TRY(auto inner, Or());
        const Token::Kind want = templ ? Token::Kind::kTemplateClose : Token::Kind::kClose;
        if (Peek().kind != want) {
          if (Peek().kind == Token::Kind::kEnd) {
            return InvalidArgument(templ ? "unclosed '${{'" : "unclosed '('");
          }
          return Unexpected();
        }
        Next();
        return inner;
      }
      case Token::Kind::kString: {
        auto n = std::make_unique<Node>();
        n->literal = t.text;
        return n;
      }
      case Token::Kind::kWord: {
        auto n = std::make_unique<Node>();
        if (t.text.find('.') == std::string::npos) {
          // A bare word is a literal: true, false, a number.
          bool number = !t.text.empty();
          for (char c : t.text) number = number && (std::isdigit(static_cast<unsigned char>(c)) || c == '-');
          if (t.text != "true" && t.text != "false" && !number) {
            return InvalidArgument("unknown word '" + t.text +
                                   "': quote text ('" + t.text +
                                   "') or write a reference (steps.ID.outputs.NAME, params.X)");
          }
          n->literal = t.text;
          return n;
        }
        CAIRN_TRY(Reference ref, ParseReference(t.text));
        n->op = Node::Op::kRef;
        n->ref = refs_.size();
        refs_.push_back(std::move(ref));
        return n;
      }
      default:
        --pos_;
        return Unexpected();
    }
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  std::vector<Reference>& refs_;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Result<bool> Truth(const std::string& value, const std::string& what) {
  const std::string v = Lower(value);
  if (v == "true") return true;
  if (v == "false" || v.empty() || v == "0") return false;
  return InvalidArgument(what + " is '" + value + "', not a boolean (true or false)");
}

// A node's value as text (for == and !=) or as a truth value.
struct Evaluator {
  const std::vector<Reference>& refs;
  const Resolver& resolve;

  Result<std::string> Value(const Node& n) const {
    switch (n.op) {
      case Node::Op::kLiteral:
        return n.literal;
      case Node::Op::kRef:
        return resolve(refs[n.ref]);
      default: {
        CAIRN_TRY(bool b, Bool(n));
        return std::string(b ? "true" : "false");
      }
    }
  }

  Result<bool> Bool(const Node& n) const {
    switch (n.op) {
      case Node::Op::kLiteral:
        return Truth(n.literal, "'" + n.literal + "'");
      case Node::Op::kRef: {
        CAIRN_TRY(std::string v, resolve(refs[n.ref]));
        return Truth(v, refs[n.ref].ToString());
      }
      case Node::Op::kNot: {
        CAIRN_TRY(bool b, Bool(*n.left));
        return !b;
      }
      case Node::Op::kAnd: {
        CAIRN_TRY(bool l, Bool(*n.left));
        if (!l) return false;
        return Bool(*n.right);
      }
      case Node::Op::kOr: {
        CAIRN_TRY(bool l, Bool(*n.left));
        if (l) return true;
        return Bool(*n.right);
      }
      case Node::Op::kEq:
      case Node::Op::kNe: {
        CAIRN_TRY(std::string l, Value(*n.left));
        CAIRN_TRY(std::string r, Value(*n.right));
        return (l == r) == (n.op == Node::Op::kEq);
      }
    }
    return Internal("unknown expression node");
  }
};

}  // namespace

Expression::~Expression() = default;
Expression::Expression(Expression&&) noexcept = default;
Expression& Expression::operator=(Expression&&) noexcept = default;

Result<Expression> Expression::Parse(std::string_view text) {
  if (Trim(text).empty()) return InvalidArgument("empty expression");
  CAIRN_TRY(std::vector<Token> tokens, Tokenize(text));
  Expression e;
  Parser parser(std::move(tokens), e.references_);
  CAIRN_TRY(e.root_, parser.ParseAll());
  return e;
}

Result<bool> Expression::Evaluate(const Resolver& resolve) const {
  Evaluator ev{references_, resolve};
  return ev.Bool(*root_);
}

}  // namespace cairn::pipelines
