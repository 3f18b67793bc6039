#include "actors/writer_actor.hpp"

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/log.hpp"
#include "store/trigger_log.hpp"

namespace syncforce::actors {

namespace {

using writer_ptr = caf::stateful_actor<writer_actor_state>*;

void wait_then_wake(writer_ptr self, std::chrono::milliseconds delay, const std::string& reason) {
  auto& st = self->state;
  log(spdlog::level::warn, log_event{"Operation delayed, will retry", "connection", st.cfg.job.name,
                                     "POLLING_DB_CHANGES"}.addon(st.cfg.job.connection_id)
                             .with("retry_in_ms", std::to_string(delay.count()))
                             .with("reason", reason));
  self->delayed_send(self, delay, retry_atom::value);
}

void cycle(writer_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  if (st.busy) {
    st.dirty = true;
    return;
  }
  st.busy = true;
  st.dirty = false;
  auto j = st.cfg.job;
  j.recover_pending = st.first;
  auto now = self->clock().now();
  j.purge_archive = !st.last_purge || now - *st.last_purge >= st.cfg.purge_every;
  if (j.purge_archive)
    st.last_purge = now;
  auto io = st.io;
  self->request(st.pool, caf::infinite, run_job_atom::value,
                job{"write_cycle", [io, j](worker_context& ctx) { return io->write_cycle(ctx, j); }, st.cfg.fence})
    .then(
      [self](job_outcome& o) {
        auto& st = self->state;
        st.busy = false;
        if (st.stopping) {
          self->quit(caf::exit_reason::user_shutdown);
          return;
        }
        switch (o.kind) {
          case outcome_kind::ok:
            st.first = false;
            st.failures = 0;
            if (o.state == "more" || st.dirty)
              self->send(self, wake_atom::value);
            return;
          case outcome_kind::budget:
            ++st.failures;
            st.first = true; // see below
            wait_then_wake(self, st.cfg.budget_wait, o.error);
            return;
          case outcome_kind::retry:
          case outcome_kind::bad_config:
          case outcome_kind::fatal:
            // A cycle that failed after its claim may not have been able to give
            // its entries back (the database connection broke): the next cycle
            // returns every PENDING entry to NEW first. Nothing else claims this
            // connection's log meanwhile (one cycle at a time, one writer per
            // lease); creates that may have reached Salesforce are in doubt and
            // settled before anything is sent again.
            st.first = true;
            wait_then_wake(self, st.cfg.retry.delay(++st.failures), o.error);
            return;
          case outcome_kind::fenced:
            self->quit(make_error(engine_errc::lease_lost, o.error));
            return;
        }
      },
      [self](caf::error& err) { self->quit(err); });
}

} // namespace

caf::behavior writer_actor(caf::stateful_actor<writer_actor_state>* self, writer_settings cfg,
                           std::shared_ptr<write_io> io, caf::actor pool) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.io = std::move(io);
  st.pool = std::move(pool);
  return {
    [self](start_atom) {
      auto& st = self->state;
      if (!st.cfg.database_url.empty() && !st.listener)
        st.listener = std::make_unique<notify_listener>(st.cfg.database_url, trigger_log_channel(st.cfg.job.schema),
                                                        caf::actor_cast<caf::actor>(self));
      self->send(self, wake_atom::value);
      self->delayed_send(self, st.cfg.fallback_poll, tick_atom::value);
    },
    [self](wake_atom) {
      // During a backoff wait, notifications do not cut the wait short.
      if (self->state.failures == 0)
        cycle(self);
    },
    [self](retry_atom) { cycle(self); },
    [self](stop_atom, bool) {
      auto& st = self->state;
      st.stopping = true;
      st.listener.reset();
      if (!st.busy)
        self->quit(caf::exit_reason::user_shutdown);
    },
    [self](tick_atom) {
      if (self->state.failures == 0)
        cycle(self);
      self->delayed_send(self, self->state.cfg.fallback_poll, tick_atom::value);
    },
    [self](status_atom) {
      auto& st = self->state;
      return caf::make_message(st.busy, static_cast<int32_t>(st.failures));
    },
  };
}

} // namespace syncforce::actors
