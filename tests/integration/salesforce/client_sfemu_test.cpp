// The Salesforce client against the real sfemu binary over HTTP.
#include "salesforce/client.hpp"
#include "salesforce/jwt.hpp"
#include "salesforce/shared_session.hpp"
#include "tests/support/sfemu.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <fstream>
#include <atomic>
#include <set>
#include <thread>
#include <unistd.h>

using namespace syncforce::salesforce;
using syncforce::testing::sfemu_process;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// Test-side calls to sfemu's control API (no auth).
class control_api {
public:
  explicit control_api(std::string base) : base_(std::move(base)) {}

  json call(const std::string& method, const std::string& path, const json& body = nullptr) {
    http_request req;
    req.method = method;
    req.url = base_ + path;
    std::string payload;
    if (!body.is_null()) {
      payload = body.dump();
      req.body = payload;
      req.headers.emplace_back("Content-Type", "application/json");
    }
    auto r = http_.perform(req);
    EXPECT_FALSE(r.transport_failed()) << r.error_message;
    EXPECT_GE(r.status, 200) << method << " " << path << ": " << r.body;
    EXPECT_LT(r.status, 300) << method << " " << path << ": " << r.body;
    auto j = json::parse(r.body, nullptr, false);
    return j.is_discarded() ? json() : j;
  }

  /// Loads records straight into the org; their ids.
  std::vector<std::string> load(const std::string& object, const json& records) {
    auto r = call("POST", "/__sfemu/records/" + object, records);
    std::vector<std::string> ids;
    for (auto& id : r["ids"])
      ids.push_back(id.get<std::string>());
    return ids;
  }

private:
  std::string base_;
  curl_transport http_;
};

client_config password_config(const sfemu_process& emu) {
  client_config cfg;
  cfg.login_url = emu.base_url();
  cfg.client_name = "syncforce-it";
  password_credentials pw;
  pw.client_id = "syncforce";
  pw.client_secret = secret("s3cret");
  pw.username = "admin@sfemu.local";
  pw.password = secret("sfemu");
  cfg.creds = pw;
  cfg.retry.base_delay = 20ms; // real sleeps: keep them short
  cfg.retry.max_delay = 200ms;
  cfg.http.connect_timeout = 2000ms;
  cfg.http.request_timeout = 30000ms;
  return cfg;
}

long count_of(client& sf, const std::string& soql) {
  auto cursor = sf.query(soql);
  auto page = cursor.next_page();
  EXPECT_TRUE(page) << (page ? "" : page.error().describe());
  return page ? page->total_size : -1;
}

class salesforce_client_sfemu : public ::testing::Test {
protected:
  sfemu_process emu_;
  control_api control_{emu_.base_url()};
};

} // namespace

// ---- auth ------------------------------------------------------------------------

TEST_F(salesforce_client_sfemu, password_login_gives_a_session) {
  client sf(password_config(emu_));
  auto r = sf.login();
  ASSERT_TRUE(r) << r.error();
  auto& s = sf.current_session();
  EXPECT_TRUE(s.valid());
  EXPECT_EQ(s.instance_url, emu_.base_url());
  EXPECT_EQ(s.org_id.substr(0, 3), "00D");
  EXPECT_EQ(s.user_id.substr(0, 3), "005");
  auto limits = sf.limits();
  ASSERT_TRUE(limits) << limits.error();
  bool daily = false;
  for (auto& l : *limits)
    daily = daily || (l.name == "DailyApiRequests" && l.max > 0);
  EXPECT_TRUE(daily);
  ASSERT_TRUE(sf.last_api_usage());
  EXPECT_GT(sf.last_api_usage()->max, 0);
  EXPECT_GT(sf.last_api_usage()->used, 0);

  // Logging out revokes the token; the next call logs in again on its own.
  auto old_token = sf.current_session().access_token;
  ASSERT_TRUE(sf.logout());
  EXPECT_FALSE(sf.current_session().valid());
  ASSERT_TRUE(sf.describe("Account"));
  EXPECT_NE(sf.current_session().access_token, old_token);
}

