#include "cli/command.h"

namespace cairn::cli {

void AddModelsCommands(CLI::App& /*app*/, GlobalOptions& /*options*/) {}

}  // namespace cairn::cli
