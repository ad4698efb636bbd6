#include "pipelines/spec.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace cairn::pipelines {
namespace {

constexpr char kGood[] = R"(name: churn
experiment: churn-pipelines
params:
  alias: champion
  data_path: /data/telco.csv
  threshold: ~
triggers:
  - schedule: "0 3 * * *"
  - drift: {endpoint: churn, threshold: 0.5}
steps:
  snapshot:
    uses: data.snapshot
    with: {name: telco, path: "${{ params.data_path }}"}
  train:
    uses: train.xgboost
    needs: snapshot
    with:
      data: "telco@${{ steps.snapshot.outputs.version }}"
      target: Churn
      params: {max_depth: 4, eta: 0.1}
  compare:
    uses: model.compare
    needs: [train]
    with:
      candidate: ${{ steps.train.outputs.model_uri }}
      baseline: models:/churn@champion
      data: telco
      metric: auc
  register:
    uses: model.register
    needs: compare
    if: ${{ steps.compare.outputs.better }} == 'true' && steps.compare.outputs.candidate_auc != ''
    with:
      model: ${{ steps.train.outputs.model_uri }}
      name: churn
      alias: ${{ params.alias }}
  approve:
    uses: gate.approval
    needs: register
    with: {message: "ship it?", timeout: 2h, require_other_approver: true}
  deploy:
    uses: endpoint.deploy
    needs: approve
    with:
      endpoint: churn
      model: models:/churn/${{ steps.register.outputs.version }}
      strategy: canary
      steps: [10, 50, 100]
      interval: 30s
      max_error_rate: 0.05
)";

ParsedPipeline Parse(std::string_view yaml) {
  static const StepTable table = BuiltinStepTypes();
  return ParsePipeline(yaml, "p.yaml", table);
}

// The problems as "line: step: message-fragment" lines for matching.
std::string Errors(const ParsedPipeline& p) {
  std::string out;
  for (const SpecError& e : p.errors) out += e.ToString() + "\n";
  return out;
}

