#pragma once

#include "actors/atoms.hpp"
#include "sync/job_outcome.hpp"
#include "sync/lease_fence.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

namespace syncforce::actors {

// ---- Salesforce integration users -------------------------------------------

/// How the workers log in as a user: the client settings with the resolved
/// secrets and the OAuth session all of the user's clients share. Opaque here
/// (engine_io::salesforce_login is the one in production), so that the actors
/// link no Salesforce client.
class sf_login {
public:
  virtual ~sf_login() = default;
};

/// One Salesforce user as every client that works as it sees it: its login and
/// where API usage goes. Built by the engine, read-only afterwards.
struct sf_user {
  std::string key; ///< login_url + "|" + username (store::user_unit_key)
  std::string username;
  /// Query cursors the user may hold at once (0: no limit), from its connections' API version.
  int cursor_limit = 0;
  /// None with fakes (no Salesforce client to log in).
  std::shared_ptr<const sf_login> login;
  /// Called (on worker threads) with every Sforce-Limit-Info snapshot: calls used and the daily maximum.
  std::function<void(std::int64_t used, std::int64_t max)> on_usage;
};

// ---- jobs --------------------------------------------------------------------

using syncforce::job_outcome;
using syncforce::outcome_kind;

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

// How a job ended (outcome_kind) and its typed result (job_outcome) are pure
// data in sync/job_outcome.hpp: the lifecycles decide on them without CAF.
using syncforce::job_outcome;
using syncforce::outcome_kind;

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

/// What a worker pool is doing, as (status_atom) answers it.
struct pool_status {
  std::int32_t workers = 0; ///< workers alive
  std::int32_t busy = 0;    ///< workers running a job
  std::int32_t queued = 0;  ///< jobs waiting for a worker
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pool_status& x) {
  return f(caf::meta::type_name("pool_status"), x.workers, x.busy, x.queued);
}

/// The protocol of a worker pool (senders: mapping, writer, connection and
/// engine actors). A job is local-only (it carries a closure).
using worker_pool_actor = caf::typed_actor<
  /// Run `job` on the next free worker; the reply is its outcome.
  caf::replies_to<run_job_atom, job>::with<job_outcome>,
  caf::replies_to<status_atom>::with<pool_status>>;

/// Runs jobs on a bounded set of workers, in arrival order.
worker_pool_actor::behavior_type worker_pool(worker_pool_actor::pointer self, worker_pool_config cfg);

} // namespace syncforce::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(syncforce::actors::job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(syncforce::job_outcome)
