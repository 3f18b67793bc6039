#include "actors/writer_actor.hpp"

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/log.hpp"
#include "store/channels.hpp"

namespace syncforce::actors {

namespace {

using writer_ptr = writer_actor_impl::stateful_pointer<writer_actor_state>;

cycle_end end_of(const job_outcome& o) {
  switch (o.kind) {
    case outcome_kind::ok:
      return o.more ? cycle_end::more : cycle_end::done;
    case outcome_kind::budget:
      return cycle_end::budget;
    case outcome_kind::retry:
    case outcome_kind::cancelled:
    case outcome_kind::bad_config:
    case outcome_kind::fatal:
      return cycle_end::retry;
    case outcome_kind::fenced:
      return cycle_end::fenced;
  }
  return cycle_end::retry;
}

void carry_out(writer_ptr self, const writer_actions& a, const std::string& reason = {});

void run_cycle(writer_ptr self, const writer_actions::run_cycle& run) {
  auto& st = self->state;
  auto j = st.cfg.job;
  j.recover_pending = run.recover_pending;
  j.purge_archive = run.purge_archive;
  auto io = st.io;
  self->request(st.pool, caf::infinite, run_job_atom::value,
                job{"write_cycle", [io, j](worker_context& ctx) { return io->write_cycle(ctx, j); }, st.cfg.fence})
    .then([self](job_outcome& o) { carry_out(self, on_cycle_end(self->state.status, end_of(o)), o.error); },
          [self](caf::error& err) { self->quit(err); });
}

/// Does what the lifecycle (sync/writer_lifecycle.hpp) decided.
void carry_out(writer_ptr self, const writer_actions& a, const std::string& reason) {
  auto& st = self->state;
  if (a.run)
    run_cycle(self, *a.run);
  if (a.wait_then_retry) {
    auto delay = a.wait_then_retry->kind == wait_kind::budget ? st.cfg.budget_wait
                                                              : st.cfg.retry.delay(a.wait_then_retry->attempt);
    log(spdlog::level::warn, log_event{"Operation delayed, will retry", "connection", st.cfg.job.name,
                                       "POLLING_DB_CHANGES"}.addon(st.cfg.job.connection_id)
                               .with("retry_in_ms", std::to_string(delay.count()))
                               .with("reason", reason));
    self->delayed_send(self, delay, retry_atom::value);
  }
  if (a.wake_again)
    self->send(self, wake_atom::value);
  if (a.quit) {
    if (*a.quit == writer_actions::quit_reason::lease_lost)
      self->quit(make_error(engine_errc::lease_lost, reason));
    else
      self->quit(caf::exit_reason::user_shutdown);
  }
}

void handle(writer_ptr self, writer_event e) {
  auto& st = self->state;
  carry_out(self, on_event(st.status, e, self->clock().now(), st.cfg.purge_every));
}

} // namespace

writer_actor_impl::behavior_type writer_actor(writer_actor_impl::stateful_pointer<writer_actor_state> self,
                                              writer_settings cfg, std::shared_ptr<write_io> io,
                                              worker_pool_actor pool) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.io = std::move(io);
  st.pool = std::move(pool);
  return {
    [self](start_atom) {
      auto& st = self->state;
      if (st.cfg.listen && !st.listener)
        st.listener = st.cfg.listen(store::trigger_log_channel(st.cfg.job.schema), caf::actor_cast<wake_target>(self));
      self->send(self, wake_atom::value);
      self->delayed_send(self, st.cfg.fallback_poll, tick_atom::value);
    },
    [self](wake_atom) { handle(self, writer_event::wake); },
    [self](retry_atom) { handle(self, writer_event::retry_due); },
    [self](stop_atom, bool) {
      self->state.listener.reset();
      handle(self, writer_event::stop);
    },
    [self](tick_atom) {
      handle(self, writer_event::tick);
      self->delayed_send(self, self->state.cfg.fallback_poll, tick_atom::value);
    },
    [self](status_atom) {
      const auto& s = self->state.status;
      return std::make_tuple(s.busy, static_cast<std::int32_t>(s.failures));
    },
  };
}

} // namespace syncforce::actors
