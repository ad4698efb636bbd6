#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "core/clock.h"
#include "core/ids.h"
#include "http/client.h"
#include "http/metrics.h"
#include "http/router.h"

namespace cairn::http {
namespace {

namespace fs = std::filesystem;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Collects a streamed upload and remembers the largest chunk it was handed.
class CollectingSink : public BodySink {
 public:
  bool Write(std::string_view chunk) override {
    std::lock_guard<std::mutex> lock(mu_);
    bytes_.append(chunk);
    chunks_++;
    largest_chunk_ = std::max(largest_chunk_, chunk.size());
    return true;
  }
  std::string bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }
  size_t chunks() const {
    std::lock_guard<std::mutex> lock(mu_);
    return chunks_;
  }
  size_t largest_chunk() const {
    std::lock_guard<std::mutex> lock(mu_);
    return largest_chunk_;
  }

 private:
  mutable std::mutex mu_;
  std::string bytes_;
  size_t chunks_ = 0;
  size_t largest_chunk_ = 0;
};

// A raw TCP connection, for what the client never sends (pipelining, garbage, chunked bodies).
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};  // a guard against hanging the test, not a wait
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }
  void Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<size_t>(n));
    }
  }
  // Reads until the peer closes (or the guard timeout).
  std::string ReadAll() {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  // Reads until `needle` has been received.
  std::string ReadUntil(std::string_view needle) {
    std::string out;
    char c;
    while (out.find(needle) == std::string::npos) {
      if (::recv(fd_, &c, 1, 0) != 1) break;
      out.push_back(c);
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

size_t CountOf(std::string_view haystack, std::string_view needle) {
  size_t count = 0;
  for (size_t pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + 1)) {
    count++;
  }
  return count;
}

RouteOptions Limit(size_t max_body_bytes) {
  RouteOptions options;
  options.max_body_bytes = max_body_bytes;
  return options;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_http_test_" + NewUuidHex());
    fs::create_directories(dir_);

    router_.Add("GET", "/hello/{name}", [](HttpRequest& req) {
      nlohmann::json body = {{"hello", req.PathParam("name")}, {"request_id", req.request_id}};
      return JsonResponse(200, body.dump());
    });
    router_.Add("POST", "/echo", [](HttpRequest& req) {
      HttpResponse res = TextResponse(200, req.body, std::string(req.Header("content-type")));
      res.SetHeader("x-method", req.method);
      return res;
    });
    router_.Add("GET", "/query", [](HttpRequest& req) {
      nlohmann::json body = {{"name", req.QueryParam("name").value_or("<none>")},
                             {"tags", req.QueryParams("tag")}};
      return JsonResponse(200, body.dump());
    });
    router_.Add("GET", "/throw",
                [](HttpRequest&) -> HttpResponse { throw std::runtime_error("handler failed"); });
    router_.Add(
        "POST", "/small",
        [](HttpRequest& req) { return TextResponse(200, std::to_string(req.body.size())); },
        Limit(1024));
    router_.Add(
        "PUT", "/upload/{name}",
        [this](HttpRequest& req) {
          bool streamed = req.body_sink != nullptr && req.body.empty();
          return TextResponse(200, streamed ? "streamed" : "buffered");
        },
        RouteOptions{.max_body_bytes = 64 << 20,
                     .body_sink_factory = [this](const HttpRequest& headers) {
                       std::lock_guard<std::mutex> lock(mu_);
                       sink_name_ = std::string(headers.PathParam("name"));
                       sink_ = std::make_shared<CollectingSink>();
                       return sink_;
                     }});
    router_.Add("GET", "/file", [this](HttpRequest&) {
      HttpResponse res;
      res.body_file = (dir_ / "served.bin").string();
      res.SetHeader("content-type", "application/octet-stream");
      return res;
    });
    router_.Add("GET", "/produced", [](HttpRequest&) {
      HttpResponse res;
      auto next = std::make_shared<int>(0);
      res.body_producer = [next](std::string& chunk) {
        if (*next == 100) return false;
        chunk =
            std::string(static_cast<size_t>(*next) * 997 + 1, static_cast<char>('a' + *next % 26));
        ++*next;
        return true;
      };
      return res;
    });
    router_.Add("GET", "/slow", [this](HttpRequest&) {
      slow_entered_.set_value();
      slow_release_.get_future().wait();
      return TextResponse(200, "slow done");
    });
    router_.Add("GET", "/base/hello", [](HttpRequest&) { return TextResponse(200, "prefixed"); });
    StartServer();
  }

  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void StartServer(int64_t idle_timeout_ms = 60000, uint16_t port = 0) {
    ServerOptions options;
    options.port = port;
    options.threads = 2;
    options.access_log = false;
    options.idle_timeout_ms = idle_timeout_ms;
    server_ = std::make_unique<HttpServer>(router_, metrics_, SystemClock::Instance(), options);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->port(), 0);
  }

  std::string BaseUrl() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  std::unique_ptr<HttpClient> NewClient() {
    auto client = HttpClient::Create(BaseUrl());
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return std::move(client).value();
  }

  fs::path dir_;
  Router router_;
  HttpMetrics metrics_;
  std::unique_ptr<HttpServer> server_;
  std::mutex mu_;
  std::shared_ptr<CollectingSink> sink_;
  std::string sink_name_;
  std::promise<void> slow_entered_;
  std::promise<void> slow_release_;
};

