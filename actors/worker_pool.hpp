#pragma once

#include "salesforce/client.hpp"
#include "salesforce/shared_session.hpp"
#include "sync/lease_fence.hpp"

#include <caf/all.hpp>
#include <pqxx/pqxx>

#include <cstdint>
#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

namespace syncforce::actors {

// ---- Salesforce integration users -------------------------------------------

/// One Salesforce login shared by every client that works as this user: the
/// client settings (with the resolved secrets), the shared OAuth session and
/// where API usage goes. Built by the engine, read-only afterwards.
struct sf_user {
  std::string key; ///< login_url + "|" + username
  std::string username;
  /// Query cursors the user may hold at once (0: no limit), from its connections' API version.
  int cursor_limit = 0;
  salesforce::client_config config;
  std::shared_ptr<salesforce::shared_session> session;
  /// Called (on worker threads) with every Sforce-Limit-Info snapshot.
  std::function<void(const salesforce::api_usage&)> on_usage;
};

// ---- jobs --------------------------------------------------------------------

/// What a worker offers the job it runs: its own PostgreSQL connection (an
/// engine session, xmlbinary=hex) and its own Salesforce client per user.
class worker_context {
public:
  virtual ~worker_context() = default;
  /// The worker's database connection, opened on first use.
  virtual pqxx::connection& db() = 0;
  /// The worker's client for `user`, attached to the user's shared session.
  virtual salesforce::client& sf(const sf_user& user) = 0;
  /// Drops the database connection (after it broke); the next db() reopens it.
  virtual void reset_db() = 0;

  /// The lease the running job works under (none: unfenced work, e.g. tests
  /// with fakes or the node's own housekeeping). Set by the worker per job;
  /// every Salesforce request and every commit_fenced() checks it.
  const lease_fence* fence() const { return fence_.get(); }
  void set_fence(std::shared_ptr<const lease_fence> f) { fence_ = std::move(f); }

private:
  std::shared_ptr<const lease_fence> fence_;
};

/// Commits `tx` if the job's lease still holds: the node's own deadline first,
/// then the lease row in the same transaction (store::check_fence). Throws
/// fenced_out (the job ends with outcome_kind::fenced, nothing committed).
void commit_fenced(pqxx::transaction_base& tx, const worker_context& ctx);

/// How a job ended.
enum class outcome_kind : std::uint8_t {
  ok,
  retry,      ///< transient (Salesforce unavailable, database down): try again later, with backoff
  budget,     ///< the API budget is spent: try again after the budget wait
  bad_config, ///< the mapping cannot work as configured: park it
  fatal,      ///< anything else: the mapping actor crashes and is restarted
  fenced,     ///< the unit's lease is no longer this node's: the unit stops here (no crash)
};

/// The result of a job.
struct job_outcome {
  outcome_kind kind = outcome_kind::ok;
  std::string error; ///< never holds a secret
  long rows = 0;
  std::string hwm;   ///< a high-water mark, when the job moved or read one
  std::string state; ///< a persisted state, when the job read one
  long api_calls = 0;
  /// Column names, when the job reports some (prepare_mapping: columns to backfill).
  std::vector<std::string> columns;
  /// Change events: the stored replay id (load_change_mark) or the one the
  /// batch reached (apply_change_events); none: start from the newest event.
  std::optional<std::uint64_t> replay_id;
  /// Change events: the batch held something no event can apply (a gap, an
  /// overflow, an update of a row the table lacks, a value PostgreSQL refused):
  /// a keyset poll must read it.
  bool needs_catch_up = false;

  bool ok() const { return kind == outcome_kind::ok; }
  static job_outcome failure(outcome_kind k, std::string e) {
    job_outcome o;
    o.kind = k;
    o.error = std::move(e);
    return o;
  }
};

/// A blocking piece of work for a worker.
struct job {
  std::string name;
  std::function<job_outcome(worker_context&)> run;
  /// The lease the job works under (see worker_context::fence).
  std::shared_ptr<const lease_fence> fence = nullptr;
};

/// Settings of a worker pool.
struct worker_pool_config {
  /// Workers, i.e. the most PostgreSQL connections the node's engine opens.
  int size = 4;
  /// Spawn workers detached (own threads, production) or scheduled (tests with fakes).
  bool detached = true;
  std::string database_url;
};

/// Runs jobs on a bounded set of workers, in arrival order.
/// Messages: (run_job_atom, job) -> job_outcome; (status_atom) -> (workers, busy, queued) as int32s.
caf::behavior worker_pool(caf::event_based_actor* self, worker_pool_config cfg);

/// The production context (libpqxx engine connection + libcurl clients).
std::unique_ptr<worker_context> make_worker_context(std::string database_url);

} // namespace syncforce::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(syncforce::actors::job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(syncforce::actors::job_outcome)
