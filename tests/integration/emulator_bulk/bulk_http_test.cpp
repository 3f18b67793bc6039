// Bulk API 2.0 against the real sfemu binary over HTTP: ingest (insert with bad
// rows, upsert, delete, hardDelete), query jobs with maxRecords paging and the
// literal "null" locator, job states, errors and session expiry.
#include "sync/csv.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sfemu.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace csv = syncforce::csv;
using syncforce::testing::sfemu_process;
using syncforce::testing::wait_until;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* api = "/services/data/v60.0";

class bulk_http : public ::testing::Test {
protected:
  static void SetUpTestSuite() { emu_ = std::make_unique<sfemu_process>(); }
  static void TearDownTestSuite() { emu_.reset(); }

  void SetUp() override {
    cli_ = std::make_unique<httplib::Client>("127.0.0.1", emu_->port());
    cli_->set_read_timeout(30, 0);
    ASSERT_EQ(cli_->Post("/__sfemu/reset", "", "application/json")->status, 200);
    login();
  }

  void login() {
    auto r = cli_->Post("/services/oauth2/token",
                        "grant_type=password&client_id=bulk&client_secret=x&username=admin%40sfemu.local&password=sfemu",
                        "application/x-www-form-urlencoded");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    token_ = json::parse(r->body)["access_token"].get<std::string>();
  }

  httplib::Headers auth() const { return {{"Authorization", "Bearer " + token_}}; }

  json post_json(const std::string& path, const json& body, int expect = 200) {
    auto r = cli_->Post(path.c_str(), auth(), body.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r)
      return {};
    EXPECT_EQ(r->status, expect) << path << ": " << r->body;
    return json::parse(r->body, nullptr, false);
  }

  json get_json(const std::string& path, int expect = 200) {
    auto r = cli_->Get(path.c_str(), auth());
    EXPECT_TRUE(r);
    if (!r)
      return {};
    EXPECT_EQ(r->status, expect) << path << ": " << r->body;
    return json::parse(r->body, nullptr, false);
  }

  std::string create_ingest(const json& body) {
    auto info = post_json(std::string(api) + "/jobs/ingest", body);
    EXPECT_EQ(info["state"], "Open");
    EXPECT_EQ(info["jobType"], "V2Ingest");
    return info["id"].get<std::string>();
  }

  void upload(const std::string& id, const std::string& data) {
    auto r = cli_->Put((std::string(api) + "/jobs/ingest/" + id + "/batches").c_str(), auth(), data, "text/csv");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
    EXPECT_TRUE(r->body.empty());
  }

  json close_and_wait(const std::string& id, const std::string& kind = "ingest") {
    if (kind == "ingest") {
      auto r = cli_->Patch((std::string(api) + "/jobs/ingest/" + id).c_str(), auth(),
                           R"({"state":"UploadComplete"})", "application/json");
      EXPECT_TRUE(r && r->status == 200);
    }
    json info;
    bool done = wait_until(
        [&] {
          info = get_json(std::string(api) + "/jobs/" + kind + "/" + id);
          auto s = info.value("state", "");
          return s == "JobComplete" || s == "Failed" || s == "Aborted";
        },
        30s, 20ms);
    EXPECT_TRUE(done) << info.dump();
    return info;
  }

  std::vector<std::vector<std::optional<std::string>>> get_csv(const std::string& path,
                                                               httplib::Headers* headers = nullptr) {
    auto r = cli_->Get(path.c_str(), auth());
    EXPECT_TRUE(r);
    if (!r)
      return {};
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/csv");
    if (headers)
      *headers = r->headers;
    auto parsed = csv::parse_all(r->body);
    EXPECT_TRUE(parsed.ok()) << parsed.error->to_string();
    return parsed.doc.rows;
  }

  static std::unique_ptr<sfemu_process> emu_;
  std::unique_ptr<httplib::Client> cli_;
  std::string token_;
};