TEST_F(ServerTest, GetAndPostRoundTrip) {
  auto client = NewClient();
  auto get = client->Send("GET", "/hello/world");
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->Header("Content-Type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(get->body)["hello"], "world");

  std::string payload = R"({"a": [1, 2, 3], "text": "caf\u00e9"})";
  auto post = client->Send("POST", "/echo", payload, {{"content-type", "application/json"}});
  ASSERT_TRUE(post.ok()) << post.status().ToString();
  EXPECT_EQ(post->status, 200);
  EXPECT_EQ(post->body, payload);
  EXPECT_EQ(post->Header("x-method"), "POST");
  EXPECT_EQ(post->Header("content-type"), "application/json");
}

TEST_F(ServerTest, ErrorsAreJson) {
  auto client = NewClient();
  auto missing = client->Send("GET", "/nowhere");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing->body)["error_code"], "ENDPOINT_NOT_FOUND");
  auto wrong_method = client->Send("DELETE", "/echo");
  ASSERT_TRUE(wrong_method.ok());
  EXPECT_EQ(wrong_method->status, 405);
  auto thrown = client->Send("GET", "/throw");
  ASSERT_TRUE(thrown.ok());
  EXPECT_EQ(thrown->status, 500);
  EXPECT_EQ(nlohmann::json::parse(thrown->body)["error_code"], "INTERNAL_ERROR");
  // The connection survives all of these.
  auto ok = client->Send("GET", "/hello/again");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerTest, ManyRequestsOnOneClient) {
  auto client = NewClient();
  for (int i = 0; i < 300; ++i) {
    std::string body = "request " + std::to_string(i);
    auto res = client->Send("POST", "/echo", body);
    ASSERT_TRUE(res.ok()) << i << ": " << res.status().ToString();
    ASSERT_EQ(res->status, 200);
    ASSERT_EQ(res->body, body);
    ASSERT_NE(res->Header("connection"), "close");
  }
}

TEST_F(ServerTest, KeepAliveServesPipelinedRequestsOnOneConnection) {
  RawConnection conn(server_->port());
  ASSERT_TRUE(conn.connected());
  conn.Send(
      "GET /hello/first HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
      "GET /hello/third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string all = conn.ReadAll();
  EXPECT_EQ(CountOf(all, "HTTP/1.1 200 OK"), 3u) << all;
  EXPECT_NE(all.find("\"hello\":\"first\""), std::string::npos);
  EXPECT_NE(all.find("\r\n\r\nhello"), std::string::npos);
  EXPECT_NE(all.find("\"hello\":\"third\""), std::string::npos);
}

TEST_F(ServerTest, RequestIdIsKeptOrGenerated) {
  auto client = NewClient();
  auto own = client->Send("GET", "/hello/x", {}, {{"x-request-id", "my-trace-123"}});
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->Header("x-request-id"), "my-trace-123");
  EXPECT_EQ(nlohmann::json::parse(own->body)["request_id"], "my-trace-123");

  auto first = client->Send("GET", "/hello/x");
  auto second = client->Send("GET", "/nowhere");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(IsHex32(first->Header("x-request-id"))) << first->Header("x-request-id");
  EXPECT_EQ(nlohmann::json::parse(first->body)["request_id"], first->Header("x-request-id"));
  EXPECT_TRUE(IsHex32(second->Header("x-request-id")));  // errors carry one too
  EXPECT_NE(first->Header("x-request-id"), second->Header("x-request-id"));
}

TEST_F(ServerTest, OversizedBodyIs413WhileStreamingRouteTakesMegabytes) {
  auto client = NewClient();
  std::string big = RandomBytes(3 << 20, 1);
  auto refused = client->Send("POST", "/small", big);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->status, 413);
  EXPECT_EQ(nlohmann::json::parse(refused->body)["error_code"], "RESOURCE_EXHAUSTED");

  auto small = client->Send("POST", "/small", std::string(1024, 'x'));
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->status, 200);
  EXPECT_EQ(small->body, "1024");

  auto streamed = client->Send("PUT", "/upload/from-memory", big);
  ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
  EXPECT_EQ(streamed->status, 200);
  EXPECT_EQ(streamed->body, "streamed");
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(sink_name_, "from-memory");
    EXPECT_TRUE(sink_->bytes() == big);
    EXPECT_GT(sink_->chunks(), 1u);
    EXPECT_LT(sink_->largest_chunk(), big.size());
  }

  fs::path upload = dir_ / "upload.bin";
  std::string file_bytes = RandomBytes((5 << 20) + 17, 2);
  WriteFile(upload, file_bytes);
  auto from_file = client->SendFile("PUT", "/upload/from-file", upload.string());
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ(from_file->status, 200);
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(sink_name_, "from-file");
  EXPECT_TRUE(sink_->bytes() == file_bytes);
}

