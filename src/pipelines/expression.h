// References (`${{ steps.ID.outputs.NAME }}`, `${{ params.X }}`) inside pipeline values, and the
// small expression language of a step's `if`.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace cairn::pipelines {

// One reference: to an output of an earlier step, or to a run parameter.
struct Reference {
  enum class Kind { kStepOutput, kParam };
  Kind kind = Kind::kParam;
  std::string step;  // kStepOutput only
  std::string name;  // the output or parameter
  std::string ToString() const;  // "steps.ID.outputs.NAME" | "params.X"
};

// Parses the inside of `${{ … }}` (spaces around it are fine). kInvalidArgument saying what a
// reference looks like.
Result<Reference> ParseReference(std::string_view text);

// Every `${{ … }}` in `text`, in order. kInvalidArgument for an unclosed `${{` or a bad reference.
Result<std::vector<Reference>> FindReferences(std::string_view text);

// The value a reference stands for at run time (kNotFound, say, for an output a step did not
// produce).
using Resolver = std::function<Result<std::string>(const Reference&)>;

// `text` with every `${{ … }}` replaced by its value.
Result<std::string> Substitute(std::string_view text, const Resolver& resolve);

// An `if` condition. Grammar (usual precedence: ! over ==/!= over && over ||):
//   expr    := or
//   or      := and ("||" and)*
//   and     := unary ("&&" unary)*
//   unary   := "!" unary | compare
//   compare := operand (("==" | "!=") operand)?
//   operand := "(" expr ")" | "${{" expr "}}" | reference | 'text' | "text" | true | false | number
// A reference is written bare (steps.ID.outputs.NAME, params.X) or inside ${{ }}. Values are
// strings; == and != compare them exactly. Where a truth value is needed, a value is true when it
// is "true" (case-insensitive) and false when it is "false", "" or "0"; any other value there is an
// error at evaluation ("… is not a boolean").
class Expression {
 public:
  static Result<Expression> Parse(std::string_view text);
  ~Expression();
  Expression(Expression&&) noexcept;
  Expression& operator=(Expression&&) noexcept;

  const std::vector<Reference>& references() const { return references_; }
  Result<bool> Evaluate(const Resolver& resolve) const;

  struct Node;

 private:
  Expression() = default;
  std::unique_ptr<Node> root_;
  std::vector<Reference> references_;
};

}  // namespace cairn::pipelines
