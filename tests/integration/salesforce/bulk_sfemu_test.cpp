// Bulk API 2.0 through the client against the real sfemu binary.
#include "salesforce/client.hpp"
#include "sync/csv.hpp"
#include "tests/support/sfemu.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace syncforce::salesforce;
using syncforce::testing::sfemu_process;
using namespace std::chrono_literals;

namespace {

client_config config_for(const sfemu_process& emu) {
  client_config cfg;
  cfg.login_url = emu.base_url();
  cfg.client_name = "syncforce-bulk-it";
  password_credentials pw;
  pw.username = "admin@sfemu.local";
  pw.password = secret("sfemu");
  cfg.creds = pw;
  cfg.retry.base_delay = 20ms;
  cfg.job_poll_initial = 20ms;
  cfg.job_poll_max = 200ms;
  return cfg;
}

} // namespace

TEST(salesforce_bulk_sfemu, ingest_then_query_job) {
  sfemu_process emu;
  client sf(config_for(emu));

  // Ingest 3,000 Accounts, one of them bad (no Name).
  syncforce::csv::writer w;
  w.write_row({"Name", "NumberOfEmployees"});
  for (int i = 0; i < 3000; ++i) {
    if (i == 1234)
      w.write_row({"", "1"});
    else
      w.write_row({"Bulk " + std::to_string(i), std::to_string(i)});
  }
  ingest_job_spec spec;
  spec.object = "Account";
  spec.operation = "insert";
  auto job = sf.create_ingest_job(spec);
  ASSERT_TRUE(job) << job.error();
  EXPECT_EQ(job->state, job_state::open);
  EXPECT_EQ(job->id.substr(0, 3), "750");
  ASSERT_TRUE(sf.upload_job_data(job->id, w.take()));
  auto closed = sf.close_ingest_job(job->id);
  ASSERT_TRUE(closed) << closed.error();
  auto done = sf.wait_for_ingest_job(job->id, 60s);
  ASSERT_TRUE(done) << done.error();
  ASSERT_EQ(done->state, job_state::job_complete) << done->state_text << " " << done->error_message;
  EXPECT_EQ(done->records_processed, 3000);
  EXPECT_EQ(done->records_failed, 1);

  std::set<std::string> created_ids;
  auto ok = sf.ingest_job_results(job->id, ingest_results::successful, [&](const syncforce::csv::row& r) {
    if (r.index() == 0) {
      EXPECT_EQ(r[0], "sf__Id");
      EXPECT_EQ(r[1], "sf__Created");
      return;
    }
    created_ids.insert(std::string(r[0]));
  });
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(*ok, 2999);
  EXPECT_EQ(created_ids.size(), 2999u);

  std::string failure;
  auto failed = sf.ingest_job_results(job->id, ingest_results::failed, [&](const syncforce::csv::row& r) {
    if (r.index() == 1)
      failure = std::string(r[1]);
  });
  ASSERT_TRUE(failed) << failed.error();
  EXPECT_EQ(*failed, 1);
  EXPECT_EQ(failure.rfind("REQUIRED_FIELD_MISSING", 0), 0u) << failure;

  // Query them back in pages of 1,000.
  auto qjob = sf.create_query_job("SELECT Id, Name, NumberOfEmployees FROM Account WHERE Name LIKE 'Bulk %'");
  ASSERT_TRUE(qjob) << qjob.error();
  auto qdone = sf.wait_for_query_job(qjob->id, 60s);
  ASSERT_TRUE(qdone) << qdone.error();
  ASSERT_EQ(qdone->state, job_state::job_complete) << qdone->error_message;
  auto reader = sf.query_job_results(qjob->id, 1000);
  std::set<std::string> queried;
  int pages = 0;
  while (!reader.done()) {
    auto page = reader.next_page([&](const syncforce::csv::row& r) { queried.insert(std::string(r[0])); });
    ASSERT_TRUE(page) << page.error();
    EXPECT_LE(page->records, 1000);
    ++pages;
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(reader.columns(), (std::vector<std::string>{"Id", "Name", "NumberOfEmployees"}));
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(queried, created_ids);
  EXPECT_EQ(reader.records_read(), 2999);
}

TEST(salesforce_bulk_sfemu, upsert_job_and_abort) {
  sfemu_process emu;
  client sf(config_for(emu));
  // An external id on Account, through the control API.
  raw_call c;
  c.method = "POST";
  c.path = emu.base_url() + "/__sfemu/schema";
  c.body = R"({"objects":[{"name":"Account","fields":[{"name":"Ext__c","type":"string","length":40,"external_id":true,"unique":true}]}]})";
  ASSERT_TRUE(sf.call(c));

  for (int round = 0; round < 2; ++round) {
    ingest_job_spec spec;
    spec.object = "Account";
    spec.operation = "upsert";
    spec.external_id_field = "Ext__c";
    auto job = sf.create_ingest_job(spec);
    ASSERT_TRUE(job) << job.error();
    EXPECT_EQ(job->external_id_field, "Ext__c");
    ASSERT_TRUE(sf.upload_job_data(job->id, "Ext__c,Name\nX-1,One\nX-2,Two\n"));
    ASSERT_TRUE(sf.close_ingest_job(job->id));
    auto done = sf.wait_for_ingest_job(job->id, 60s);
    ASSERT_TRUE(done) << done.error();
    ASSERT_EQ(done->state, job_state::job_complete);
    std::map<std::string, std::string> created;
    auto ok = sf.ingest_job_results(job->id, ingest_results::successful, [&](const syncforce::csv::row& r) {
      if (r.index() > 0)
        created[std::string(r[2])] = std::string(r[1]);
    });
    ASSERT_TRUE(ok) << ok.error();
    ASSERT_EQ(created.size(), 2u);
    EXPECT_EQ(created["X-1"], round == 0 ? "true" : "false");
  }

  auto counts = sf.record_counts({"Account"});
  ASSERT_TRUE(counts);
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0].count, 2);

  ingest_job_spec spec;
  spec.object = "Account";
  auto job = sf.create_ingest_job(spec);
  ASSERT_TRUE(job);
  auto aborted = sf.abort_ingest_job(job->id);
  ASSERT_TRUE(aborted) << aborted.error();
  EXPECT_EQ(aborted->state, job_state::aborted);
  ASSERT_TRUE(sf.delete_ingest_job(job->id));
  auto gone = sf.ingest_job(job->id);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind, error_kind::not_found);
}

TEST(salesforce_bulk_sfemu, query_results_before_completion_or_of_unknown_job) {
  sfemu_process emu;
  client sf(config_for(emu));
  auto reader = sf.query_job_results("750000000000000AAA");
  auto r = reader.next_page([](const syncforce::csv::row&) {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::not_found) << r.error();
}
