// HttpServer on Boost.Beast: one strand per connection, handlers run on the io threads.
#include "http/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/ids.h"

namespace cairn::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

constexpr uint32_t kHeaderLimit = 64 * 1024;
constexpr size_t kChunkSize = 64 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(5);  // reading what a refused client still sends
constexpr size_t kMaxRequestIdLength = 128;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A client's x-request-id is echoed only when it is short printable text.
bool IsAcceptableRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

bool IsHeaderSafe(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

bool IsParseError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
         ec != bhttp::error::need_buffer;
}

class Session;

// The state the sessions share (HttpServer::Impl is private to the class, so it derives this).
struct ServerState {
  ServerState(const Router& r, HttpMetrics& m, const Clock& c, ServerOptions o)
      : router(r), metrics(m), clock(c), options(std::move(o)) {}

  const Router& router;
  HttpMetrics& metrics;
  const Clock& clock;
  const ServerOptions options;

  std::atomic<bool> shutting_down{false};
  std::atomic<uint16_t> bound_port{0};

  // Live sessions and requests in flight, for the drain. Declared before io_context so that
  // sessions destroyed with the io_context can still unregister.
  std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  int in_flight = 0;
  bool started = false;
  bool shutdown_started = false;

  std::mutex join_mu;
  std::vector<std::thread> threads;

  net::io_context ioc;
  std::optional<tcp::acceptor> acceptor;

