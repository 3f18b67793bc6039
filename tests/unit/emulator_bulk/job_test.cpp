#include "emulator/bulk/job.hpp"

#include <gtest/gtest.h>

using namespace sfemu::bulk;

namespace {

job_info ingest_in(job_state s) {
  job_info j;
  j.kind = job_kind::ingest;
  j.state = s;
  return j;
}

job_info query_in(job_state s) {
  job_info j;
  j.kind = job_kind::query;
  j.op = operation::query;
  j.state = s;
  return j;
}

} // namespace

TEST(bulk_job, state_and_operation_names_round_trip) {
  for (auto s : {job_state::open, job_state::upload_complete, job_state::in_progress,
                 job_state::job_complete, job_state::failed, job_state::aborted})
    EXPECT_EQ(parse_job_state(to_string(s)), s);
  EXPECT_EQ(to_string(job_state::upload_complete), "UploadComplete");
  EXPECT_EQ(to_upper_name(job_state::in_progress), "IN_PROGRESS");
  EXPECT_FALSE(parse_job_state("Closed"));
  EXPECT_EQ(parse_operation("hardDelete"), operation::hard_delete);
  EXPECT_EQ(to_string(operation::query_all), "queryAll");
  EXPECT_FALSE(parse_operation("merge"));
  EXPECT_TRUE(is_terminal(job_state::aborted));
  EXPECT_FALSE(is_terminal(job_state::in_progress));
}

TEST(bulk_job, client_transitions) {
  EXPECT_FALSE(check_client_transition(ingest_in(job_state::open), "UploadComplete"));
  EXPECT_FALSE(check_client_transition(ingest_in(job_state::open), "Aborted"));
  EXPECT_FALSE(check_client_transition(ingest_in(job_state::upload_complete), "Aborted"));
  EXPECT_FALSE(check_client_transition(ingest_in(job_state::in_progress), "Aborted"));
  EXPECT_FALSE(check_client_transition(query_in(job_state::in_progress), "Aborted"));

  auto again = check_client_transition(ingest_in(job_state::upload_complete), "UploadComplete");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 400);
  EXPECT_EQ(again->code, "INVALIDJOBSTATE");
  auto done = check_client_transition(ingest_in(job_state::job_complete), "Aborted");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->code, "INVALIDJOBSTATE");
  EXPECT_TRUE(check_client_transition(ingest_in(job_state::open), "JobComplete"));
  EXPECT_TRUE(check_client_transition(ingest_in(job_state::open), "nonsense"));
  EXPECT_TRUE(check_client_transition(query_in(job_state::upload_complete), "UploadComplete"));
}

TEST(bulk_job, uploads_deletes_and_results_by_state) {
  EXPECT_FALSE(check_upload(ingest_in(job_state::open)));
  auto closed = check_upload(ingest_in(job_state::upload_complete));
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, "INVALIDJOBSTATE");

  EXPECT_TRUE(check_delete(ingest_in(job_state::open)));
  EXPECT_TRUE(check_delete(ingest_in(job_state::in_progress)));
  EXPECT_FALSE(check_delete(ingest_in(job_state::upload_complete)));
  EXPECT_FALSE(check_delete(ingest_in(job_state::job_complete)));
  EXPECT_FALSE(check_delete(query_in(job_state::aborted)));

  EXPECT_TRUE(check_ingest_results(ingest_in(job_state::in_progress)));
  EXPECT_FALSE(check_ingest_results(ingest_in(job_state::failed)));

  auto early = check_query_results(query_in(job_state::in_progress));
  ASSERT_TRUE(early);
  EXPECT_EQ(early->status, 412);
  EXPECT_EQ(early->code, "JOB_NOT_COMPLETE");
  EXPECT_EQ(early->message,
            "can only download query results of successfully completed bulk job with status: "
            "JOB_COMPLETE. Current status: IN_PROGRESS");
  EXPECT_FALSE(check_query_results(query_in(job_state::job_complete)));
}

TEST(bulk_job, error_body_shape) {
  auto e = job_not_found();
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(e.body().dump(),
            R"([{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}])");
}

