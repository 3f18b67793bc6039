#include "actors/mapping_actor.hpp"

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/log.hpp"

namespace syncforce::actors {

namespace {

using mapping_ptr = mapping_actor_impl::stateful_pointer<mapping_actor_state>;
using action = mapping_action;

/// The UTC day number, for the mapping's own daily API cap.
long today(mapping_ptr self) {
  auto& st = self->state;
  return (st.cfg.time ? *st.cfg.time : real_time()).utc_day();
}

void carry_out(mapping_ptr self, const mapping_actions& actions, const caf::error* cause = nullptr);

/// Hands an event to the lifecycle and does what it decides.
void handle(mapping_ptr self, mapping_event e, const caf::error* cause = nullptr) {
  auto& st = self->state;
  e.day = today(self);
  carry_out(self, on_event(st.status, e, st.timing), cause);
}

void handle(mapping_ptr self, mapping_event_kind k) {
  handle(self, mapping_event::of(k));
}

/// The pool or the integration user could not answer: the actor crashes with their error.
void request_failed(mapping_ptr self, const caf::error& err) {
  handle(self, mapping_event::of(mapping_event_kind::request_failed), &err);
}

// ---- actions -----------------------------------------------------------------

/// The mapping's job with what the lifecycle knows (the mark to start from).
mapping_job current_job(mapping_ptr self) {
  auto& st = self->state;
  auto j = st.cfg.job;
  j.hwm = st.status.hwm;
  return j;
}

void run_job(mapping_ptr self, mapping_job_kind kind) {
  auto& st = self->state;
  auto io = st.io;
  auto j = current_job(self);
  std::function<job_outcome(worker_context&)> fn;
  switch (kind) {
    case mapping_job_kind::load_mapping:
      fn = [io, j](worker_context& ctx) { return io->load_mapping(ctx, j); };
      break;
    case mapping_job_kind::prepare_mapping:
      fn = [io, j](worker_context& ctx) { return io->prepare_mapping(ctx, j); };
      break;
    case mapping_job_kind::reload:
      fn = [io, j](worker_context& ctx) { return io->reload(ctx, j); };
      break;
    case mapping_job_kind::poll:
      fn = [io, j](worker_context& ctx) { return io->poll(ctx, j); };
      break;
    case mapping_job_kind::backfill:
      fn = [io, j, columns = st.status.backfill_columns](worker_context& ctx) { return io->backfill(ctx, j, columns); };
      break;
    case mapping_job_kind::sweep:
      fn = [io, j](worker_context& ctx) { return io->sweep(ctx, j); };
      break;
    case mapping_job_kind::formula_repair:
      fn = [io, j](worker_context& ctx) { return io->repair_formulas(ctx, j); };
      break;
  }
  self->request(st.pool, caf::infinite, run_job_atom::value, job{std::string{to_string(kind)}, fn, st.cfg.fence})
    .then([self](job_outcome& o) { handle(self, mapping_event::done(std::move(o))); },
          [self](caf::error& err) { request_failed(self, err); });
}

/// Persists a state: as the step (its answer moves the lifecycle on) or in the
/// background (best effort; the stop still waits for it, so a late save cannot
/// overwrite what the connection stores after the stop).
void save_state(mapping_ptr self, const action::save_state& a) {
  auto& st = self->state;
  auto io = st.io;
  auto j = current_job(self);
  auto state = a.state;
  auto description = a.description;
  auto background = a.background;
  self
    ->request(st.pool, caf::infinite, run_job_atom::value,
              job{"save_state",
                  [io, j, state, description](worker_context& ctx) {
                    return io->save_state(ctx, j, state, description);
                  },
                  st.cfg.fence})
    .then(
      [self, background](job_outcome& o) {
        if (background)
          handle(self, mapping_event_kind::saved);
        else
          handle(self, mapping_event::done(std::move(o)));
      },
      [self, background](caf::error& err) {
        if (background)
          handle(self, mapping_event_kind::saved);
        else
          request_failed(self, err);
      });
}

void acquire_cursor(mapping_ptr self) {
  auto& st = self->state;
  self->request(st.user, caf::infinite, acquire_atom::value, st.cfg.job.mapping_id)
    .then(
      [self](bool granted, std::string& reason) {
        auto e = mapping_event::of(granted ? mapping_event_kind::cursor_granted : mapping_event_kind::cursor_denied);
        e.reason = std::move(reason);
        handle(self, std::move(e));
      },
      [self](caf::error& err) { request_failed(self, err); });
}

/// A line about the mapping in `state`. `hc_line`: one of Heroku Connect's own
/// lines (RELOAD TABLE, RELOAD COMPLETE), written exactly in its shape, without
/// our object_name (the event names the table already).
void log_state(mapping_ptr self, spdlog::level::level_enum level, mapping_state state, const std::string& event,
               bool hc_line = false) {
  auto& st = self->state;
  log_event ev{event, "mapping", st.cfg.job.mapping_id, std::string{to_string(state)}};
  ev.addon(st.cfg.job.connection_id);
  if (!hc_line)
    ev.with("object_name", st.cfg.job.config.object_name);
  log(level, ev);
}

void log_line(mapping_ptr self, const action::log_line& a) {
  auto& st = self->state;
  switch (a.line) {
    case mapping_line::reload_table:
      log_state(self, spdlog::level::info, a.state, "RELOAD TABLE " + st.cfg.job.config.table_name(), true);
      return;
    case mapping_line::reload_complete:
      log_state(self, spdlog::level::info, a.state, "RELOAD COMPLETE", true);
      return;
    case mapping_line::aborted:
      log_state(self, spdlog::level::info, a.state,
                "Mapping " + st.cfg.job.config.table_name() + " is ABORTED: waiting for a reload");
      return;
    case mapping_line::bad_config:
      log(spdlog::level::err, log_event{"Mapping configuration error", "mapping", st.cfg.job.mapping_id,
                                        std::string{to_string(a.state)}}
                                .addon(st.cfg.job.connection_id)
                                .with("object_name", st.cfg.job.config.object_name)
                                .with("reason", a.reason));
      return;
  }
}

void wait_then_retry(mapping_ptr self, const action::wait_then_retry& a) {
  auto& st = self->state;
  auto wait = a.kind == wait_kind::budget ? st.cfg.budget_wait : st.cfg.retry.delay(a.attempt);
  log(spdlog::level::warn, log_event{"Operation delayed, will retry", "mapping", st.cfg.job.mapping_id,
                                     std::string{to_string(a.state)}}
                             .addon(st.cfg.job.connection_id)
                             .with("object_name", st.cfg.job.config.object_name)
                             .with("retry_in_ms", std::to_string(wait.count()))
                             .with("reason", a.reason));
  self->delayed_send(self, wait, retry_atom::value);
}

void quit(mapping_ptr self, const action::quit& a, const caf::error* cause) {
  switch (a.reason) {
    case action::quit_reason::shutdown:
      self->quit(caf::exit_reason::user_shutdown);
      return;
    case action::quit_reason::lease_lost:
      self->quit(make_error(engine_errc::lease_lost, a.message));
      return;
    case action::quit_reason::job_failed:
      self->quit(caf::make_error(caf::sec::runtime_error, a.message));
      return;
    case action::quit_reason::request_failed:
      self->quit(cause ? *cause : caf::make_error(caf::sec::runtime_error, "a request of the mapping failed"));
      return;
  }
}

/// Spawns the change event subscription once the mapping is synced (it needs the
/// table and a mark to catch up from); linked, so it ends with the mapping.
void start_change_events(mapping_ptr self) {
  auto& st = self->state;
  // No stream factory (a node built without one): the mapping keeps polling.
  if (st.subscriber || !st.cfg.change_events || !st.cfg.change_events->streams ||
      !st.cfg.job.config.sf_notify_enabled || st.status.stopping)
    return;
  st.subscriber = self->spawn<caf::linked>(change_subscriber, st.cfg.change_events, st.cfg.job, st.cfg.fence, st.io,
                                           caf::actor_cast<caf::actor>(st.pool), caf::actor_cast<catch_up_target>(self));
}

/// Does what the lifecycle decided, in order.
void carry_out(mapping_ptr self, const mapping_actions& actions, const caf::error* cause) {
  auto& st = self->state;
  for (const auto& any : actions) {
    if (auto* a = std::get_if<action::run_job>(&any)) {
      run_job(self, a->job);
    } else if (auto* a = std::get_if<action::save_state>(&any)) {
      save_state(self, *a);
    } else if (std::holds_alternative<action::acquire_cursor>(any)) {
      acquire_cursor(self);
    } else if (std::holds_alternative<action::release_cursor>(any)) {
      self->send(st.user, release_atom::value, st.cfg.job.mapping_id);
    } else if (auto* a = std::get_if<action::arm_timer>(&any)) {
      switch (a->which) {
        case action::timer::poll:
          self->delayed_send(self, a->delay, poll_atom::value, ++st.poll_timer);
          break;
        case action::timer::sweep:
          self->delayed_send(self, a->delay, sweep_atom::value);
          break;
        case action::timer::formula:
          self->delayed_send(self, a->delay, repair_atom::value);
          break;
      }
    } else if (auto* a = std::get_if<action::wait_then_retry>(&any)) {
      wait_then_retry(self, *a);
    } else if (std::holds_alternative<action::notify_synced>(any)) {
      start_change_events(self);
      if (st.parent)
        self->send(st.parent, synced_atom::value, st.cfg.job.mapping_id);
    } else if (auto* a = std::get_if<action::log_line>(&any)) {
      log_line(self, *a);
    } else if (std::holds_alternative<action::cancel_jobs>(any)) {
      st.cfg.job.cancel->store(true);
    } else if (auto* a = std::get_if<action::quit>(&any)) {
      quit(self, *a, cause);
      return;
    }
  }
}

} // namespace

mapping_actor_impl::behavior_type mapping_actor(mapping_actor_impl::stateful_pointer<mapping_actor_state> self,
                                                mapping_settings cfg, std::shared_ptr<sync_io> io, worker_pool_actor pool,
                                                cursor_broker_actor user, mapping_parent parent) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.io = std::move(io);
  st.pool = std::move(pool);
  st.user = std::move(user);
  st.parent = std::move(parent);
  if (!st.cfg.job.cancel)
    st.cfg.job.cancel = std::make_shared<std::atomic<bool>>(false);
  st.status.hwm = st.cfg.job.hwm;
  const auto& config = st.cfg.job.config;
  st.timing.poll_interval = st.cfg.poll_interval;
  st.timing.sweep_every = std::chrono::seconds(config.read_repair.sweep_seconds);
  st.timing.formula_every = std::chrono::seconds(config.read_repair.formula_repair_seconds);
  st.timing.daily_api_cap = config.sf_max_daily_api_calls;
  return {
    [self](start_atom) { handle(self, mapping_event_kind::start); },
    [self](poll_atom, std::uint64_t generation) {
      if (generation == self->state.poll_timer) // an older timer, re-armed since: not a second chain
        handle(self, mapping_event_kind::poll_due);
    },
    [self](catch_up_atom) { handle(self, mapping_event_kind::poll_due); },
    [self](sweep_atom) { handle(self, mapping_event_kind::sweep_due); },
    [self](repair_atom) { handle(self, mapping_event_kind::formula_due); },
    [self](retry_atom) { handle(self, mapping_event_kind::retry_due); },
    [self](stop_atom, bool cancel) {
      auto e = mapping_event::of(mapping_event_kind::stop);
      e.cancel = cancel;
      handle(self, std::move(e));
    },
    [self](status_atom) {
      const auto& s = self->state.status;
      return std::make_tuple(std::string{to_string(s.state)}, s.description);
    },
  };
}

} // namespace syncforce::actors
