// HttpClient on Boost.Beast. Each call drives async operations on a private io_context so that
// every read and write is bounded by the timeout (Beast's timeouts apply to async operations only).
#include "http/client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <limits>
#include <optional>
#include <utility>

#ifndef CAIRN_VERSION
#define CAIRN_VERSION "dev"
#endif

namespace cairn::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

constexpr uint32_t kHeaderLimit = 64 * 1024;
constexpr size_t kReadBufferSize = 64 * 1024;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "Connection refused" → "connection refused", to sit after a colon.
std::string Describe(const beast::error_code& ec) {
  std::string message = ec.message();
  if (!message.empty()) message[0] = static_cast<char>(std::tolower(message[0]));
  return message;
}

// Errors that mean a kept-alive connection had been closed by the server before our request.
bool IsStaleConnection(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted || ec == net::error::not_connected;
}

}  // namespace

std::string_view ClientResponse::Header(std::string_view name) const {
  std::string lower = Lower(name);
  for (const auto& [key, value] : headers) {
    if (key == lower) return value;
  }
  return {};
}

struct HttpClient::Impl {
  std::string origin;  // "http://host:port", for messages
  std::string host;
  std::string port;
  std::string prefix;  // "" or "/prefix"
  std::chrono::milliseconds timeout{30000};

  net::io_context ioc{1};
  std::optional<tcp::resolver::results_type> endpoints;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  // Starts one async operation through `start(handler)` and runs it to completion.
  template <typename Start>
  beast::error_code Run(Start start) {
    beast::error_code result = net::error::operation_aborted;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  Status Unreachable(const beast::error_code& ec) const {
    return Unavailable("cannot reach " + origin + ": " + Describe(ec));
  }

  Status Connect() {
    if (!endpoints) {
      tcp::resolver resolver(ioc);
      beast::error_code ec;
      auto results = resolver.resolve(host, port, ec);
      if (ec) return Unreachable(ec);
      endpoints = std::move(results);
    }
    stream.emplace(ioc);
    stream->expires_after(timeout);
    beast::error_code ec = Run([&](auto handler) { stream->async_connect(*endpoints, handler); });
    if (ec) {
      stream.reset();
      return Unreachable(ec);
    }
    buffer.consume(buffer.size());
    // Beast reads at most the buffer's free capacity (512 bytes when empty): keep it large.
    buffer.reserve(kReadBufferSize);
    return Status::Ok();
  }

  void Disconnect() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->close();
      stream.reset();
    }
    buffer.consume(buffer.size());
  }

  template <typename Body>
  void Prepare(bhttp::request<Body>& req, std::string_view method, std::string_view target,
               const Headers& headers) {
    req.version(11);
    req.method_string(method);
    req.target(prefix + std::string(target));
    req.set(bhttp::field::host, host + ":" + port);
    req.set(bhttp::field::user_agent, "cairn/" CAIRN_VERSION);
    for (const auto& [name, value] : headers) req.set(name, value);
    req.keep_alive(true);
  }

  // Writes piece by piece so that the timeout bounds a stall, not a long upload.
  template <typename Body>
  beast::error_code Write(bhttp::request<Body>& req) {
    bhttp::request_serializer<Body> sr(req);
    while (!sr.is_done()) {
      stream->expires_after(timeout);
      beast::error_code ec =
          Run([&](auto handler) { bhttp::async_write_some(*stream, sr, handler); });
      if (ec) return ec;
    }
    return {};
  }

  template <typename Parser>
  beast::error_code ReadBody(Parser& parser) {
    while (!parser.is_done()) {
      stream->expires_after(timeout);
      beast::error_code ec =
          Run([&](auto handler) { bhttp::async_read_some(*stream, buffer, parser, handler); });
      if (ec) return ec;
    }
    return {};
  }

  // Sends the request `make()` builds and reads the answer; the body goes to `download_path`
  // when set and the status is 2xx. Retries once on a kept-alive connection the server closed.
  template <typename MakeRequest>
  Result<ClientResponse> Exchange(std::string_view method, MakeRequest make,
                                  const std::string* download_path) {
    for (int attempt = 0;; ++attempt) {
      const bool reused = stream.has_value();
      if (!stream) CAIRN_RETURN_IF_ERROR(Connect());
      auto request = make();
      if (!request.ok()) return request.status();
      // A failed write may still leave an answer to read (a server refusing a large body early).
      beast::error_code write_ec = Write(*request);

      bhttp::response_parser<bhttp::empty_body> header_parser;
      header_parser.header_limit(kHeaderLimit);
      header_parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      if (method == "HEAD") header_parser.skip(true);
      stream->expires_after(timeout);
      beast::error_code ec = Run(
          [&](auto handler) { bhttp::async_read_header(*stream, buffer, header_parser, handler); });
      if (ec) {
        Disconnect();
        const beast::error_code& cause = write_ec ? write_ec : ec;
        if (reused && attempt == 0 && IsStaleConnection(cause)) continue;
        return Unreachable(cause);
      }

      ClientResponse response;
      response.status = header_parser.get().result_int();
      for (const auto& field : header_parser.get()) {
        response.headers.emplace_back(Lower(field.name_string()), std::string(field.value()));
      }
      bool keep_alive = false;
      if (download_path != nullptr && response.status >= 200 && response.status < 300) {
        bhttp::response_parser<bhttp::file_body> parser(std::move(header_parser));
        beast::error_code file_ec;
        parser.get().body().open(download_path->c_str(), beast::file_mode::write, file_ec);
        if (file_ec) {
          Disconnect();
          return Status(StatusCode::kInvalidArgument,
                        "cannot write " + *download_path + ": " + Describe(file_ec));
        }
        ec = ReadBody(parser);
        keep_alive = parser.keep_alive();
      } else {
        bhttp::response_parser<bhttp::string_body> parser(std::move(header_parser));
        ec = ReadBody(parser);
        response.body = std::move(parser.get().body());
        keep_alive = parser.keep_alive();
      }
      if (ec) {
        Disconnect();
        return Unavailable("reading the response from " + origin + " failed: " + Describe(ec));
      }
      if (!keep_alive || write_ec) Disconnect();
      return response;
    }
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::Create(std::string_view base_url,
                                                       int64_t timeout_ms) {
  auto invalid = [&](std::string why) {
    return Status(StatusCode::kInvalidArgument,
                  "invalid URL \"" + std::string(base_url) + "\": " + std::move(why));
  };
  constexpr std::string_view kScheme = "http://";
  if (Lower(base_url.substr(0, kScheme.size())) != kScheme) {
    return invalid("expected http://host:port");
  }
  std::string_view rest = base_url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view prefix = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix.find_first_of("?#") != std::string_view::npos) {
    return invalid("a query or fragment is not allowed");
  }

  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid("expected a port after the address");
      port = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (host.empty() || host.find_first_of("@ ") != std::string_view::npos) {
    return invalid("expected http://host:port");
  }
  if (port.empty()) port = "80";
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
      std::stoi(std::string(port)) < 1 || std::stoi(std::string(port)) > 65535) {
    return invalid("bad port");
  }
  if (timeout_ms <= 0) return invalid("the timeout must be positive");

  auto impl = std::make_unique<Impl>();
  impl->origin = "http://" + std::string(authority);
  impl->host = std::string(host);
  impl->port = std::string(port);
  impl->prefix = std::string(prefix);
  impl->timeout = std::chrono::milliseconds(timeout_ms);
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

