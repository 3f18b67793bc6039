#include "emulator/bulk/engine.hpp"

#include "emulator/clock.hpp"
#include "emulator/org.hpp"
#include "sync/csv.hpp"

#include <gtest/gtest.h>

#include <chrono>

using namespace sfemu::bulk;
namespace csv = syncforce::csv;
using namespace std::chrono_literals;

namespace {

/// A fresh org and a bulk engine over it, as the emulator wires them.
struct bulk_engine : ::testing::Test {
  sfemu::clock clk;
  sfemu::org org{clk};
  engine bulk{org, clk};
  std::string user;

  void SetUp() override {
    auto admin = org.find_user("admin@sfemu.local");
    ASSERT_TRUE(admin);
    user = admin->id;
    auto err = org.define(nlohmann::json::parse(
        R"({"name":"Account","fields":[{"name":"Ext__c","type":"string","length":40,"external_id":true}]})"));
    ASSERT_FALSE(err) << *err;
  }

  std::string create(const std::string& op, const std::string& extra_json = "") {
    auto body = nlohmann::json::parse(R"({"object":"Account","operation":")" + op + "\"" + extra_json + "}");
    auto r = bulk.create_ingest(body, user, "60.0");
    EXPECT_TRUE(r) << (r.error ? r.error->message : "");
    return r ? (*r.value)["id"].get<std::string>() : std::string();
  }

  nlohmann::json run_job(const std::string& id, const std::string& data) {
    EXPECT_FALSE(bulk.upload(id, data));
    auto closed = bulk.set_state(job_kind::ingest, id, {{"state", "UploadComplete"}});
    EXPECT_TRUE(closed);
    EXPECT_TRUE(bulk.wait_idle(10s));
    return *bulk.info(job_kind::ingest, id).value;
  }

  std::vector<std::vector<std::optional<std::string>>> results(const std::string& id, result_kind k) {
    auto r = bulk.ingest_results(id, k);
    EXPECT_TRUE(r);
    auto parsed = csv::parse_all(*r.value);
    EXPECT_TRUE(parsed.ok());
    return parsed.doc.rows;
  }
};

} // namespace

TEST_F(bulk_engine, insert_with_a_bad_row) {
  auto id = create("insert");
  ASSERT_EQ(id.substr(0, 3), "750");
  ASSERT_EQ(id.size(), 18u);
  auto info = run_job(id, "Name,Phone\nAcme,123\n,555\n\"Big, Co\",#N/A\n");
  EXPECT_EQ(info["state"], "JobComplete");
  EXPECT_EQ(info["numberRecordsProcessed"], 3);
  EXPECT_EQ(info["numberRecordsFailed"], 1);
  auto ok = results(id, result_kind::successful);
  ASSERT_EQ(ok.size(), 3u);
  EXPECT_EQ(*ok[0][0], "sf__Id");
  EXPECT_EQ(*ok[0][1], "sf__Created");
  EXPECT_EQ(*ok[0][2], "Name");
  EXPECT_EQ(*ok[1][1], "true");
  EXPECT_EQ(ok[1][0]->substr(0, 3), "001");
  EXPECT_EQ(*ok[2][2], "Big, Co");
  auto bad = results(id, result_kind::failed);
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(*bad[0][1], "sf__Error");
  EXPECT_EQ(*bad[1][1], "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --");
  EXPECT_EQ(*bad[1][3], "555");
  EXPECT_EQ(org.record_count("Account"), 2u);
  EXPECT_EQ(results(id, result_kind::unprocessed).size(), 1u); // header only
}