TEST_F(salesforce_client_sfemu, wrong_password_is_an_auth_error) {
  auto cfg = password_config(emu_);
  std::get<password_credentials>(cfg.creds).password = secret("wrong-password");
  client sf(cfg);
  auto r = sf.login();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::auth);
  EXPECT_EQ(r.error().code, "invalid_grant");
  EXPECT_EQ(r.error().describe().find("wrong-password"), std::string::npos);
  // A call without a session fails the same way, and is not retried.
  auto d = sf.describe_global();
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().kind, error_kind::auth);
}

namespace {

struct pem_pair {
  std::string private_pem;
  std::string public_pem;
};

pem_pair generate_rsa() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  pem_pair out;
  auto text = [](BIO* b) {
    char* d = nullptr;
    long n = BIO_get_mem_data(b, &d);
    return std::string(d, static_cast<size_t>(n));
  };
  BIO* a = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(a, key, nullptr, nullptr, 0, nullptr, nullptr);
  out.private_pem = text(a);
  BIO_free(a);
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(b, key);
  out.public_pem = text(b);
  BIO_free(b);
  EVP_PKEY_free(key);
  return out;
}

} // namespace

TEST(salesforce_client_sfemu_jwt, jwt_bearer_login) {
  auto keys = generate_rsa();
  char path[] = "/tmp/sfemu-jwt-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, keys.public_pem.data(), keys.public_pem.size()),
            static_cast<ssize_t>(keys.public_pem.size()));
  close(fd);
  sfemu_process emu({"--jwt-cert", path});

  client_config cfg;
  cfg.login_url = emu.base_url();
  jwt_credentials jc;
  jc.client_id = "syncforce-consumer";
  jc.username = "admin@sfemu.local";
  jc.private_key_pem = secret(keys.private_pem);
  cfg.creds = jc;
  client sf(cfg);
  auto r = sf.login();
  ASSERT_TRUE(r) << r.error();
  EXPECT_FALSE(sf.current_session().org_id.empty());
  auto d = sf.describe("Account");
  ASSERT_TRUE(d) << d.error();

  // Signed by another key: refused.
  auto other = generate_rsa();
  jc.private_key_pem = secret(other.private_pem);
  cfg.creds = jc;
  client bad(cfg);
  auto refused = bad.login();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, error_kind::auth);
  std::remove(path);
}

// ---- describe --------------------------------------------------------------------

TEST_F(salesforce_client_sfemu, describe_global_and_object) {
  client sf(password_config(emu_));
  auto g = sf.describe_global();
  ASSERT_TRUE(g) << g.error();
  ASSERT_NE(g->find("Account"), nullptr);
  EXPECT_EQ(g->find("Account")->key_prefix, "001");
  ASSERT_NE(g->find("Contact"), nullptr);

  auto d = sf.describe("Contact");
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->name, "Contact");
  auto* id = d->find_field("Id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->type, "id");
  auto* account = d->find_field("AccountId");
  ASSERT_NE(account, nullptr);
  EXPECT_EQ(account->type, "reference");
  EXPECT_EQ(account->reference_to, std::vector<std::string>{"Account"});
  EXPECT_EQ(account->relationship_name, "Account");
  auto* last = d->find_field("LastName");
  ASSERT_NE(last, nullptr);
  EXPECT_TRUE(last->required_on_create());
  auto* modstamp = d->find_field("SystemModstamp");
  ASSERT_NE(modstamp, nullptr);
  EXPECT_EQ(modstamp->type, "datetime");
  EXPECT_FALSE(modstamp->createable);

  auto missing = sf.describe("NoSuchThing__c");
  ASSERT_FALSE(missing);
  EXPECT_TRUE(missing.error().kind == error_kind::not_found || missing.error().kind == error_kind::invalid_type)
    << missing.error();
}

// ---- query -----------------------------------------------------------------------

