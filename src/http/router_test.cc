#include "http/router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "http/http_types.h"

namespace cairn::http {
namespace {

HttpRequest Request(std::string method, std::string target) {
  HttpRequest req;
  req.method = std::move(method);
  req.target = target;
  size_t question = target.find('?');
  req.path = PercentDecode(std::string_view(target).substr(0, question));
  if (question != std::string::npos) req.query = target.substr(question + 1);
  return req;
}

Handler Reply(std::string text) {
  return [text](HttpRequest&) { return TextResponse(200, text); };
}

TEST(RouterTest, LiteralSegmentBeatsParameterWhateverTheOrder) {
  Router router;
  router.Add("GET", "/api/items/{id}", Reply("param"));
  router.Add("GET", "/api/items/search", Reply("literal"));
  auto search = Request("GET", "/api/items/search");
  EXPECT_EQ(router.Dispatch(search).body, "literal");
  EXPECT_EQ(search.route, "/api/items/search");
  auto item = Request("GET", "/api/items/42");
  EXPECT_EQ(router.Dispatch(item).body, "param");
  EXPECT_EQ(item.route, "/api/items/{id}");
  EXPECT_EQ(item.PathParam("id"), "42");
}

TEST(RouterTest, EarlierLiteralSegmentWins) {
  Router router;
  router.Add("GET", "/a/{x}/c", Reply("param first"));
  router.Add("GET", "/a/b/{y}", Reply("literal first"));
  auto req = Request("GET", "/a/b/c");
  EXPECT_EQ(router.Dispatch(req).body, "literal first");
  EXPECT_EQ(req.PathParam("y"), "c");
}

TEST(RouterTest, ParametersAreDecodedAndNamed) {
  Router router;
  router.Add("GET", "/models/{name}/versions/{version}", [](HttpRequest& req) {
    return TextResponse(
        200, std::string(req.PathParam("name")) + "@" + std::string(req.PathParam("version")));
  });
  auto req = Request("GET", "/models/my%20model/versions/3");
  EXPECT_EQ(router.Dispatch(req).body, "my model@3");
  EXPECT_EQ(req.PathParam("missing"), "");
}

TEST(RouterTest, RestParameterCapturesSlashesAndMayBeEmpty) {
  Router router;
  router.Add("GET", "/artifacts/{path...}", [](HttpRequest& req) {
    return TextResponse(200, "[" + std::string(req.PathParam("path")) + "]");
  });
  auto deep = Request("GET", "/artifacts/model/data/model.json");
  EXPECT_EQ(router.Dispatch(deep).body, "[model/data/model.json]");
  EXPECT_EQ(deep.route, "/artifacts/{path...}");
  auto bare = Request("GET", "/artifacts");
  EXPECT_EQ(router.Dispatch(bare).body, "[]");
  auto slash = Request("GET", "/artifacts/");
  EXPECT_EQ(router.Dispatch(slash).body, "[]");
}

TEST(RouterTest, ParameterDoesNotMatchEmptySegmentOrExtraSegments) {
  Router router;
  router.Add("GET", "/runs/{id}", Reply("run"));
  auto empty = Request("GET", "/runs/");
  EXPECT_EQ(router.Dispatch(empty).status, 404);
  auto extra = Request("GET", "/runs/1/extra");
  EXPECT_EQ(router.Dispatch(extra).status, 404);
}

TEST(RouterTest, UnknownPathIs404JsonError) {
  Router router;
  router.Add("GET", "/health", Reply("ok"));
  auto req = Request("GET", "/nope");
  HttpResponse res = router.Dispatch(req);
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.Header("Content-Type"), "application/json");
  auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body["error_code"], "ENDPOINT_NOT_FOUND");
  EXPECT_TRUE(body["message"].is_string());
  EXPECT_EQ(req.route, "");
}

TEST(RouterTest, KnownPathWithOtherMethodIs405) {
  Router router;
  router.Add("GET", "/runs/{id}", Reply("get"));
  bool path_exists = false;
  EXPECT_EQ(router.Match("DELETE", "/runs/1", nullptr, &path_exists), nullptr);
  EXPECT_TRUE(path_exists);
  EXPECT_EQ(router.Match("DELETE", "/other", nullptr, &path_exists), nullptr);
  EXPECT_FALSE(path_exists);

  auto req = Request("DELETE", "/runs/1");
  HttpResponse res = router.Dispatch(req);
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(nlohmann::json::parse(res.body)["error_code"], "BAD_REQUEST");
}

