// Drives the real sfemu binary over HTTP.
#include "tests/support/sfemu.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <memory>
#include <thread>
#include <unistd.h>

using namespace syncforce::testing;
using nlohmann::json;

namespace {

/// An sfemu process plus a logged-in client.
class sfemu_test : public ::testing::Test {
protected:
  void start(std::vector<std::string> args = {}) {
    emu_ = std::make_unique<sfemu_process>(std::move(args));
    client_ = std::make_unique<httplib::Client>(emu_->base_url());
    client_->set_read_timeout(30, 0);
  }
  void SetUp() override { start(); }

  std::string login(const std::string& user = "admin@sfemu.local", const std::string& password = "sfemu") {
    auto r = client_->Post("/services/oauth2/token",
                           "grant_type=password&client_id=cid&client_secret=secret&username=" + user +
                               "&password=" + password,
                           "application/x-www-form-urlencoded");
    EXPECT_TRUE(r);
    if (!r || r->status != 200)
      return {};
    return json::parse(r->body)["access_token"].get<std::string>();
  }
  void use(const std::string& token) { headers_ = {{"Authorization", "Bearer " + token}}; }

  httplib::Result get(const std::string& path, httplib::Headers extra = {}) {
    auto h = headers_;
    h.insert(extra.begin(), extra.end());
    return client_->Get(path.c_str(), h);
  }
  httplib::Result send(const std::string& method, const std::string& path, const json& body) {
    std::string text = body.dump();
    if (method == "POST")
      return client_->Post(path.c_str(), headers_, text, "application/json");
    if (method == "PATCH")
      return client_->Patch(path.c_str(), headers_, text, "application/json");
    return client_->Delete(path.c_str(), headers_, text, "application/json");
  }
  json control(const std::string& method, const std::string& path, const json& body = json::object()) {
    httplib::Result r = method == "GET"      ? client_->Get(path.c_str())
                        : method == "DELETE" ? client_->Delete(path.c_str())
                                             : client_->Post(path.c_str(), body.dump(), "application/json");
    EXPECT_TRUE(r) << path;
    if (!r)
      return {};
    EXPECT_LT(r->status, 300) << path << ": " << r->body;
    return json::parse(r->body, nullptr, false);
  }
  static void expect_error(const httplib::Result& r, int status, const std::string& code) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json;charset=UTF-8");
    auto j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_array()) << r->body;
    ASSERT_EQ(j.size(), 1u) << r->body;
    EXPECT_EQ(j[0]["errorCode"], code) << r->body;
    EXPECT_TRUE(j[0]["message"].is_string());
  }

  std::unique_ptr<sfemu_process> emu_;
  std::unique_ptr<httplib::Client> client_;
  httplib::Headers headers_;
};

const std::string v = "/services/data/v60.0";

} // namespace