TEST_F(salesforce_client_sfemu, streamed_query_over_5000_records_in_batches) {
  json records = json::array();
  for (int i = 0; i < 5200; ++i)
    records.push_back({{"Name", "Acct " + std::to_string(i)}, {"NumberOfEmployees", i}});
  ASSERT_EQ(control_.load("Account", records).size(), 5200u);

  auto cfg = password_config(emu_);
  cfg.query_batch_size = 500;
  client sf(cfg);
  auto cursor = sf.query("SELECT Id, Name, NumberOfEmployees FROM Account");
  std::set<std::string> ids;
  long pages = 0;
  long employees_sum = 0;
  size_t largest_page = 0;
  while (!cursor.done()) {
    auto page = cursor.next_page();
    ASSERT_TRUE(page) << page.error();
    ++pages;
    largest_page = std::max(largest_page, page->records.size());
    for (auto& r : page->records) {
      EXPECT_EQ(r.sobject_type, "Account");
      ids.insert(std::string(r.text("Id")));
      auto* n = r.find("NumberOfEmployees");
      ASSERT_NE(n, nullptr);
      ASSERT_EQ(n->type, value_type::number);
      employees_sum += std::stol(n->text);
    }
    if (!cursor.done()) {
      EXPECT_TRUE(cursor.open());
      EXPECT_FALSE(cursor.locator().empty());
      auto open = control_.call("GET", "/__sfemu/cursors");
      EXPECT_GE(open["open"].get<long>(), 1);
    }
  }
  EXPECT_EQ(cursor.total_size(), 5200);
  EXPECT_EQ(ids.size(), 5200u);
  EXPECT_EQ(largest_page, 500u);
  EXPECT_EQ(pages, 11);
  EXPECT_EQ(employees_sum, 5199L * 5200L / 2);
}

TEST_F(salesforce_client_sfemu, relationship_fields_come_flattened) {
  auto accounts = control_.load("Account", json::array({{{"Name", "Parent Co"}}}));
  ASSERT_EQ(accounts.size(), 1u);
  control_.load("Contact", json::array({{{"LastName", "Child"}, {"AccountId", accounts[0]}},
                                        {{"LastName", "Orphan"}}}));
  client sf(password_config(emu_));
  auto cursor = sf.query("SELECT Id, LastName, Account.Name FROM Contact ORDER BY LastName");
  auto page = cursor.next_page();
  ASSERT_TRUE(page) << page.error();
  ASSERT_EQ(page->records.size(), 2u);
  EXPECT_EQ(page->records[0].text("LastName"), "Child");
  EXPECT_EQ(page->records[0].text("Account.Name"), "Parent Co");
  EXPECT_EQ(page->records[1].text("LastName"), "Orphan");
  auto* orphan_account = page->records[1].find("Account");
  ASSERT_NE(orphan_account, nullptr);
  EXPECT_TRUE(orphan_account->is_null());
}

TEST_F(salesforce_client_sfemu, query_all_sees_deleted_records) {
  client sf(password_config(emu_));
  std::vector<json> recs;
  for (int i = 0; i < 5; ++i)
    recs.push_back({{"Name", "Del " + std::to_string(i)}});
  auto created = sf.create("Account", recs);
  ASSERT_TRUE(created) << created.error();
  ASSERT_EQ(created->size(), 5u);
  std::vector<std::string> gone{(*created)[0].id, (*created)[1].id};
  auto removed = sf.remove(gone);
  ASSERT_TRUE(removed) << removed.error();
  EXPECT_TRUE((*removed)[0].success);
  EXPECT_TRUE((*removed)[1].success);

  EXPECT_EQ(count_of(sf, "SELECT Id FROM Account WHERE Name LIKE 'Del %'"), 3);
  auto all = sf.query_all("SELECT Id, IsDeleted FROM Account WHERE Name LIKE 'Del %'");
  std::set<std::string> deleted;
  long total = 0;
  while (!all.done()) {
    auto page = all.next_page();
    ASSERT_TRUE(page) << page.error();
    for (auto& r : page->records) {
      ++total;
      if (r.find("IsDeleted")->as_bool())
        deleted.insert(std::string(r.text("Id")));
    }
  }
  EXPECT_EQ(total, 5);
  EXPECT_EQ(deleted, (std::set<std::string>(gone.begin(), gone.end())));
}