TEST(RouterTest, ThrowingHandlerIs500JsonError) {
  Router router;
  router.Add("POST", "/boom",
             [](HttpRequest&) -> HttpResponse { throw std::runtime_error("kaboom \"quoted\""); });
  router.Add("POST", "/boom-int", [](HttpRequest&) -> HttpResponse { throw 7; });
  auto req = Request("POST", "/boom");
  HttpResponse res = router.Dispatch(req);
  EXPECT_EQ(res.status, 500);
  auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body["error_code"], "INTERNAL_ERROR");
  EXPECT_NE(body["message"].get<std::string>().find("kaboom \"quoted\""), std::string::npos);
  auto req2 = Request("POST", "/boom-int");
  EXPECT_EQ(router.Dispatch(req2).status, 500);
}

TEST(RouterTest, MatchReportsParamsAndRoute) {
  Router router;
  RouteOptions options;
  options.max_body_bytes = 7;
  router.Add("PUT", "/d/{name}/f/{rest...}", Reply("x"), options);
  std::vector<std::pair<std::string, std::string>> params;
  const Route* route = router.Match("PUT", "/d/n1/f/a/b", &params);
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->options.max_body_bytes, 7u);
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0], (std::pair<std::string, std::string>("name", "n1")));
  EXPECT_EQ(params[1], (std::pair<std::string, std::string>("rest", "a/b")));
}

TEST(HttpTypesTest, QueryParamsAreDecoded) {
  auto req = Request("GET", "/q?name=a%20b+c&tag=x&tag=y%2Fz&flag&empty=&name=second");
  EXPECT_EQ(req.QueryParam("name"), "a b c");
  EXPECT_EQ(req.QueryParams("tag"), (std::vector<std::string>{"x", "y/z"}));
  EXPECT_EQ(req.QueryParam("flag"), "");
  EXPECT_EQ(req.QueryParam("empty"), "");
  EXPECT_EQ(req.QueryParam("absent"), std::nullopt);
  EXPECT_TRUE(req.QueryParams("absent").empty());
}

TEST(HttpTypesTest, PercentCodingRoundTrips) {
  EXPECT_EQ(PercentDecode("a%2Fb%zz%4"), "a/b%zz%4");
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  std::string raw = "dir/with space/ünï+%&=?";
  EXPECT_EQ(PercentDecode(PercentEncode(raw)), raw);
  EXPECT_EQ(PercentEncode("a b/c"), "a%20b%2Fc");
  EXPECT_EQ(PercentEncode("a b/c", true), "a%20b/c");
}

TEST(HttpTypesTest, HeadersAreCaseInsensitive) {
  HttpRequest req;
  req.headers = {{"content-type", "text/csv"}};
  EXPECT_EQ(req.Header("Content-Type"), "text/csv");
  EXPECT_EQ(req.Header("accept"), "");
  HttpResponse res;
  res.SetHeader("X-Thing", "1");
  res.SetHeader("x-thing", "2");
  ASSERT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(res.Header("X-THING"), "2");
}

TEST(HttpTypesTest, JsonErrorEscapesTheMessage) {
  std::string message = "bad \"value\"\n\\ \x01 and \xff invalid utf-8";
  HttpResponse res = JsonError(400, "INVALID_PARAMETER_VALUE", message);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.Header("content-type"), "application/json");
  auto body = nlohmann::json::parse(res.body);  // throws if the JSON is invalid
  EXPECT_EQ(body["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(body["message"].get<std::string>().substr(0, 20), message.substr(0, 20));
}

TEST(HttpTypesTest, TextAndJsonResponses) {
  HttpResponse text = TextResponse(201, "hi", "text/csv");
  EXPECT_EQ(text.status, 201);
  EXPECT_EQ(text.Header("content-type"), "text/csv");
  HttpResponse json = JsonResponse(200, "{}");
  EXPECT_EQ(json.body, "{}");
  EXPECT_EQ(json.Header("content-type"), "application/json");
}

}  // namespace
}  // namespace cairn::http