TEST_F(ServerTest, OversizedChunkedBodyIs413) {
  RawConnection conn(server_->port());
  ASSERT_TRUE(conn.connected());
  std::string request = "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) request += "200\r\n" + std::string(512, 'y') + "\r\n";
  request += "0\r\n\r\n";
  conn.Send(request);
  std::string all = conn.ReadAll();
  EXPECT_EQ(all.rfind("HTTP/1.1 413", 0), 0u) << all;
  EXPECT_NE(all.find("RESOURCE_EXHAUSTED"), std::string::npos);
}

TEST_F(ServerTest, ExpectContinueIsAnswered) {
  RawConnection conn(server_->port());
  ASSERT_TRUE(conn.connected());
  conn.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_NE(conn.ReadUntil("\r\n\r\n").find("100 Continue"), std::string::npos);
  conn.Send("abcde");
  std::string response = conn.ReadUntil("abcde");
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
}

TEST_F(ServerTest, MalformedRequestIs400AndClosed) {
  RawConnection conn(server_->port());
  ASSERT_TRUE(conn.connected());
  conn.Send("THIS IS NOT HTTP\r\n\r\n");
  std::string all = conn.ReadAll();
  EXPECT_EQ(all.rfind("HTTP/1.1 400", 0), 0u) << all;
  EXPECT_NE(all.find("BAD_REQUEST"), std::string::npos);
}

TEST_F(ServerTest, FileAndProducedBodiesDownloadToFiles) {
  std::string served = RandomBytes((4 << 20) + 3, 3);
  WriteFile(dir_ / "served.bin", served);
  auto client = NewClient();

  fs::path file_copy = dir_ / "file_copy.bin";
  auto file = client->Download("/file", file_copy.string());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->status, 200);
  EXPECT_TRUE(file->body.empty());
  EXPECT_EQ(file->Header("content-length"), std::to_string(served.size()));
  EXPECT_TRUE(ReadFile(file_copy) == served);

  std::string expected;
  for (int i = 0; i < 100; ++i)
    expected += std::string(i * 997 + 1, static_cast<char>('a' + i % 26));
  fs::path produced_copy = dir_ / "produced_copy.bin";
  auto produced = client->Download("/produced", produced_copy.string());
  ASSERT_TRUE(produced.ok()) << produced.status().ToString();
  EXPECT_EQ(produced->status, 200);
  EXPECT_EQ(produced->Header("transfer-encoding"), "chunked");
  EXPECT_TRUE(ReadFile(produced_copy) == expected);

  auto in_memory = client->Send("GET", "/produced");
  ASSERT_TRUE(in_memory.ok());
  EXPECT_TRUE(in_memory->body == expected);

  fs::path not_written = dir_ / "not_written.bin";
  auto missing = client->Download("/nowhere", not_written.string());
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("ENDPOINT_NOT_FOUND"), std::string::npos);
  EXPECT_FALSE(fs::exists(not_written));
}

TEST_F(ServerTest, QueryParametersAreDecoded) {
  auto client = NewClient();
  auto res = client->Send("GET", "/query?name=caf%C3%A9+au%20lait&tag=a&tag=b%26c");
  ASSERT_TRUE(res.ok());
  auto body = nlohmann::json::parse(res->body);
  EXPECT_EQ(body["name"], "café au lait");
  EXPECT_EQ(body["tags"], nlohmann::json({"a", "b&c"}));
}