TEST_F(salesforce_client_sfemu, query_errors_are_typed) {
  client sf(password_config(emu_));
  auto bad = sf.query("SELECT Id FORM Account");
  auto p = bad.next_page();
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().kind, error_kind::malformed_query) << p.error();
  auto field = sf.query("SELECT Foo FROM Account");
  auto q = field.next_page();
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().kind, error_kind::invalid_field) << q.error();
  EXPECT_EQ(q.error().http_status, 400);
}

TEST_F(salesforce_client_sfemu, legacy_cursor_limit_gives_invalid_query_locator) {
  json records = json::array();
  for (int i = 0; i < 250; ++i)
    records.push_back({{"Name", "C " + std::to_string(i)}});
  control_.load("Account", records);
  auto cfg = password_config(emu_);
  cfg.version = *api_version::parse("55.0");
  cfg.query_batch_size = 200;
  client sf(cfg);
  std::vector<query_cursor> cursors;
  for (int i = 0; i < 11; ++i) {
    cursors.push_back(sf.query("SELECT Id FROM Account"));
    auto page = cursors.back().next_page();
    ASSERT_TRUE(page) << page.error();
    ASSERT_TRUE(cursors.back().open());
  }
  auto stale = cursors.front().next_page();
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, error_kind::invalid_query_locator) << stale.error();
  auto fresh = cursors.back().next_page();
  ASSERT_TRUE(fresh) << fresh.error();
  EXPECT_TRUE(cursors.back().done());
}

// ---- collections -----------------------------------------------------------------

TEST_F(salesforce_client_sfemu, collection_with_a_bad_record) {
  client sf(password_config(emu_));
  std::vector<json> recs{{{"Name", "Good 1"}}, {{"Phone", "555"}}, {{"Name", "Good 2"}}};
  auto r = sf.create("Account", recs, false);
  ASSERT_TRUE(r) << r.error();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_TRUE((*r)[0].success);
  EXPECT_FALSE((*r)[0].id.empty());
  EXPECT_FALSE((*r)[1].success);
  ASSERT_FALSE((*r)[1].errors.empty());
  EXPECT_EQ((*r)[1].errors[0].status_code, "REQUIRED_FIELD_MISSING");
  EXPECT_EQ((*r)[1].errors[0].kind, error_kind::permanent_record_error);
  EXPECT_EQ((*r)[1].errors[0].fields, std::vector<std::string>{"Name"});
  EXPECT_TRUE((*r)[2].success);
  EXPECT_EQ(count_of(sf, "SELECT Id FROM Account WHERE Name LIKE 'Good %'"), 2);

  std::vector<json> all{{{"Name", "Atomic 1"}}, {{"Phone", "555"}}};
  auto a = sf.create("Account", all, true);
  ASSERT_TRUE(a) << a.error();
  EXPECT_FALSE((*a)[0].success);
  ASSERT_FALSE((*a)[0].errors.empty());
  EXPECT_EQ((*a)[0].errors[0].kind, error_kind::rolled_back);
  EXPECT_FALSE((*a)[1].success);
  EXPECT_EQ(count_of(sf, "SELECT Id FROM Account WHERE Name LIKE 'Atomic %'"), 0);

  // Update, with one record that no longer exists.
  auto upd = sf.update("Account", {json{{"Id", (*r)[0].id}, {"Name", "Good 1b"}}});
  ASSERT_TRUE(upd) << upd.error();
  EXPECT_TRUE((*upd)[0].success);
  EXPECT_EQ(count_of(sf, "SELECT Id FROM Account WHERE Name = 'Good 1b'"), 1);
}

