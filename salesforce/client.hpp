#pragma once

// The Salesforce API client: OAuth login, REST describe/query/collections,
// limits and Bulk API 2.0, over one reused libcurl handle.
//
// Threading: a client is NOT thread-safe. Use one client per thread (the sync
// engine gives each detached worker actor its own); several clients may share
// one login through adopt_session() and a reauth hook.

#include "salesforce/api_version.hpp"
#include "salesforce/auth.hpp"
#include "salesforce/bulk.hpp"
#include "salesforce/describe.hpp"
#include "salesforce/error.hpp"
#include "salesforce/http.hpp"
#include "salesforce/limit_info.hpp"
#include "salesforce/records.hpp"
#include "salesforce/result.hpp"
#include "salesforce/retry.hpp"
#include "sync/clock.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syncforce::salesforce {

class client;

// ---- configuration -----------------------------------------------------------

/// Everything a client needs to know before its first call.
struct client_config {
  std::string login_url = "https://login.salesforce.com"; ///< OAuth endpoint host (no trailing slash)
  api_version version;
  /// Sent on every call as `Sforce-Call-Options: client=<name>`; Salesforce
  /// echoes it in CDC `changeOrigin`, which is how the engine spots its own writes.
  std::string client_name = "syncforce";
  credentials creds;
  http_options http;
  retry_policy retry;
  /// `Sforce-Query-Options: batchSize=N` for REST queries (200..2000); 0 = server default.
  int query_batch_size = 2000;
  /// Bulk query job polling: first delay, growth factor, cap. A load's job of
  /// 100,000 records is often complete within a few hundred ms, and a first
  /// wait of 500 ms was a quarter of such a load (bench scenario 1). A job
  /// that takes 10 s costs 8 polls instead of 6.
  std::chrono::milliseconds job_poll_initial{50};
  double job_poll_factor = 2.0;
  std::chrono::milliseconds job_poll_max{10000};
  /// Ingest jobs (write-back) start polling sooner and back off faster: the
  /// records of a batch of a few thousand are often done within a few hundred
  /// ms, and a first wait of 500 ms was most of a 10,000-record write-back.
  /// A job that takes 5 s costs 7 polls instead of 5.
  std::chrono::milliseconds ingest_poll_initial{50};
  double ingest_poll_factor = 2.0;
};

/// Per-call options.
struct call_options {
  /// The call may be repeated safely (GET always is). Only idempotent calls are
  /// retried on 5xx, 429, timeouts and lost connections; every call is retried
  /// when the connection could not even be opened.
  bool idempotent = false;
};

// ---- results -----------------------------------------------------------------

/// One record's outcome in an sObject collection call, in request order.
struct save_result {
  std::string id;
  bool success = false;
  std::optional<bool> created; ///< upsert only
  std::vector<record_error> errors;
};

/// One entry of `GET /limits`.
struct limit_entry {
  std::string name;
  long max = 0;
  long remaining = 0;
};

/// One entry of `GET /limits/recordCount`.
struct record_count {
  std::string name;
  long count = 0;
};

/// A raw REST call, for what the typed methods do not cover.
struct raw_call {
  std::string method = "GET";
  std::string path; ///< absolute URL, or a path on the instance ("/services/data/...")
  std::string body;
  std::string content_type = "application/json";
  http_headers headers;
  call_options options;
  std::function<bool(std::string_view)> body_sink;
};

// ---- query cursor ------------------------------------------------------------

/// Options of a REST query.
struct query_options {
  bool include_deleted = false; ///< queryAll: deleted and archived rows too
  int batch_size = -1;          ///< -1 = the client's query_batch_size
};

/// A REST query read page by page: each next_page() fetches and parses one
/// batch (the first runs the query, the rest follow `nextRecordsUrl`), so the
/// whole result is never in memory. While `open()`, the server holds a query
/// cursor for the user (`locator()`); pre-v56 orgs allow only 10 per user.
class query_cursor {
public:
  /// The next page; after the last one, done() is true. Errors leave the
  /// cursor where it was, so the call may be repeated.
  result<query_page> next_page();
  /// The same, handing each record's `wanted` fields to `on_record` as views
  /// (page_parser::parse_each) instead of keeping them in the page.
  result<query_page> next_page(const std::vector<std::string>& wanted, const record_values_fn& on_record);