std::unique_ptr<sfemu_process> bulk_http::emu_;

} // namespace

TEST_F(bulk_http, insert_ten_thousand_records_with_bad_rows) {
  auto id = create_ingest({{"object", "Account"}, {"operation", "insert"}, {"contentType", "CSV"}});
  ASSERT_EQ(id.substr(0, 3), "750");
  csv::writer w;
  w.write_row({"Name", "Phone", "Description"});
  int bad = 0;
  for (int i = 0; i < 10000; ++i) {
    if (i % 1000 == 7) { // every thousandth row lacks its required Name
      w.empty_field();
      ++bad;
    } else {
      w.field("Account " + std::to_string(i));
    }
    if (i % 3 == 0)
      w.null_field(); // "#N/A": set the field to null
    else
      w.field("555-" + std::to_string(i));
    w.field("note, with \"quotes\" " + std::to_string(i));
    w.end_row();
  }
  upload(id, w.buffer());
  auto info = close_and_wait(id);
  EXPECT_EQ(info["state"], "JobComplete");
  EXPECT_EQ(info["numberRecordsProcessed"], 10000);
  EXPECT_EQ(info["numberRecordsFailed"], bad);

  auto ok = get_csv(std::string(api) + "/jobs/ingest/" + id + "/successfulResults");
  ASSERT_EQ(ok.size(), static_cast<std::size_t>(10000 - bad + 1));
  EXPECT_EQ(*ok[0][0], "sf__Id");
  EXPECT_EQ(*ok[0][1], "sf__Created");
  EXPECT_EQ(*ok[0][2], "Name");
  EXPECT_EQ(ok[1][0]->size(), 18u);
  EXPECT_EQ(*ok[1][1], "true");
  EXPECT_EQ(*ok[1][4], "note, with \"quotes\" 0");

  auto failed = get_csv(std::string(api) + "/jobs/ingest/" + id + "/failedResults");
  ASSERT_EQ(failed.size(), static_cast<std::size_t>(bad + 1));
  EXPECT_EQ(*failed[0][1], "sf__Error");
  EXPECT_EQ(*failed[1][1], "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --");
  EXPECT_EQ(*failed[1][3], "555-7");

  auto unprocessed = get_csv(std::string(api) + "/jobs/ingest/" + id + "/unprocessedrecords");
  EXPECT_EQ(unprocessed.size(), 1u);

  auto count = get_json(std::string(api) + "/query?q=SELECT%20COUNT()%20FROM%20Account");
  EXPECT_EQ(count["totalSize"], 10000 - bad);
  // #N/A became null
  auto nulls = get_json(std::string(api) + "/query?q=SELECT%20COUNT()%20FROM%20Account%20WHERE%20Phone%20%3D%20null");
  EXPECT_GT(nulls["totalSize"].get<int>(), 3000);
}

