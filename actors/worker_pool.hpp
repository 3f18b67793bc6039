#pragma once

#include "actors/atoms.hpp"
#include "salesforce/client.hpp"
#include "salesforce/shared_session.hpp"
#include "sync/job_outcome.hpp"
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
  std::string database_url;
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

/// The production context (libpqxx engine connection + libcurl clients).
std::unique_ptr<worker_context> make_worker_context(std::string database_url);

} // namespace syncforce::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(syncforce::actors::job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(syncforce::job_outcome)