  void Accept();
  void RunThread();
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerState& server)
      : server_(server), strand_(socket.get_executor()), stream_(std::move(socket)) {
    beast::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    remote_ = ec ? "-" : endpoint.address().to_string();
  }

  ~Session() {
    std::lock_guard<std::mutex> lock(server_.mu);
    server_.sessions.erase(this);
    if (in_request_) server_.in_flight--;
    server_.cv.notify_all();
  }

  void Start() {
    {
      std::lock_guard<std::mutex> lock(server_.mu);
      server_.sessions.emplace(this, weak_from_this());
    }
    net::dispatch(strand_, [self = shared_from_this()] { self->ReadHeader(); });
  }

  net::any_io_executor strand() const { return strand_; }

  // On the strand: the server stops; an idle connection closes now, a busy one after its response.
  void OnShutdown() {
    if (!in_request_) Close();
  }

  // On the strand: the drain is over.
  void ForceClose() { Close(); }

 private:
  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  void BeginRequest() {
    in_request_ = true;
    std::lock_guard<std::mutex> lock(server_.mu);
    server_.in_flight++;
  }

  void EndRequest() {
    if (!in_request_) return;
    in_request_ = false;
    std::lock_guard<std::mutex> lock(server_.mu);
    server_.in_flight--;
    server_.cv.notify_all();
  }

  std::chrono::milliseconds IdleTimeout() const {
    return std::chrono::milliseconds(std::max<int64_t>(1, server_.options.idle_timeout_ms));
  }

  void ReadHeader() {
    if (server_.shutting_down.load()) return Close();
    req_ = HttpRequest();
    version_ = 11;
    route_ = nullptr;
    sink_.reset();
    string_parser_.reset();
    sink_parser_.reset();
    header_parser_.emplace();
    header_parser_->header_limit(kHeaderLimit);
    // The route's limit is applied once the route is known. (Not boost::none: Beast 1.74
    // compares a content length with an empty optional limit as "exceeded".)
    header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    stream_.expires_after(IdleTimeout());
    bhttp::async_read_header(
        stream_, buffer_, *header_parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      if (IsParseError(ec)) {
        BeginRequest();
        start_micros_ = server_.clock.MonotonicMicros();
        req_.request_id = NewUuidHex();
        std::string message =
            ec == bhttp::error::header_limit
                ? "request headers exceed " + std::to_string(kHeaderLimit) + " bytes"
                : "malformed HTTP request: " + ec.message();
        return Reply(JsonError(400, "BAD_REQUEST", message), /*keep_alive=*/false,
                     /*linger=*/true);
      }
      return Close();  // closed by the client, idle timeout, or shutdown
    }
    BeginRequest();
    start_micros_ = server_.clock.MonotonicMicros();

    const auto& msg = header_parser_->get();
    version_ = msg.version() == 10 ? 10 : 11;
    req_.method = std::string(msg.method_string());
    req_.target = std::string(msg.target());
    std::string_view target = req_.target;
    size_t question = target.find('?');
    req_.path = PercentDecode(target.substr(0, question));
    if (question != std::string_view::npos) req_.query = std::string(target.substr(question + 1));
    req_.headers.reserve(std::distance(msg.begin(), msg.end()));
    for (const auto& field : msg) {
      req_.headers.emplace_back(Lower(field.name_string()), std::string(field.value()));
    }
    std::string_view client_id = req_.Header("x-request-id");
    req_.request_id = IsAcceptableRequestId(client_id) ? std::string(client_id) : NewUuidHex();

    route_ = server_.router.Match(req_.method, req_.path, &req_.path_params);
    if (route_ != nullptr) req_.route = route_->pattern;
    const size_t limit = route_ != nullptr ? route_->options.max_body_bytes : kDefaultMaxBodyBytes;
    if (auto length = header_parser_->content_length(); length && *length > limit) {
      return ReplyTooLarge(limit);
    }

    bool has_body = header_parser_->chunked() || header_parser_->content_length().value_or(0) > 0;
    // Beast reads at most the buffer's free capacity (512 bytes when empty): large bodies need
    // room.
    if (has_body && header_parser_->content_length().value_or(kChunkSize) > 4096) {
      buffer_.reserve(kChunkSize);
    }
    if (route_ != nullptr && route_->options.body_sink_factory) {
      try {
        sink_ = route_->options.body_sink_factory(req_);
      } catch (const std::exception& e) {
        return Reply(JsonError(500, "INTERNAL_ERROR", std::string("internal error: ") + e.what()),
                     false, true);
      }
      if (sink_ == nullptr) {
        return Reply(JsonError(400, "BAD_REQUEST", "the request body was refused"), false, true);
      }
      sink_parser_.emplace(std::move(*header_parser_));
      sink_parser_->body_limit(limit);
      return MaybeContinue(has_body, [this] { ReadSinkChunk(); });
    }
    string_parser_.emplace(std::move(*header_parser_));
    string_parser_->body_limit(limit);
    MaybeContinue(has_body, [this] { ReadStringBody(); });
  }

  // Answers "Expect: 100-continue" before reading a body the route accepts.
  template <typename Next>
  void MaybeContinue(bool has_body, Next next) {
    if (!has_body || Lower(req_.Header("expect")) != "100-continue") return next();
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(IdleTimeout());
    net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                     [self = shared_from_this(), next](beast::error_code ec, size_t) {
                       if (ec) return self->Abort();
                       next();
                     });
  }

  // Piece by piece, so that the timeout bounds a stalled client rather than a long upload.
  void ReadStringBody() {
    if (string_parser_->is_done()) return OnStringBody({});
    stream_.expires_after(IdleTimeout());
    bhttp::async_read_some(
        stream_, buffer_, *string_parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnStringBody(ec); });
  }

  void OnStringBody(beast::error_code ec) {
    if (ec == bhttp::error::body_limit)
      return ReplyTooLarge(route_ ? route_->options.max_body_bytes : kDefaultMaxBodyBytes);
    if (ec) return BodyReadFailed(ec);
    if (!string_parser_->is_done()) return ReadStringBody();
    req_.body = std::move(string_parser_->get().body());
    keep_alive_ = string_parser_->keep_alive();
    Dispatch();
  }

  void ReadSinkChunk() {
    auto& body = sink_parser_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    stream_.expires_after(IdleTimeout());
    bhttp::async_read(
        stream_, buffer_, *sink_parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnSinkChunk(ec); });
  }

  void OnSinkChunk(beast::error_code ec) {
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec == bhttp::error::body_limit) return ReplyTooLarge(route_->options.max_body_bytes);
    if (ec) return BodyReadFailed(ec);
    size_t n = chunk_.size() - sink_parser_->get().body().size;
    if (n > 0) {
      bool ok = false;
      try {
        ok = sink_->Write(std::string_view(chunk_.data(), n));
      } catch (const std::exception&) {
        ok = false;
      }
      if (!ok) {
        return Reply(JsonError(500, "INTERNAL_ERROR", "the upload was aborted"), false, true);
      }
    }
    if (!sink_parser_->is_done()) return ReadSinkChunk();
    keep_alive_ = sink_parser_->keep_alive();
    req_.body_sink = sink_;
    Dispatch();
  }

  void BodyReadFailed(beast::error_code ec) {
    if (IsParseError(ec)) {
      return Reply(JsonError(400, "BAD_REQUEST", "malformed HTTP request: " + ec.message()), false,
                   true);
    }
    Abort();  // the client went away or timed out: nobody to answer
  }

  void ReplyTooLarge(size_t limit) {
    Reply(JsonError(413, "RESOURCE_EXHAUSTED",
                    "request body exceeds the limit of " + std::to_string(limit) +
                        " bytes for this endpoint"),
          /*keep_alive=*/false, /*linger=*/true);
  }

  void Dispatch() {
    HttpResponse response;
    try {
      response = server_.router.Dispatch(req_);
    } catch (const std::exception& e) {
      response = JsonError(500, "INTERNAL_ERROR", std::string("internal error: ") + e.what());
    }
    req_.body.clear();
    req_.body.shrink_to_fit();
    req_.body_sink.reset();
    sink_.reset();
    Reply(std::move(response), keep_alive_, /*linger=*/false);
  }

  template <typename Body>
  void ApplyHeaders(bhttp::response<Body>& res, const HttpResponse& response, bool keep_alive) {
    res.result(static_cast<unsigned>(response.status));
    for (const auto& [name, value] : response.headers) {
      if (!IsHeaderSafe(name) || !IsHeaderSafe(value) || name.empty()) continue;
      std::string lower = Lower(name);
      if (lower == "content-length" || lower == "transfer-encoding" || lower == "connection") {
        continue;
      }
      res.insert(name, value);
    }
    res.set(bhttp::field::server, "cairn");
    res.set("x-request-id", req_.request_id);
    res.keep_alive(keep_alive);
  }

  // Sends `response`; afterwards the connection serves the next request, closes, or (after an
  // early error answer) reads and discards what the client still sends so that it sees the answer.
  void Reply(HttpResponse response, bool keep_alive, bool linger) {
    if (server_.shutting_down.load()) keep_alive = false;
    keep_alive_ = keep_alive;
    linger_ = linger;
    status_ = response.status;
    const unsigned version = version_;

    if (!response.body_file.empty()) {
      bhttp::file_body::value_type file;
      beast::error_code ec;
      file.open(response.body_file.c_str(), beast::file_mode::scan, ec);
      if (!ec) {
        auto res = std::make_shared<bhttp::response<bhttp::file_body>>();
        res->version(version);
        ApplyHeaders(*res, response, keep_alive);
        body_bytes_ = file.size();
        res->body() = std::move(file);
        res->prepare_payload();
        return Write(res);
      }
      response = JsonError(500, "INTERNAL_ERROR", "cannot read the response body file");
      status_ = response.status;
    }

    if (response.body_producer) {
      producer_ = std::move(response.body_producer);
      auto res = std::make_shared<bhttp::response<bhttp::buffer_body>>();
      res->version(version);
      ApplyHeaders(*res, response, keep_alive);
      if (version == 11) {
        res->chunked(true);
      } else {
        keep_alive_ = false;  // HTTP/1.0 has no chunked encoding: the body ends with the connection
        res->keep_alive(false);
      }
      res->body().data = nullptr;
      res->body().more = true;
      body_bytes_ = 0;
      producer_res_ = res;
      producer_sr_.emplace(*res);
      stream_.expires_after(IdleTimeout());
      bhttp::async_write_header(stream_, *producer_sr_,
                                [self = shared_from_this()](beast::error_code ec, size_t) {
                                  if (ec) return self->Finish(ec);
                                  self->ProduceChunk();
                                });
      return;
    }

    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(version);
    ApplyHeaders(*res, response, keep_alive);
    body_bytes_ = response.body.size();
    res->body() = std::move(response.body);
    res->prepare_payload();
    Write(res);
  }

  template <typename Body>
  void Write(std::shared_ptr<bhttp::response<Body>> res) {
    auto sr = std::make_shared<bhttp::response_serializer<Body>>(*res);
    WriteSome(std::move(res), std::move(sr));
  }

  // Writes piece by piece so that the timeout bounds a stalled client, not a long download.
  template <typename Body>
  void WriteSome(std::shared_ptr<bhttp::response<Body>> res,
                 std::shared_ptr<bhttp::response_serializer<Body>> sr) {
    stream_.expires_after(IdleTimeout());
    auto& serializer = *sr;
    bhttp::async_write_some(stream_, serializer,
                            [self = shared_from_this(), res = std::move(res), sr = std::move(sr)](
                                beast::error_code ec, size_t) mutable {
                              if (ec) return self->Finish(ec);
                              if (sr->is_done()) return self->Finish({});
                              self->WriteSome(std::move(res), std::move(sr));
                            });
  }

  void ProduceChunk() {
    auto& body = producer_res_->body();
    bool more = false;
    chunk_text_.clear();
    try {
      // An empty chunk would read as the end of a chunked body: ask again instead.
      do {
        chunk_text_.clear();
        more = producer_(chunk_text_);
      } while (more && chunk_text_.empty());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "http: body producer for %s failed: %s\n", req_.target.c_str(),
                   e.what());
      return Finish(beast::error_code(net::error::operation_aborted));  // cannot answer mid-body
    }
    if (more) {
      body.data = chunk_text_.data();
      body.size = chunk_text_.size();
      body.more = true;
      body_bytes_ += chunk_text_.size();
    } else {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    }
    stream_.expires_after(IdleTimeout());
    bhttp::async_write(stream_, *producer_sr_,
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (ec == bhttp::error::need_buffer) ec = {};
                         if (ec) return self->Finish(ec);
                         if (self->producer_sr_->is_done()) return self->Finish({});
                         self->ProduceChunk();
                       });
  }

  // The response is written (or failed): record it, then go on with the connection.
  void Finish(beast::error_code ec) {
    producer_ = nullptr;
    producer_sr_.reset();
    producer_res_.reset();
    chunk_text_.clear();
    chunk_text_.shrink_to_fit();

    int64_t micros = server_.clock.MonotonicMicros() - start_micros_;
    double seconds = static_cast<double>(std::max<int64_t>(0, micros)) / 1e6;
    std::string method = req_.method.empty() ? "UNKNOWN" : req_.method;
    server_.metrics.Observe(method, req_.route, status_, seconds);
    if (server_.options.access_log) {
      std::fprintf(stderr, "%s \"%s %s\" %d %lluB %.2fms rid=%s%s\n", remote_.c_str(),
                   method.c_str(), req_.target.c_str(), status_,
                   static_cast<unsigned long long>(body_bytes_), micros / 1000.0,
                   req_.request_id.c_str(), ec ? " (write failed)" : "");
    }
    EndRequest();

    if (ec) return Close();
    if (linger_) return Linger();
    if (!keep_alive_) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;  // the session ends with the last handler holding it
    }
    ReadHeader();
  }

  // After an early answer (413, 400): stop sending, read and drop the rest for a bounded time
  // so that the client is not reset before it reads the answer.
  void Linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    DrainSome();
  }

  void DrainSome() {
    stream_.async_read_some(net::buffer(chunk_.data(), chunk_.size()),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->DrainSome();
                            });
  }

  void Abort() {
    EndRequest();
    Close();
  }

  ServerState& server_;
  const net::any_io_executor strand_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string remote_;

  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> string_parser_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> sink_parser_;
  std::array<char, kChunkSize> chunk_;

  HttpRequest req_;
  const Route* route_ = nullptr;
  std::shared_ptr<BodySink> sink_;
  bool in_request_ = false;
  bool keep_alive_ = false;
  bool linger_ = false;
  int status_ = 0;
  unsigned version_ = 11;
  int64_t start_micros_ = 0;
  uint64_t body_bytes_ = 0;

  BodyProducer producer_;
  std::shared_ptr<bhttp::response<bhttp::buffer_body>> producer_res_;
  std::optional<bhttp::response_serializer<bhttp::buffer_body>> producer_sr_;
  std::string chunk_text_;
};

}  // namespace