TEST_F(sfemu_test, password_login_soap_login_and_identity) {
  auto bad = client_->Post("/services/oauth2/token",
                           "grant_type=password&client_id=c&client_secret=s&username=admin@sfemu.local&password=no",
                           "application/x-www-form-urlencoded");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["error"], "invalid_grant");
  auto odd = client_->Post("/services/oauth2/token", "grant_type=magic", "application/x-www-form-urlencoded");
  EXPECT_EQ(json::parse(odd->body)["error"], "unsupported_grant_type");

  auto r = client_->Post("/services/oauth2/token",
                         "grant_type=password&client_id=c&client_secret=s&username=admin%40sfemu.local&password=sfemu",
                         "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto tok = json::parse(r->body);
  EXPECT_EQ(tok["token_type"], "Bearer");
  EXPECT_EQ(tok["instance_url"], emu_->base_url());
  std::string id = tok["id"];
  ASSERT_NE(id.find("/id/00D"), std::string::npos);
  use(tok["access_token"]);
  auto ident = get(id.substr(emu_->base_url().size()));
  ASSERT_TRUE(ident);
  ASSERT_EQ(ident->status, 200);
  EXPECT_EQ(json::parse(ident->body)["username"], "admin@sfemu.local");

  std::string envelope =
      "<?xml version=\"1.0\" encoding=\"utf-8\" ?><se:Envelope xmlns:se=\"http://schemas.xmlsoap.org/soap/envelope/\">"
      "<se:Header/><se:Body><login xmlns=\"urn:partner.soap.sforce.com\"><username>admin@sfemu.local</username>"
      "<password>PASSWORD</password></login></se:Body></se:Envelope>";
  std::string good = envelope;
  good.replace(good.find("PASSWORD"), 8, "sfemu");
  auto soap = client_->Post("/services/Soap/u/60.0", good, "text/xml");
  ASSERT_TRUE(soap);
  ASSERT_EQ(soap->status, 200);
  EXPECT_NE(soap->body.find("<serverUrl>" + emu_->base_url() + "/services/Soap/u/60.0/00D"), std::string::npos);
  EXPECT_NE(soap->body.find("<passwordExpired>false</passwordExpired>"), std::string::npos);
  auto sid_at = soap->body.find("<sessionId>");
  ASSERT_NE(sid_at, std::string::npos);
  auto sid = soap->body.substr(sid_at + 11, soap->body.find("</sessionId>") - sid_at - 11);
  use(sid);
  EXPECT_EQ(get(v + "/limits")->status, 200);

  std::string wrong = envelope;
  wrong.replace(wrong.find("PASSWORD"), 8, "nope");
  auto fault = client_->Post("/services/Soap/u/60.0", wrong, "text/xml");
  ASSERT_TRUE(fault);
  EXPECT_EQ(fault->status, 500);
  EXPECT_NE(fault->body.find("<faultstring>INVALID_LOGIN: Invalid username, password, security token; or user "
                             "locked out.</faultstring>"),
            std::string::npos);

  auto revoke = client_->Post("/services/oauth2/revoke", "token=" + sid, "application/x-www-form-urlencoded");
  EXPECT_EQ(revoke->status, 200);
  expect_error(get(v + "/limits"), 401, "INVALID_SESSION_ID");
}

namespace {

std::string b64url(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[0]), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  for (auto& c : out)
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!out.empty() && out.back() == '=')
    out.pop_back();
  return out;
}

std::string sign_jwt(EVP_PKEY* key, const json& claims) {
  std::string input = b64url(R"({"alg":"RS256","typ":"JWT"})") + "." + b64url(claims.dump());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key);
  std::size_t len = 0;
  EVP_DigestSign(md.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(&sig[0]), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  return input + "." + b64url(sig);
}

} // namespace

TEST_F(sfemu_test, jwt_bearer_flow_checks_signature_audience_and_expiry) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), EVP_PKEY_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> other(EVP_RSA_gen(2048), EVP_PKEY_free);
  ASSERT_TRUE(key && other);
  std::string path = "/tmp/sfemu_jwt_" + std::to_string(::getpid()) + ".pem";
  {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_TRUE(f);
    PEM_write_PUBKEY(f, key.get());
    std::fclose(f);
  }
  start({"--jwt-cert", path, "--user", "int@example.com:pw"});
  std::remove(path.c_str());
  auto now = static_cast<long long>(std::time(nullptr));
  auto exchange = [&](EVP_PKEY* k, const json& claims) {
    return client_->Post("/services/oauth2/token",
                         "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" +
                             sign_jwt(k, claims),
                         "application/x-www-form-urlencoded");
  };
  json claims = {{"iss", "client-1"}, {"sub", "int@example.com"}, {"aud", "https://login.salesforce.com"},
                 {"exp", now + 300}};
  auto ok = exchange(key.get(), claims);
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  use(json::parse(ok->body)["access_token"]);
  EXPECT_EQ(get(v + "/limits")->status, 200);

  auto forged = exchange(other.get(), claims);
  EXPECT_EQ(forged->status, 400);
  EXPECT_EQ(json::parse(forged->body)["error"], "invalid_grant");
  auto bad_aud = claims;
  bad_aud["aud"] = "https://evil.example.com";
  EXPECT_EQ(json::parse(exchange(key.get(), bad_aud)->body)["error_description"], "audience is invalid");
  auto expired = claims;
  expired["exp"] = now - 10;
  EXPECT_EQ(exchange(key.get(), expired)->status, 400);
  auto stranger = claims;
  stranger["sub"] = "nobody@example.com";
  EXPECT_EQ(exchange(key.get(), stranger)->status, 400);
}