TEST(bulk_job, parse_ingest_request) {
  job_info j;
  auto body = nlohmann::json::parse(
      R"({"object":"Account","operation":"upsert","externalIdFieldName":"Ext__c",
          "contentType":"CSV","lineEnding":"CRLF","columnDelimiter":"PIPE"})");
  ASSERT_FALSE(parse_ingest_request(body, j));
  EXPECT_EQ(j.op, operation::upsert);
  EXPECT_EQ(j.object, "Account");
  EXPECT_EQ(j.external_id_field, "Ext__c");
  EXPECT_EQ(j.ending, syncforce::csv::line_ending::crlf);
  EXPECT_EQ(j.delim, syncforce::csv::delimiter::pipe);

  job_info k;
  auto bad_op = parse_ingest_request(nlohmann::json{{"object", "Account"}, {"operation", "merge"}}, k);
  ASSERT_TRUE(bad_op);
  EXPECT_EQ(bad_op->code, "JSON_PARSER_ERROR");
  EXPECT_NE(bad_op->message.find("OperationEnum"), std::string::npos);

  auto no_ext = parse_ingest_request(nlohmann::json{{"object", "Account"}, {"operation", "upsert"}}, k);
  ASSERT_TRUE(no_ext);
  EXPECT_EQ(no_ext->message,
            "InvalidJob : External ID was blank for Account. An External ID must be specified for upsert.");

  auto bad_delim = parse_ingest_request(
      nlohmann::json{{"object", "Account"}, {"operation", "insert"}, {"columnDelimiter", "COLON"}}, k);
  ASSERT_TRUE(bad_delim);
  EXPECT_NE(bad_delim->message.find("ColumnDelimiterEnum"), std::string::npos);

  auto query_op = parse_ingest_request(nlohmann::json{{"object", "Account"}, {"operation", "query"}}, k);
  ASSERT_TRUE(query_op);
}

TEST(bulk_job, parse_query_request) {
  job_info j;
  ASSERT_FALSE(parse_query_request(
      nlohmann::json{{"operation", "queryAll"}, {"query", "SELECT Id FROM Account"}}, j));
  EXPECT_EQ(j.op, operation::query_all);
  EXPECT_EQ(j.kind, job_kind::query);
  EXPECT_EQ(j.state, job_state::upload_complete);
  EXPECT_TRUE(parse_query_request(nlohmann::json{{"operation", "query"}}, j));
  EXPECT_TRUE(parse_query_request(nlohmann::json{{"operation", "insert"}, {"query", "x"}}, j));
}

TEST(bulk_job, job_info_json) {
  job_info j;
  j.id = "7505g0000000001AAA";
  j.object = "Account";
  j.op = operation::insert;
  j.api_version = "59.0";
  j.created_ms = 0;
  j.modstamp_ms = 1000;
  auto created = j.to_json(false);
  EXPECT_EQ(created["contentUrl"], "services/data/v59.0/jobs/ingest/7505g0000000001AAA/batches");
  EXPECT_EQ(created["jobType"], "V2Ingest");
  EXPECT_EQ(created["state"], "Open");
  EXPECT_EQ(created["apiVersion"], 59.0);
  EXPECT_EQ(created["lineEnding"], "LF");
  EXPECT_EQ(created["columnDelimiter"], "COMMA");
  EXPECT_EQ(created["createdDate"], "1970-01-01T00:00:00.000+0000");
  EXPECT_FALSE(created.contains("numberRecordsProcessed"));
  EXPECT_FALSE(created.contains("externalIdFieldName"));
  j.records_processed = 5;
  j.records_failed = 2;
  j.error_message = "boom";
  auto full = j.to_json(true);
  EXPECT_EQ(full["numberRecordsProcessed"], 5);
  EXPECT_EQ(full["numberRecordsFailed"], 2);
  EXPECT_EQ(full["retries"], 0);
  EXPECT_EQ(full["errorMessage"], "boom");
  EXPECT_TRUE(full.contains("totalProcessingTime"));

  j.kind = job_kind::query;
  j.op = operation::query;
  auto q = j.to_json(true);
  EXPECT_EQ(q["jobType"], "V2Query");
  EXPECT_FALSE(q.contains("contentUrl"));
  EXPECT_FALSE(q.contains("numberRecordsFailed"));
}

TEST(bulk_job, locators) {
  EXPECT_EQ(encode_locator(10000), "MTAwMDA");
  for (std::uint64_t v : {0ull, 1ull, 7ull, 12ull, 123ull, 2000ull, 10000ull, 25000ull, 123456789ull})
    EXPECT_EQ(decode_locator(encode_locator(v)), v) << v;
  EXPECT_EQ(decode_locator("MTAwMDA="), 10000u);
  EXPECT_FALSE(decode_locator(""));
  EXPECT_FALSE(decode_locator("null"));
  EXPECT_FALSE(decode_locator("!!!!"));
  EXPECT_FALSE(decode_locator("YWJj")); // "abc": not digits
}