TEST_F(salesforce_client_sfemu, upsert_by_external_id) {
  control_.call("POST", "/__sfemu/schema",
                {{"objects", json::array({{{"name", "Account"},
                                           {"fields", json::array({{{"name", "Ext__c"}, {"type", "string"},
                                                                    {"length", 40}, {"external_id", true},
                                                                    {"unique", true}}})}}})}});
  client sf(password_config(emu_));
  auto d = sf.describe("Account");
  ASSERT_TRUE(d) << d.error();
  ASSERT_NE(d->find_field("Ext__c"), nullptr);
  EXPECT_TRUE(d->find_field("Ext__c")->external_id);

  std::vector<json> recs{{{"Ext__c", "E-1"}, {"Name", "Upsert One"}}, {{"Ext__c", "E-2"}, {"Name", "Upsert Two"}}};
  auto first = sf.upsert("Account", "Ext__c", recs);
  ASSERT_TRUE(first) << first.error();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_TRUE((*first)[0].success);
  EXPECT_EQ((*first)[0].created, std::optional<bool>(true));
  recs[0]["Name"] = "Upsert One Again";
  auto second = sf.upsert("Account", "Ext__c", recs);
  ASSERT_TRUE(second) << second.error();
  EXPECT_EQ((*second)[0].created, std::optional<bool>(false));
  EXPECT_EQ((*second)[0].id, (*first)[0].id);
  EXPECT_EQ(count_of(sf, "SELECT Id FROM Account WHERE Ext__c != null"), 2);
}

// ---- sessions, faults, limits ----------------------------------------------------

TEST_F(salesforce_client_sfemu, reauthenticates_after_forced_session_expiry) {
  client sf(password_config(emu_));
  ASSERT_TRUE(sf.login());
  auto before = sf.current_session().access_token;
  ASSERT_TRUE(sf.describe("Account"));
  auto expired = control_.call("POST", "/__sfemu/sessions/expire");
  EXPECT_GE(expired["expired"].get<long>(), 1);
  auto d = sf.describe("Account");
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(sf.reauthentications(), 1);
  EXPECT_NE(sf.current_session().access_token, before);
}

TEST_F(salesforce_client_sfemu, session_expiry_mid_query_is_invisible) {
  json records = json::array();
  for (int i = 0; i < 450; ++i)
    records.push_back({{"Name", "M " + std::to_string(i)}});
  control_.load("Account", records);
  auto cfg = password_config(emu_);
  cfg.query_batch_size = 200;
  client sf(cfg);
  auto cursor = sf.query("SELECT Id FROM Account");
  long seen = 0;
  int page_no = 0;
  while (!cursor.done()) {
    auto page = cursor.next_page();
    ASSERT_TRUE(page) << page.error();
    seen += static_cast<long>(page->records.size());
    if (++page_no == 1)
      control_.call("POST", "/__sfemu/sessions/expire");
  }
  EXPECT_EQ(seen, 450);
  EXPECT_EQ(sf.reauthentications(), 1);
}

TEST_F(salesforce_client_sfemu, retries_through_injected_503s) {
  client sf(password_config(emu_));
  ASSERT_TRUE(sf.login());
  control_.call("POST", "/__sfemu/faults", {{"route", "/query"}, {"status", 503}, {"count", 2}});
  auto cursor = sf.query("SELECT Id FROM Account");
  auto page = cursor.next_page();
  ASSERT_TRUE(page) << page.error();
  EXPECT_EQ(sf.retries(), 2);

  // A create is not idempotent: its 503 comes back to the caller.
  control_.call("POST", "/__sfemu/faults", {{"route", "/composite/sobjects"}, {"status", 503}, {"count", 1}});
  auto created = sf.create("Account", {json{{"Name", "Not retried"}}});
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().kind, error_kind::transient);
  EXPECT_EQ(created.error().http_status, 503);
  EXPECT_EQ(sf.retries(), 2);
}