TEST_F(sfemu_test, crud_and_upsert_status_codes) {
  use(login());
  control("POST", "/__sfemu/schema",
          {{"objects", {{{"name", "Account"},
                         {"fields", {{{"name", "Ext__c"}, {"type", "string"}, {"external_id", true}}}}}}}});
  auto created = send("POST", v + "/sobjects/Account", {{"Name", "Acme"}, {"NumberOfEmployees", 10}});
  ASSERT_EQ(created->status, 201) << created->body;
  EXPECT_FALSE(created->get_header_value("Sforce-Limit-Info").empty());
  std::string id = json::parse(created->body)["id"];
  auto read = get(v + "/sobjects/Account/" + id + "?fields=Name,NumberOfEmployees");
  ASSERT_EQ(read->status, 200);
  auto rec = json::parse(read->body);
  EXPECT_EQ(rec["Name"], "Acme");
  EXPECT_EQ(rec["NumberOfEmployees"], 10);
  EXPECT_EQ(rec["attributes"]["type"], "Account");
  EXPECT_EQ(send("PATCH", v + "/sobjects/Account/" + id, {{"Phone", "555"}})->status, 204);
  EXPECT_EQ(json::parse(get(v + "/sobjects/Account/" + id)->body)["Phone"], "555");
  expect_error(send("POST", v + "/sobjects/Account", {{"Phone", "1"}}), 400, "REQUIRED_FIELD_MISSING");
  expect_error(get(v + "/sobjects/Account/001000000000001AAA"), 404, "NOT_FOUND");
  expect_error(send("POST", v + "/sobjects/Nope", {{"Name", "x"}}), 404, "NOT_FOUND");

  auto up1 = send("PATCH", v + "/sobjects/Account/Ext__c/E-1", {{"Name", "One"}});
  ASSERT_EQ(up1->status, 201) << up1->body;
  EXPECT_EQ(json::parse(up1->body)["created"], true);
  auto up2 = send("PATCH", v + "/sobjects/Account/Ext__c/E-1", {{"Name", "Uno"}});
  ASSERT_EQ(up2->status, 200) << up2->body;
  EXPECT_EQ(json::parse(up2->body)["created"], false);
  EXPECT_EQ(send("PATCH", "/services/data/v45.0/sobjects/Account/Ext__c/E-1", {{"Name", "Eins"}})->status, 204);
  send("PATCH", v + "/sobjects/Account/" + id, {{"Ext__c", "E-1"}});
  auto multiple = send("PATCH", v + "/sobjects/Account/Ext__c/E-1", {{"Name", "?"}});
  ASSERT_EQ(multiple->status, 300);
  EXPECT_EQ(json::parse(multiple->body).size(), 2u);
  expect_error(send("PATCH", v + "/sobjects/Account/Ext__c/E-9?updateOnly=true", {{"Name", "x"}}), 404, "NOT_FOUND");
  expect_error(send("PATCH", v + "/sobjects/Account/Phone/555", {{"Name", "x"}}), 404, "NOT_FOUND");

  EXPECT_EQ(send("DELETE", v + "/sobjects/Account/" + id, json())->status, 204);
  expect_error(get(v + "/sobjects/Account/" + id), 404, "ENTITY_IS_DELETED");
  expect_error(send("DELETE", v + "/sobjects/Account/" + id, json()), 404, "ENTITY_IS_DELETED");
}

