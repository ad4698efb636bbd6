#include "pipelines/expression.h"

#include <gtest/gtest.h>

#include <map>

namespace cairn::pipelines {
namespace {

Resolver Values(std::map<std::string, std::string> values) {
  return [values](const Reference& ref) -> Result<std::string> {
    auto it = values.find(ref.ToString());
    if (it == values.end()) return NotFound("no " + ref.ToString());
    return it->second;
  };
}

bool Eval(std::string_view text, const Resolver& r) {
  auto e = Expression::Parse(text);
  EXPECT_TRUE(e.ok()) << text << ": " << e.status().ToString();
  if (!e.ok()) return false;
  auto v = e->Evaluate(r);
  EXPECT_TRUE(v.ok()) << text << ": " << v.status().ToString();
  return v.ok() && *v;
}

TEST(ReferenceTest, ParsesStepOutputsAndParams) {
  auto step = ParseReference(" steps.compare.outputs.better ");
  ASSERT_TRUE(step.ok());
  EXPECT_EQ(step->kind, Reference::Kind::kStepOutput);
  EXPECT_EQ(step->step, "compare");
  EXPECT_EQ(step->name, "better");
  auto param = ParseReference("params.alias");
  ASSERT_TRUE(param.ok());
  EXPECT_EQ(param->kind, Reference::Kind::kParam);
  EXPECT_EQ(param->ToString(), "params.alias");
  for (const char* bad : {"steps.x.output.y", "steps.x", "param.x", "", "steps..outputs.y",
                          "params.a b"}) {
    EXPECT_EQ(ParseReference(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ReferenceTest, FindsAndSubstitutesTemplates) {
  auto refs = FindReferences("runs:/${{ steps.train.outputs.run_id }}/model@${{params.alias}}");
  ASSERT_TRUE(refs.ok());
  ASSERT_EQ(refs->size(), 2u);
  EXPECT_EQ((*refs)[0].step, "train");
  EXPECT_EQ((*refs)[1].name, "alias");
  auto text = Substitute("runs:/${{ steps.train.outputs.run_id }}/model",
                         Values({{"steps.train.outputs.run_id", "abc"}}));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "runs:/abc/model");
  EXPECT_EQ(FindReferences("x ${{ steps.a.outputs.b").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Substitute("${{ params.missing }}", Values({})).status().code(),
            StatusCode::kNotFound);
}

TEST(ExpressionTest, ComparesAndCombines) {
  Resolver r = Values({{"steps.compare.outputs.better", "true"},
                       {"steps.compare.outputs.rows_kept", "120"},
                       {"params.env", "prod"}});
  EXPECT_TRUE(Eval("${{ steps.compare.outputs.better }} == 'true'", r));
  EXPECT_FALSE(Eval("${{ steps.compare.outputs.better }} != 'true'", r));
  EXPECT_TRUE(Eval("${{ steps.compare.outputs.better == 'true' }}", r));
  EXPECT_TRUE(Eval("steps.compare.outputs.better", r));
  EXPECT_FALSE(Eval("!steps.compare.outputs.better", r));
  EXPECT_TRUE(Eval("params.env == \"prod\" && steps.compare.outputs.rows_kept == '120'", r));
  EXPECT_TRUE(Eval("params.env == 'dev' || steps.compare.outputs.better", r));
  EXPECT_FALSE(Eval("params.env == 'dev' || !(steps.compare.outputs.better)", r));
  // ! binds tighter than &&, && tighter than ||.
  EXPECT_TRUE(Eval("true || false && false", r));
  EXPECT_FALSE(Eval("!true && true", r));
  EXPECT_TRUE(Eval("120 == steps.compare.outputs.rows_kept", r));
}

TEST(ExpressionTest, RecordsItsReferences) {
  auto e = Expression::Parse("${{ steps.a.outputs.x }} == 'y' && !params.z");
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->references().size(), 2u);
  EXPECT_EQ(e->references()[0].ToString(), "steps.a.outputs.x");
  EXPECT_EQ(e->references()[1].ToString(), "params.z");
}

TEST(ExpressionTest, RejectsBadSyntax) {
  for (const char* bad : {"", "==", "'a' ==", "(true", "${{ true", "true false", "a == 'b'",
                          "'unterminated", "steps.x.outputs.y = 'z'", "true &&", "params.a )"}) {
    auto e = Expression::Parse(bad);
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << "'" << bad << "'";
  }
  EXPECT_NE(Expression::Parse("a == 'b'").status().message().find("unknown word 'a'"),
            std::string::npos);
}

TEST(ExpressionTest, NonBooleanValueIsAnErrorAtEvaluation) {
  auto e = Expression::Parse("steps.a.outputs.n && true");
  ASSERT_TRUE(e.ok());
  auto v = e->Evaluate(Values({{"steps.a.outputs.n", "17"}}));
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find("steps.a.outputs.n is '17', not a boolean"),
            std::string::npos);
  auto missing = e->Evaluate(Values({}));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace cairn::pipelines