TEST_F(bulk_engine, update_upsert_and_delete) {
  auto ins = create("insert");
  run_job(ins, "Name,Ext__c\nOne,E1\nTwo,E2\n");
  auto ok = results(ins, result_kind::successful);
  ASSERT_EQ(ok.size(), 3u);
  std::string id1 = *ok[1][0];
  std::string id2 = *ok[2][0];

  auto up = create("upsert", R"(,"externalIdFieldName":"Ext__c")");
  auto info = run_job(up, "Ext__c,Name\nE1,One renamed\nE3,Three\n");
  EXPECT_EQ(info["numberRecordsFailed"], 0);
  EXPECT_EQ(info["externalIdFieldName"], "Ext__c");
  auto ups = results(up, result_kind::successful);
  ASSERT_EQ(ups.size(), 3u);
  EXPECT_EQ(*ups[1][0], id1);
  EXPECT_EQ(*ups[1][1], "false");
  EXPECT_EQ(*ups[2][1], "true");
  EXPECT_EQ(org.record_count("Account"), 3u);

  auto upd = create("update");
  auto uinfo = run_job(upd, "Id,Phone\n" + id2 + ",999\n,1\n");
  EXPECT_EQ(uinfo["numberRecordsFailed"], 1);
  auto ufail = results(upd, result_kind::failed);
  ASSERT_EQ(ufail.size(), 2u);
  EXPECT_EQ(*ufail[1][1], "MISSING_ARGUMENT:Id not specified in an update call:--");

  auto del = create("delete");
  auto dinfo = run_job(del, "Id\n" + id1 + "\n");
  EXPECT_EQ(dinfo["numberRecordsFailed"], 0);
  EXPECT_EQ(org.record_count("Account"), 2u);
  auto q = org.run_query("SELECT Id FROM Account WHERE IsDeleted = true", true);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->slots.size(), 1u); // in the recycle bin

  auto hard = create("hardDelete");
  run_job(hard, "Id\n" + id2 + "\n");
  EXPECT_EQ(org.record_count("Account"), 1u);
}

TEST_F(bulk_engine, unknown_column_fails_the_job) {
  auto id = create("insert");
  auto info = run_job(id, "Name,Nope__c\nA,B\n");
  EXPECT_EQ(info["state"], "Failed");
  EXPECT_EQ(info["errorMessage"], "InvalidBatch : Field name not found : Nope__c");
  EXPECT_EQ(info["numberRecordsProcessed"], 0);
}

TEST_F(bulk_engine, line_ending_mismatch_fails_the_job) {
  auto id = create("insert");
  auto info = run_job(id, "Name\r\nA\r\n");
  EXPECT_EQ(info["state"], "Failed");
  EXPECT_EQ(info["errorMessage"],
            "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF");
  auto crlf = create("insert", R"(,"lineEnding":"CRLF")");
  auto ok = run_job(crlf, "Name\r\nA\r\n");
  EXPECT_EQ(ok["state"], "JobComplete");
  auto r = bulk.ingest_results(crlf, result_kind::successful);
  ASSERT_TRUE(r);
  EXPECT_NE(r.value->find("\r\n"), std::string::npos);
}

TEST_F(bulk_engine, malformed_csv_fails_with_position) {
  auto id = create("insert");
  auto info = run_job(id, "Name\n\"A\"x\n");
  EXPECT_EQ(info["state"], "Failed");
  EXPECT_EQ(info["errorMessage"],
            "InvalidBatch : Failed to parse CSV: Unexpected 'x' after a closing quote at line 2, column 4");
}

TEST_F(bulk_engine, wrong_states_and_unknown_jobs) {
  EXPECT_EQ(bulk.info(job_kind::ingest, "750000000000000AAA").error->status, 404);
  EXPECT_EQ(bulk.upload("nope", "x")->code, "NOT_FOUND");
  auto id = create("insert");
  EXPECT_EQ(bulk.remove(job_kind::ingest, id)->code, "INVALIDJOBSTATE");
  EXPECT_TRUE(bulk.info(job_kind::query, id).error); // an ingest id is not a query job
  run_job(id, "Name\nA\n");
  auto late = bulk.upload(id, "Name\nB\n");
  ASSERT_TRUE(late);
  EXPECT_EQ(late->code, "INVALIDJOBSTATE");
  auto again = bulk.set_state(job_kind::ingest, id, {{"state", "UploadComplete"}});
  ASSERT_TRUE(again.error);
  EXPECT_EQ(again.error->code, "INVALIDJOBSTATE");
  EXPECT_EQ(bulk.list(job_kind::ingest)["records"].size(), 1u);
  EXPECT_FALSE(bulk.remove(job_kind::ingest, id));
  EXPECT_EQ(bulk.info(job_kind::ingest, id).error->status, 404);
  EXPECT_EQ(bulk.list(job_kind::ingest)["records"].size(), 0u);
}