TEST_F(bulk_http, upsert_with_an_external_id_then_delete_and_hard_delete) {
  auto def = cli_->Post("/__sfemu/schema",
                        R"({"name":"Account","fields":[{"name":"Ext__c","type":"string","length":40,"external_id":true}]})",
                        "application/json");
  ASSERT_TRUE(def);
  ASSERT_LT(def->status, 300) << def->body;

  auto ins = create_ingest({{"object", "Account"}, {"operation", "insert"}});
  upload(ins, "Name,Ext__c\nOne,E1\nTwo,E2\n");
  close_and_wait(ins);
  auto created = get_csv(std::string(api) + "/jobs/ingest/" + ins + "/successfulResults");
  ASSERT_EQ(created.size(), 3u);

  auto up = create_ingest({{"object", "Account"}, {"operation", "upsert"}, {"externalIdFieldName", "Ext__c"}});
  upload(up, "Ext__c,Name\nE1,One v2\nE3,Three\n");
  auto info = close_and_wait(up);
  EXPECT_EQ(info["numberRecordsFailed"], 0);
  auto ups = get_csv(std::string(api) + "/jobs/ingest/" + up + "/successfulResults");
  ASSERT_EQ(ups.size(), 3u);
  EXPECT_EQ(*ups[1][0], *created[1][0]);
  EXPECT_EQ(*ups[1][1], "false");
  EXPECT_EQ(*ups[2][1], "true");
  auto renamed = get_json(std::string(api) + "/sobjects/Account/" + *created[1][0]);
  EXPECT_EQ(renamed["Name"], "One v2");

  auto del = create_ingest({{"object", "Account"}, {"operation", "delete"}});
  upload(del, "Id\n" + *created[1][0] + "\n");
  EXPECT_EQ(close_and_wait(del)["numberRecordsFailed"], 0);
  auto all = get_json(std::string(api) + "/queryAll?q=SELECT%20Id%20FROM%20Account%20WHERE%20IsDeleted%20%3D%20true");
  EXPECT_EQ(all["totalSize"], 1);

  auto hard = create_ingest({{"object", "Account"}, {"operation", "hardDelete"}});
  upload(hard, "Id\n" + *created[2][0] + "\n");
  EXPECT_EQ(close_and_wait(hard)["numberRecordsFailed"], 0);
  auto left = get_json(std::string(api) + "/queryAll?q=SELECT%20Id%20FROM%20Account");
  EXPECT_EQ(left["totalSize"], 2); // the soft-deleted one and Three
}