struct HttpServer::Impl : ServerState {
  using ServerState::ServerState;
};

void ServerState::Accept() {
  acceptor->async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
    if (!ec) {
      if (shutting_down.load()) return;
      std::make_shared<Session>(std::move(socket), *this)->Start();
    }
    Accept();
  });
}

void ServerState::RunThread() {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "http: unexpected exception on an io thread: %s\n", e.what());
    }
  }
}

HttpServer::HttpServer(const Router& router, HttpMetrics& metrics, const Clock& clock,
                       ServerOptions options)
    : impl_(std::make_unique<Impl>(router, metrics, clock, std::move(options))) {}

HttpServer::~HttpServer() {
  bool running;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    running = impl_->started;
  }
  if (running) {
    Shutdown(0);
    Wait();
  }
}

Status HttpServer::Start() {
  Impl& impl = *impl_;
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    if (impl.started || impl.shutdown_started) {
      return FailedPrecondition("the HTTP server was already started");
    }
  }
  const std::string where = impl.options.host + ":" + std::to_string(impl.options.port);
  beast::error_code ec;
  tcp::resolver resolver(impl.ioc);
  auto endpoints = resolver.resolve(impl.options.host, std::to_string(impl.options.port),
                                    tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    return Unavailable("cannot resolve " + impl.options.host + ": " +
                       (ec ? ec.message() : std::string("no address")));
  }
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  tcp::acceptor acceptor(net::make_strand(impl.ioc));
  if (acceptor.open(endpoint.protocol(), ec); ec) {
    return Unavailable("cannot listen on " + where + ": " + ec.message());
  }
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec); ec) {
    return Unavailable("cannot listen on " + where + ": " + ec.message());
  }
  if (acceptor.bind(endpoint, ec); ec) {
    return Unavailable("cannot bind " + where + ": " + ec.message());
  }
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec) {
    return Unavailable("cannot listen on " + where + ": " + ec.message());
  }
  impl.bound_port = acceptor.local_endpoint(ec).port();
  impl.acceptor.emplace(std::move(acceptor));
  impl.Accept();

  int threads = impl.options.threads;
  if (threads <= 0) threads = std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    impl.started = true;
  }
  std::lock_guard<std::mutex> lock(impl.join_mu);
  for (int i = 0; i < threads; ++i) impl.threads.emplace_back([&impl] { impl.RunThread(); });
  return Status::Ok();
}

