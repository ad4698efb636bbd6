#include "cli/command.h"

namespace cairn::cli {

void AddTrainCommand(CLI::App& /*app*/, GlobalOptions& /*options*/) {}

}  // namespace cairn::cli