Result<ClientResponse> HttpClient::Send(std::string_view method, std::string_view target,
                                        std::string_view body, const Headers& headers) {
  return impl_->Exchange(
      method,
      [&]() -> Result<bhttp::request<bhttp::string_body>> {
        bhttp::request<bhttp::string_body> req;
        impl_->Prepare(req, method, target, headers);
        req.body() = std::string(body);
        req.prepare_payload();
        return req;
      },
      nullptr);
}

Result<ClientResponse> HttpClient::SendFile(std::string_view method, std::string_view target,
                                            const std::string& path, const Headers& headers) {
  return impl_->Exchange(
      method,
      [&]() -> Result<bhttp::request<bhttp::file_body>> {
        bhttp::request<bhttp::file_body> req;
        impl_->Prepare(req, method, target, headers);
        beast::error_code ec;
        req.body().open(path.c_str(), beast::file_mode::scan, ec);
        if (ec) return NotFound("cannot read " + path + ": " + Describe(ec));
        req.prepare_payload();
        return req;
      },
      nullptr);
}

Result<ClientResponse> HttpClient::Download(std::string_view target, const std::string& path,
                                            const Headers& headers) {
  return impl_->Exchange(
      "GET",
      [&]() -> Result<bhttp::request<bhttp::empty_body>> {
        bhttp::request<bhttp::empty_body> req;
        impl_->Prepare(req, "GET", target, headers);
        return req;
      },
      &path);
}

}  // namespace cairn::http