uint16_t HttpServer::port() const { return impl_->bound_port.load(); }

void HttpServer::Shutdown(int64_t drain_ms) {
  Impl& impl = *impl_;
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    if (impl.shutdown_started || !impl.started) {
      impl.shutdown_started = true;
      return;
    }
    impl.shutdown_started = true;
    impl.shutting_down = true;
  }
  auto collect = [&impl, &sessions] {
    std::lock_guard<std::mutex> lock(impl.mu);
    for (auto& [ptr, weak] : impl.sessions) {
      if (auto session = weak.lock()) sessions.push_back(std::move(session));
    }
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_ms);

  // Stop accepting; idle connections close now, busy ones after their response.
  net::post(impl.acceptor->get_executor(), [&impl] {
    beast::error_code ec;
    impl.acceptor->close(ec);
  });
  collect();
  for (auto& session : sessions) {
    net::post(session->strand(), [session] { session->OnShutdown(); });
  }
  sessions.clear();  // outside the lock: the last reference may destroy a session

  {
    std::unique_lock<std::mutex> lock(impl.mu);
    impl.cv.wait_until(lock, deadline, [&impl] { return impl.in_flight == 0; });
  }

  // The drain is over: close whatever is left and stop the threads.
  collect();
  for (auto& session : sessions) {
    net::post(session->strand(), [session] { session->ForceClose(); });
  }
  sessions.clear();
  {
    std::unique_lock<std::mutex> lock(impl.mu);
    impl.cv.wait_for(lock, std::chrono::seconds(1), [&impl] { return impl.sessions.empty(); });
  }
  impl.ioc.stop();
}

void HttpServer::Wait() {
  std::lock_guard<std::mutex> lock(impl_->join_mu);
  for (auto& thread : impl_->threads) {
    if (thread.joinable()) thread.join();
  }
}

}  // namespace cairn::http
