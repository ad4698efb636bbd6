// Identifiers: random 128-bit ids as 32 lowercase hex characters (MLflow's run id form).
#pragma once

#include <string>
#include <string_view>

namespace cairn {

std::string NewUuidHex();
bool IsHex32(std::string_view id);

}  // namespace cairn
