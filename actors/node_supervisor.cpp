#include "actors/node_supervisor.hpp"

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/log.hpp"

namespace syncforce::actors {

// ---- database monitor ----------------------------------------------------------

db_monitor_actor::behavior_type db_monitor(db_monitor_actor::pointer self, db_listener supervisor,
                         std::shared_ptr<database_probe> probe, db_monitor_config cfg) {
  struct monitor_state {
    bool known = false;
    bool up = false;
    int failures = 0;
  };
  auto st = std::make_shared<monitor_state>();
  self->send(self, check_atom::value);
  return {
    [=](check_atom) {
      auto r = probe->check();
      if (r.ok) {
        st->failures = 0;
        if (!st->known || !st->up)
          self->send(supervisor, db_up_atom::value, r.schema_version);
        st->known = st->up = true;
        self->delayed_send(self, cfg.healthy_interval, check_atom::value);
        return;
      }
      ++st->failures;
      if (!st->known || st->up)
        self->send(supervisor, db_down_atom::value, r.error);
      st->known = true;
      st->up = false;
      auto delay = cfg.retry.delay(st->failures, cfg.seed);
      log(spdlog::level::warn, log_event{"Database unavailable, retrying", "node", "", "DB_UNAVAILABLE"}
                                 .with("attempt", std::to_string(st->failures))
                                 .with("retry_in_ms", std::to_string(delay.count()))
                                 .with("reason", r.error));
      self->delayed_send(self, delay, check_atom::value);
    },
  };
}

// ---- node supervisor -------------------------------------------------------------

namespace {

using supervisor_ptr = node_supervisor_impl::stateful_pointer<node_supervisor_state>;

void set_readiness(supervisor_ptr self, bool ready, const std::string& reason) {
  auto& st = self->state;
  st.sink->set_ready(ready, reason);
}

void spawn_db_monitor(supervisor_ptr self) {
  auto& st = self->state;
  st.db_monitor = st.make_db_monitor(self);
  self->monitor(st.db_monitor);
  // Children never outlive their supervisor, whatever ends it.
  self->attach_functor([child = caf::actor_addr(st.db_monitor.address())](const caf::error& reason) {
    if (auto hdl = caf::actor_cast<caf::actor>(child))
      caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
  });
}

void spawn_engine(supervisor_ptr self) {
  auto& st = self->state;
  if (!st.cfg.make_engine || st.engine || st.draining)
    return;
  st.engine = st.cfg.make_engine(self);
  self->monitor(st.engine);
  self->attach_functor([child = caf::actor_addr(st.engine.address())](const caf::error&) {
    if (auto hdl = caf::actor_cast<caf::actor>(child))
      caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
  });
  self->send(st.engine, start_atom::value);
}

void finish_drain_if_done(supervisor_ptr self) {
  auto& st = self->state;
  if (!st.draining || st.db_monitor || st.engine)
    return;
  for (auto& rp : st.drain_waiters)
    rp.deliver(true);
  st.drain_waiters.clear();
}

/// A child is given up: the node is not ready from now on, says why in its
/// status, and turns not live once the grace period is over.
void give_up(supervisor_ptr self, const std::string& child, const caf::error& reason) {
  auto& st = self->state;
  st.failed = child + " failed " + describe(st.cfg.restarts) + ", last: " + describe(reason);
  st.not_ready_reason = st.failed;
  set_readiness(self, false, st.failed);
  st.sink->set_failed(st.failed);
  log(spdlog::level::err, log_event{"Node gave up: " + child + " failed too often", "node", st.cfg.node_name,
                                    "SYSTEM_ERROR"}
                            .with("reason", describe(reason))
                            .with("liveness_fails_in_ms", std::to_string(st.cfg.liveness_grace.count())));
  self->delayed_send(self, st.cfg.liveness_grace, liveness_atom::value);
}

} // namespace

node_supervisor_impl::behavior_type node_supervisor(node_supervisor_impl::stateful_pointer<node_supervisor_state> self,
                                                    node_config cfg,
                              std::shared_ptr<readiness_sink> sink, db_monitor_factory make_db_monitor) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.sink = std::move(sink);
  st.make_db_monitor = std::move(make_db_monitor);
  st.sink->set_live(true, "");
  set_readiness(self, false, st.not_ready_reason);

  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto now = self->clock().now();
    if (st.engine && dm.source == st.engine.address()) {
      st.engine = nullptr;
      if (st.draining) {
        finish_drain_if_done(self);
        return;
      }
      auto d = st.engine_restarts.record(now, st.cfg.restarts);
      if (d.give_up) {
        give_up(self, "sync engine", dm.reason);
        return;
      }
      auto delay = st.cfg.restart.delay(d.attempt);
      log(spdlog::level::warn, log_event{"Restarting sync engine", "node", st.cfg.node_name, "RECOVERY"}
                                 .with("attempt", std::to_string(d.attempt))
                                 .with("restart_in_ms", std::to_string(delay.count()))
                                 .with("reason", describe(dm.reason)));
      self->delayed_send(self, delay, restart_atom::value, std::string("engine"));
      return;
    }
    if (!st.db_monitor || dm.source != st.db_monitor.address())
      return;
    st.db_monitor = nullptr;
    if (st.draining) {
      finish_drain_if_done(self);
      return;
    }
    // The monitor crashed: readiness is unknown until a new one reports.
    st.db_ready = false;
    st.not_ready_reason = "database monitor restarting";
    set_readiness(self, false, st.not_ready_reason);
    auto d = st.db_monitor_restarts.record(now, st.cfg.restarts);
    if (d.give_up) {
      give_up(self, "database monitor", dm.reason);
      return;
    }
    auto delay = st.cfg.restart.delay(d.attempt);
    log(spdlog::level::warn, log_event{"Restarting database monitor", "node", st.cfg.node_name, "RECOVERY"}
                               .with("attempt", std::to_string(d.attempt))
                               .with("restart_in_ms", std::to_string(delay.count()))
                               .with("reason", describe(dm.reason)));
    self->delayed_send(self, delay, restart_atom::value, std::string("db_monitor"));
  });

  return {
    [self](start_atom) {
      auto& st = self->state;
      if (st.db_monitor || st.draining)
        return;
      log(spdlog::level::info, log_event{"Node starting", "node", st.cfg.node_name, "STARTING"});
      spawn_db_monitor(self);
    },
    [self](restart_atom, const std::string& child) {
      auto& st = self->state;
      if (!st.failed.empty())
        return;
      if (child == "db_monitor" && !st.db_monitor && !st.draining)
        spawn_db_monitor(self);
      if (child == "engine" && !st.engine && st.db_ready)
        spawn_engine(self);
    },
    [self](db_up_atom, int version) {
      auto& st = self->state;
      bool was_down = !st.db_ready;
      st.db_ready = true;
      st.schema_version = version;
      if (!st.failed.empty())
        return; // stays not ready: a given-up node waits for its restart
      st.not_ready_reason.clear();
      if (st.draining)
        return;
      // Crashes during a database outage were the outage's, not the engine's:
      // a node that lives through many database restarts must not give up.
      if (was_down)
        st.engine_restarts.clear();
      log(spdlog::level::info, log_event{"Database ready", "node", st.cfg.node_name, "READY"}.with(
                                 "schema_version", std::to_string(version)));
      set_readiness(self, true, "");
      spawn_engine(self);
    },
    [self](db_down_atom, const std::string& reason) {
      auto& st = self->state;
      st.db_ready = false;
      if (!st.failed.empty())
        return;
      st.not_ready_reason = "database unavailable: " + reason;
      log(spdlog::level::warn, log_event{"Database unavailable", "node", st.cfg.node_name, "DB_UNAVAILABLE"}.with(
                                 "reason", reason));
      set_readiness(self, false, st.not_ready_reason);
    },
    [self](status_atom) {
      auto& st = self->state;
      node_status s;
      s.ready = st.db_ready && !st.draining && st.failed.empty();
      if (!s.ready)
        s.reason = st.not_ready_reason;
      s.schema_version = static_cast<std::int32_t>(st.schema_version);
      return s;
    },
    [self](health_atom) -> std::string { return self->state.failed; },
    [self](liveness_atom) {
      auto& st = self->state;
      log(spdlog::level::err, log_event{"Liveness failing: the node gave up and waits to be restarted", "node",
                                        st.cfg.node_name, "SYSTEM_ERROR"}
                                .with("reason", st.failed));
      st.sink->set_live(false, st.failed);
    },
    [self](drain_atom) -> caf::result<bool> {
      auto& st = self->state;
      if (!st.draining) {
        st.draining = true;
        st.not_ready_reason = "draining";
        set_readiness(self, false, st.not_ready_reason);
        log(spdlog::level::info, log_event{"Node draining", "node", st.cfg.node_name, "DRAINING"});
        if (st.db_monitor)
          self->send_exit(st.db_monitor, caf::exit_reason::user_shutdown);
        if (st.engine)
          self->send_exit(st.engine, caf::exit_reason::user_shutdown);
      }
      if (!st.db_monitor && !st.engine)
        return true;
      auto rp = self->make_response_promise<bool>();
      st.drain_waiters.push_back(rp);
      return rp;
    },
  };
}

} // namespace syncforce::actors
