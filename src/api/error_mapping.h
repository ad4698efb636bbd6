// The one table from Status codes to HTTP statuses and MLflow error codes.
#pragma once

#include <string_view>

#include "core/status.h"
#include "http/http_types.h"

namespace cairn::api {

struct HttpError {
  int http_status;
  std::string_view error_code;
};

HttpError HttpErrorOf(StatusCode code);
// {"error_code": …, "message": …} with the mapped status.
http::HttpResponse ErrorResponse(const Status& status);

}  // namespace cairn::api

// In a handler: assign a Result's value or return its error as the HTTP answer.
#define CAIRN_TRY_RESPOND(decl, expr) \
  CAIRN_TRY_RESPOND_IMPL(CAIRN_CONCAT(cairn_respond_, __LINE__), decl, expr)
#define CAIRN_TRY_RESPOND_IMPL(tmp, decl, expr)                  \
  auto tmp = (expr);                                             \
  if (!tmp.ok()) return ::cairn::api::ErrorResponse(tmp.status()); \
  decl = std::move(tmp).value()
#define CAIRN_RESPOND_IF_ERROR(expr)                                     \
  do {                                                                   \
    ::cairn::Status cairn_respond_status_ = (expr);                      \
    if (!cairn_respond_status_.ok())                                     \
      return ::cairn::api::ErrorResponse(cairn_respond_status_);         \
  } while (0)
