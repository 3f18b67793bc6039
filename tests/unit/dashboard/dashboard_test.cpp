#include "dashboard/admin_bridge.hpp"
#include "dashboard/assets.hpp"
#include "dashboard/http_text.hpp"
#include "dashboard/session_store.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace syncforce::dashboard;

TEST(dashboard_cookie, finds_the_session_among_others) {
  EXPECT_EQ(cookie_value("sf_session=abc", "sf_session"), "abc");
  EXPECT_EQ(cookie_value("theme=dark; sf_session=abc; x=1", "sf_session"), "abc");
  EXPECT_EQ(cookie_value("theme=dark;sf_session=abc", "sf_session"), "abc");
  EXPECT_EQ(cookie_value("xsf_session=abc; other=1", "sf_session"), "");
  EXPECT_EQ(cookie_value("", "sf_session"), "");
  EXPECT_EQ(cookie_value("sf_session=", "sf_session"), "");
}

TEST(dashboard_origin, only_the_asked_host_is_at_home) {
  EXPECT_FALSE(foreign_origin("", "127.0.0.1:8080"));
  EXPECT_FALSE(foreign_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_FALSE(foreign_origin("https://sync.example.com", "sync.example.com"));
  EXPECT_TRUE(foreign_origin("http://evil.example.com", "127.0.0.1:8080"));
  EXPECT_TRUE(foreign_origin("http://127.0.0.1:9999", "127.0.0.1:8080"));
  EXPECT_TRUE(foreign_origin("null", "127.0.0.1:8080"));
}

TEST(dashboard_csv, quotes_what_needs_it_and_defuses_formulas) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
  EXPECT_EQ(csv_field("+1"), "'+1");
  EXPECT_EQ(csv_field("-1"), "'-1");
  EXPECT_EQ(csv_field("@SUM"), "'@SUM");
  EXPECT_EQ(csv_field(""), "");
}

TEST(dashboard_tokens, random_tokens_are_long_url_safe_and_distinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto t = session_store::random_token(32);
    EXPECT_EQ(t.size(), 43u); // 256 bits, 6 bits a character
    EXPECT_EQ(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(dashboard_tokens, sha256_is_sha256) {
  auto d = session_store::sha256("abc");
  ASSERT_EQ(d.size(), 32u);
  static const char* hex = "0123456789abcdef";
  std::string text;
  for (unsigned char c : d) {
    text += hex[c >> 4];
    text += hex[c & 15];
  }
  EXPECT_EQ(text, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(dashboard_assets, the_page_and_its_files_are_compiled_in) {
  const auto* index = find_asset("/");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_NE(index->body.find("<script src=\"/app.js\""), std::string_view::npos);
  const auto* js = find_asset("/app.js");
  ASSERT_NE(js, nullptr);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(js->body.find("X-CSRF-Token"), std::string_view::npos);
  ASSERT_NE(find_asset("/app.css"), nullptr);
  EXPECT_EQ(find_asset("/index.html"), nullptr);
  EXPECT_EQ(find_asset("/../CMakeLists.txt"), nullptr);
  // Nothing from another host: no CDN, no remote font or script.
  for (const auto* a : {index, js, find_asset("/app.css")})
    EXPECT_EQ(a->body.find("https://"), std::string_view::npos) << a->path;
}

TEST(dashboard_bridge, maps_grpc_codes_to_http) {
  EXPECT_EQ(http_status_for(grpc::StatusCode::OK), 200);
  EXPECT_EQ(http_status_for(grpc::StatusCode::INVALID_ARGUMENT), 400);
  EXPECT_EQ(http_status_for(grpc::StatusCode::UNAUTHENTICATED), 401);
  EXPECT_EQ(http_status_for(grpc::StatusCode::NOT_FOUND), 404);
  EXPECT_EQ(http_status_for(grpc::StatusCode::FAILED_PRECONDITION), 409);
  EXPECT_EQ(http_status_for(grpc::StatusCode::UNAVAILABLE), 503);
  EXPECT_EQ(http_status_for(grpc::StatusCode::INTERNAL), 500);
  EXPECT_TRUE(admin_bridge::has_method("CreateMapping"));
  EXPECT_TRUE(admin_bridge::has_method("ResolveWriteErrors"));
  EXPECT_FALSE(admin_bridge::has_method("DropDatabase"));
}

TEST(dashboard_bridge, signs_in_only_with_a_known_token_and_refuses_unknown_names) {
  admin_bridge bridge(nullptr, {syncforce::admin_token{"alice", "token-of-alice"}});
  EXPECT_EQ(bridge.sign_in("token-of-alice"), std::optional<std::string>{"alice"});
  EXPECT_EQ(bridge.sign_in("token-of-bob"), std::nullopt);
  EXPECT_EQ(bridge.sign_in(""), std::nullopt);
  EXPECT_TRUE(bridge.knows("alice"));
  EXPECT_FALSE(bridge.knows("bob"));
  auto answer = bridge.call("bob", "GetState", "{}");
  EXPECT_EQ(answer.http_status, 401);
  EXPECT_EQ(bridge.call("alice", "DropDatabase", "{}").http_status, 404);
}
