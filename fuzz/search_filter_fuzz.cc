// libFuzzer target: MLflow search filters and order_by clauses (user text from every search).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tracking/search_filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)cairn::tracking::ParseRunFilter(text);
  (void)cairn::tracking::ParseRunOrderBy(text);
  (void)cairn::tracking::ParseExperimentFilter(text);
  (void)cairn::tracking::ParseExperimentOrderBy(text);
  return 0;
}
