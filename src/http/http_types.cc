#include "http/http_types.h"

#include <nlohmann/json.hpp>

namespace cairn::http {
namespace {

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

std::string_view FindHeader(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Calls fn(key, value) for each "key=value" pair of a raw query string, both decoded.
template <typename Fn>
void ForEachQueryParam(std::string_view query, Fn fn) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (!fn(PercentDecode(key, true), value)) return;
  }
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view name) const {
  return FindHeader(headers, name);
}

std::vector<std::pair<std::string, std::string>> HttpRequest::QueryPairs() const {
  std::vector<std::pair<std::string, std::string>> pairs;
  ForEachQueryParam(query, [&](std::string key, std::string_view value) {
    pairs.emplace_back(std::move(key), PercentDecode(value, true));
    return true;
  });
  return pairs;
}

std::string_view HttpRequest::PathParam(std::string_view name) const {
  for (const auto& [key, value] : path_params) {
    if (key == name) return value;
  }
  return {};
}

std::optional<std::string> HttpRequest::QueryParam(std::string_view name) const {
  std::optional<std::string> result;
  ForEachQueryParam(query, [&](const std::string& key, std::string_view value) {
    if (key != name) return true;
    result = PercentDecode(value, true);
    return false;
  });
  return result;
}

std::vector<std::string> HttpRequest::QueryParams(std::string_view name) const {
  std::vector<std::string> result;
  ForEachQueryParam(query, [&](const std::string& key, std::string_view value) {
    if (key == name) result.push_back(PercentDecode(value, true));
    return true;
  });
  return result;
}

void HttpResponse::SetHeader(std::string name, std::string value) {
  for (char& c : name) c = AsciiLower(c);
  for (auto& [key, existing] : headers) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

std::string_view HttpResponse::Header(std::string_view name) const {
  return FindHeader(headers, name);
}

HttpResponse JsonResponse(int status, std::string json_body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(json_body);
  response.headers.emplace_back("content-type", "application/json");
  return response;
}

HttpResponse TextResponse(int status, std::string body, std::string content_type) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers.emplace_back("content-type", std::move(content_type));
  return response;
}

HttpResponse JsonError(int status, std::string_view error_code, std::string_view message) {
  nlohmann::json body = {{"error_code", error_code}, {"message", message}};
  // Messages may quote user input: invalid UTF-8 is replaced rather than thrown on.
  return JsonResponse(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string PercentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_as_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::string PercentEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
                      u == '-' || u == '.' || u == '_' || u == '~' || (keep_slash && u == '/');
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

}  // namespace cairn::http
