#pragma once

#include "sync/csv.hpp"

#include <string>
#include <string_view>

namespace syncforce::salesforce {

/// A Bulk API 2.0 job's state.
enum class job_state { open, upload_complete, in_progress, job_complete, failed, aborted, unknown };

job_state parse_job_state(std::string_view s);
std::string_view to_string(job_state s);
/// JobComplete, Failed or Aborted.
inline bool is_terminal(job_state s) {
  return s == job_state::job_complete || s == job_state::failed || s == job_state::aborted;
}

/// What a new ingest job does.
struct ingest_job_spec {
  std::string object;
  std::string operation = "insert"; ///< insert, update, upsert, delete, hardDelete
  std::string external_id_field;    ///< for upsert
  csv::delimiter column_delimiter = csv::delimiter::comma;
  csv::line_ending line_ending = csv::line_ending::lf;
};

/// A Bulk API 2.0 job (ingest or query) as the server reports it.
struct job_info {
  std::string id;
  std::string operation;
  std::string object;
  job_state state = job_state::unknown;
  std::string state_text;
  std::string external_id_field;
  std::string content_url;
  std::string api_version;
  std::string job_type;
  std::string error_message;
  long records_processed = 0;
  long records_failed = 0;
  long retries = 0;
  long total_processing_time = 0;
};

/// Which results of an ingest job to fetch.
enum class ingest_results { successful, failed, unprocessed };

/// One page of a Bulk 2.0 query job's results, read by `bulk_query_reader`.
struct bulk_page_info {
  long records = 0;    ///< data rows in this page (header excluded)
  std::string locator; ///< for the next page; empty when this was the last
  bool done = false;
};

} // namespace syncforce::salesforce
