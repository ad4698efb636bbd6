#include "jobs/job_spec.h"

#include <gtest/gtest.h>

namespace cairn::jobs {
namespace {

constexpr const char* kFull = R"yaml(name: train-churn
command: python train.py --data ${{inputs.train}} --lr ${{ inputs.lr }} --out ${{outputs.model}}
code: ./src
inputs:
  train: "dataset:churn@v3"
  extra: data/extra.csv
  lr: 0.1
  label: {value: Churn}
outputs:
  model: {type: model}
  report:
environment:
  vars: {SEED: "42"}
compute: slurm
resources: {cpus: 2, memory: 4G, timeout: 1h30m}
experiment: churn
)yaml";

std::string ErrorOf(std::string_view yaml) {
  auto spec = ParseJobSpec(yaml, "job.yaml");
  EXPECT_FALSE(spec.ok());
  return spec.ok() ? "" : spec.status().message();
}

TEST(JobSpecTest, ParsesEveryField) {
  auto spec = ParseJobSpec(kFull, "job.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->name, "train-churn");
  EXPECT_EQ(spec->code, "./src");
  EXPECT_EQ(spec->compute, "slurm");
  EXPECT_EQ(spec->experiment, "churn");
  EXPECT_EQ(spec->cpus, 2);
  EXPECT_EQ(spec->memory_bytes, 4ll << 30);
  EXPECT_EQ(spec->timeout_ms, 90 * 60 * 1000);
  EXPECT_EQ(spec->env.at("SEED"), "42");
  const InputSpec& train = spec->inputs.at("train");
  EXPECT_EQ(train.kind, InputKind::kDataset);
  EXPECT_EQ(train.dataset_name, "churn");
  EXPECT_EQ(train.dataset_version, 3);
  EXPECT_EQ(spec->inputs.at("extra").kind, InputKind::kPath);
  EXPECT_EQ(spec->inputs.at("lr").kind, InputKind::kLiteral);
  EXPECT_EQ(spec->inputs.at("lr").value, "0.1");
  EXPECT_EQ(spec->inputs.at("label").kind, InputKind::kLiteral);
  EXPECT_EQ(spec->outputs.at("model").type, OutputType::kModel);
  EXPECT_EQ(spec->outputs.at("report").type, OutputType::kFolder);
}

TEST(JobSpecTest, JsonRoundTrips) {
  auto spec = ParseJobSpec(kFull, "job.yaml");
  ASSERT_TRUE(spec.ok());
  auto back = JobSpecFromJson(ToJson(*spec));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, *spec);
}

TEST(JobSpecTest, ErrorsNameFileLineAndField) {
  EXPECT_EQ(ErrorOf("command: x\nresource: {cpus: 1}\n"),
            "job.yaml:2: resource: unknown key (expected one of: code, command, compute, "
            "environment, experiment, inputs, name, outputs, resources)");
  EXPECT_EQ(ErrorOf("command: x\nresources:\n  cpus: 1\n  memory: 4X\n"),
            "job.yaml:4: resources.memory: '4X' is not a size (like 512M, 4G)");
  EXPECT_EQ(ErrorOf("command: x\nresources:\n  timeout: soon\n"),
            "job.yaml:3: resources.timeout: 'soon' is not a duration (like 30s, 10m, 1h)");
  EXPECT_EQ(ErrorOf("resources: {cpus: 1}\n"),
            "job.yaml:1: command: required (the shell command to run)");
  EXPECT_EQ(ErrorOf("inputs: {a: 1}\ncommand: run ${{inputs.b}}\n"),
            "job.yaml:2: command: ${{inputs.b}} names no declared input");
  EXPECT_EQ(ErrorOf("command: run ${{outputs.m}}\n"),
            "job.yaml:1: command: ${{outputs.m}} names no declared output");
  EXPECT_EQ(ErrorOf("command: run ${{params.m}}\n"),
            "job.yaml:1: command: ${{params.m}} is not ${{inputs.NAME}} or ${{outputs.NAME}}");
  EXPECT_EQ(ErrorOf("command: x\noutputs:\n  m: {type: table}\n"),
            "job.yaml:3: outputs.m.type: 'table' is not an output type (model, file, folder)");
  EXPECT_EQ(ErrorOf("command: x\ncompute: cloud\n"),
            "job.yaml:2: compute: 'cloud' is not a compute target (local, slurm)");
  EXPECT_EQ(ErrorOf("command: x\ninputs:\n  d: dataset:churn@vx\n"),
            "job.yaml:3: inputs.d: 'dataset:churn@vx': the version must be vN (N >= 1) or latest");
  EXPECT_EQ(ErrorOf("command: x\nresources: {cpus: 0}\n"),
            "job.yaml:2: resources.cpus: '0' is not a number of cpus (1 or more)");
  EXPECT_EQ(ErrorOf("command: [a\n").substr(0, 24), "job.yaml:2: not valid YA");
}

TEST(JobSpecTest, SizesAndDurations) {
  EXPECT_EQ(*ParseMemory("512M"), 512ll << 20);
  EXPECT_EQ(*ParseMemory("1.5G"), 3ll << 29);
  EXPECT_EQ(*ParseMemory("4GiB"), 4ll << 30);
  EXPECT_EQ(*ParseMemory("4096"), 4096);
  EXPECT_FALSE(ParseMemory("-1G").ok());
  EXPECT_FALSE(ParseMemory("G").ok());
  EXPECT_EQ(*ParseTimeout("30s"), 30000);
  EXPECT_EQ(*ParseTimeout("10m"), 600000);
  EXPECT_EQ(*ParseTimeout("1h"), 3600000);
  EXPECT_EQ(*ParseTimeout("500ms"), 500);
  EXPECT_EQ(*ParseTimeout("90"), 90000);
  EXPECT_FALSE(ParseTimeout("0s").ok());
  EXPECT_FALSE(ParseTimeout("1x").ok());
  EXPECT_EQ(FormatMemory(4ll << 30), "4G");
  EXPECT_EQ(FormatDuration(5400000), "1h30m");
}

TEST(JobSpecTest, ExpandsReferences) {
  auto out =
      ExpandCommand("a ${{inputs.x}} b ${{ outputs.y }}c", {{"x", "/in/x"}}, {{"y", "/out/y"}});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "a /in/x b /out/yc");
  EXPECT_FALSE(ExpandCommand("${{inputs.z}}", {}, {}).ok());
  EXPECT_EQ(ShellQuote("/a/b.csv"), "/a/b.csv");
  EXPECT_EQ(ShellQuote("it's here"), "'it'\\''s here'");
}