TEST_F(bulk_http, query_job_pages_twenty_five_thousand_records) {
  csv::writer w;
  w.write_row({"Name"});
  for (int i = 0; i < 25000; ++i)
    w.write_row({"Q" + std::to_string(i)});
  auto load = cli_->Post("/__sfemu/records/Account?ids=false", w.buffer(), "text/csv");
  ASSERT_TRUE(load);
  ASSERT_EQ(load->status, 201) << load->body;

  auto job = post_json(std::string(api) + "/jobs/query",
                       {{"operation", "query"}, {"query", "SELECT Id, Name FROM Account"}});
  ASSERT_EQ(job["jobType"], "V2Query");
  std::string id = job["id"];
  auto info = close_and_wait(id, "query");
  EXPECT_EQ(info["state"], "JobComplete");
  EXPECT_EQ(info["numberRecordsProcessed"], 25000);

  std::string locator;
  std::size_t total = 0;
  int pages = 0;
  std::set<std::string> ids;
  while (locator != "null") {
    std::string path = std::string(api) + "/jobs/query/" + id + "/results?maxRecords=10000";
    if (!locator.empty())
      path += "&locator=" + locator;
    httplib::Headers h;
    auto rows = get_csv(path, &h);
    ASSERT_FALSE(rows.empty());
    EXPECT_EQ(*rows[0][0], "Id");
    ASSERT_TRUE(h.count("Sforce-Locator"));
    ASSERT_TRUE(h.count("Sforce-NumberOfRecords"));
    std::size_t n = std::stoul(h.find("Sforce-NumberOfRecords")->second);
    EXPECT_EQ(n, rows.size() - 1);
    for (std::size_t i = 1; i < rows.size(); ++i)
      ids.insert(*rows[i][0]);
    total += n;
    locator = h.find("Sforce-Locator")->second;
    ASSERT_LE(++pages, 3);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(total, 25000u);
  EXPECT_EQ(ids.size(), 25000u);

  // without maxRecords, everything in one page ending with the null locator
  httplib::Headers h;
  auto all = get_csv(std::string(api) + "/jobs/query/" + id + "/results", &h);
  EXPECT_EQ(all.size(), 25001u);
  EXPECT_EQ(h.find("Sforce-Locator")->second, "null");

  auto r = cli_->Delete((std::string(api) + "/jobs/query/" + id).c_str(), auth());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  get_json(std::string(api) + "/jobs/query/" + id, 404);
}

TEST_F(bulk_http, query_job_flattens_relationships_and_validates_soql) {
  auto acct = post_json(std::string(api) + "/sobjects/Account", {{"Name", "Parent Co"}}, 201);
  post_json(std::string(api) + "/sobjects/Contact", {{"LastName", "Kid"}, {"AccountId", acct["id"]}}, 201);
  auto job = post_json(std::string(api) + "/jobs/query",
                       {{"operation", "query"}, {"query", "SELECT LastName, Account.Name FROM Contact"}});
  close_and_wait(job["id"], "query");
  auto rows = get_csv(std::string(api) + "/jobs/query/" + job["id"].get<std::string>() + "/results");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(*rows[0][1], "Account.Name");
  EXPECT_EQ(*rows[1][1], "Parent Co");

  auto bad = post_json(std::string(api) + "/jobs/query",
                       {{"operation", "query"}, {"query", "SELECT Nope FROM Account"}}, 400);
  ASSERT_TRUE(bad.is_array());
  EXPECT_EQ(bad[0]["errorCode"], "INVALID_FIELD");
  auto bad_type = post_json(std::string(api) + "/jobs/query",
                            {{"operation", "query"}, {"query", "SELECT Id FROM Nothing__c"}}, 400);
  EXPECT_EQ(bad_type[0]["errorCode"], "INVALID_TYPE");
}

TEST_F(bulk_http, states_and_errors) {
  auto unknown = get_json(std::string(api) + "/jobs/ingest/750000000000000AAA", 404);
  EXPECT_EQ(unknown[0]["errorCode"], "NOT_FOUND");
  EXPECT_EQ(unknown[0]["message"], "The requested resource does not exist");

  auto bad_obj = post_json(std::string(api) + "/jobs/ingest", {{"object", "Nope__c"}, {"operation", "insert"}}, 400);
  EXPECT_EQ(bad_obj[0]["errorCode"], "INVALIDJOB");

  auto id = create_ingest({{"object", "Account"}, {"operation", "insert"}});
  auto del_open = cli_->Delete((std::string(api) + "/jobs/ingest/" + id).c_str(), auth());
  ASSERT_TRUE(del_open);
  EXPECT_EQ(del_open->status, 400);
  EXPECT_NE(del_open->body.find("INVALIDJOBSTATE"), std::string::npos);

  upload(id, "Name\nA\n");
  close_and_wait(id);
  auto late = cli_->Put((std::string(api) + "/jobs/ingest/" + id + "/batches").c_str(), auth(), "Name\nB\n", "text/csv");
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 400);
  EXPECT_EQ(json::parse(late->body)[0]["errorCode"], "INVALIDJOBSTATE");
  auto reclose = cli_->Patch((std::string(api) + "/jobs/ingest/" + id).c_str(), auth(),
                             R"({"state":"UploadComplete"})", "application/json");
  ASSERT_TRUE(reclose);
  EXPECT_EQ(reclose->status, 400);

  auto list = get_json(std::string(api) + "/jobs/ingest");
  EXPECT_EQ(list["done"], true);
  ASSERT_EQ(list["records"].size(), 1u) << "POST /__sfemu/reset drops the jobs of earlier tests";
  EXPECT_EQ(list["records"][0]["id"], id);
  EXPECT_EQ(list["records"][0]["state"], "JobComplete");

  auto aborted = create_ingest({{"object", "Account"}, {"operation", "insert"}});
  upload(aborted, "Name\nX\nY\n");
  auto ab = cli_->Patch((std::string(api) + "/jobs/ingest/" + aborted).c_str(), auth(), R"({"state":"Aborted"})",
                        "application/json");
  ASSERT_TRUE(ab);
  EXPECT_EQ(json::parse(ab->body)["state"], "Aborted");
  auto unprocessed = get_csv(std::string(api) + "/jobs/ingest/" + aborted + "/unprocessedrecords");
  EXPECT_EQ(unprocessed.size(), 3u);

  auto del = cli_->Delete((std::string(api) + "/jobs/ingest/" + id).c_str(), auth());
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204);

  // counted as API calls under their route
  auto counters = cli_->Get("/__sfemu/counters");
  ASSERT_TRUE(counters);
  EXPECT_NE(counters->body.find("jobs/ingest"), std::string::npos);
}