TEST_F(sfemu_test, collections_with_all_or_none) {
  use(login());
  json body = {{"allOrNone", true},
               {"records",
                {{{"attributes", {{"type", "Account"}}}, {"Name", "A"}},
                 {{"attributes", {{"type", "Contact"}}}, {"FirstName", "no last name"}}}}};
  auto r = send("POST", v + "/composite/sobjects", body);
  ASSERT_EQ(r->status, 200);
  auto items = json::parse(r->body);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["success"], false);
  EXPECT_EQ(items[0]["errors"][0]["statusCode"], "ALL_OR_NONE_OPERATION_ROLLED_BACK");
  EXPECT_EQ(items[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
  auto count = json::parse(get(v + "/query?q=SELECT%20COUNT()%20FROM%20Account")->body);
  EXPECT_EQ(count["totalSize"], 0);

  body["allOrNone"] = false;
  items = json::parse(send("POST", v + "/composite/sobjects", body)->body);
  ASSERT_EQ(items[0]["success"], true);
  EXPECT_EQ(items[1]["success"], false);
  std::string id = items[0]["id"];
  auto upd = send("PATCH", v + "/composite/sobjects",
                  {{"records", {{{"attributes", {{"type", "Account"}}}, {"id", id}, {"Name", "B"}}}}});
  EXPECT_EQ(json::parse(upd->body)[0]["success"], true);
  auto del = client_->Delete((v + "/composite/sobjects?ids=" + id + ",001000000000009AAA").c_str(), headers_);
  auto del_items = json::parse(del->body);
  EXPECT_EQ(del_items[0]["success"], true);
  EXPECT_EQ(del_items[1]["success"], false);

  json big = {{"records", json::array()}};
  for (int i = 0; i < 201; ++i)
    big["records"].push_back({{"attributes", {{"type", "Account"}}}, {"Name", "x"}});
  expect_error(send("POST", v + "/composite/sobjects", big), 400, "EXCEEDED_ID_LIMIT");
}

TEST_F(sfemu_test, query_paging_snapshots_and_query_all) {
  use(login());
  std::string csv = "Name,NumberOfEmployees\n";
  for (int i = 0; i < 2500; ++i)
    csv += "Acct " + std::to_string(i) + "," + std::to_string(i) + "\n";
  auto loaded = client_->Post("/__sfemu/records/Account?ids=false", csv, "text/csv");
  ASSERT_EQ(loaded->status, 201) << loaded->body;
  EXPECT_EQ(json::parse(loaded->body)["created"], 2500);

  auto first = get(v + "/query?q=SELECT%20Id,Name%20FROM%20Account%20ORDER%20BY%20NumberOfEmployees",
                   {{"Sforce-Query-Options", "batchSize=1000"}});
  ASSERT_EQ(first->status, 200) << first->body;
  auto page = json::parse(first->body);
  EXPECT_EQ(page["totalSize"], 2500);
  EXPECT_EQ(page["done"], false);
  EXPECT_EQ(page["records"].size(), 1000u);
  EXPECT_EQ(page["records"][0]["Name"], "Acct 0");
  std::string next = page["nextRecordsUrl"];
  ASSERT_EQ(next.rfind(v + "/query/01g", 0), 0u) << next;
  ASSERT_EQ(next.substr(next.size() - 5), "-1000");
  std::string locator = next.substr(next.rfind('/') + 1);

  // the snapshot: a record deleted after the query opened still counts, changes show
  auto all_ids = json::parse(get(v + "/query?q=SELECT%20Id%20FROM%20Account%20WHERE%20NumberOfEmployees=1500")->body);
  std::string mid_id = all_ids["records"][0]["Id"];
  send("PATCH", v + "/sobjects/Account/" + mid_id, {{"Name", "Changed"}});

  // the locator works under queryAll and another version
  auto second = json::parse(get("/services/data/v58.0/queryAll/" + locator, {{"Sforce-Query-Options", "batchSize=1000"}})->body);
  EXPECT_EQ(second["records"].size(), 1000u);
  EXPECT_EQ(second["records"][500]["Name"], "Changed");
  std::string next2 = second["nextRecordsUrl"];
  auto third = json::parse(get(next2)->body);
  EXPECT_EQ(third["done"], true);
  EXPECT_EQ(third["records"].size(), 500u);
  EXPECT_FALSE(third.contains("nextRecordsUrl"));
  expect_error(get(next2), 400, "INVALID_QUERY_LOCATOR"); // closed after the last page
  expect_error(get(v + "/query/garbage"), 400, "INVALID_QUERY_LOCATOR");

  // queryAll sees the recycle bin
  EXPECT_EQ(send("DELETE", v + "/sobjects/Account/" + mid_id, json())->status, 204);
  auto q = json::parse(get(v + "/query?q=SELECT%20COUNT()%20FROM%20Account")->body);
  EXPECT_EQ(q["totalSize"], 2499);
  auto qa = json::parse(get(v + "/queryAll?q=SELECT%20Id,IsDeleted%20FROM%20Account%20WHERE%20IsDeleted=true")->body);
  ASSERT_EQ(qa["totalSize"], 1);
  EXPECT_EQ(qa["records"][0]["Id"], mid_id);

  expect_error(get(v + "/query?q=SELEKT%20Id%20FROM%20Account"), 400, "MALFORMED_QUERY");
  expect_error(get(v + "/query?q=SELECT%20Nope%20FROM%20Account"), 400, "INVALID_FIELD");
  expect_error(get(v + "/query?q=SELECT%20Id%20FROM%20Nope"), 400, "INVALID_TYPE");
}

TEST_F(sfemu_test, legacy_cursors_release_the_oldest) {
  use(login());
  std::string csv = "Name\n";
  for (int i = 0; i < 500; ++i)
    csv += "A" + std::to_string(i) + "\n";
  client_->Post("/__sfemu/records/Account?ids=false", csv, "text/csv");
  auto open = [&](const std::string& version) {
    auto r = json::parse(get("/services/data/" + version + "/query?q=SELECT%20Id%20FROM%20Account",
                             {{"Sforce-Query-Options", "batchSize=200"}})->body);
    return r["nextRecordsUrl"].get<std::string>();
  };
  std::vector<std::string> legacy;
  for (int i = 0; i < 11; ++i)
    legacy.push_back(open("v55.0"));
  expect_error(get(legacy[0]), 400, "INVALID_QUERY_LOCATOR");
  for (int i = 1; i < 11; ++i)
    EXPECT_EQ(get(legacy[static_cast<std::size_t>(i)])->status, 200) << i;

  std::vector<std::string> modern;
  for (int i = 0; i < 12; ++i)
    modern.push_back(open("v60.0"));
  for (auto& url : modern)
    EXPECT_EQ(get(url)->status, 200);

  // idle legacy cursors expire after 15 minutes of the org clock
  auto idle = open("v55.0");
  control("POST", "/__sfemu/clock", {{"advance_seconds", 15 * 60 + 1}});
  expect_error(get(idle), 400, "INVALID_QUERY_LOCATOR");

  control("POST", "/__sfemu/settings", {{"legacy_cursors", "always"}});
  std::vector<std::string> forced;
  for (int i = 0; i < 11; ++i)
    forced.push_back(open("v60.0"));
  expect_error(get(forced[0]), 400, "INVALID_QUERY_LOCATOR");
}

TEST_F(sfemu_test, sessions_expire_and_limits_are_enforced) {
  start({"--session-seconds", "60", "--api-limit", "5"});
  use(login());
  auto ok = get(v + "/limits");
  ASSERT_EQ(ok->status, 200);
  EXPECT_EQ(ok->get_header_value("Sforce-Limit-Info"), "api-usage=1/5");
  EXPECT_EQ(json::parse(ok->body)["DailyApiRequests"]["Max"], 5);
  control("POST", "/__sfemu/clock", {{"advance_seconds", 61}});
  expect_error(get(v + "/limits"), 401, "INVALID_SESSION_ID");

  use(login());
  EXPECT_EQ(get(v + "/limits")->status, 200);
  control("POST", "/__sfemu/sessions/expire");
  expect_error(get(v + "/limits"), 401, "INVALID_SESSION_ID");

  use(login());
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(get(v + "/sobjects")->status, 200);
  auto over = get(v + "/sobjects");
  expect_error(over, 403, "REQUEST_LIMIT_EXCEEDED");
  EXPECT_EQ(json::parse(over->body)[0]["message"], "TotalRequests Limit exceeded.");
  control("POST", "/__sfemu/settings", {{"api_limit", 100}});
  EXPECT_EQ(get(v + "/sobjects")->status, 200);
}

TEST_F(sfemu_test, fault_injection_and_counters) {
  use(login());
  control("POST", "/__sfemu/counters/reset");
  auto added = control("POST", "/__sfemu/faults",
                       {{"route", "/query"}, {"status", 503}, {"error_code", "SERVER_UNAVAILABLE"}, {"count", 2}});
  EXPECT_EQ(added["ids"].size(), 1u);
  std::string q = v + "/query?q=SELECT%20Id%20FROM%20Account";
  expect_error(get(q), 503, "SERVER_UNAVAILABLE");
  expect_error(get(q), 503, "SERVER_UNAVAILABLE");
  EXPECT_EQ(get(q)->status, 200);
  EXPECT_EQ(control("GET", "/__sfemu/faults")["faults"][0]["hits"], 2);

  control("POST", "/__sfemu/faults", {{"route", "sobjects"}, {"action", "unauthorized"}, {"count", 1}});
  expect_error(get(v + "/sobjects"), 401, "INVALID_SESSION_ID");
  EXPECT_EQ(get(v + "/sobjects")->status, 200);
  control("POST", "/__sfemu/faults", {{"route", "limits"}, {"action", "limit"}, {"count", 1}});
  expect_error(get(v + "/limits"), 403, "REQUEST_LIMIT_EXCEEDED");
  control("POST", "/__sfemu/faults", {{"route", "recordCount"}, {"action", "drop"}, {"count", 1}});
  auto dropped = get(v + "/limits/recordCount");
  EXPECT_TRUE(!dropped || dropped->body.empty() || dropped->status != 200);
  EXPECT_EQ(get(v + "/limits/recordCount")->status, 200);
  control("DELETE", "/__sfemu/faults");

  auto counters = control("GET", "/__sfemu/counters");
  EXPECT_EQ(counters["by_route"]["query"], 1);
  EXPECT_EQ(counters["by_route"]["sobjects"], 1);
  EXPECT_EQ(counters["by_route"]["limits/recordCount"], 1);
  EXPECT_EQ(counters["by_user"]["admin@sfemu.local"], counters["total"]);
  auto bad = client_->Post("/__sfemu/faults", "{\"route\":\"(\"}", "application/json");
  EXPECT_EQ(bad->status, 400);
}

TEST_F(sfemu_test, a_faulted_request_with_a_large_body_does_not_poison_the_next_one) {
  // The fault answers before the body is read; a kept-alive connection would
  // then parse the unread body as the next request.
  use(login());
  client_->set_keep_alive(true); // one connection for every request below
  control("POST", "/__sfemu/faults", {{"route", "composite/sobjects"}, {"status", 503}, {"count", 1}});
  json records = json::array();
  for (int i = 0; i < 100; ++i)
    records.push_back({{"attributes", {{"type", "Account"}}}, {"Name", std::string(200, 'x')}});
  auto faulted = send("POST", v + "/composite/sobjects", {{"records", records}});
  expect_error(faulted, 503, "SERVER_UNAVAILABLE");
  auto next = send("POST", v + "/composite/sobjects", {{"records", records}});
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200) << next->body;
  EXPECT_EQ(get(v + "/limits")->status, 200);
}