TEST_F(ServerTest, MetricsAreLabelledByRouteTemplate) {
  auto client = NewClient();
  ASSERT_TRUE(client->Send("GET", "/hello/alice").ok());
  ASSERT_TRUE(client->Send("GET", "/hello/bob").ok());
  ASSERT_TRUE(client->Send("GET", "/no/such/path").ok());
  // A request is observed once its response is written, which may be just after the client
  // has read it: poll for the last one.
  std::string text = metrics_.Render();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (text.find("unmatched") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    text = metrics_.Render();
  }
  EXPECT_NE(text.find("# TYPE cairn_http_requests_total counter"), std::string::npos);
  EXPECT_NE(text.find("cairn_http_requests_total{method=\"GET\",route=\"/hello/{name}\","
                      "status=\"200\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("route=\"unmatched\",status=\"404\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("cairn_http_request_duration_seconds_count{method=\"GET\","
                      "route=\"/hello/{name}\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("le=\"+Inf\"} 2"), std::string::npos);
  EXPECT_EQ(text.find("alice"), std::string::npos);
  EXPECT_EQ(text.find("/no/such/path"), std::string::npos);
}

TEST(HttpMetricsTest, RendersBucketsEscapesLabelsAndAppendsCollectors) {
  HttpMetrics metrics;
  metrics.Observe("GET", "/a/\"{x}\"\\", 200, 0.003);
  metrics.Observe("GET", "/a/\"{x}\"\\", 500, 20);
  metrics.AddCollector([] { return std::string("cairn_jobs_running 3"); });
  std::string text = metrics.Render();
  std::string labels = "method=\"GET\",route=\"/a/\\\"{x}\\\"\\\\\"";
  EXPECT_NE(text.find("cairn_http_requests_total{" + labels + ",status=\"500\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cairn_http_request_duration_seconds_bucket{" + labels + ",le=\"0.0025\"} 0"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cairn_http_request_duration_seconds_bucket{" + labels + ",le=\"0.005\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("cairn_http_request_duration_seconds_bucket{" + labels + ",le=\"10\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("cairn_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("cairn_http_request_duration_seconds_sum{" + labels + "} 20.003"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\ncairn_jobs_running 3\n"), std::string::npos);
}

TEST_F(ServerTest, UnreachableServerAndBadUrls) {
  EXPECT_EQ(HttpClient::Create("ftp://host:1").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpClient::Create("http://:80").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpClient::Create("http://host:99999").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpClient::Create("localhost:5000").status().code(), StatusCode::kInvalidArgument);

  // A port that was just free: bind, read it, close.
  uint16_t free_port;
  {
    ServerOptions options;
    options.port = 0;
    HttpServer probe(router_, metrics_, SystemClock::Instance(), options);
    ASSERT_TRUE(probe.Start().ok());
    free_port = probe.port();
    probe.Shutdown(0);
    probe.Wait();
  }
  std::string url = "http://127.0.0.1:" + std::to_string(free_port);
  auto client = HttpClient::Create(url);
  ASSERT_TRUE(client.ok());
  auto res = (*client)->Send("GET", "/hello/x");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(res.status().message(), "cannot reach " + url + ": connection refused");
}

TEST_F(ServerTest, PrefixIsPrependedToTargets) {
  auto client = HttpClient::Create(BaseUrl() + "/base/");
  ASSERT_TRUE(client.ok());
  auto res = (*client)->Send("GET", "/hello");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->body, "prefixed");
}

TEST_F(ServerTest, ClientReconnectsWhenTheServerClosedTheConnection) {
  auto client = NewClient();
  ASSERT_TRUE(client->Send("GET", "/hello/one").ok());
  uint16_t port = server_->port();
  server_->Shutdown(1000);  // closes the client's idle kept-alive connection
  server_->Wait();
  server_.reset();
  StartServer(60000, port);
  auto res = client->Send("POST", "/echo", "again");
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->body, "again");
}

TEST_F(ServerTest, IdleConnectionTimesOut) {
  server_.reset();
  StartServer(/*idle_timeout_ms=*/50);
  RawConnection conn(server_->port());
  ASSERT_TRUE(conn.connected());
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(conn.ReadAll(), "");  // the server closes; the 5 s receive guard would fail below
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST_F(ServerTest, ShutdownDrainsAnInFlightRequest) {
  auto entered = slow_entered_.get_future();
  std::promise<Result<ClientResponse>> slow_promise;
  auto slow_result = slow_promise.get_future();
  std::thread slow_client([&] {
    auto client = NewClient();
    slow_promise.set_value(client->Send("GET", "/slow"));
  });
  entered.wait();

  std::atomic<bool> shutdown_returned{false};
  std::thread stopper([&] {
    server_->Shutdown(/*drain_ms=*/30000);
    shutdown_returned = true;
  });

  // Poll until the server refuses new connections: shutdown has begun.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool refused = false;
  while (!refused && std::chrono::steady_clock::now() < deadline) {
    auto probe = HttpClient::Create(BaseUrl(), 1000);
    refused = probe.ok() && !(*probe)->Send("GET", "/hello/probe").ok();
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(refused);
  EXPECT_FALSE(shutdown_returned.load());  // the slow request is still in flight

  slow_release_.set_value();
  slow_client.join();
  stopper.join();
  EXPECT_TRUE(shutdown_returned.load());
  server_->Wait();
  auto result = slow_result.get();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "slow done");
  EXPECT_EQ(result->Header("connection"), "close");
}

}  // namespace
}  // namespace cairn::http
