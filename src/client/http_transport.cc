// Kept apart from tracking_client.cc so tests that use a fake transport do not link the HTTP
// client.
#include "client/tracking_client.h"
#include "client/transport.h"

namespace cairn::client {
namespace {

class HttpTransport : public Transport {
 public:
  HttpTransport(std::unique_ptr<http::HttpClient> client, std::string base_url)
      : client_(std::move(client)), base_url_(std::move(base_url)) {}

  Result<http::ClientResponse> Send(std::string_view method, std::string_view target,
                                    std::string_view body, const http::Headers& headers) override {
    return Explain(client_->Send(method, target, body, headers));
  }
  Result<http::ClientResponse> SendFile(std::string_view method, std::string_view target,
                                        const std::string& path) override {
    return Explain(
        client_->SendFile(method, target, path, {{"content-type", "application/octet-stream"}}));
  }
  Result<http::ClientResponse> Download(std::string_view target, const std::string& path) override {
    return Explain(client_->Download(target, path));
  }

 private:
  // Names the server in connection failures, which is what the user needs to fix.
  Result<http::ClientResponse> Explain(Result<http::ClientResponse> r) const {
    if (r.ok() || r.status().code() != StatusCode::kUnavailable) return r;
    if (r.status().message().find(base_url_) != std::string::npos) return r;
    return Unavailable("cannot reach the tracking server at " + base_url_ + ": " +
                       r.status().message());
  }

  std::unique_ptr<http::HttpClient> client_;
  std::string base_url_;
};

}  // namespace

Result<std::unique_ptr<Transport>> ConnectHttp(std::string_view base_url) {
  if (base_url.substr(0, 7) != "http://" && base_url.substr(0, 8) != "https://") {
    return InvalidArgument("unsupported tracking URI '" + std::string(base_url) +
                           "': expected http://HOST:PORT");
  }
  CAIRN_TRY(std::unique_ptr<http::HttpClient> client, http::HttpClient::Create(base_url));
  return std::unique_ptr<Transport>(
      std::make_unique<HttpTransport>(std::move(client), std::string(base_url)));
}

}  // namespace cairn::client

namespace cairn::client {

Result<std::unique_ptr<TrackingClient>> TrackingClient::Connect(std::string_view tracking_uri,
                                                                const Clock& clock) {
  CAIRN_TRY(std::unique_ptr<Transport> transport, ConnectHttp(tracking_uri));
  return std::make_unique<TrackingClient>(std::move(transport), clock);
}

}  // namespace cairn::client