TEST_F(sfemu_test, control_api_loads_100k_records) {
  use(login());
  std::string csv;
  csv.reserve(4'000'000);
  csv += "Name,NumberOfEmployees,Industry,AnnualRevenue\n";
  for (int i = 0; i < 100000; ++i)
    csv += "Account " + std::to_string(i) + "," + std::to_string(i % 1000) + ",Energy,1234.5\n";
  auto r = client_->Post("/__sfemu/records/Account?ids=false", csv, "text/csv");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  auto counts = json::parse(get(v + "/limits/recordCount?sObjects=Account,Contact")->body);
  EXPECT_EQ(counts["sObjects"][0]["count"], 100000);
  EXPECT_EQ(counts["sObjects"][1]["count"], 0);
  auto filtered = json::parse(get(v + "/query?q=SELECT%20COUNT()%20FROM%20Account%20WHERE%20NumberOfEmployees%20<%2010")->body);
  EXPECT_EQ(filtered["totalSize"], 1000);
  control("POST", "/__sfemu/reset");
  counts = json::parse(get(v + "/limits/recordCount?sObjects=Account")->body);
  EXPECT_EQ(counts["sObjects"][0]["count"], 0);
}

TEST_F(sfemu_test, bad_input_gets_salesforce_errors) {
  use(login());
  expect_error(client_->Post((v + "/sobjects/Account").c_str(), headers_, "{\"Name\":", "application/json"), 400,
               "JSON_PARSER_ERROR");
  expect_error(client_->Post((v + "/sobjects/Account").c_str(), headers_, "[1,2]", "application/json"), 400,
               "JSON_PARSER_ERROR");
  expect_error(client_->Post((v + "/composite/sobjects").c_str(), headers_, "{}", "application/json"), 400,
               "JSON_PARSER_ERROR");
  expect_error(get(v + "/nothing/here"), 404, "NOT_FOUND");
  expect_error(get("/totally/unknown"), 404, "NOT_FOUND");
  expect_error(client_->Put((v + "/sobjects/Account").c_str(), headers_, "{}", "application/json"), 405,
               "METHOD_NOT_ALLOWED");
  expect_error(get(v + "/sobjects/Account/%00%ff"), 404, "NOT_FOUND");
  expect_error(get(v + "/query?q=SELECT%20Id%20FROM%20Account%20WHERE%20Name%20%3D%20%27unterminated"), 400, "MALFORMED_QUERY");
  expect_error(get(v + "/sobjects/Account/updated/?start=yesterday&end=today"), 400, "INVALID_REPLICATION_DATE");
  httplib::Headers junk = {{"Authorization", "Bearer \x01\x02"}};
  expect_error(client_->Get((v + "/limits").c_str(), junk), 401, "INVALID_SESSION_ID");
  auto bad_csv = client_->Post("/__sfemu/records/Account", "Name\n\"unterminated\n", "text/csv");
  EXPECT_EQ(bad_csv->status, 400);
  auto bad_schema = client_->Post("/__sfemu/schema", "{\"objects\":[{\"name\":\"X__c\",\"fields\":[{\"name\":\"Y__c\",\"type\":\"nope\"}]}]}",
                                  "application/json");
  expect_error(bad_schema, 400, "INVALID_SCHEMA");
  // the server is still healthy
  EXPECT_EQ(get(v + "/limits")->status, 200);
}

