#pragma once

#include "emulator/bulk/job.hpp"
#include "emulator/bulk/results.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sfemu {
class org;
class clock;
struct query_run;
} // namespace sfemu

namespace sfemu::bulk {

/// Either a value or an API error, for the engine's replies.
template <class T>
struct reply {
  std::optional<T> value;
  std::optional<api_error> error;

  static reply ok(T v) {
    reply r;
    r.value = std::move(v);
    return r;
  }
  static reply fail(api_error e) {
    reply r;
    r.error = std::move(e);
    return r;
  }
  explicit operator bool() const { return value.has_value(); }
};

/// Which result file of an ingest job.
enum class result_kind { successful, failed, unprocessed };

/// One page of query job results.
struct result_page {
  std::string csv;
  std::size_t records = 0;
  std::string locator; ///< "null" on the last page
};

/// Bulk API 2.0 jobs of one org: creation, uploads, state changes, results, and
/// a background worker that processes closed ingest jobs and query jobs in
/// internal batches of 10,000 records through the org's ordinary write path
/// (so per-record errors are the REST ones). Thread-safe; HTTP-agnostic.
class engine {
public:
  engine(org& o, sfemu::clock& clk);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // -- ingest jobs --
  reply<nlohmann::json> create_ingest(const nlohmann::json& body, const std::string& user_id,
                                      const std::string& version);
  std::optional<api_error> upload(const std::string& id, std::string_view data);
  reply<std::string> ingest_results(const std::string& id, result_kind which);

  // -- query jobs --
  reply<nlohmann::json> create_query(const nlohmann::json& body, const std::string& user_id,
                                     const std::string& version);
  /// `locator` empty for the first page; `max_records` 0 for every remaining row in one
  /// page (jsforce 3.10 cannot read several pages unless it asked for maxRecords).
  reply<result_page> query_results(const std::string& id, std::string_view locator,
                                   std::size_t max_records);

  // -- both --
  /// PATCH: {"state":"UploadComplete"|"Aborted"}.
  reply<nlohmann::json> set_state(job_kind kind, const std::string& id, const nlohmann::json& body);
  reply<nlohmann::json> info(job_kind kind, const std::string& id);
  /// GET jobs/ingest or jobs/query: {"done":true,"records":[...],"nextRecordsUrl":null}.
  nlohmann::json list(job_kind kind);
  std::optional<api_error> remove(job_kind kind, const std::string& id);

  /// Drops every job (the control API's reset).
  void reset();
  /// Blocks until no job is queued or being processed, or the timeout passes.
  bool wait_idle(std::chrono::milliseconds timeout);

  /// Changes the upload limit (150 MB by default; tests lower it).
  void set_max_upload_bytes(std::size_t n);

private:
  struct job;
  using job_ptr = std::shared_ptr<job>;

  job_ptr find(job_kind kind, const std::string& id);
  void enqueue(const std::string& id);
  void run();
  void process_ingest(const job_ptr& j);
  void process_query(const job_ptr& j);
  void finish(const job_ptr& j, job_state state, std::string error_message, std::int64_t started_ms);

  org& org_;
  sfemu::clock& clock_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::map<std::string, job_ptr> jobs_;
  std::deque<std::string> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::uint64_t next_sequence_ = 1;
  std::size_t max_upload_bytes_ = max_upload_bytes;
  std::thread worker_;
};

} // namespace sfemu::bulk
