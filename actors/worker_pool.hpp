#pragma once

#include "salesforce/client.hpp"
#include "salesforce/shared_session.hpp"
#include "sync/lease_fence.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <deque>
#include <functional>
#include <map>
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

struct job_outcome;

/// What a worker offers the job it runs. The production context (engine_io/
/// worker_context.hpp: one PostgreSQL connection and one Salesforce client per
/// user, per worker) derives from this; the actors see only the lease and the
/// failure policy, so they stay free of libpqxx and libcurl.
class worker_context {
public:
  virtual ~worker_context() = default;

  /// The outcome of a job that threw `e` (after the fence checks): the
  /// context forgets what the failure may have broken (a database session)
  /// and says whether to retry. Without an I/O layer anything is fatal.
  virtual job_outcome failed(const std::string& job_name, const std::exception& e);

  /// The lease the running job works under (none: unfenced work, e.g. tests
  /// with fakes or the node's own housekeeping). Set by the worker per job;
  /// every Salesforce request and every commit_fenced() checks it.
  const lease_fence* fence() const { return fence_.get(); }
  void set_fence(std::shared_ptr<const lease_fence> f) { fence_ = std::move(f); }

private:
  std::shared_ptr<const lease_fence> fence_;
};

/// Makes one worker's context (called once per worker, on the pool's thread).
using worker_context_factory = std::function<std::unique_ptr<worker_context>()>;

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
  /// Each worker's context (none: a context without I/O, for tests with fakes).
  worker_context_factory make_context;
};

/// Runs jobs on a bounded set of workers, in arrival order.
/// Messages: (run_job_atom, job) -> job_outcome; (status_atom) -> (workers, busy, queued) as int32s.
caf::behavior worker_pool(caf::event_based_actor* self, worker_pool_config cfg);

} // namespace syncforce::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(syncforce::actors::job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(syncforce::actors::job_outcome)