TEST_F(bulk_engine, abort_an_open_job_leaves_records_unprocessed) {
  auto id = create("insert");
  ASSERT_FALSE(bulk.upload(id, "Name\nA\nB\n"));
  auto aborted = bulk.set_state(job_kind::ingest, id, {{"state", "Aborted"}});
  ASSERT_TRUE(aborted);
  EXPECT_EQ((*aborted.value)["state"], "Aborted");
  auto rows = results(id, result_kind::unprocessed);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(*rows[2][0], "B");
  EXPECT_EQ(org.record_count("Account"), 0u);
}

TEST_F(bulk_engine, query_job_pages_with_locators) {
  std::vector<nlohmann::json> rows;
  for (int i = 0; i < 25; ++i)
    rows.push_back({{"Name", "Acct " + std::to_string(i)}});
  auto loaded = org.bulk_load("Account", rows, user);
  ASSERT_FALSE(loaded.error);

  auto bad = bulk.create_query({{"operation", "query"}, {"query", "SELECT Nope FROM Account"}}, user, "60.0");
  ASSERT_TRUE(bad.error);
  EXPECT_EQ(bad.error->code, "INVALID_FIELD");

  auto created = bulk.create_query(
      {{"operation", "query"}, {"query", "SELECT Id, Name FROM Account ORDER BY Name"}}, user, "60.0");
  ASSERT_TRUE(created);
  std::string id = (*created.value)["id"];
  ASSERT_TRUE(bulk.wait_idle(10s));
  auto info = bulk.info(job_kind::query, id);
  EXPECT_EQ((*info.value)["state"], "JobComplete");
  EXPECT_EQ((*info.value)["numberRecordsProcessed"], 25);

  std::string locator;
  std::size_t seen = 0;
  int pages = 0;
  while (locator != "null") {
    auto page = bulk.query_results(id, locator, 10);
    ASSERT_TRUE(page) << page.error->message;
    auto parsed = csv::parse_all(page.value->csv);
    ASSERT_TRUE(parsed.ok());
    ASSERT_EQ(parsed.doc.rows.size(), page.value->records + 1);
    EXPECT_EQ(*parsed.doc.rows[0][0], "Id");
    EXPECT_EQ(*parsed.doc.rows[0][1], "Name");
    seen += page.value->records;
    locator = page.value->locator;
    ++pages;
    ASSERT_LE(pages, 3);
  }
  EXPECT_EQ(seen, 25u);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(bulk.query_results(id, "!!", 10).error->status, 400);
}

TEST_F(bulk_engine, query_results_before_completion_are_refused) {
  auto created = bulk.create_query({{"operation", "query"}, {"query", "SELECT Id FROM Account"}}, user, "60.0");
  ASSERT_TRUE(created);
  std::string id = (*created.value)["id"];
  auto aborted = bulk.set_state(job_kind::query, id, {{"state", "Aborted"}});
  if (aborted) { // the worker may have finished first
    auto r = bulk.query_results(id, "", 0);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->status, 412);
    EXPECT_EQ(r.error->message,
              "can only download query results of successfully completed bulk job with status: "
              "JOB_COMPLETE. Current status: ABORTED");
  }
  ASSERT_TRUE(bulk.wait_idle(10s));
}