TEST_F(sfemu_test, updated_and_deleted_replication) {
  use(login());
  control("POST", "/__sfemu/clock", {{"set", "2024-03-01T10:00:00Z"}, {"freeze", true}});
  auto a = json::parse(send("POST", v + "/sobjects/Account", {{"Name", "A"}})->body)["id"].get<std::string>();
  auto b = json::parse(send("POST", v + "/sobjects/Account", {{"Name", "B"}})->body)["id"].get<std::string>();
  control("POST", "/__sfemu/clock", {{"advance_seconds", 120}});
  send("DELETE", v + "/sobjects/Account/" + b, json());
  auto updated = json::parse(get(v + "/sobjects/Account/updated/?start=2024-03-01T09:00:00Z&end=2024-03-01T11:00:00Z")->body);
  EXPECT_EQ(updated["ids"], json::array({a}));
  EXPECT_EQ(updated["latestDateCovered"], "2024-03-01T10:02:00.000+0000");
  auto deleted = json::parse(get(v + "/sobjects/Account/deleted/?start=2024-03-01T09:00:00%2B00:00&end=2024-03-01T11:00:00Z")->body);
  ASSERT_EQ(deleted["deletedRecords"].size(), 1u);
  EXPECT_EQ(deleted["deletedRecords"][0]["id"], b);
  EXPECT_EQ(deleted["deletedRecords"][0]["deletedDate"], "2024-03-01T10:02:00.000+0000");
}

