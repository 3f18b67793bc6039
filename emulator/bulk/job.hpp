#pragma once

#include "sync/csv.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sfemu::bulk {

// ---- job states and kinds ---------------------------------------------------

/// The states of a Bulk API 2.0 job, named as the API names them.
enum class job_state { open, upload_complete, in_progress, job_complete, failed, aborted };

/// "Open", "UploadComplete", "InProgress", "JobComplete", "Failed", "Aborted".
std::string_view to_string(job_state s);
std::optional<job_state> parse_job_state(std::string_view name);
/// The upper-case name used in some error messages ("IN_PROGRESS", "JOB_COMPLETE", ...).
std::string_view to_upper_name(job_state s);
/// JobComplete, Failed or Aborted.
bool is_terminal(job_state s);

/// Ingest jobs write records; query jobs read them.
enum class job_kind { ingest, query };

/// The operations of ingest and query jobs.
enum class operation { insert, update, upsert, delete_, hard_delete, query, query_all };

std::string_view to_string(operation op);
std::optional<operation> parse_operation(std::string_view name);
bool is_ingest(operation op);

/// An error reply of the Bulk API: HTTP status plus the `[{"errorCode","message"}]` body.
struct api_error {
  int status = 400;
  std::string code;
  std::string message;

  nlohmann::json body() const;
};

// ---- the job -----------------------------------------------------------------

/// What a job is and how far it got: the bookkeeping behind job info replies.
/// Times are milliseconds since the epoch, supplied by the caller's clock.
struct job_info {
  std::string id;
  job_kind kind = job_kind::ingest;
  operation op = operation::insert;
  std::string object;
  std::string external_id_field;
  std::string query;
  syncforce::csv::delimiter delim = syncforce::csv::delimiter::comma;
  syncforce::csv::line_ending ending = syncforce::csv::line_ending::lf;
  job_state state = job_state::open;
  std::string created_by_id;
  std::string api_version = "60.0";
  /// changeOrigin of the job's change events (`com/salesforce/api/bulkapi/<ver>;client=...`).
  std::string change_origin;
  std::int64_t created_ms = 0;
  std::int64_t modstamp_ms = 0;
  std::uint64_t records_processed = 0;
  std::uint64_t records_failed = 0;
  std::int64_t processing_ms = 0;
  std::string error_message;

  /// "services/data/v60.0/jobs/ingest/<id>/batches" (no leading slash, as Salesforce).
  std::string content_url() const;
  /// The job info JSON. `full` adds the counters GET reports (create omits them).
  nlohmann::json to_json(bool full) const;
};

// ---- rules -------------------------------------------------------------------

/// The reply for an unknown job id (404 NOT_FOUND).
api_error job_not_found();

/// Checks a state change a client asks for with PATCH (UploadComplete or Aborted).
std::optional<api_error> check_client_transition(const job_info& job, std::string_view requested);

/// Checks that job data may be uploaded (the job must be an Open ingest job).
std::optional<api_error> check_upload(const job_info& job);

/// Checks that a job may be deleted (UploadComplete, JobComplete, Aborted or Failed).
std::optional<api_error> check_delete(const job_info& job);

/// Checks that an ingest job's result files may be read (the job has finished).
std::optional<api_error> check_ingest_results(const job_info& job);

/// Checks that a query job's results may be read (412 JOB_NOT_COMPLETE otherwise).
std::optional<api_error> check_query_results(const job_info& job);

/// Validates the JSON body of a create-ingest-job request and fills `out`
/// (object, operation, externalIdFieldName, contentType, lineEnding, columnDelimiter).
std::optional<api_error> parse_ingest_request(const nlohmann::json& body, job_info& out);

/// Validates the JSON body of a create-query-job request (operation, query,
/// lineEnding, columnDelimiter); the SOQL itself is checked by the caller.
std::optional<api_error> parse_query_request(const nlohmann::json& body, job_info& out);

/// Upload limit for one job's data (150 MB, as Salesforce).
inline constexpr std::size_t max_upload_bytes = 150u * 1024u * 1024u;

/// The reply for an upload over the limit (in bytes).
api_error upload_too_large(std::size_t limit = max_upload_bytes);

/// Records per internal batch.
inline constexpr std::size_t internal_batch_size = 10000;

// ---- query result locators ----------------------------------------------------

/// Locators are opaque strings, as Salesforce's (base64 of the next offset,
/// e.g. "MTAwMDA" for 10000). The last page carries the literal "null".
std::string encode_locator(std::uint64_t offset);
std::optional<std::uint64_t> decode_locator(std::string_view locator);

} // namespace sfemu::bulk
