#include "actors/worker_pool.hpp"

#include "actors/atoms.hpp"
#include "metrics/metrics.hpp"

namespace syncforce::actors {

namespace {

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
        // The context's session may be mid-transaction: let it start afresh.
        ctx->failed(j.name, e);
        if (const auto* f = ctx->fence())
          metrics::fencing_refused(metrics::lease_kind_of(f->kind));
        return job_outcome::failure(outcome_kind::fenced, j.name + ": " + e.what());
      } catch (const std::exception& e) {
        return ctx->failed(j.name, e);
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

job_outcome worker_context::failed(const std::string& job_name, const std::exception& e) {
  return job_outcome::failure(outcome_kind::fatal, job_name + ": " + e.what());
}

worker_pool_actor::behavior_type worker_pool(worker_pool_actor::pointer self, worker_pool_config cfg) {
  auto st = std::make_shared<pool_state>();
  for (int i = 0; i < std::max(1, cfg.size); ++i) {
    std::shared_ptr<worker_context> ctx =
      cfg.make_context ? cfg.make_context() : std::make_unique<worker_context>();
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
