#include "cli/command.h"

namespace cairn::cli {

void AddDataCommands(CLI::App& /*app*/, GlobalOptions& /*options*/) {}

}  // namespace cairn::cli