TEST_F(salesforce_client_sfemu, injected_401_triggers_one_relogin) {
  client sf(password_config(emu_));
  ASSERT_TRUE(sf.login());
  control_.call("POST", "/__sfemu/faults", {{"route", "/sobjects"}, {"action", "unauthorized"}, {"count", 1}});
  auto g = sf.describe_global();
  ASSERT_TRUE(g) << g.error();
  EXPECT_EQ(sf.reauthentications(), 1);
}

TEST_F(salesforce_client_sfemu, exhausted_budget_is_request_limit) {
  client sf(password_config(emu_));
  ASSERT_TRUE(sf.describe("Account"));
  auto settings = control_.call("GET", "/__sfemu/settings");
  long limit = settings["api_limit"].get<long>();
  control_.call("POST", "/__sfemu/settings", {{"api_used", limit}});
  auto r = sf.describe("Account");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::request_limit) << r.error();
  ASSERT_TRUE(sf.last_api_usage());
  EXPECT_EQ(sf.last_api_usage()->remaining(), 0);
}

TEST_F(salesforce_client_sfemu, record_counts) {
  json records = json::array();
  for (int i = 0; i < 7; ++i)
    records.push_back({{"Name", "R " + std::to_string(i)}});
  control_.load("Account", records);
  client sf(password_config(emu_));
  auto counts = sf.record_counts({"Account", "Contact"});
  ASSERT_TRUE(counts) << counts.error();
  long accounts = -1;
  for (auto& c : *counts)
    if (c.name == "Account")
      accounts = c.count;
  EXPECT_EQ(accounts, 7);
}

// ---- transport -------------------------------------------------------------------

TEST_F(salesforce_client_sfemu, one_kept_alive_connection_for_many_calls) {
  curl_transport http;
  for (int i = 0; i < 5; ++i) {
    http_request req;
    req.url = emu_.base_url() + "/services/data/";
    auto r = http.perform(req);
    ASSERT_EQ(r.status, 200) << r.error_message;
  }
  EXPECT_EQ(http.connections_opened(), 1);
}

TEST_F(salesforce_client_sfemu, timeouts_and_dropped_connections_are_retried) {
  auto cfg = password_config(emu_);
  cfg.http.request_timeout = 500ms;
  client sf(cfg);
  ASSERT_TRUE(sf.login());
  control_.call("POST", "/__sfemu/faults", {{"route", "/limits"}, {"latency_ms", 1500}, {"count", 1}});
  auto slow = sf.limits();
  ASSERT_TRUE(slow) << slow.error();
  EXPECT_EQ(sf.retries(), 1);

  control_.call("POST", "/__sfemu/faults", {{"route", "/sobjects"}, {"action", "drop"}, {"count", 1}});
  auto dropped = sf.describe_global();
  ASSERT_TRUE(dropped) << dropped.error();
  EXPECT_EQ(sf.retries(), 2);
}

TEST_F(salesforce_client_sfemu, threads_share_one_login_and_one_relogin) {
  shared_session shared(password_config(emu_));
  constexpr int threads = 4;
  std::vector<std::unique_ptr<client>> clients;
  for (int i = 0; i < threads; ++i) {
    clients.push_back(std::make_unique<client>(password_config(emu_)));
    shared.attach(*clients.back());
  }
  std::atomic<int> failures{0};
  auto phase = [&] {
    std::vector<std::thread> workers;
    for (int i = 0; i < threads; ++i)
      workers.emplace_back([&, i] {
        for (int k = 0; k < 5; ++k)
          if (!clients[static_cast<size_t>(i)]->describe("Account"))
            ++failures;
      });
    for (auto& w : workers)
      w.join();
  };
  phase();
  EXPECT_EQ(shared.logins(), 1);
  control_.call("POST", "/__sfemu/sessions/expire");
  phase();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(shared.logins(), 2);
  for (auto& c : clients)
    EXPECT_EQ(c->reauthentications(), 1);
}