  /// True once the last page was returned.
  bool done() const { return done_; }
  /// True while the server holds a cursor for this query (a page was read and more remain).
  bool open() const { return started_ && !done_; }
  /// The server cursor's locator, e.g. "01gxx0000000001-2000"; empty when not open.
  const std::string& locator() const { return locator_; }
  /// totalSize from the last page read (-1 before the first).
  long total_size() const { return total_size_; }
  /// Records returned so far.
  long records_read() const { return records_read_; }

private:
  friend class client;
  query_cursor(client* owner, std::string soql, query_options options);
  result<query_page> next_page_of(const std::vector<std::string>* wanted, const record_values_fn* on_record);
  client* client_;
  std::string soql_;
  query_options options_;
  std::string next_url_;
  std::string locator_;
  bool started_ = false;
  bool done_ = false;
  long total_size_ = -1;
  long records_read_ = 0;
};

// ---- bulk query reader -------------------------------------------------------

/// The results of a completed Bulk 2.0 query job, read page by page
/// (`Sforce-Locator` until the literal "null"). Each page's CSV is parsed as
/// it arrives: rows reach the callback without the page ever being held whole.
class bulk_query_reader {
public:
  using record_handler = std::function<void(const csv::row&)>;

  /// Fetches the next page and calls `on_record` for each data row (the CSV
  /// header is taken off into columns()).
  result<bulk_page_info> next_page(const record_handler& on_record);

  bool done() const { return done_; }
  /// The column names, known after the first page.
  const std::vector<std::string>& columns() const { return columns_; }
  /// The locator of the next page; empty before the first and after the last.
  const std::string& locator() const { return locator_; }
  long records_read() const { return records_read_; }

private:
  friend class client;
  bulk_query_reader(client* owner, std::string job_id, long max_records);
  client* client_;
  std::string job_id_;
  long max_records_;
  std::string locator_;
  std::vector<std::string> columns_;
  bool done_ = false;
  long records_read_ = 0;
};

// ---- client ------------------------------------------------------------------

/// A Salesforce API client: synchronous, blocking, not thread-safe.
class client {
public:
  /// `transport` defaults to a curl_transport with `config.http`, `time` to
  /// the real clocks (shared_real_time()), `jitter` to device_jitter(); tests
  /// pass a fake transport, a manual_time and a fixed jitter.
  explicit client(client_config config, std::unique_ptr<http_transport> transport = nullptr,
                  std::shared_ptr<const time_source> time = nullptr, std::shared_ptr<jitter_source> jitter = nullptr);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  const client_config& config() const { return config_; }

  // -- auth --

  /// Logs in with the configured credentials (password or JWT bearer flow).
  /// Calls log in on their own when no session is held yet.
  status login();
  /// The session in use (invalid before the first login).
  const session& current_session() const { return session_; }
  /// Uses a session obtained elsewhere (e.g. shared by an integration-user actor).
  void adopt_session(session s);
  /// Replaces the client's own re-login on 401 INVALID_SESSION_ID: called with
  /// the stale session, returns a fresh one (so one owner can log in for all).
  using reauth_hook = std::function<result<session>(const session& stale)>;
  void set_reauth_hook(reauth_hook hook) { reauth_hook_ = std::move(hook); }
  /// Revokes the current access token (`POST /services/oauth2/revoke`).
  status logout();

  // -- API budget --

  /// The budget from the most recent `Sforce-Limit-Info` header, if any came.
  const std::optional<api_usage>& last_api_usage() const { return api_usage_; }
  /// Called with every `Sforce-Limit-Info` snapshot as it arrives.
  void on_api_usage(std::function<void(const api_usage&)> f) { on_api_usage_ = std::move(f); }
  /// Called before every request is sent; it may throw to stop the request
  /// (the engine's lease fencing: nothing is sent under a lost lease).
  void set_request_gate(std::function<void()> gate) { request_gate_ = std::move(gate); }
  /// Requests sent (every attempt, logins included).
  long requests_sent() const { return requests_sent_; }
  /// Retries made (after errors), and re-logins after expired sessions.
  long retries() const { return retries_; }
  long reauthentications() const { return reauths_; }
  /// What is left of the client-wide retry budget.
  double retry_tokens() const { return budget_.tokens(); }

  // -- raw --

  /// Sends an authenticated call with re-auth, retries and limit tracking;
  /// any non-2xx answer becomes an error.
  result<http_response> call(const raw_call& c);
  /// "/services/data/v60.0" + `rest`.
  std::string data_path(std::string_view rest) const;

  // -- describe --

  result<global_describe> describe_global();
  result<sobject_describe> describe(std::string_view sobject);

  // -- query --

  /// A cursor over `soql` (queryAll when options.include_deleted).
  query_cursor query(std::string soql, query_options options = {});
  query_cursor query_all(std::string soql, query_options options = {});
  /// Fetches one page by locator (queryMore), e.g. to resume a saved cursor.
  result<query_page> query_more(std::string_view locator, query_options options = {});

