#include "actors/connection_actor.hpp"

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/log.hpp"

namespace syncforce::actors {

namespace {

using connection_ptr = connection_actor_impl::stateful_pointer<connection_actor_state>;

const mapping_settings* find_mapping(connection_ptr self, const std::string& id) {
  for (const auto& m : self->state.cfg.mappings)
    if (m.job.mapping_id == id)
      return &m;
  return nullptr;
}

/// The lease this node holds on mapping `id`'s read side (null when it holds
/// none; outside a cluster every mapping runs, unfenced).
std::shared_ptr<const lease_fence> mapping_lease(connection_ptr self, const std::string& id) {
  auto& u = self->state.cfg.units.mappings;
  auto i = u.find(id);
  return i == u.end() ? nullptr : i->second;
}

bool owns_mapping(connection_ptr self, const std::string& id) {
  return !self->state.cfg.clustered || mapping_lease(self, id) != nullptr;
}

bool same_lease(const std::shared_ptr<const lease_fence>& a, const std::shared_ptr<const lease_fence>& b) {
  if (!a || !b)
    return a == b;
  return a->epoch == b->epoch && a->generation == b->generation && a->node == b->node;
}

/// Tells the reporter which units run here now (when that changed).
void report_running(connection_ptr self) {
  auto& st = self->state;
  if (!st.cfg.reporter || st.report_held)
    return;
  std::vector<std::string> units;
  for (const auto& [id, c] : st.children)
    if (c.hdl || c.applying)
      units.push_back("mapping:" + id);
  if (st.writer)
    units.push_back("writer:" + st.cfg.connection.connection_id);
  if (units == st.reported)
    return;
  st.reported = units;
  self->send(st.cfg.reporter, running_atom::value, st.cfg.connection.connection_id, std::move(units));
}

void spawn_mapping(connection_ptr self, const mapping_settings& m) {
  auto& st = self->state;
  auto settings = m;
  settings.fence = mapping_lease(self, m.job.mapping_id);
  auto hdl =
    self->spawn<caf::linked>(mapping_actor, settings, st.io, st.pool, st.user, caf::actor_cast<connection_actor_impl>(self));
  auto& c = st.children[m.job.mapping_id];
  c.hdl = hdl;
  c.revision = m.revision;
  c.fence = settings.fence;
  c.lost = false;
  self->send(hdl, start_atom::value);
  report_running(self);
}

/// The writer's settings in a word: a different one means a new writer.
std::string writer_fingerprint(const connection_settings& cfg) {
  if (!cfg.writer)
    return {};
  std::string f = std::to_string(static_cast<int>(cfg.writer->job.mode));
  if (cfg.clustered)
    f += "@" + (cfg.units.writer ? cfg.units.writer->node + "#" + std::to_string(cfg.units.writer->epoch) + "." +
                                     std::to_string(cfg.units.writer->generation)
                                 : std::string{"none"});
  for (const auto& m : cfg.mappings)
    f += "|" + m.job.mapping_id + ":" + std::to_string(m.revision);
  return f;
}

void converge(connection_ptr self, const std::string& id);
void converge_writer(connection_ptr self);

/// Logs once every mapping and the writer of a paused connection have stopped.
void report_paused(connection_ptr self) {
  auto& st = self->state;
  if (!st.cfg.paused || st.writer || st.paused_reported)
    return;
  for (const auto& [id, c] : st.children)
    if (c.hdl || c.applying)
      return;
  st.paused_reported = true;
  log(spdlog::level::info, log_event{"Connection paused", "connection", st.cfg.connection.name, "PAUSED"}.addon(st.cfg.connection.connection_id));
}

/// Applies a mapping's admin command to its stored state while no actor runs it, then converges.
void apply_command(connection_ptr self, const mapping_settings& m) {
  auto& st = self->state;
  auto id = m.job.mapping_id;
  st.children[id].applying = true;
  report_running(self);
  auto io = st.io;
  auto j = m.job;
  self
    ->request(st.pool, caf::infinite, run_job_atom::value,
              job{"take_command", [io, j](worker_context& ctx) { return io->take_command(ctx, j); },
                  mapping_lease(self, id)})
    .then(
      [self, id](job_outcome& o) {
        auto& st = self->state;
        auto& c = st.children[id];
        c.applying = false;
        report_running(self);
        if (o.kind == outcome_kind::fenced)
          return; // the lease moved on: the new owner applies it
        if (!o.ok()) {
          log(spdlog::level::warn, log_event{"Cannot apply the mapping's command, retrying", "mapping", id,
                                             "RECOVERY"}.addon(st.cfg.connection.connection_id)
                                     .with("reason", o.error));
          self->delayed_send(self, st.cfg.retry.delay(++st.setup_failures), restart_atom::value, id);
          return;
        }
        for (auto& ms : st.cfg.mappings)
          if (ms.job.mapping_id == id)
            ms.command.reset();
        // Whatever the command, the mapping runs again from a clean slate.
        c.parked = false;
        c.restarts.clear();
        converge(self, id);
      },
      [self](caf::error& err) { self->quit(err); });
}

/// Brings mapping `id` to what st.cfg says: running (with its revision),
/// stopped (deleted, paused) or its command applied first.
void converge(connection_ptr self, const std::string& id) {
  auto& st = self->state;
  if (!st.ready)
    return;
  const auto* desired = find_mapping(self, id);
  auto it = st.children.find(id);
  if (it != st.children.end()) {
    auto& c = it->second;
    if (c.stopping || c.applying)
      return; // converges again when that is done
    if (c.hdl) {
      bool moved = st.cfg.clustered && !same_lease(c.fence, mapping_lease(self, id));
      bool stop =
        desired == nullptr || st.cfg.paused || desired->command || desired->revision != c.revision || moved;
      if (!stop)
        return;
      // A deleted or edited mapping's load is cancelled; a pause lets it finish.
      bool cancel = !st.cfg.paused && (desired == nullptr || desired->revision != c.revision ||
                                       (desired->command && *desired->command != mapping_command::recover));
      c.stopping = true;
      self->send(c.hdl, stop_atom::value, cancel);
      return;
    }
    if (desired == nullptr) {
      st.children.erase(it);
      return;
    }
  }
  if (desired == nullptr || st.cfg.paused || !owns_mapping(self, id)) {
    report_paused(self);
    return;
  }
  if (auto lost = st.children.find(id);
      lost != st.children.end() && lost->second.lost && same_lease(lost->second.fence, mapping_lease(self, id)))
    return; // stopped on this lease: only a new one starts it again
  if (desired->command) {
    apply_command(self, *desired);
    return;
  }
  auto& c = st.children[id];
  if (c.parked && c.revision == desired->revision)
    return; // stays parked until recovered or edited
  c.parked = false;
  spawn_mapping(self, *desired);
}

/// Brings the writer to what st.cfg says (none, paused, or started with the current mappings).
void converge_writer(connection_ptr self) {
  auto& st = self->state;
  if (!st.ready || st.writer_stopping)
    return;
  bool owned = !st.cfg.clustered || st.cfg.units.writer != nullptr;
  if (owned && st.cfg.clustered && st.writer_lost_epoch && *st.writer_lost_epoch == st.cfg.units.writer->epoch)
    owned = false; // stopped on this lease: only a new one starts it again
  auto wanted =
    st.cfg.paused || !st.cfg.writer || !st.cfg.writes || !owned ? std::string{} : writer_fingerprint(st.cfg);
  if (st.writer) {
    if (wanted == st.writer_fingerprint)
      return;
    st.writer_stopping = true;
    self->send(st.writer, stop_atom::value, false);
    return;
  }
  if (wanted.empty()) {
    report_paused(self);
    return;
  }
  st.writer_fingerprint = wanted;
  auto ws = *st.cfg.writer;
  ws.fence = st.cfg.clustered ? st.cfg.units.writer : nullptr;
  st.writer_lost_epoch.reset();
  st.writer = self->spawn<caf::linked>(writer_actor, ws, st.cfg.writes, st.pool);
  self->send(st.writer, start_atom::value);
  report_running(self);
}

/// Quits once a stopping connection has no mapping actor and no writer left.
void maybe_quit(connection_ptr self) {
  auto& st = self->state;
  if (!st.stopping || st.writer)
    return;
  for (const auto& [id, c] : st.children)
    if (c.hdl || c.applying)
      return;
  self->quit(caf::exit_reason::user_shutdown);
}

void converge_all(connection_ptr self) {
  auto& st = self->state;
  std::vector<std::string> ids;
  for (const auto& [id, c] : st.children)
    ids.push_back(id);
  for (const auto& m : st.cfg.mappings)
    if (!st.children.count(m.job.mapping_id))
      ids.push_back(m.job.mapping_id);
  st.report_held = true;
  for (const auto& id : ids)
    converge(self, id);
  converge_writer(self);
  st.report_held = false;
  report_running(self);
  maybe_quit(self);
}

void park(connection_ptr self, const mapping_settings& m, int restarts, const std::string& reason) {
  auto& st = self->state;
  auto& c = st.children[m.job.mapping_id];
  c.parked = true;
  log(spdlog::level::err, log_event{"Mapping failed too often, stopped", "mapping", m.job.mapping_id, "SYSTEM_ERROR"}.addon(st.cfg.connection.connection_id)
                            .with("object_name", m.job.config.object_name)
                            .with("restarts", std::to_string(restarts))
                            .with("reason", reason));
  auto io = st.io;
  auto j = m.job;
  self
    ->request(st.pool, caf::infinite, run_job_atom::value,
              job{"save_state",
                  [io, j, reason](worker_context& ctx) { return io->save_state(ctx, j, mapping_state::system_error, reason); },
                  c.fence})
    .then([](job_outcome&) {}, [](caf::error&) {});
}

void prepare(connection_ptr self) {
  auto& st = self->state;
  auto io = st.io;
  auto cj = st.cfg.connection;
  self->request(st.pool, caf::infinite, run_job_atom::value,
                job{"prepare_connection", [io, cj](worker_context& ctx) { return io->prepare_connection(ctx, cj); }})
    .then(
      [self](job_outcome& o) {
        auto& st = self->state;
        if (!o.ok()) {
          auto delay = st.cfg.retry.delay(++st.setup_failures);
          log(spdlog::level::warn, log_event{"Cannot prepare the connection schema, retrying", "connection",
                                             st.cfg.connection.name, "SYSTEM_ERROR"}.addon(st.cfg.connection.connection_id)
                                     .with("schema", st.cfg.connection.schema)
                                     .with("retry_in_ms", std::to_string(delay.count()))
                                     .with("reason", o.error));
          self->delayed_send(self, delay, start_atom::value);
          return;
        }
        if (o.connection == connection_state::paused)
          st.cfg.paused = true;
        st.ready = true;
        log(spdlog::level::info, log_event{st.cfg.paused ? "Connection ready, paused" : "Connection ready",
                                           "connection", st.cfg.connection.name, st.cfg.paused ? "PAUSED" : "IDLE"}.addon(st.cfg.connection.connection_id)
                                   .with("schema", st.cfg.connection.schema)
                                   .with("mappings", std::to_string(st.cfg.mappings.size())));
        converge_all(self);
      },
      [self](caf::error& err) { self->quit(err); });
}

} // namespace

connection_actor_impl::behavior_type connection_actor(connection_actor_impl::stateful_pointer<connection_actor_state> self,
                                                      connection_settings cfg, std::shared_ptr<sync_io> io,
                                                      worker_pool_actor pool, cursor_broker_actor user) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.io = std::move(io);
  st.pool = std::move(pool);
  st.user = std::move(user);
  // Mapping actors are linked: they die with the connection; their own
  // failures arrive here as exit messages and are handled, not inherited.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    if (st.writer && st.writer.address() == msg.source && st.writer_stopping) {
      st.writer = nullptr;
      st.writer_stopping = false;
      st.writer_fingerprint.clear();
      report_running(self);
      converge_writer(self);
      maybe_quit(self);
      return;
    }
    if (st.writer && st.writer.address() == msg.source) {
      st.writer = nullptr;
      st.writer_fingerprint.clear();
      report_running(self);
      if (is(msg.reason, engine_errc::lease_lost)) {
        log(spdlog::level::warn, log_event{"Writer stopped: its lease is no longer this node's", "connection",
                                           st.cfg.connection.name, "RECOVERY"}
                                   .addon(st.cfg.connection.connection_id)
                                   .with("reason", describe(msg.reason)));
        if (st.cfg.units.writer)
          st.writer_lost_epoch = st.cfg.units.writer->epoch;
        converge_writer(self);
        maybe_quit(self);
        return;
      }
      auto d = st.writer_restarts.record(self->clock().now(), st.cfg.writer_restarts);
      if (d.give_up) {
        log(spdlog::level::err, log_event{"Writer failed too often, stopping the connection", "connection",
                                          st.cfg.connection.name, "SYSTEM_ERROR"}.addon(st.cfg.connection.connection_id)
                                  .with("restarts", std::to_string(d.attempt - 1))
                                  .with("reason", describe(msg.reason)));
        self->quit(make_error(engine_errc::gave_up, "writer: " + describe(msg.reason)));
        return;
      }
      auto delay = st.cfg.restart.delay(d.attempt);
      log(spdlog::level::warn, log_event{"Writer crashed, restarting", "connection", st.cfg.connection.name,
                                         "RECOVERY"}.addon(st.cfg.connection.connection_id)
                                 .with("attempt", std::to_string(d.attempt))
                                 .with("restart_in_ms", std::to_string(delay.count()))
                                 .with("reason", describe(msg.reason)));
      self->delayed_send(self, delay, start_atom::value);
      return;
    }
    for (auto& [id, c] : st.children) {
      if (!c.hdl || c.hdl.address() != msg.source)
        continue;
      c.hdl = nullptr;
      if (c.stopping) {
        c.stopping = false;
        auto stopped = id; // converge may erase the entry
        report_running(self);
        converge(self, stopped);
        maybe_quit(self);
        return;
      }
      if (is(msg.reason, engine_errc::lease_lost)) {
        c.lost = true;
        log(spdlog::level::warn, log_event{"Mapping stopped: its lease is no longer this node's", "mapping", id,
                                           "RECOVERY"}
                                   .addon(st.cfg.connection.connection_id)
                                   .with("reason", describe(msg.reason)));
        report_running(self);
        maybe_quit(self);
        return;
      }
      report_running(self);
      const auto* m = find_mapping(self, id);
      if (m == nullptr)
        return;
      c.last_error = describe(msg.reason);
      auto d = c.restarts.record(self->clock().now(), st.cfg.mapping_restarts);
      if (d.give_up) {
        park(self, *m, d.attempt - 1, c.last_error);
        return;
      }
      auto delay = st.cfg.restart.delay(d.attempt);
      log(spdlog::level::warn, log_event{"Mapping crashed, restarting", "mapping", id, "RECOVERY"}.addon(st.cfg.connection.connection_id)
                                 .with("object_name", m->job.config.object_name)
                                 .with("restart_in_ms", std::to_string(delay.count()))
                                 .with("reason", c.last_error));
      self->delayed_send(self, delay, restart_atom::value, id);
      return;
    }
    // From the engine (or anyone else linked): stop with it.
    self->quit(msg.reason);
  });
  return {
    [self](start_atom) { prepare(self); },
    [self](units_atom, connection_units& units) {
      auto& st = self->state;
      if (st.stopping)
        return;
      st.cfg.units = std::move(units);
      converge_all(self);
    },
    [self](restart_atom, const std::string& id) {
      auto& st = self->state;
      auto i = st.children.find(id);
      if (i == st.children.end() || i->second.hdl || i->second.parked)
        return;
      converge(self, id);
    },
    [self](stop_atom, bool) {
      auto& st = self->state;
      st.stopping = true;
      if (!st.ready) {
        self->quit(caf::exit_reason::user_shutdown);
        return;
      }
      st.cfg.mappings.clear();
      st.cfg.writer.reset();
      converge_all(self);
    },
    [self](reconfigure_atom, connection_settings& next) {
      if (self->state.stopping)
        return;
      auto& st = self->state;
      bool was_paused = st.cfg.paused;
      st.cfg.mappings = std::move(next.mappings);
      st.cfg.writer = std::move(next.writer);
      st.cfg.writes = std::move(next.writes);
      st.cfg.paused = next.paused;
      if (!st.cfg.paused)
        st.paused_reported = false;
      if (st.cfg.paused && !was_paused)
        log(spdlog::level::info, log_event{"Pausing connection: running operations finish first", "connection",
                                           st.cfg.connection.name, "PAUSED"}.addon(st.cfg.connection.connection_id));
      if (!st.cfg.paused && was_paused)
        log(spdlog::level::info, log_event{"Connection resumed", "connection", st.cfg.connection.name, "IDLE"}.addon(st.cfg.connection.connection_id));
      converge_all(self);
    },
    [self](synced_atom, const std::string& id) {
      auto i = self->state.children.find(id);
      if (i != self->state.children.end())
        i->second.restarts.clear();
    },
    [self](status_atom) {
      int32_t running = 0;
      int32_t parked = 0;
      for (auto& [id, c] : self->state.children) {
        if (c.hdl)
          ++running;
        if (c.parked)
          ++parked;
      }
      return std::make_tuple(running, parked);
    },
  };
}

} // namespace syncforce::actors
