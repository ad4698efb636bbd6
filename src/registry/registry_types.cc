#include "registry/registry_types.h"

#include <charconv>

namespace cairn::registry {

std::string_view ApprovalStateName(ApprovalState state) {
  switch (state) {
    case ApprovalState::kPending: return "pending";
    case ApprovalState::kApproved: return "approved";
    case ApprovalState::kRejected: return "rejected";
  }
  return "pending";
}

std::optional<ApprovalState> ParseApprovalState(std::string_view name) {
  for (ApprovalState s : {ApprovalState::kPending, ApprovalState::kApproved,
                          ApprovalState::kRejected}) {
    if (ApprovalStateName(s) == name) return s;
  }
  return std::nullopt;
}

Approval ApprovalOf(const store::ModelVersion& version) {
  Approval out;
  for (const store::Tag& tag : version.tags) {
    if (tag.key == kApprovalStateTag) {
      out.state = ParseApprovalState(tag.value).value_or(ApprovalState::kPending);
    } else if (tag.key == kApprovalByTag) {
      out.by = tag.value;
    } else if (tag.key == kApprovalTimeTag) {
      int64_t t = 0;
      auto [end, ec] = std::from_chars(tag.value.data(), tag.value.data() + tag.value.size(), t);
      if (ec == std::errc() && end == tag.value.data() + tag.value.size()) out.time = t;
    } else if (tag.key == kApprovalCommentTag) {
      out.comment = tag.value;
    }
  }
  if (out.state == ApprovalState::kPending) {
    out.by.clear();
    out.time = 0;
  }
  return out;
}

}  // namespace cairn::registry
