#include "actors/worker_pool.hpp"

#include "metrics/metrics.hpp"
#include "store/cluster.hpp"
#include "store/db_errors.hpp"

#include "actors/atoms.hpp"
#include "store/copy_loader.hpp"

namespace syncforce::actors {

namespace {

/// libpqxx + libcurl, one of each per worker thread.
class pg_sf_context : public worker_context {
public:
  explicit pg_sf_context(std::string url) : url_(std::move(url)) {}

  pqxx::connection& db() override {
    // Opened once per break, never in the middle of a job: a job may hold the
    // connection by reference across calls. A connection that broke makes the
    // job fail (retried); the failure resets it, and the next job opens anew.
    if (!conn_)
      conn_ = open_engine_connection(url_, "syncforce-worker");
    return *conn_;
  }

  void reset_db() override { conn_.reset(); }

  salesforce::client& sf(const sf_user& user) override {
    auto i = clients_.find(user.key);
    if (i != clients_.end())
      return *i->second;
    auto c = std::make_unique<salesforce::client>(user.config);
    if (user.session) {
      // Adopt the shared login if there is one yet; either way, expired sessions
      // are renewed through it, so the user logs in once for all workers.
      user.session->attach(*c);
    }
    if (user.on_usage)
      c->on_api_usage(user.on_usage);
    // Nothing goes to Salesforce under a lease this node's clock says is gone
    // (a frozen node wakes up past its deadline: not one request).
    c->set_request_gate([this] {
      if (const auto* f = fence())
        f->require_valid("Salesforce request");
    });
    auto& ref = *c;
    clients_.emplace(user.key, std::move(c));
    return ref;
  }

private:
  std::string url_;
  std::unique_ptr<pqxx::connection> conn_;
  std::map<std::string, std::unique_ptr<salesforce::client>> clients_;
};

/// One worker: runs the jobs its pool hands it, one at a time, on its own thread.
using pool_worker_actor = caf::typed_actor<caf::replies_to<run_job_atom, job>::with<job_outcome>>;

pool_worker_actor::behavior_type pool_worker(pool_worker_actor::pointer self, std::shared_ptr<worker_context> ctx) {
  (void)self;
  return {
    [ctx](run_job_atom, job& j) -> job_outcome {
      struct fence_scope {
        worker_context& ctx;
        ~fence_scope() { ctx.set_fence(nullptr); }
      } scope{*ctx};
      ctx->set_fence(j.fence);
      try {
        if (j.fence)
          j.fence->require_valid(j.name.c_str());
        return j.run(*ctx);
      } catch (const fenced_out& e) {
        ctx->reset_db();
        if (const auto* f = ctx->fence())
          metrics::fencing_refused(metrics::lease_kind_of(f->kind));
        return job_outcome::failure(outcome_kind::fenced, j.name + ": " + e.what());
      } catch (const std::exception& e) {
        // A failed statement may leave the session unusable: start afresh.
        ctx->reset_db();
        switch (store::classify_db_error(e)) {
          case store::db_failure::unavailable:
            return job_outcome::failure(outcome_kind::retry, "database unavailable: " + std::string{e.what()});
          case store::db_failure::conflict:
            return job_outcome::failure(outcome_kind::retry, j.name + ": " + e.what());
          case store::db_failure::permanent:
            break;
        }
        return job_outcome::failure(outcome_kind::fatal, j.name + ": " + e.what());
      }
    },
  };
}

struct pool_state {
  std::vector<pool_worker_actor> idle;
  int workers = 0;
  std::deque<std::pair<job, caf::typed_response_promise<job_outcome>>> queue;
};

void dispatch(worker_pool_actor::pointer self, const std::shared_ptr<pool_state>& st) {
  while (!st->idle.empty() && !st->queue.empty()) {
    auto worker = st->idle.back();
    st->idle.pop_back();
    auto item = std::move(st->queue.front());
    st->queue.pop_front();
    auto rp = item.second;
    self->request(worker, caf::infinite, run_job_atom::value, std::move(item.first))
      .then(
        [self, st, worker, rp](job_outcome& o) mutable {
          rp.deliver(std::move(o));
          st->idle.push_back(worker);
          dispatch(self, st);
        },
        [self, st, rp](caf::error& err) mutable {
          // The worker died (it never should): answer, and run with one fewer.
          rp.deliver(job_outcome::failure(outcome_kind::fatal, "worker failed: " + caf::to_string(err)));
          --st->workers;
          dispatch(self, st);
        });
  }
}

} // namespace

void commit_fenced(pqxx::transaction_base& tx, const worker_context& ctx) {
  if (const auto* f = ctx.fence()) {
    f->require_valid("commit");
    store::check_fence(tx, *f);
  }
  tx.commit();
}

std::unique_ptr<worker_context> make_worker_context(std::string database_url) {
  return std::make_unique<pg_sf_context>(std::move(database_url));
}

worker_pool_actor::behavior_type worker_pool(worker_pool_actor::pointer self, worker_pool_config cfg) {
  auto st = std::make_shared<pool_state>();
  for (int i = 0; i < std::max(1, cfg.size); ++i) {
    std::shared_ptr<worker_context> ctx = make_worker_context(cfg.database_url);
    auto w = cfg.detached ? self->spawn<caf::detached + caf::linked>(pool_worker, ctx)
                          : self->spawn<caf::linked>(pool_worker, ctx);
    st->idle.push_back(w);
    ++st->workers;
  }
  return {
    [self, st](run_job_atom, job& j) -> caf::result<job_outcome> {
      auto rp = self->make_response_promise<job_outcome>();
      st->queue.emplace_back(std::move(j), rp);
      dispatch(self, st);
      return rp;
    },
    [st](status_atom) {
      pool_status s;
      s.workers = static_cast<std::int32_t>(st->workers);
      s.busy = static_cast<std::int32_t>(st->workers - static_cast<int>(st->idle.size()));
      s.queued = static_cast<std::int32_t>(st->queue.size());
      return s;
    },
  };
}

} // namespace syncforce::actors
