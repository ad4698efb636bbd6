// Base64 (RFC 4648, standard alphabet with padding), used for opaque page tokens.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cairn {

std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace cairn
