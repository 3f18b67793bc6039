#include "sync/engine_config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

using namespace syncforce;

namespace {

const char* valid = R"({
  "version": 1,
  "schema": "hc1",
  "salesforce": {"login_url": "http://127.0.0.1:8080/", "username": "admin@sfemu.local", "auth": "password",
                 "password_env": "SF_PASSWORD", "client_id": "cid", "client_secret_env": "SF_CLIENT_SECRET"},
  "connection": {"name": "demo", "api_version": "55.0"},
  "mappings": [{"object_name": "Contact", "config": {"access": "read_only", "sf_polling_seconds": 120,
                "fields": {"Id": {}, "SystemModstamp": {}, "IsDeleted": {}, "LastName": {}}}}]
})";

bool has_error(const engine_config_result& r, const std::string& path) {
  return std::any_of(r.errors.begin(), r.errors.end(), [&](const config_problem& p) { return p.path == path; });
}

} // namespace

TEST(engine_config, parses_a_connection_with_its_login) {
  auto r = parse_engine_config(valid);
  ASSERT_TRUE(r.ok()) << r.error_text();
  ASSERT_EQ(r.config->connections.size(), 1u);
  const auto& c = r.config->connections[0];
  EXPECT_EQ(c.name, "demo");
  EXPECT_EQ(c.schema, "hc1");
  EXPECT_EQ(c.api_version, "55.0");
  EXPECT_EQ(c.login.login_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c.login.username, "admin@sfemu.local");
  EXPECT_EQ(c.login.secret_ref, "env:SF_PASSWORD");
  EXPECT_EQ(c.login.client_secret_ref, "env:SF_CLIENT_SECRET");
  ASSERT_EQ(c.document.mappings.size(), 1u);
  EXPECT_EQ(c.document.mappings[0].object_name, "Contact");
}

TEST(engine_config, defaults_schema_name_and_api_version) {
  auto r = parse_engine_config(R"({"version": 1, "salesforce": {"login_url": "https://login.salesforce.com",
    "username": "u@x", "password_file": "/run/secrets/sf"}, "mappings": []})");
  ASSERT_TRUE(r.ok()) << r.error_text();
  const auto& c = r.config->connections[0];
  EXPECT_EQ(c.schema, "salesforce");
  EXPECT_EQ(c.name, "default");
  EXPECT_EQ(c.api_version, "60.0");
  EXPECT_EQ(c.login.secret_ref, "file:/run/secrets/sf");
}

TEST(engine_config, reports_every_problem_at_once) {
  auto r = parse_engine_config(R"({"version": 1, "schema": "Bad-Schema",
    "salesforce": {"login_url": "ftp://x", "password": "hunter2", "auth": "magic"},
    "mappings": [{"object_name": "Contact", "config": {"sf_polling_seconds": 5, "fields": {"Id": {}}}}]})");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(has_error(r, "schema"));
  EXPECT_TRUE(has_error(r, "salesforce.login_url"));
  EXPECT_TRUE(has_error(r, "salesforce.username"));
  EXPECT_TRUE(has_error(r, "salesforce.password"));
  EXPECT_TRUE(has_error(r, "salesforce.auth"));
  EXPECT_TRUE(has_error(r, "mappings[0].config.sf_polling_seconds")) << r.error_text();
  // The secret itself is never echoed.
  EXPECT_EQ(r.error_text().find("hunter2"), std::string::npos);
}

TEST(engine_config, requires_the_login_section) {
  auto r = parse_engine_config(R"({"version": 1, "mappings": []})");
  EXPECT_TRUE(has_error(r, "salesforce"));
  EXPECT_TRUE(has_error(parse_engine_config("[1]"), ""));
  EXPECT_TRUE(has_error(parse_engine_config("{nope"), ""));
}

TEST(engine_config, several_connections_need_distinct_names_and_schemas) {
  std::string one = R"({"version": 1, "schema": "hc1", "connection": {"name": "a"},
    "salesforce": {"login_url": "https://x", "username": "u", "password_env": "P"}, "mappings": []})";
  std::string two = R"({"version": 1, "schema": "hc2", "connection": {"name": "b"},
    "salesforce": {"login_url": "https://x", "username": "u", "password_env": "P"}, "mappings": []})";
  auto ok = parse_engine_config("{\"connections\": [" + one + ", " + two + "]}");
  ASSERT_TRUE(ok.ok()) << ok.error_text();
  EXPECT_EQ(ok.config->connections.size(), 2u);
  auto dup = parse_engine_config("{\"connections\": [" + one + ", " + one + "]}");
  EXPECT_TRUE(has_error(dup, "connections[1].schema"));
  EXPECT_TRUE(has_error(dup, "connections[1].connection.name"));
}

TEST(engine_config, resolves_secrets_without_leaking_them) {
  std::map<std::string, std::string> env{{"SF_PASSWORD", "s3cret"}};
  secret_lookup lookup;
  lookup.env = [&](const std::string& n) -> std::optional<std::string> {
    auto i = env.find(n);
    return i == env.end() ? std::nullopt : std::optional<std::string>{i->second};
  };
  lookup.file = [](const std::string& p) -> std::optional<std::string> {
    if (p == "/run/secrets/syncforce/k")
      return std::string{"key\n"};
    return std::nullopt;
  };
  std::string error;
  EXPECT_EQ(resolve_secret("env:SF_PASSWORD", lookup, error), "s3cret");
  EXPECT_EQ(resolve_secret("file:/run/secrets/syncforce/k", lookup, error), "key");
  EXPECT_FALSE(resolve_secret("env:MISSING", lookup, error));
  EXPECT_NE(error.find("MISSING"), std::string::npos);
  EXPECT_FALSE(resolve_secret("plain", lookup, error));
  EXPECT_FALSE(resolve_secret("file:/nope", lookup, error));
}

TEST(engine_config, refuses_secret_references_outside_the_policy_before_looking) {
  int looked = 0;
  secret_lookup lookup;
  lookup.env = [&](const std::string&) -> std::optional<std::string> {
    ++looked;
    return std::string{"postgresql://u:p@db/x"};
  };
  lookup.file = [&](const std::string&) -> std::optional<std::string> {
    ++looked;
    return std::string{"root:x:0:0"};
  };
  std::string error;
  for (const auto* ref : {"env:SYNCFORCE_DATABASE_URL", "env:SYNCFORCE_ADMIN_TOKEN", "env:HOME", "env:PGPASSWORD",
                          "file:/etc/shadow", "file:/run/secrets/syncforce/../../../etc/shadow",
                          "file:/run/secrets/kubernetes.io/serviceaccount/token", "file:/run/secrets/syncforce"}) {
    error.clear();
    EXPECT_FALSE(resolve_secret(ref, lookup, error)) << ref;
    EXPECT_NE(error.find("refused"), std::string::npos) << ref << ": " << error;
    EXPECT_EQ(error.find("postgresql://"), std::string::npos);
  }
  EXPECT_EQ(looked, 0) << "nothing is read for a refused reference";
  lookup.policy.denied_files = {"/run/secrets/syncforce/admin-tokens"};
  EXPECT_FALSE(resolve_secret("file:/run/secrets/syncforce/admin-tokens", lookup, error));
  EXPECT_EQ(looked, 0);
  EXPECT_TRUE(resolve_secret("file:/run/secrets/syncforce/sf-password", lookup, error));
  EXPECT_EQ(looked, 1);
}