TEST_F(sfemu_test, concurrent_clients_are_served_consistently) {
  std::string token = login();
  std::vector<std::thread> workers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 6; ++t)
    workers.emplace_back([&, t] {
      httplib::Client c(emu_->base_url());
      httplib::Headers h = {{"Authorization", "Bearer " + token}};
      for (int i = 0; i < 40; ++i) {
        json rec = {{"LastName", "T" + std::to_string(t) + "-" + std::to_string(i)}};
        auto r = c.Post((v + "/sobjects/Contact").c_str(), h, rec.dump(), "application/json");
        if (!r || r->status != 201)
          ++failures;
        auto q = c.Get((v + "/query?q=SELECT%20Id,Name%20FROM%20Contact").c_str(), h);
        if (!q || q->status != 200)
          ++failures;
      }
    });
  for (auto& w : workers)
    w.join();
  EXPECT_EQ(failures, 0);
  use(token);
  auto count = json::parse(get(v + "/query?q=SELECT%20COUNT()%20FROM%20Contact")->body);
  EXPECT_EQ(count["totalSize"], 240);
}

TEST_F(sfemu_test, concurrent_request_limit) {
  use(login());
  control("POST", "/__sfemu/settings", {{"concurrent_limit", 1}});
  control("POST", "/__sfemu/faults", {{"route", "/limits$"}, {"latency_ms", 1500}, {"count", 1}});
  int slow_status = 0;
  std::thread holder([&] {
    httplib::Client c(emu_->base_url());
    auto r = c.Get((v + "/limits").c_str(), headers_);
    slow_status = r ? r->status : -1;
  });
  // the slow request is in flight once its fault has been hit
  ASSERT_TRUE(wait_until([&] { return control("GET", "/__sfemu/faults")["faults"][0]["hits"] == 1; },
                         std::chrono::seconds(10)));
  auto over = get(v + "/sobjects");
  holder.join();
  expect_error(over, 403, "REQUEST_LIMIT_EXCEEDED");
  EXPECT_EQ(json::parse(over->body)[0]["message"], "ConcurrentRequests (Concurrent API Requests) Limit exceeded.");
  EXPECT_EQ(slow_status, 200);
  EXPECT_EQ(get(v + "/sobjects")->status, 200);
}

