// HttpServer: HTTP/1.1 on Boost.Beast — keep-alive, per-route body limits, streamed bodies,
// x-request-id, access log, Prometheus metrics by route template, graceful drain.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "http/metrics.h"
#include "http/router.h"

namespace cairn::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 5000;  // 0 picks a free port; see HttpServer::port()
  int threads = 0;       // 0 = hardware concurrency
  bool access_log = true;
  int64_t idle_timeout_ms = 60000;
};

class HttpServer {
 public:
  // The router and metrics must outlive the server.
  HttpServer(const Router& router, HttpMetrics& metrics, const Clock& clock, ServerOptions options);
  ~HttpServer();

  // Binds and starts the worker threads; returns once the socket accepts connections.
  Status Start();
  // The bound port (after Start).
  uint16_t port() const;
  // Stops accepting, lets requests in flight finish (up to `drain_ms`), closes idle connections.
  void Shutdown(int64_t drain_ms = 10000);
  // Blocks until Shutdown has completed.
  void Wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::http
