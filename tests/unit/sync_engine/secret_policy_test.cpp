// The node's secret policy: which references it resolves and which hosts it
// sends credentials to, checked before anything is read or sent.

#include "sync/secret_policy.hpp"

#include <gtest/gtest.h>

using namespace syncforce;

TEST(secret_policy, env_references_need_an_allowed_prefix_and_never_name_the_nodes_own_credentials) {
  secret_policy p;
  EXPECT_FALSE(refuse_secret_ref("env:SF_PASSWORD", p));
  EXPECT_FALSE(refuse_secret_ref("env:SALESFORCE_KEY", p));
  EXPECT_FALSE(refuse_secret_ref("env:SYNCFORCE_SECRET_HC2", p));
  EXPECT_TRUE(refuse_secret_ref("env:SF_", p)) << "the prefix alone names nothing";
  EXPECT_TRUE(refuse_secret_ref("env:HOME", p));
  EXPECT_TRUE(refuse_secret_ref("env:SYNCFORCE_DATABASE_URL", p));
  p.env_prefixes = {"SYNCFORCE_"}; // even a careless prefix never opens the node's own
  EXPECT_TRUE(refuse_secret_ref("env:SYNCFORCE_DATABASE_URL", p));
  EXPECT_TRUE(refuse_secret_ref("env:SYNCFORCE_ADMIN_TOKEN", p));
  EXPECT_FALSE(refuse_secret_ref("env:SYNCFORCE_OTHER", p));
  auto why = refuse_secret_ref("env:PATH", secret_policy{});
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("SF_"), std::string::npos) << "says which prefixes are allowed: " << *why;
}

TEST(secret_policy, file_references_stay_below_the_allowed_directories) {
  secret_policy p;
  EXPECT_FALSE(refuse_secret_ref("file:/run/secrets/syncforce/password", p));
  EXPECT_FALSE(refuse_secret_ref("file:/etc/syncforce/secrets/hc1/key.pem", p));
  EXPECT_TRUE(refuse_secret_ref("file:/etc/shadow", p));
  EXPECT_TRUE(refuse_secret_ref("file:/run/secrets/syncforce", p)) << "the directory itself";
  EXPECT_TRUE(refuse_secret_ref("file:/run/secrets/syncforce-evil/x", p)) << "a sibling with the same prefix";
  EXPECT_TRUE(refuse_secret_ref("file:/run/secrets/syncforce/../../etc/shadow", p));
  EXPECT_TRUE(refuse_secret_ref("file:/run/secrets/syncforce/./x", p));
  EXPECT_TRUE(refuse_secret_ref("file:/run/secrets/syncforce//x", p));
  EXPECT_TRUE(refuse_secret_ref("file:relative", p));
  EXPECT_TRUE(refuse_secret_ref("plain-secret", p));
  p.denied_files = {"/run/secrets/syncforce/admin-tokens"};
  EXPECT_TRUE(refuse_secret_ref("file:/run/secrets/syncforce/admin-tokens", p));
}

TEST(secret_policy, credentials_go_only_to_salesforce_login_hosts_over_https) {
  secret_policy p;
  EXPECT_FALSE(refuse_login_url("https://login.salesforce.com", p));
  EXPECT_FALSE(refuse_login_url("https://TEST.salesforce.com/", p));
  EXPECT_FALSE(refuse_login_url("https://acme.my.salesforce.com", p));
  EXPECT_FALSE(refuse_login_url("https://acme--uat.sandbox.my.salesforce.com", p));
  EXPECT_TRUE(refuse_login_url("https://my.salesforce.com", p)) << "the suffix alone is no host";
  EXPECT_TRUE(refuse_login_url("https://evil.example.com", p));
  EXPECT_TRUE(refuse_login_url("https://login.salesforce.com.evil.example", p));
  EXPECT_TRUE(refuse_login_url("https://login.salesforce.com@evil.example", p));
  EXPECT_TRUE(refuse_login_url("http://login.salesforce.com", p)) << "plain http";
  EXPECT_TRUE(refuse_login_url("ftp://login.salesforce.com", p));
  EXPECT_TRUE(refuse_login_url("http://127.0.0.1:8080", p));
  p.insecure_login_hosts = {"127.0.0.1:8080"};
  EXPECT_FALSE(refuse_login_url("http://127.0.0.1:8080", p));
  EXPECT_TRUE(refuse_login_url("http://127.0.0.1:9090", p)) << "another port on the same host";
  p.insecure_login_hosts = {"localhost"};
  EXPECT_FALSE(refuse_login_url("http://localhost:1234/services", p));
  p.login_hosts.push_back("sf-proxy.internal:8443");
  EXPECT_FALSE(refuse_login_url("https://sf-proxy.internal:8443", p));
  EXPECT_TRUE(refuse_login_url("https://sf-proxy.internal", p));
}

TEST(secret_policy, lists_split_on_commas) {
  EXPECT_EQ(split_list(" a, b ,,c "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_list("").empty());
}