TEST_F(sfemu_test, sigterm_stops_cleanly) {
  ASSERT_TRUE(emu_->process().signal(SIGTERM));
  auto code = emu_->process().wait_exit(std::chrono::seconds(10));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
}

TEST_F(sfemu_test, describe_has_the_standard_fields_a_user_mapping_needs) {
  // A describe-driven client mapping User stopped at "Field Phone not found" (and UserRoleId).
  use(login());
  auto r = get(v + "/sobjects/User/describe");
  ASSERT_EQ(r->status, 200);
  const json describe = json::parse(r->body);  // (a temporary's subobject would dangle in the loop)
  std::map<std::string, json> fields;
  for (auto& f : describe["fields"])
    fields[f["name"].get<std::string>()] = f;
  ASSERT_TRUE(fields.count("Phone"));
  EXPECT_EQ(fields["Phone"]["type"], "phone");
  EXPECT_EQ(fields["Phone"]["length"], 40);
  ASSERT_TRUE(fields.count("UserRoleId"));
  EXPECT_EQ(fields["UserRoleId"]["referenceTo"], json::array({"UserRole"}));
  EXPECT_EQ(fields["UserRoleId"]["relationshipName"], "UserRole");
  auto global = json::parse(get(v + "/sobjects")->body);
  std::set<std::string> names;
  for (auto& o : global["sobjects"])
    names.insert(o["name"].get<std::string>());
  for (auto* name : {"Account", "Contact", "Lead", "Opportunity", "OpportunityLineItem", "Case", "User", "Campaign",
                     "CampaignMember", "Task", "Event", "Product2", "Pricebook2", "PricebookEntry", "Order", "Asset",
                     "Contract"})
    EXPECT_TRUE(names.count(name)) << name;
  auto q = get(v + "/query?q=SELECT%20Id,Profile.Name%20FROM%20User");
  ASSERT_EQ(q->status, 200) << q->body;
  EXPECT_EQ(json::parse(q->body)["records"][0]["Profile"]["Name"], "System Administrator");
}

TEST_F(sfemu_test, datetimes_are_whole_seconds_unless_milliseconds_are_asked_for) {
  use(login());
  // Freeze first, then set: "set" then "freeze" in one call would let a millisecond pass between them.
  control("POST", "/__sfemu/clock", {{"freeze", true}});
  control("POST", "/__sfemu/clock", {{"set", "2024-01-01T00:00:00.250Z"}});
  auto created = send("POST", v + "/sobjects/Account", {{"Name", "A"}});
  ASSERT_EQ(created->status, 201) << created->body;
  std::string id = json::parse(created->body)["id"];
  auto read = json::parse(get(v + "/sobjects/Account/" + id)->body);
  EXPECT_EQ(read["SystemModstamp"], "2024-01-01T00:00:00.000+0000");
  EXPECT_EQ(control("GET", "/__sfemu/settings")["millisecond_datetimes"], false);
  EXPECT_EQ(control("POST", "/__sfemu/settings", {{"millisecond_datetimes", true}})["millisecond_datetimes"], true);
  auto patched = send("PATCH", v + "/sobjects/Account/" + id, {{"Name", "B"}});
  ASSERT_EQ(patched->status, 204);
  read = json::parse(get(v + "/sobjects/Account/" + id)->body);
  EXPECT_EQ(read["SystemModstamp"], "2024-01-01T00:00:00.250+0000");
  // a bad value changes nothing
  auto bad = client_->Post("/__sfemu/settings", R"({"millisecond_datetimes": "yes"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(control("GET", "/__sfemu/settings")["millisecond_datetimes"], true);

  // The command-line flag starts an org that keeps milliseconds.
  start({"--millisecond-datetimes"});
  EXPECT_EQ(control("GET", "/__sfemu/settings")["millisecond_datetimes"], true);
}