bool HasError(const ParsedPipeline& p, int line, const std::string& step,
              const std::string& fragment) {
  for (const SpecError& e : p.errors) {
    if (e.line == line && e.step == step && e.message.find(fragment) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(PipelineSpecTest, ParsesAGoodPipeline) {
  ParsedPipeline p = Parse(kGood);
  ASSERT_TRUE(p.errors.empty()) << Errors(p);
  const PipelineSpec& s = p.spec;
  EXPECT_EQ(s.name, "churn");
  EXPECT_EQ(s.experiment, "churn-pipelines");
  ASSERT_EQ(s.steps.size(), 6u);
  EXPECT_EQ(s.steps[0].id, "snapshot");
  EXPECT_EQ(s.steps[1].needs, std::vector<std::string>{"snapshot"});
  EXPECT_EQ(s.steps[1].with["params"]["max_depth"], "4");  // scalars stay text
  EXPECT_EQ(s.steps[5].with["steps"], nlohmann::json::array({"10", "50", "100"}));
  EXPECT_EQ(s.steps[3].line, 29);
  EXPECT_FALSE(s.steps[3].if_expr.empty());
  EXPECT_EQ(s.params.at("alias"), "champion");
  EXPECT_FALSE(s.params.at("threshold").has_value());
  ASSERT_EQ(s.triggers.size(), 2u);
  EXPECT_EQ(s.triggers[1]["drift"]["endpoint"], "churn");
  EXPECT_EQ(Ancestors(s, "deploy").size(), 5u);
}

TEST(PipelineSpecTest, StepsMayBeAList) {
  ParsedPipeline p = Parse(R"(name: x
steps:
  - id: a
    uses: data.snapshot
    with: {name: d, path: /tmp/x.csv}
  - id: b
    uses: model.register
    needs: [a]
    with: {model: "runs:/${{ steps.a.outputs.digest }}/model", name: m}
)");
  ASSERT_TRUE(p.errors.empty()) << Errors(p);
  EXPECT_EQ(p.spec.steps[1].id, "b");
}

TEST(PipelineSpecTest, UnknownStepTypeNamesFileLineAndStep) {
  ParsedPipeline p = Parse("name: x\nsteps:\n  train:\n    uses: train.xgb\n");
  ASSERT_EQ(p.errors.size(), 1u) << Errors(p);
  EXPECT_EQ(p.errors[0].ToString().substr(0, 35), "p.yaml:4: step 'train': unknown ste");
  EXPECT_NE(p.errors[0].message.find("known: data.snapshot"), std::string::npos);
}

TEST(PipelineSpecTest, ANodeOfTheWrongShapeIsAProblemNotACrash) {
  // A map where a step id (a scalar) is read: found by the pipeline_spec fuzzer.
  ParsedPipeline p = Parse("name: x\nsteps:\n  ? {a: 1}\n  : {uses: train.xgboost}\n");
  ASSERT_FALSE(p.errors.empty());
  EXPECT_NE(Errors(p).find("unexpected YAML here"), std::string::npos) << Errors(p);
  EXPECT_EQ(p.errors.back().file, "p.yaml");
}

TEST(PipelineSpecTest, UnknownAndCyclicNeeds) {
  ParsedPipeline p = Parse(R"(name: x
steps:
  a:
    uses: gate.approval
    needs: [c]
  b:
    uses: gate.approval
    needs: a
  c:
    uses: gate.approval
    needs: [b]
  d:
    uses: gate.approval
    needs: [nope]
)");
  EXPECT_TRUE(HasError(p, 14, "d", "needs: unknown step 'nope'")) << Errors(p);
  EXPECT_TRUE(HasError(p, 8, "b", "needs: cycle a → c → b → a")) << Errors(p);
}

TEST(PipelineSpecTest, ReferencesMustBeAncestorsAndKnownOutputs) {
  ParsedPipeline p = Parse(R"(name: x
params: {alias: champion}
steps:
  snap:
    uses: data.snapshot
    with: {name: d, path: /x.csv}
  reg:
    uses: model.register
    with:
      model: runs:/${{ steps.snap.outputs.version }}/model
      name: m
  reg2:
    uses: model.register
    needs: snap
    with:
      model: ${{ steps.snap.outputs.run_id }}
      name: ${{ steps.ghost.outputs.x }}
      alias: ${{ params.missing }}
)");
  EXPECT_TRUE(HasError(p, 10, "reg", "which this step does not need")) << Errors(p);
  EXPECT_TRUE(HasError(p, 16, "reg2", "has no output 'run_id'")) << Errors(p);
  EXPECT_TRUE(HasError(p, 17, "reg2", "unknown step 'ghost'")) << Errors(p);
  EXPECT_TRUE(HasError(p, 18, "reg2", "unknown parameter 'params.missing'")) << Errors(p);
}

TEST(PipelineSpecTest, InputsRequiredUnknownAndChecked) {
  ParsedPipeline p = Parse(R"(name: x
steps:
  train:
    uses: train.xgboost
    with:
      data: telco
      colour: blue
  deploy:
    uses: endpoint.deploy
    with:
      endpoint: e
      model: models:/m/1
      strategy: rainbow
      steps: [50, 10]
)");
  EXPECT_TRUE(HasError(p, 3, "train", "with.target: required by train.xgboost")) << Errors(p);
  EXPECT_TRUE(HasError(p, 7, "train", "with.colour: unknown input")) << Errors(p);
  EXPECT_TRUE(HasError(p, 13, "deploy", "with.strategy: 'rainbow' is not one of")) << Errors(p);
  EXPECT_TRUE(HasError(p, 14, "deploy", "with.steps: expected increasing")) << Errors(p);
}

TEST(PipelineSpecTest, BadIfExpressions) {
  ParsedPipeline p = Parse(R"(name: x
steps:
  a:
    uses: gate.approval
  b:
    uses: gate.approval
    needs: a
    if: ${{ steps.a.outputs.decision == }}
  c:
    uses: gate.approval
    needs: a
    if: steps.a.outputs.nothing == 'x'
  d:
    uses: gate.approval
    if: steps.a.outputs.decision == 'approved'
)");
  EXPECT_TRUE(HasError(p, 8, "b", "if: unexpected '}}'")) << Errors(p);
  EXPECT_TRUE(HasError(p, 12, "c", "has no output 'nothing'")) << Errors(p);
  EXPECT_TRUE(HasError(p, 15, "d", "does not need")) << Errors(p);
}

TEST(PipelineSpecTest, JobCommandTakesAFileOrAnInlineSpec) {
  ParsedPipeline both = Parse(R"(name: x
steps:
  j:
    uses: job.command
    with: {file: a.yaml, spec: {command: echo}}
)");
  EXPECT_TRUE(HasError(both, 5, "j", "give either file")) << Errors(both);
  ParsedPipeline inline_spec = Parse(R"(name: x
steps:
  j:
    uses: job.command
    with:
      spec: {command: "python train.py", compute: local}
      params: {alpha: "0.5"}
)");
  for (const SpecError& e : inline_spec.errors) {
    EXPECT_NE(e.message.find("jobs service"), std::string::npos) << e.ToString();
  }
}

TEST(PipelineSpecTest, JobCommandOffersItsOutputsAsRunUris) {
  ParsedPipeline p = Parse(R"(name: x
steps:
  j:
    uses: job.command
    with: {file: train.yaml}
  r:
    uses: model.register
    needs: j
    with: {model: "${{ steps.j.outputs.model_uri }}", name: m,
           description: "${{ steps.j.outputs.output_report }}"}
  bad:
    uses: model.register
    needs: j
    with: {model: "${{ steps.j.outputs.model }}", name: m}
)");
  for (const SpecError& e : p.errors) {
    if (e.step == "bad") continue;
    EXPECT_NE(e.message.find("jobs service"), std::string::npos) << e.ToString();
  }
  EXPECT_TRUE(HasError(p, 14, "bad", "has no output 'model'")) << Errors(p);
}

TEST(PipelineSpecTest, TheShippedExamplesAreValid) {
  StepTable table = BuiltinStepTypes();
  if (!table.Find("job.command")->unavailable.empty()) GTEST_SKIP() << "no jobs service";
  for (const char* name : {"churn_release.yaml", "churn_release_slurm.yaml"}) {
    const std::string path = std::string(CAIRN_SOURCE_DIR) + "/examples/" + name;
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    std::stringstream text;
    text << in.rdbuf();
    ParsedPipeline p = ParsePipeline(text.str(), path, table);
    EXPECT_TRUE(p.errors.empty()) << Errors(p);
    EXPECT_EQ(p.spec.steps.size(), 6u) << path;
  }
}

TEST(PipelineSpecTest, MalformedFiles) {
  EXPECT_TRUE(HasError(Parse("name: [unclosed\n"), 2, "", "not valid YAML")) << Errors(Parse("name: [unclosed\n"));
  EXPECT_TRUE(HasError(Parse("- a\n"), 1, "", "expected a map"));
  ParsedPipeline p = Parse("nme: x\nsteps: {}\n");
  EXPECT_TRUE(HasError(p, 1, "", "unknown key 'nme'")) << Errors(p);
  EXPECT_TRUE(HasError(p, 1, "", "name: required")) << Errors(p);
  EXPECT_TRUE(HasError(p, 2, "", "at least one step")) << Errors(p);
  ParsedPipeline q = Parse("name: x\nsteps:\n  a:\n    uses: gate.approval\n    need: b\n");
  EXPECT_TRUE(HasError(q, 5, "a", "unknown key 'need'")) << Errors(q);
}

TEST(PipelineSpecTest, LoadJoinsEveryProblem) {
  StepTable table = BuiltinStepTypes();
  auto r = LoadPipeline("name: x\nsteps:\n  a: {uses: nope}\n  b: {uses: nope2}\n", "f.yaml",
                        table);
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("f.yaml:3: step 'a'"), std::string::npos);
  EXPECT_NE(r.status().message().find("\nf.yaml:4: step 'b'"), std::string::npos);
}

TEST(PipelineSpecTest, ResolveParams) {
  ParsedPipeline p = Parse(kGood);
  ASSERT_TRUE(p.errors.empty());
  auto missing = ResolveParams(p.spec, {});
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("param 'threshold': required"), std::string::npos);
  auto unknown = ResolveParams(p.spec, {{"threshold", "1"}, {"colour", "x"}});
  EXPECT_NE(unknown.status().message().find("param 'colour'"), std::string::npos);
  auto ok = ResolveParams(p.spec, {{"threshold", "1"}, {"alias", "challenger"}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->at("alias"), "challenger");
  EXPECT_EQ(ok->at("data_path"), "/data/telco.csv");
}

}  // namespace
}  // namespace cairn::pipelines