TEST(JobSpecTest, ParamsOverrideInputs) {
  auto spec = ParseJobSpec(kFull, "job.yaml");
  ASSERT_TRUE(spec.ok());
  ASSERT_TRUE(ApplyParam(*spec, "lr=0.3").ok());
  EXPECT_EQ(spec->inputs.at("lr").value, "0.3");
  ASSERT_TRUE(ApplyParam(*spec, "train=dataset:churn@latest").ok());
  EXPECT_FALSE(spec->inputs.at("train").dataset_version.has_value());
  ASSERT_TRUE(ApplyParam(*spec, "depth=6").ok());
  EXPECT_EQ(spec->inputs.at("depth").kind, InputKind::kLiteral);
  EXPECT_FALSE(ApplyParam(*spec, "novalue").ok());
  EXPECT_FALSE(ApplyParam(*spec, "train=dataset:@v1").ok());
}

TEST(JobSpecTest, JsonErrorsNameTheField) {
  nlohmann::json j = {{"command", "x"}, {"resources", {{"cpus", "two"}}}};
  auto spec = JobSpecFromJson(j);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(), "spec.resources.cpus: expected an integer");
  j = {{"command", "x ${{inputs.q}}"}};
  EXPECT_EQ(JobSpecFromJson(j).status().message(),
            "spec: command: ${{inputs.q}} names no declared input");
}

}  // namespace
}  // namespace cairn::jobs
