#pragma once

#include "actors/worker_pool.hpp"
#include "salesforce/client.hpp"

#include <pqxx/pqxx>

#include <map>
#include <memory>
#include <string>

namespace syncforce::engine_io {

/// The production worker context: one engine session on PostgreSQL
/// (xmlbinary=hex) and one Salesforce client per integration user, per worker.
/// The actors hand it to jobs as an actors::worker_context; the jobs of this
/// module reach its connections through db() and sf() below.
class pg_worker_context : public actors::worker_context {
public:
  /// `session_name`: the application_name of its database session (store::node_session_name).
  pg_worker_context(std::string database_url, std::string session_name)
    : url_(std::move(database_url)), session_name_(std::move(session_name)) {}

  /// The worker's database connection, opened on first use.
  pqxx::connection& db();
  /// The worker's client for `user`, attached to the user's shared session.
  salesforce::client& sf(const actors::sf_user& user);
  /// Another client of the worker for `user` (lane 0 is sf(user)), on the
  /// same shared session: a client is not thread-safe, so each call a job
  /// keeps in flight at once goes through a lane of its own.
  salesforce::client& sf_lane(const actors::sf_user& user, std::size_t lane);
  /// The database the worker's connection goes to (a job that needs a second
  /// session for a moment, e.g. shadow_builds, opens it there).
  const std::string& database_url() const { return url_; }
  /// Its session's application_name (store::node_session_name): a second
  /// session of the job carries it too, so a lapsed node's are all found.
  const std::string& session_name() const { return session_name_; }
  /// The worker's second session, opened on first use: a write cycle records
  /// answered batches on it, on a thread of its own, while the cycle's thread
  /// claims, prepares and sends on db() (docs/write-back.md). Used by one
  /// thread at a time.
  pqxx::connection& recorder_db();
  /// Drops the database connections (after one broke); the next db() or
  /// recorder_db() reopens it.
  void reset_db() {
    conn_.reset();
    recorder_conn_.reset();
  }

  /// Resets the session and classifies the failure (store::classify_db_error):
  /// an unavailable database or a conflict is retried, anything else is fatal.
  actors::job_outcome failed(const std::string& job_name, const std::exception& e) override;

private:
  std::string url_;
  std::string session_name_;
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::connection> recorder_conn_;
  std::unique_ptr<salesforce::client> make_client(const actors::sf_user& user);

  std::map<std::string, std::unique_ptr<salesforce::client>> clients_;
};

/// The production context of `ctx`; throws std::logic_error for any other
/// (a job of this module scheduled on a pool without engine I/O).
pg_worker_context& pg_context(actors::worker_context& ctx);

/// Shorthands for the jobs: the worker's session and its client for `user`.
inline pqxx::connection& db_of(actors::worker_context& ctx) { return pg_context(ctx).db(); }
inline salesforce::client& sf_client(actors::worker_context& ctx, const actors::sf_user& user) {
  return pg_context(ctx).sf(user);
}
inline void reset_db_of(actors::worker_context& ctx) { pg_context(ctx).reset_db(); }

/// Commits `tx` if the job's lease still holds: the node's own deadline first,
/// then the lease row in the same transaction (store::check_fence). Throws
/// fenced_out (the job ends with outcome_kind::fenced, nothing committed).
void commit_fenced(pqxx::transaction_base& tx, const actors::worker_context& ctx);

/// A production context for each worker of a pool.
actors::worker_context_factory worker_contexts(std::string database_url, std::string node_name);

} // namespace syncforce::engine_io