TEST_F(bulk_engine, upload_limit_counts_every_upload) {
  bulk.set_max_upload_bytes(20);
  auto id = create("insert");
  EXPECT_FALSE(bulk.upload(id, "Name\nAAAAAAAAAA\n")); // 16 bytes
  auto over = bulk.upload(id, "Name\nB\n");
  ASSERT_TRUE(over);
  EXPECT_EQ(over->code, "INVALIDBATCH");
  EXPECT_EQ(over->message, "InvalidBatch : Job data exceeds the maximum upload size of 20 bytes");
}

TEST_F(bulk_engine, results_without_max_records_come_in_one_page) {
  std::vector<nlohmann::json> rows;
  for (int i = 0; i < 30; ++i)
    rows.push_back({{"Name", "A" + std::to_string(i)}});
  ASSERT_FALSE(org.bulk_load("Account", rows, user).error);
  auto created = bulk.create_query({{"operation", "query"}, {"query", "SELECT Name FROM Account"}}, user, "60.0");
  ASSERT_TRUE(created);
  ASSERT_TRUE(bulk.wait_idle(10s));
  auto page = bulk.query_results((*created.value)["id"], "", 0);
  ASSERT_TRUE(page);
  EXPECT_EQ(page.value->records, 30u);
  EXPECT_EQ(page.value->locator, "null");
}

TEST_F(bulk_engine, parent_by_external_id_column) {
  auto accounts = create("insert");
  run_job(accounts, "Name,Ext__c\nParent,P-1\n");
  auto parent_id = *results(accounts, result_kind::successful)[1][0];

  auto body = nlohmann::json{{"object", "Contact"}, {"operation", "insert"}};
  auto r = bulk.create_ingest(body, user, "60.0");
  ASSERT_TRUE(r);
  std::string id = (*r.value)["id"];
  auto info = run_job(id, "LastName,Account.Ext__c\nKid,P-1\nOrphan,P-404\n");
  EXPECT_EQ(info["state"], "JobComplete");
  EXPECT_EQ(info["numberRecordsFailed"], 1);
  auto q = org.run_query("SELECT Id FROM Contact WHERE AccountId = '" + parent_id + "'", false);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->slots.size(), 1u);
  auto failed = results(id, result_kind::failed);
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[1][1]->substr(0, 14), "INVALID_FIELD:");
  EXPECT_EQ(*failed[0][3], "Account.Ext__c");

  auto bad = bulk.create_ingest(body, user, "60.0");
  std::string bad_id = (*bad.value)["id"];
  EXPECT_EQ(run_job(bad_id, "LastName,Nope.Ext__c\nX,1\n")["errorMessage"],
            "InvalidBatch : Field name not found : Nope.Ext__c");
}

// Change Data Capture: a job's rows publish change events whose changeOrigin names the
// Bulk API and the client of the call that created the job (the worker thread has none).
TEST_F(bulk_engine, rows_publish_change_events_with_the_bulk_origin) {
  std::string id;
  {
    sfemu::cdc::origin_scope origin(sfemu::cdc::make_origin("rest", "60.0", "loader-7"));
    id = create("insert");
  }
  auto info = run_job(id, "Name\nA\nB\n");
  EXPECT_EQ(info["numberRecordsProcessed"], 2);
  auto r = org.change_log().read_after(0, 100, "Account");
  ASSERT_EQ(r.events.size(), 2u);
  for (auto& ev : r.events) {
    EXPECT_EQ(ev.type, sfemu::cdc::change_type::create);
    EXPECT_EQ(ev.change_origin, "com/salesforce/api/bulkapi/60.0;client=loader-7");
    EXPECT_EQ(ev.commit_user, user);
  }
  // a job created outside any API call (no origin) publishes with an empty origin
  auto quiet = create("insert");
  run_job(quiet, "Name\nC\n");
  auto later = org.change_log().read_after(r.events.back().replay_id, 100, "Account");
  ASSERT_EQ(later.events.size(), 1u);
  EXPECT_EQ(later.events[0].change_origin, "");
}
