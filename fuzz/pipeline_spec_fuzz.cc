// libFuzzer target: pipeline files (the YAML `cairn pipelines validate|run|create` sends to the
// server) through the parser and validator with the built-in step table. A crash, a sanitizer
// report or an uncaught exception is a finding; any answer — a spec or a list of problems — is
// fine.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pipelines/spec.h"
#include "pipelines/step.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const cairn::pipelines::StepTable* table =
      new cairn::pipelines::StepTable(cairn::pipelines::BuiltinStepTypes());
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  cairn::pipelines::ParsedPipeline parsed =
      cairn::pipelines::ParsePipeline(yaml, "fuzz.yaml", *table);
  if (parsed.errors.empty()) {
    (void)cairn::pipelines::ResolveParams(parsed.spec, {});
  }
  return 0;
}