  // -- sObject collections (at most 200 records per call) --

  /// POST /composite/sobjects. Each record is a JSON object of fields; its
  /// `attributes.type` is set to `sobject` unless present.
  result<std::vector<save_result>> create(std::string_view sobject, const std::vector<nlohmann::json>& records,
                                          bool all_or_none = false, call_options options = {});
  /// PATCH /composite/sobjects; every record carries "Id".
  result<std::vector<save_result>> update(std::string_view sobject, const std::vector<nlohmann::json>& records,
                                          bool all_or_none = false, call_options options = {true});
  /// PATCH /composite/sobjects/{sobject}/{external_id_field}; idempotent by default.
  result<std::vector<save_result>> upsert(std::string_view sobject, std::string_view external_id_field,
                                          const std::vector<nlohmann::json>& records, bool all_or_none = false,
                                          call_options options = {true});
  /// DELETE /composite/sobjects?ids=...
  result<std::vector<save_result>> remove(const std::vector<std::string>& ids, bool all_or_none = false,
                                          call_options options = {});

  // -- limits --

  result<std::vector<limit_entry>> limits();
  result<std::vector<record_count>> record_counts(const std::vector<std::string>& sobjects);

  // -- Bulk API 2.0 ingest --

  result<job_info> create_ingest_job(const ingest_job_spec& spec);
  /// PUT the job's CSV data (header row first).
  status upload_job_data(std::string_view job_id, std::string csv);
  /// State UploadComplete: the server starts processing.
  result<job_info> close_ingest_job(std::string_view job_id);
  result<job_info> abort_ingest_job(std::string_view job_id);
  result<job_info> ingest_job(std::string_view job_id);
  status delete_ingest_job(std::string_view job_id);
  /// Polls with growing delays until JobComplete, Failed or Aborted, or until
  /// `timeout` passes (then a transient "TIMEOUT" error). `just_closed`: the
  /// caller closed the job a moment ago (its answer said UploadComplete), so
  /// the first poll waits the first delay too instead of costing a call at once.
  result<job_info> wait_for_ingest_job(std::string_view job_id, std::chrono::milliseconds timeout,
                                       bool just_closed = false);
  /// Streams one result set as CSV rows (the header row first); returns the
  /// number of data rows.
  result<long> ingest_job_results(std::string_view job_id, ingest_results which,
                                  const std::function<void(const csv::row&)>& on_row);

  // -- Bulk API 2.0 query --

  result<job_info> create_query_job(std::string_view soql, bool include_deleted = false);
  result<job_info> query_job(std::string_view job_id);
  result<job_info> abort_query_job(std::string_view job_id);
  status delete_query_job(std::string_view job_id);
  result<job_info> wait_for_query_job(std::string_view job_id, std::chrono::milliseconds timeout);
  /// A page reader over a completed job's results; `max_records` per page (0 = server default).
  /// `start_locator` resumes at a page whose locator an earlier reader returned.
  bulk_query_reader query_job_results(std::string job_id, long max_records = 0, std::string start_locator = {});

private:
  friend class query_cursor;
  friend class bulk_query_reader;

  result<http_response> send(const raw_call& c, bool authenticated);
  result<session> login_once();
  status ensure_session();
  status reauthenticate();
  void note_limit_info(const http_response& r);
  result<std::vector<save_result>> collection_call(std::string method, std::string path, std::string body,
                                                   call_options options);
  result<job_info> job_call(std::string method, std::string path, std::string body, call_options options);
  result<job_info> wait_for_job(std::string_view kind, std::string_view job_id, std::chrono::milliseconds timeout,
                                std::chrono::milliseconds first_delay, double factor, bool wait_first = false);
  result<query_page> fetch_page(const std::string& path_or_url, const query_options& options,
                                const std::vector<std::string>* wanted = nullptr,
                                const record_values_fn* on_record = nullptr);

  client_config config_;
  std::unique_ptr<http_transport> transport_;
  std::shared_ptr<const time_source> time_;
  std::shared_ptr<jitter_source> jitter_;
  retry_budget budget_;
  session session_;
  reauth_hook reauth_hook_;
  std::optional<api_usage> api_usage_;
  std::function<void(const api_usage&)> on_api_usage_;
  std::function<void()> request_gate_;
  page_parser page_parser_;
  long requests_sent_ = 0;
  long retries_ = 0;
  long reauths_ = 0;
  unsigned generation_ = 0;
};

} // namespace syncforce::salesforce
