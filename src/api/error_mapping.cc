#include "api/error_mapping.h"

namespace cairn::api {

HttpError HttpErrorOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return {200, "OK"};
    case StatusCode::kInvalidArgument: return {400, "INVALID_PARAMETER_VALUE"};
    case StatusCode::kNotFound: return {404, "RESOURCE_DOES_NOT_EXIST"};
    case StatusCode::kAlreadyExists: return {400, "RESOURCE_ALREADY_EXISTS"};
    case StatusCode::kFailedPrecondition: return {400, "INVALID_STATE"};
    case StatusCode::kPermissionDenied: return {403, "PERMISSION_DENIED"};
    case StatusCode::kUnauthenticated: return {401, "UNAUTHENTICATED"};
    case StatusCode::kResourceExhausted: return {429, "REQUEST_LIMIT_EXCEEDED"};
    case StatusCode::kUnavailable: return {503, "TEMPORARILY_UNAVAILABLE"};
    case StatusCode::kDataLoss: return {500, "DATA_LOSS"};
    case StatusCode::kInternal: return {500, "INTERNAL_ERROR"};
  }
  return {500, "INTERNAL_ERROR"};
}

http::HttpResponse ErrorResponse(const Status& status) {
  HttpError error = HttpErrorOf(status.code());
  return http::JsonError(error.http_status, error.error_code, status.message());
}

}  // namespace cairn::api
