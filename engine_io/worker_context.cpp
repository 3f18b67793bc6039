#include "engine_io/worker_context.hpp"

#include "engine_io/sf_login.hpp"

#include "store/cluster.hpp"
#include "store/copy_loader.hpp"
#include "store/db_errors.hpp"

#include <stdexcept>

namespace syncforce::engine_io {

using actors::job_outcome;
using actors::outcome_kind;

pqxx::connection& pg_worker_context::db() {
  // Opened once per break, never in the middle of a job: a job may hold the
  // connection by reference across calls. A connection that broke makes the
  // job fail (retried); the failure resets it, and the next job opens anew.
  if (!conn_)
    conn_ = store::open_engine_connection(url_, session_name_);
  return *conn_;
}

pqxx::connection& pg_worker_context::recorder_db() {
  if (!recorder_conn_)
    recorder_conn_ = store::open_engine_connection(url_, session_name_);
  return *recorder_conn_;
}

salesforce::client& pg_worker_context::sf(const actors::sf_user& user) { return sf_lane(user, 0); }

salesforce::client& pg_worker_context::sf_lane(const actors::sf_user& user, std::size_t lane) {
  const auto key = lane == 0 ? user.key : user.key + "#" + std::to_string(lane);
  auto i = clients_.find(key);
  if (i != clients_.end())
    return *i->second;
  auto c = make_client(user);
  auto& ref = *c;
  clients_.emplace(key, std::move(c));
  return ref;
}

std::unique_ptr<salesforce::client> pg_worker_context::make_client(const actors::sf_user& user) {
  const auto* login = dynamic_cast<const salesforce_login*>(user.login.get());
  if (login == nullptr) // the engine made the user without engine_backend::log_in
    throw std::logic_error("no Salesforce login for " + user.username);
  auto c = std::make_unique<salesforce::client>(login->config);
  // Adopt the shared login if there is one yet; either way, expired sessions
  // are renewed through it, so the user logs in once for all workers.
  login->session->attach(*c);
  if (user.on_usage)
    c->on_api_usage([usage = user.on_usage](const salesforce::api_usage& u) { usage(u.used, u.max); });
  // Nothing goes to Salesforce under a lease this node's clock says is gone
  // (a frozen node wakes up past its deadline: not one request).
  c->set_request_gate([this] {
    if (const auto* f = fence())
      f->require_valid("Salesforce request");
  });
  return c;
}

job_outcome pg_worker_context::failed(const std::string& job_name, const std::exception& e) {
  // A failed statement may leave the session unusable: start afresh.
  reset_db();
  switch (store::classify_db_error(e)) {
    case store::db_failure::unavailable:
      return job_outcome::failure(outcome_kind::retry, "database unavailable: " + std::string{e.what()});
    case store::db_failure::conflict:
      return job_outcome::failure(outcome_kind::retry, job_name + ": " + e.what());
    case store::db_failure::permanent:
      break;
  }
  return job_outcome::failure(outcome_kind::fatal, job_name + ": " + e.what());
}

pg_worker_context& pg_context(actors::worker_context& ctx) {
  if (auto* pg = dynamic_cast<pg_worker_context*>(&ctx))
    return *pg;
  throw std::logic_error("an engine I/O job ran on a worker without a database session (the pool was "
                         "configured without engine_io::worker_contexts)");
}

void commit_fenced(pqxx::transaction_base& tx, const actors::worker_context& ctx) {
  if (const auto* f = ctx.fence()) {
    f->require_valid("commit");
    store::check_fence(tx, *f);
  }
  tx.commit();
}

actors::worker_context_factory worker_contexts(std::string database_url, std::string node_name) {
  return [url = std::move(database_url), name = store::node_session_name("syncforce-worker", node_name)]()
           -> std::unique_ptr<actors::worker_context> { return std::make_unique<pg_worker_context>(url, name); };
}

} // namespace syncforce::engine_io
