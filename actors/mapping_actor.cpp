#include "actors/mapping_actor.hpp"

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/log.hpp"

namespace syncforce::actors {

namespace {

using mapping_ptr = caf::stateful_actor<mapping_actor_state>*;
using continuation = std::function<void(job_outcome&)>;

void release_cursor(mapping_ptr self);

/// Quits once nothing is in flight any more (after stop_atom).
void finish_stop(mapping_ptr self) {
  auto& st = self->state;
  if (!st.stopping || st.in_flight > 0)
    return;
  release_cursor(self);
  self->quit(caf::exit_reason::user_shutdown);
}

/// Persists a state without waiting for it (the stop waits, though: a late
/// save must not overwrite what the connection stores after the stop).
void save_state_async(mapping_ptr self, const std::string& state, const std::string& description) {
  auto& st = self->state;
  auto io = st.io;
  auto j = st.cfg.job;
  ++st.in_flight;
  self
    ->request(st.pool, caf::infinite, run_job_atom::value,
              job{"save_state",
                  [io, j, state, description](worker_context& ctx) {
                    return io->save_state(ctx, j, state, description);
                  },
                  st.cfg.fence})
    .then(
      [self](job_outcome&) {
        --self->state.in_flight;
        finish_stop(self);
      },
      [self](caf::error&) {
        --self->state.in_flight;
        finish_stop(self);
      });
}

/// A line about the mapping in its current state. `hc_line`: one of Heroku
/// Connect's own lines (RELOAD TABLE, RELOAD COMPLETE), written exactly in its
/// shape, without our object_name (the event names the table already).
void log_state(mapping_ptr self, spdlog::level::level_enum level, const std::string& event, bool hc_line = false) {
  auto& st = self->state;
  log_event ev{event, "mapping", st.cfg.job.mapping_id, std::string{to_string(st.state)}};
  ev.addon(st.cfg.job.connection_id);
  if (!hc_line)
    ev.with("object_name", st.cfg.job.config.object_name);
  log(level, ev);
}

void schedule_retry(mapping_ptr self, const std::string& reason, std::function<void()> step,
                    std::optional<std::chrono::milliseconds> delay = std::nullopt);

/// Runs `make` as a job; continues with `next` on success.
void run(mapping_ptr self, std::string name, std::function<job_outcome(worker_context&, const mapping_job&)> fn,
         std::function<void()> again, continuation next) {
  auto& st = self->state;
  if (st.stopping) {
    finish_stop(self);
    return;
  }
  auto j = st.cfg.job;
  auto io_job = job{name, [fn, j](worker_context& ctx) { return fn(ctx, j); }, st.cfg.fence};
  ++st.in_flight;
  self->request(st.pool, caf::infinite, run_job_atom::value, std::move(io_job))
    .then(
      [self, next, again, name](job_outcome& o) {
        auto& st = self->state;
        --st.in_flight;
        if (st.stopping) {
          finish_stop(self);
          return;
        }
        switch (o.kind) {
          case outcome_kind::ok:
            next(o);
            return;
          case outcome_kind::retry:
            schedule_retry(self, o.error, again);
            return;
          case outcome_kind::budget:
            schedule_retry(self, o.error, again, st.cfg.budget_wait);
            return;
          case outcome_kind::bad_config: {
            st.state = mapping_state::bad_config;
            st.description = o.error;
            log(spdlog::level::err,
                log_event{"Mapping configuration error", "mapping", st.cfg.job.mapping_id, "BAD_CONFIG"}.addon(st.cfg.job.connection_id)
                  .with("object_name", st.cfg.job.config.object_name)
                  .with("reason", o.error));
            save_state_async(self, "BAD_CONFIG", o.error);
            return;
          }
          case outcome_kind::fatal:
            self->quit(caf::make_error(caf::sec::runtime_error, name + ": " + o.error));
            return;
          case outcome_kind::fenced:
            release_cursor(self);
            self->quit(make_error(engine_errc::lease_lost, o.error));
            return;
        }
      },
      [self](caf::error& err) { self->quit(err); });
}

/// Persists `state` (with `description`), then continues.
void enter(mapping_ptr self, mapping_state s, const std::string& description, std::function<void()> next) {
  auto& st = self->state;
  st.state = s;
  st.description = description;
  auto io = st.io;
  auto name = std::string{to_string(s)};
  run(
    self, "save_state",
    [io, name, description](worker_context& ctx, const mapping_job& j) {
      return io->save_state(ctx, j, name, description);
    },
    [self, s, description, next] { enter(self, s, description, next); }, [next](job_outcome&) { next(); });
}

long today(mapping_ptr self) {
  auto& st = self->state;
  return (st.cfg.time ? *st.cfg.time : real_time()).utc_day();
}

/// Adds calls to the mapping's count for today.
void count_calls(mapping_ptr self, long calls) {
  auto& st = self->state;
  auto day = today(self);
  if (day != st.calls_day) {
    st.calls_day = day;
    st.calls_today = 0;
  }
  st.calls_today += calls;
}

/// The mapping's own cap (`sf_max_daily_api_calls`), when it is reached today.
std::optional<std::string> over_daily_cap(mapping_ptr self) {
  auto& st = self->state;
  const auto& cap = st.cfg.job.config.sf_max_daily_api_calls;
  count_calls(self, 0);
  if (!cap || *cap <= 0 || st.calls_today < *cap)
    return std::nullopt;
  return "sf_max_daily_api_calls reached: " + std::to_string(st.calls_today) + " of " + std::to_string(*cap) +
         " API calls used today (UTC)";
}

/// Takes a query cursor from the integration user, then continues.
void with_cursor(mapping_ptr self, std::function<void()> step, std::function<void()> next) {
  auto& st = self->state;
  if (auto reason = over_daily_cap(self)) {
    schedule_retry(self, *reason, step, st.cfg.budget_wait);
    return;
  }
  if (st.stopping) {
    finish_stop(self);
    return;
  }
  ++st.in_flight;
  self->request(st.user, caf::infinite, acquire_atom::value, st.cfg.job.mapping_id)
    .then(
      [self, step, next](bool granted, std::string& reason) {
        auto& st = self->state;
        --st.in_flight;
        if (granted)
          st.holds_cursor = true;
        if (st.stopping) {
          finish_stop(self);
          return;
        }
        if (!granted) {
          schedule_retry(self, reason, step, st.cfg.budget_wait);
          return;
        }
        next();
      },
      [self](caf::error& err) { self->quit(err); });
}

void release_cursor(mapping_ptr self) {
  auto& st = self->state;
  if (!st.holds_cursor)
    return;
  st.holds_cursor = false;
  self->send(st.user, release_atom::value, st.cfg.job.mapping_id);
}

void schedule_poll(mapping_ptr self) {
  auto& st = self->state;
  self->delayed_send(self, st.cfg.poll_interval, poll_atom::value);
}

void start_repair_timers(mapping_ptr self);

void succeeded(mapping_ptr self) {
  auto& st = self->state;
  start_repair_timers(self);
  st.failures = 0;
  st.description.clear();
  if (st.parent)
    self->send(st.parent, synced_atom::value, st.cfg.job.mapping_id);
}

void poll_now(mapping_ptr self);

void reload(mapping_ptr self) {
  auto& st = self->state;
  auto io = st.io;
  enter(self, mapping_state::initial, "", [self, io] {
    run(
      self, "prepare_mapping",
      [io](worker_context& ctx, const mapping_job& j) { return io->prepare_mapping(ctx, j); },
      [self] { reload(self); },
      [self, io](job_outcome&) {
        enter(self, mapping_state::reload_table, "", [self, io] {
          auto& st = self->state;
          log_state(self, spdlog::level::info, "RELOAD TABLE " + st.cfg.job.config.table_name(), true);
          std::function<void()> load;
          load = [self, io] {
            with_cursor(self, [self] { reload(self); }, [self, io] {
              run(
                self, "reload", [io](worker_context& ctx, const mapping_job& j) { return io->reload(ctx, j); },
                [self] {
                  release_cursor(self);
                  reload(self);
                },
                [self](job_outcome& o) {
                  auto& st = self->state;
                  release_cursor(self);
                  count_calls(self, o.api_calls);
                  log_state(self, spdlog::level::info, "RELOAD COMPLETE", true);
                  st.state = mapping_state::data_synced;
                  if (!o.hwm.empty())
                    st.cfg.job.hwm = o.hwm;
                  succeeded(self);
                  schedule_poll(self);
                });
            });
          };
          load();
        });
      });
  });
}

void read_side_free(mapping_ptr self);

void poll_now(mapping_ptr self) {
  auto& st = self->state;
  if (st.repairing) {
    st.poll_waiting = true; // after the sweep or repair
    return;
  }
  if (st.state != mapping_state::data_synced)
    return;
  if (!st.cfg.job.hwm) {
    reload(self);
    return;
  }
  st.state = mapping_state::polling_sf_changes;
  auto io = st.io;
  auto again = [self] {
    self->state.state = mapping_state::data_synced;
    poll_now(self);
  };
  with_cursor(self, again, [self, io, again] {
    run(
      self, "poll", [io](worker_context& ctx, const mapping_job& j) { return io->poll(ctx, j); },
      [self, again] {
        release_cursor(self);
        again();
      },
      [self](job_outcome& o) {
        auto& st = self->state;
        release_cursor(self);
        count_calls(self, o.api_calls);
        st.state = mapping_state::data_synced;
        if (!o.hwm.empty())
          st.cfg.job.hwm = o.hwm;
        succeeded(self);
        schedule_poll(self);
        read_side_free(self);
      });
  });
}

// ---- read repair: look-back sweeps and formula repair -----------------------

enum class repair_kind { sweep, formula };

std::chrono::seconds repair_interval(mapping_ptr self, repair_kind kind) {
  const auto& rr = self->state.cfg.job.config.read_repair;
  return std::chrono::seconds(kind == repair_kind::sweep ? rr.sweep_seconds : rr.formula_repair_seconds);
}

void schedule_repair(mapping_ptr self, repair_kind kind) {
  auto every = repair_interval(self, kind);
  if (every.count() <= 0)
    return;
  if (kind == repair_kind::sweep)
    self->delayed_send(self, every, sweep_atom::value);
  else
    self->delayed_send(self, every, repair_atom::value);
}

void start_repair_timers(mapping_ptr self) {
  auto& st = self->state;
  if (st.repair_timers)
    return;
  st.repair_timers = true;
  schedule_repair(self, repair_kind::sweep);
  schedule_repair(self, repair_kind::formula);
}

/// Runs one sweep or repair (the read side is marked busy until it is done,
/// retries included), then the next one on its interval.
void repair_step(mapping_ptr self, repair_kind kind) {
  auto& st = self->state;
  auto io = st.io;
  auto again = [self, kind] { repair_step(self, kind); };
  with_cursor(self, again, [self, io, kind, again] {
    run(
      self, kind == repair_kind::sweep ? "sweep" : "formula_repair",
      [io, kind](worker_context& ctx, const mapping_job& j) {
        return kind == repair_kind::sweep ? io->sweep(ctx, j) : io->repair_formulas(ctx, j);
      },
      [self, again] {
        release_cursor(self);
        again();
      },
      [self, kind](job_outcome& o) {
        auto& st = self->state;
        release_cursor(self);
        count_calls(self, o.api_calls);
        st.repairing = false;
        succeeded(self);
        schedule_repair(self, kind);
        read_side_free(self);
      });
  });
}

/// A sweep or repair is due: now if the mapping is synced and idle, else once it is.
void start_repair(mapping_ptr self, repair_kind kind) {
  auto& st = self->state;
  if (st.stopping)
    return;
  if (st.repairing || st.state != mapping_state::data_synced) {
    (kind == repair_kind::sweep ? st.sweep_waiting : st.formula_waiting) = true;
    return;
  }
  st.repairing = true;
  repair_step(self, kind);
}

/// The read side finished a step: what waited for it goes next (a poll first).
void read_side_free(mapping_ptr self) {
  auto& st = self->state;
  if (st.stopping || st.repairing || st.state != mapping_state::data_synced)
    return;
  if (st.poll_waiting) {
    st.poll_waiting = false;
    poll_now(self);
    return;
  }
  if (st.sweep_waiting) {
    st.sweep_waiting = false;
    start_repair(self, repair_kind::sweep);
    return;
  }
  if (st.formula_waiting) {
    st.formula_waiting = false;
    start_repair(self, repair_kind::formula);
  }
}

void schedule_retry(mapping_ptr self, const std::string& reason, std::function<void()> step,
                    std::optional<std::chrono::milliseconds> delay) {
  auto& st = self->state;
  ++st.failures;
  auto wait = delay ? *delay : st.cfg.retry.delay(st.failures);
  st.description = reason;
  st.retry_step = std::move(step);
  log(spdlog::level::warn, log_event{"Operation delayed, will retry", "mapping", st.cfg.job.mapping_id,
                                     std::string{to_string(st.state)}}.addon(st.cfg.job.connection_id)
                             .with("object_name", st.cfg.job.config.object_name)
                             .with("retry_in_ms", std::to_string(wait.count()))
                             .with("reason", reason));
  self->delayed_send(self, wait, retry_atom::value);
  // The stored state says why the mapping waits (best effort: the database may be the trouble).
  save_state_async(self, std::string{to_string(st.state)}, reason);
}

/// Reads the added or re-typed columns again from Salesforce (RESYNC), then polls.
void backfill(mapping_ptr self, std::vector<std::string> columns) {
  auto& st = self->state;
  auto io = st.io;
  std::string names;
  for (const auto& c : columns)
    names += (names.empty() ? "" : ", ") + c;
  enter(self, mapping_state::resync, "loading new columns: " + names, [self, io, columns] {
    with_cursor(self, [self, columns] { backfill(self, columns); }, [self, io, columns] {
      run(
        self, "backfill",
        [io, columns](worker_context& ctx, const mapping_job& j) { return io->backfill(ctx, j, columns); },
        [self, columns] {
          release_cursor(self);
          backfill(self, columns);
        },
        [self](job_outcome& o) {
          release_cursor(self);
          count_calls(self, o.api_calls);
          enter(self, mapping_state::data_synced, "", [self] {
            succeeded(self);
            poll_now(self);
          });
        });
    });
  });
}

void start(mapping_ptr self) {
  auto& st = self->state;
  auto io = st.io;
  run(
    self, "load_mapping", [io](worker_context& ctx, const mapping_job& j) { return io->load_mapping(ctx, j); },
    [self] { start(self); },
    [self, io](job_outcome& o) {
      auto& st = self->state;
      auto stored = parse_mapping_state(o.state);
      if (stored && *stored == mapping_state::aborted) {
        // An aborted first load: nothing to poll from; a reload starts it again.
        st.state = mapping_state::aborted;
        log_state(self, spdlog::level::info, "Mapping " + st.cfg.job.config.table_name() +
                                               " is ABORTED: waiting for a reload");
        return;
      }
      bool synced = stored && (*stored == mapping_state::data_synced || *stored == mapping_state::polling_sf_changes ||
                               *stored == mapping_state::polling_sf_bulk || *stored == mapping_state::system_error);
      if (o.hwm.empty() || !synced) {
        st.cfg.job.hwm.reset();
        reload(self);
        return;
      }
      // Synced before: bring the table to the mapping (an edit may have added
      // or re-typed columns: those are read again), then catch up at once.
      st.cfg.job.hwm = o.hwm;
      run(
        self, "prepare_mapping",
        [io](worker_context& ctx, const mapping_job& j) { return io->prepare_mapping(ctx, j); },
        [self] { start(self); },
        [self](job_outcome& prepared) {
          if (!prepared.columns.empty()) {
            backfill(self, prepared.columns);
            return;
          }
          enter(self, mapping_state::data_synced, "", [self] { poll_now(self); });
        });
    });
}

} // namespace

caf::behavior mapping_actor(caf::stateful_actor<mapping_actor_state>* self, mapping_settings cfg,
                            std::shared_ptr<sync_io> io, caf::actor pool, caf::actor user, caf::actor parent) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.io = std::move(io);
  st.pool = std::move(pool);
  st.user = std::move(user);
  st.parent = std::move(parent);
  if (!st.cfg.job.cancel)
    st.cfg.job.cancel = std::make_shared<std::atomic<bool>>(false);
  return {
    [self](start_atom) { start(self); },
    [self](poll_atom) {
      if (!self->state.stopping)
        poll_now(self);
    },
    [self](sweep_atom) { start_repair(self, repair_kind::sweep); },
    [self](repair_atom) { start_repair(self, repair_kind::formula); },
    [self](stop_atom, bool cancel) {
      auto& st = self->state;
      st.stopping = true;
      if (cancel)
        st.cfg.job.cancel->store(true);
      finish_stop(self);
    },
    [self](retry_atom) {
      if (self->state.stopping)
        return;
      auto step = std::move(self->state.retry_step);
      self->state.retry_step = nullptr;
      if (step)
        step();
    },
    [self](status_atom) {
      auto& st = self->state;
      return caf::make_message(std::string{to_string(st.state)}, st.description);
    },
  };
}

} // namespace syncforce::actors
