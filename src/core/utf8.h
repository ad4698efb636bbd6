// UTF-8 validation for text that arrives as raw bytes (decoded URL paths and query strings).
#pragma once

#include <string_view>

namespace cairn {

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view text);

}  // namespace cairn