TEST_F(bulk_http, query_results_before_completion_get_412) {
  // The job completes quickly, so abort it first: its results then stay unavailable.
  auto job = post_json(std::string(api) + "/jobs/query", {{"operation", "query"}, {"query", "SELECT Id FROM Account"}});
  std::string id = job["id"];
  auto ab = cli_->Patch((std::string(api) + "/jobs/query/" + id).c_str(), auth(), R"({"state":"Aborted"})",
                        "application/json");
  ASSERT_TRUE(ab);
  if (ab->status == 200) {
    auto r = cli_->Get((std::string(api) + "/jobs/query/" + id + "/results").c_str(), auth());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 412);
    auto body = json::parse(r->body);
    EXPECT_EQ(body[0]["errorCode"], "JOB_NOT_COMPLETE");
  } else {
    EXPECT_EQ(ab->status, 400); // it had already completed
  }
}

TEST_F(bulk_http, session_expiry_is_401_invalid_session_id) {
  auto id = create_ingest({{"object", "Account"}, {"operation", "insert"}});
  auto adv = cli_->Post("/__sfemu/clock", R"({"advance_seconds": 7300})", "application/json");
  ASSERT_TRUE(adv);
  ASSERT_EQ(adv->status, 200) << adv->body;
  auto r = cli_->Get((std::string(api) + "/jobs/ingest/" + id).c_str(), auth());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_NE(r->body.find("INVALID_SESSION_ID"), std::string::npos);
  auto put = cli_->Put((std::string(api) + "/jobs/ingest/" + id + "/batches").c_str(), auth(), "Name\nA\n", "text/csv");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 401);
  EXPECT_NE(put->body.find("INVALID_SESSION_ID"), std::string::npos);
  login(); // a fresh session carries on with the same job
  upload(id, "Name\nA\n");
  EXPECT_EQ(close_and_wait(id)["state"], "JobComplete");
  cli_->Post("/__sfemu/clock", R"({"reset": true})", "application/json");
}

TEST(bulk_http_limits, upload_over_the_limit_is_refused) {
  // The 150 MB limit, lowered for the test through the environment sfemu inherits.
  ::setenv("SFEMU_BULK_MAX_UPLOAD_BYTES", "1000", 1);
  sfemu_process emu;
  ::unsetenv("SFEMU_BULK_MAX_UPLOAD_BYTES");
  httplib::Client cli("127.0.0.1", emu.port());
  auto tok = cli.Post("/services/oauth2/token",
                      "grant_type=password&client_id=b&client_secret=x&username=admin%40sfemu.local&password=sfemu",
                      "application/x-www-form-urlencoded");
  ASSERT_TRUE(tok);
  httplib::Headers auth{{"Authorization", "Bearer " + json::parse(tok->body)["access_token"].get<std::string>()}};
  auto job = cli.Post((std::string(api) + "/jobs/ingest").c_str(), auth,
                      R"({"object":"Account","operation":"insert"})", "application/json");
  ASSERT_TRUE(job);
  std::string id = json::parse(job->body)["id"];
  std::string path = std::string(api) + "/jobs/ingest/" + id + "/batches";
  auto small = cli.Put(path.c_str(), auth, "Name\n" + std::string(600, 'a') + "\n", "text/csv");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 201);
  auto big = cli.Put(path.c_str(), auth, "Name\n" + std::string(600, 'b') + "\n", "text/csv");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 400);
  auto body = json::parse(big->body);
  EXPECT_EQ(body[0]["errorCode"], "INVALIDBATCH");
  EXPECT_EQ(body[0]["message"], "InvalidBatch : Job data exceeds the maximum upload size of 1000 bytes");
}
