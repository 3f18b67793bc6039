#include "actors/sync_engine.hpp"

#include "actors/atoms.hpp"
#include "actors/connection_actor.hpp"
#include "actors/errors.hpp"
#include "actors/integration_user.hpp"
#include "actors/log.hpp"
#include "actors/worker_pool.hpp"
#include "store/channels.hpp"

#include <algorithm>
#include <set>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace syncforce::actors {

namespace {

using engine_ptr = sync_engine_actor::stateful_pointer<sync_engine_state>;


std::shared_ptr<sf_user> make_user(engine_ptr self, const store::connection_row& c, std::string& error) {
  const auto& st = self->state;
  auto user = std::make_shared<sf_user>();
  user->key = store::user_unit_key(c.login.login_url, c.login.username);
  user->username = c.login.username;
  if (st.cfg.backend.log_in) {
    // Salesforce's API usage shows which node made each call.
    user->login = st.cfg.backend.log_in(c, st.cfg.secrets, "syncforce/" + st.cfg.node_name, error);
    if (!user->login)
      return nullptr;
  }
  return user;
}

/// What a connection actor must be restarted for (its login, schema, version
/// or features changed); mappings, commands and pause are reconfigured live.
std::string connection_fingerprint(const store::connection_row& c) {
  const auto& l = c.login;
  const auto& f = c.features;
  return c.schema_name + "\n" + l.login_url + "\n" + l.username + "\n" + l.auth + "\n" + l.secret_ref + "\n" +
         l.client_id + "\n" + l.client_secret_ref + "\n" + c.api_version + "\n" +
         std::to_string(f.disable_bulk_writes) + std::to_string(f.poll_db_no_merge) +
         std::to_string(f.poll_external_ids) + std::to_string(f.rest_count_only) +
         std::to_string(f.ucs_basic_collation_index);
}

/// The units of connection `id` this node holds leases for.
connection_units units_of(engine_ptr self, const std::string& id) {
  connection_units u;
  for (const auto& [unit, fence] : self->state.owned) {
    if (fence->connection_id != id)
      continue;
    if (fence->kind == "writer")
      u.writer = fence;
    else if (fence->kind == "mapping")
      u.mappings.emplace(fence->key, fence);
  }
  return u;
}

/// Tells the cluster member every unit that runs here now.
void report_running(engine_ptr self) {
  auto& st = self->state;
  if (!st.member)
    return;
  std::vector<std::string> all;
  for (const auto& [id, units] : st.running)
    all.insert(all.end(), units.begin(), units.end());
  self->send(st.member, running_atom::value, std::move(all));
}

/// Runs the brokers of the integration users whose leases this node holds,
/// and stops those it no longer holds (their grants expire or are taken over
/// by the new owner, which waits out a grant's TTL before granting anew).
void run_brokers(engine_ptr self) {
  auto& st = self->state;
  auto* cluster = st.cfg.cluster.get();
  if (cluster == nullptr || !cluster->leased)
    return;
  std::map<std::string, std::shared_ptr<const lease_fence>> wanted;
  for (const auto& [unit, fence] : st.owned)
    if (fence->kind == "integration_user")
      wanted.emplace(fence->key, fence);
  for (auto it = st.brokers.begin(); it != st.brokers.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    cluster->registry->remove(it->first);
    self->unlink_from(it->second); // stopped on purpose: its exit must not stop the engine
    self->send_exit(it->second, caf::exit_reason::user_shutdown);
    log(spdlog::level::info, log_event{"Broker stopped here: its lease moved", "integration_user", it->first, ""});
    it = st.brokers.erase(it);
  }
  for (const auto& [key, fence] : wanted) {
    if (st.brokers.count(key))
      continue;
    auto login = st.logins.find(key);
    if (login == st.logins.end())
      continue; // its limits are known once a connection of the user is loaded (apply runs this again)
    integration_user_config ucfg;
    ucfg.username = login->second->username;
    ucfg.cursor_limit = login->second->cursor_limit;
    if (st.cfg.test_poll_seconds)
      ucfg.probe_interval = std::chrono::seconds(*st.cfg.test_poll_seconds);
    if (st.cfg.broker_incarnation)
      ucfg.incarnation = st.cfg.broker_incarnation(key);
    // A broker that moved starts from what live holders renew, and grants
    // nothing new before a grant's TTL has passed: it never over-grants.
    if (fence->epoch > 1)
      ucfg.recover_for = cluster->grant_ttl;
    auto broker = self->spawn<caf::linked>(integration_user, ucfg);
    cluster->registry->add(key, broker);
    st.brokers[key] = broker;
    log(spdlog::level::info, log_event{"Integration user ready", "integration_user", ucfg.username, ""}
                               .with("cursor_limit", ucfg.cursor_limit == 0 ? "none" : std::to_string(ucfg.cursor_limit))
                               .with("epoch", std::to_string(fence->epoch)));
  }
}

/// The connection actor's settings: its mappings (with revisions and pending
/// commands), its writer when some mapping writes, its lease and pause.
connection_settings settings_for(engine_ptr self, const loaded_connection& lc,
                                 const std::shared_ptr<const sf_user>& user) {
  auto& st = self->state;
  const auto& c = lc.row;
  connection_settings cs;
  cs.connection = connection_job{c.id, c.name, c.schema_name, user};
  cs.paused = c.state == "PAUSED";
  for (const auto& m : lc.mappings) {
    mapping_settings ms;
    ms.job.mapping_id = m.id;
    ms.job.connection_id = c.id;
    ms.job.schema = c.schema_name;
    ms.job.config = m.config;
    ms.job.bulk_threshold = st.cfg.bulk_threshold;
    ms.job.bulk_page_size = st.cfg.bulk_page_size;
    ms.job.ucs_basic_collation = c.features.ucs_basic_collation_index;
    ms.job.user = user;
    ms.revision = m.revision;
    // Parsed at the store boundary; a name this build does not know is taken
    // and applied as recover, the safe one (sync_io::take_command).
    if (m.command)
      ms.command = parse_mapping_command(*m.command).value_or(mapping_command::recover);
    ms.change_events = st.cfg.change_events;
    int secs = st.cfg.test_poll_seconds ? *st.cfg.test_poll_seconds : m.config.sf_polling_seconds;
    ms.poll_interval = std::chrono::seconds(secs);
    if (st.cfg.test_poll_seconds) { // tests do not wait a minute for the API budget either
      ms.budget_wait = std::chrono::seconds(*st.cfg.test_poll_seconds);
      // ... nor for a keyset mark to settle (two seconds cover sfemu's whole-second stamps).
      ms.job.keyset_settle = std::chrono::seconds(2 * *st.cfg.test_poll_seconds);
    }
    cs.mappings.push_back(std::move(ms));
  }
  bool writes = std::any_of(lc.mappings.begin(), lc.mappings.end(), [](const store::mapping_row& m) {
    return m.config.access == mapping_access::read_write;
  });
  if (writes) {
    writer_settings ws;
    ws.listen = st.cfg.backend.listen;
    ws.job.connection_id = c.id;
    ws.job.name = c.name;
    ws.job.schema = c.schema_name;
    ws.job.user = user;
    ws.job.mode = c.features.poll_db_no_merge ? write_mode::ordered : write_mode::merged;
    ws.job.api_version = std::atof(c.api_version.c_str());
    ws.job.disable_bulk_writes = c.features.disable_bulk_writes;
    ws.job.ucs_basic_collation = c.features.ucs_basic_collation_index;
    ws.job.archive_retention = std::chrono::hours(24) * st.cfg.archive_retention_days;
    for (const auto& m : lc.mappings)
      ws.job.mappings.push_back(write_mapping{m.id, m.config});
    if (st.cfg.test_poll_seconds) { // tests look at the trigger log as often as they poll
      ws.budget_wait = std::chrono::seconds(*st.cfg.test_poll_seconds);
      // ... and do not wait two minutes to settle creates in doubt.
      ws.job.in_doubt_settle_after = std::chrono::seconds(3 * *st.cfg.test_poll_seconds);
      ws.fallback_poll = std::min<std::chrono::milliseconds>(ws.fallback_poll,
                                                             std::chrono::seconds(*st.cfg.test_poll_seconds));
    }
    cs.writer = std::move(ws);
    cs.writes = st.cfg.backend.writes;
  }
  cs.clustered = static_cast<bool>(st.member);
  cs.units = units_of(self, c.id);
  cs.reporter = caf::actor_cast<sync_engine_actor>(self);
  if (st.cfg.tune_connection)
    st.cfg.tune_connection(cs);
  return cs;
}

/// The login of a connection, shared by every connection of the same Salesforce user.
std::shared_ptr<const sf_user> user_for(engine_ptr self, const store::connection_row& c, cursor_broker_actor& user_actor) {
  auto& st = self->state;
  std::string error;
  auto user = make_user(self, c, error);
  if (!user) {
    log(spdlog::level::err, log_event{"Cannot log in to Salesforce: " + error, "connection", c.name,
                                      "NEED_AUTHENTICATION"}.addon(c.id)
                              .with("username", c.login.username));
    return nullptr;
  }
  user->cursor_limit = cursor_limit_for(c.api_version);
  auto ui = st.users.find(user->key);
  if (ui == st.users.end()) {
    integration_user_config ucfg;
    ucfg.username = user->username;
    ucfg.cursor_limit = user->cursor_limit;
    if (st.cfg.test_poll_seconds)
      ucfg.probe_interval = std::chrono::seconds(*st.cfg.test_poll_seconds);
    if (st.cfg.broker_incarnation)
      ucfg.incarnation = st.cfg.broker_incarnation(user->key);
    cursor_broker_actor hdl;
    const auto* cluster = st.cfg.cluster.get();
    // With leases, brokers start and stop with their lease (units_atom), not here.
    bool local = cluster == nullptr || (!cluster->leased && cluster->directory->is_local(user->key));
    if (local) {
      auto broker = self->spawn<caf::linked>(integration_user, ucfg);
      log(spdlog::level::info, log_event{"Integration user ready", "integration_user", user->username, ""}.with(
                                 "cursor_limit", ucfg.cursor_limit == 0 ? "none" : std::to_string(ucfg.cursor_limit)));
      hdl = broker;
      if (cluster != nullptr) {
        cluster->registry->add(user->key, broker);
        st.brokers[user->key] = broker;
      }
    } else if (!cluster->leased) {
      log(spdlog::level::info, log_event{"Integration user's broker runs on another node", "integration_user",
                                         user->username, ""}
                                 .with("owner", cluster->directory->owner_address(user->key).value_or("unknown")));
    }
    if (cluster != nullptr) {
      // In a cluster every mapping asks through the node's proxy, even while the
      // broker is in this node (then in-process): its grants have a TTL and are
      // renewed wherever the broker is, so they follow a broker that moves.
      remote_broker_config pcfg;
      pcfg.user_key = user->key;
      pcfg.username = user->username;
      pcfg.node_name = st.cfg.node_name;
      pcfg.directory = cluster->directory;
      pcfg.transport = cluster->transport;
      pcfg.local = cluster->registry;
      pcfg.grant_ttl = cluster->grant_ttl;
      hdl = self->spawn<caf::linked>(remote_broker, pcfg);
    }
    ui = st.users.emplace(user->key, hdl).first;
    auto target = hdl;
    user->on_usage = [target](std::int64_t used, std::int64_t max) {
      caf::anon_send(target, usage_atom::value, used, max);
    };
    st.logins[user->key] = user;
  }
  user_actor = ui->second;
  return st.logins.at(user->key);
}

void start_connection(engine_ptr self, const loaded_connection& lc) {
  auto& st = self->state;
  cursor_broker_actor user_actor;
  auto user = user_for(self, lc.row, user_actor);
  if (!user)
    return;
  auto conn = self->spawn<caf::linked>(connection_actor, settings_for(self, lc, user), st.cfg.backend.io, st.pool, user_actor);
  st.connections[lc.row.id] = conn;
  st.fingerprints[lc.row.id] = connection_fingerprint(lc.row);
  self->send(conn, start_atom::value);
}

/// Stops a connection actor gracefully; `then` runs once it is gone.
void stop_connection(engine_ptr self, const std::string& id, std::function<void()> then) {
  auto& st = self->state;
  bool already = st.after_stop.count(id) > 0;
  st.after_stop[id] = std::move(then);
  if (!already)
    self->send(st.connections.at(id), stop_atom::value, true);
}

/// Brings the running connections to the loaded configuration.
void apply(engine_ptr self, std::vector<loaded_connection>& loaded) {
  auto& st = self->state;
  std::set<std::string> seen;
  for (auto& lc : loaded) {
    const auto id = lc.row.id;
    seen.insert(id);
    auto running = st.connections.find(id);
    if (running == st.connections.end()) {
      auto wait = st.not_before.find(id);
      if (wait != st.not_before.end() && self->clock().now() < wait->second)
        continue; // restarting after a crash: the delayed wake starts it
      st.not_before.erase(id);
      start_connection(self, lc);
      continue;
    }
    if (st.after_stop.count(id) || st.fingerprints[id] != connection_fingerprint(lc.row)) {
      if (!st.after_stop.count(id))
        log(spdlog::level::info, log_event{"Connection settings changed, restarting it", "connection", lc.row.name,
                                           lc.row.state}.addon(lc.row.id));
      stop_connection(self, id, [self, lc] { start_connection(self, lc); });
      continue;
    }
    cursor_broker_actor user_actor;
    auto user = user_for(self, lc.row, user_actor);
    if (!user)
      continue;
    self->send(running->second, reconfigure_atom::value, settings_for(self, lc, user));
  }
  run_brokers(self); // a user's limits are known now
  std::vector<std::string> gone;
  for (const auto& [id, hdl] : st.connections)
    if (!seen.count(id))
      gone.push_back(id);
  for (const auto& id : gone) {
    log(spdlog::level::info, log_event{"Connection removed, stopping it", "connection", id, ""}.addon(id));
    stop_connection(self, id, nullptr);
  }
}

void load(engine_ptr self) {
  auto& st = self->state;
  if (st.loading) {
    st.load_again = true;
    return;
  }
  st.loading = true;
  st.load_again = false;
  auto result = std::make_shared<std::vector<loaded_connection>>();
  // The configuration file is imported once, at start; later loads follow the control schema.
  auto file = st.loaded_once ? std::nullopt : st.cfg.file_config;
  auto j = job{"load_config", [result, file, load = st.cfg.backend.load_config](worker_context& ctx) {
                 if (!load)
                   return job_outcome{};
                 return load(ctx, file, *result);
               }};
  self->request(st.pool, caf::infinite, run_job_atom::value, std::move(j))
    .then(
      [self, result](job_outcome& o) {
        auto& st = self->state;
        st.loading = false;
        if (!o.ok()) {
          auto delay = st.cfg.retry.delay(++st.failures);
          log(spdlog::level::warn, log_event{"Cannot load the configuration, retrying", "node", st.cfg.node_name,
                                             "RECOVERY"}
                                     .with("retry_in_ms", std::to_string(delay.count()))
                                     .with("reason", o.error));
          self->delayed_send(self, delay, wake_atom::value);
          return;
        }
        st.failures = 0;
        if (!st.loaded_once) {
          std::size_t mappings = 0;
          for (const auto& lc : *result)
            mappings += lc.mappings.size();
          log(spdlog::level::info, log_event{"Configuration loaded", "node", st.cfg.node_name, "READY"}
                                     .with("connections", std::to_string(result->size()))
                                     .with("mappings", std::to_string(mappings))
                                     .with("imported_changes", std::to_string(o.rows)));
        }
        st.loaded_once = true;
        st.cfg.file_config.reset(); // imported: never read again, and it holds every mapping's configuration
        apply(self, *result);
        if (st.load_again)
          load(self);
      },
      [self](caf::error& err) { self->quit(err); });
}

/// A connection actor stopped on its own: start it again (through a load, so
/// it gets the current settings) unless it crash-loops.
void restart_connection(engine_ptr self, const std::string& id, const caf::error& reason) {
  auto& st = self->state;
  auto now = self->clock().now();
  std::chrono::milliseconds delay = st.cfg.lease_restart;
  if (is(reason, engine_errc::lease_lost)) {
    log(spdlog::level::warn, log_event{"Connection lost its lease, starting it again", "connection", id, "RECOVERY"}
                               .with("restart_in_ms", std::to_string(delay.count())));
  } else {
    auto d = st.connection_crashes[id].record(now, st.cfg.connection_restarts);
    if (d.give_up) {
      log(spdlog::level::err, log_event{"Connection failed too often, stopping the sync engine", "connection", id,
                                        "SYSTEM_ERROR"}
                                .with("restarts", std::to_string(d.attempt - 1))
                                .with("reason", describe(reason)));
      self->quit(make_error(engine_errc::gave_up, "connection " + id + ": " + describe(reason)));
      return;
    }
    delay = st.cfg.retry.delay(d.attempt);
    log(spdlog::level::warn, log_event{"Connection crashed, restarting it", "connection", id, "RECOVERY"}
                               .with("attempt", std::to_string(d.attempt))
                               .with("restart_in_ms", std::to_string(delay.count()))
                               .with("reason", describe(reason)));
  }
  st.not_before[id] = now + delay;
  self->delayed_send(self, delay, wake_atom::value);
}

} // namespace

secret_lookup system_secret_lookup(secret_policy policy) {
  secret_lookup l;
  l.env = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr)
      return std::nullopt;
    return std::string{v};
  };
  // The reference was checked lexically; the file actually opened is checked
  // too, so a symbolic link cannot lead out of the allowed directories.
  std::vector<std::string> dirs;
  for (const auto& d : policy.file_dirs) {
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(d, ec);
    dirs.push_back(ec ? d : canonical.string());
  }
  std::vector<std::string> denied;
  for (const auto& f : policy.denied_files) {
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(f, ec);
    denied.push_back(ec ? f : canonical.string());
  }
  l.policy = std::move(policy);
  l.file = [dirs, denied](const std::string& path) -> std::optional<std::string> {
    std::error_code ec;
    auto real = std::filesystem::canonical(path, ec).string();
    if (ec)
      return std::nullopt;
    if (std::find(denied.begin(), denied.end(), real) != denied.end())
      return std::nullopt;
    if (std::none_of(dirs.begin(), dirs.end(), [&](const std::string& d) { return path_below(real, d); }))
      return std::nullopt;
    std::ifstream in(real, std::ios::binary);
    if (!in)
      return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  return l;
}

sync_engine_actor::behavior_type sync_engine(sync_engine_actor::stateful_pointer<sync_engine_state> self,
                                             sync_engine_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  if (st.cfg.test_poll_seconds)
    log(spdlog::level::warn, log_event{"TEST ONLY: every mapping polls every " +
                                         std::to_string(*st.cfg.test_poll_seconds) +
                                         " seconds (SYNCFORCE_TEST_POLL_SECONDS), ignoring sf_polling_seconds",
                                       "node", st.cfg.node_name, ""});
  worker_pool_config pcfg;
  pcfg.size = st.cfg.workers;
  pcfg.detached = st.cfg.detached_workers;
  pcfg.make_context = st.cfg.backend.make_context;
  st.pool = self->spawn<caf::linked>(worker_pool, pcfg);
  // A connection stopped on purpose (removed, or restarted with new settings)
  // is not a failure; one that stopped on its own is started again (a lost
  // lease at once, a crash with backoff within its window); any other linked
  // actor's failure (the pool, a user) stops the engine, and its supervisor
  // restarts it.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    for (auto it = st.connections.begin(); it != st.connections.end(); ++it) {
      if (it->second.address() != msg.source)
        continue;
      auto id = it->first;
      st.connections.erase(it);
      st.fingerprints.erase(id);
      st.running.erase(id);
      report_running(self);
      auto stop = st.after_stop.find(id);
      if (stop != st.after_stop.end()) {
        auto then = std::move(stop->second);
        st.after_stop.erase(stop);
        if (then)
          then();
        return;
      }
      restart_connection(self, id, msg.reason);
      return;
    }
    if (msg.reason)
      self->quit(msg.reason);
  });
  return {
    [self](start_atom) {
      auto& st = self->state;
      // With a database the node is a cluster member: it runs what it holds leases for.
      if (st.cfg.backend.make_cluster_store && !st.member) {
        cluster_member_config mc;
        mc.node = store::node_info{st.cfg.node_name, st.cfg.advertise_address, st.cfg.version};
        mc.lease_ttl = st.cfg.lease_ttl;
        mc.heartbeat_interval = st.cfg.heartbeat_interval;
        mc.safety_margin = std::max(std::chrono::milliseconds(500), st.cfg.lease_ttl / 5);
        mc.make_store = st.cfg.backend.make_cluster_store;
        mc.engine = caf::actor_cast<sync_engine_actor>(self);
        mc.validity = std::make_shared<lease_validity>(st.cfg.time);
        if (st.cfg.cluster && st.cfg.cluster->leased)
          if (auto dir = std::dynamic_pointer_cast<lease_broker_directory>(st.cfg.cluster->directory))
            mc.on_broker_owners = [dir](std::map<std::string, std::string> owners) { dir->update(std::move(owners)); };
        st.member = st.cfg.detached_member ? self->spawn<caf::detached + caf::linked>(cluster_member, mc)
                                           : self->spawn<caf::linked>(cluster_member, mc);
        self->send(st.member, tick_atom::value);
      }
      // Every node hears about admin changes (NOTIFY syncforce_control) and reconciles.
      if (st.cfg.backend.listen && !st.listener)
        st.listener = st.cfg.backend.listen(store::control_channel, caf::actor_cast<wake_target>(self));
      load(self);
    },
    [self](wake_atom) { load(self); },
    [self](units_atom, owned_units& owned) {
      auto& st = self->state;
      st.owned = std::move(owned);
      st.told_units = true;
      run_brokers(self);
      // A unit of a connection this node has not loaded yet (the configuration
      // changed since its last load, e.g. another node imported its file):
      // load again; the connection starts with its units.
      for (const auto& [unit, fence] : st.owned)
        if (!fence->connection_id.empty() && !st.connections.count(fence->connection_id)) {
          load(self);
          break;
        }
      for (const auto& [id, conn] : st.connections)
        self->send(conn, units_atom::value, units_of(self, id));
    },
    [self](running_atom, const std::string& connection_id, std::vector<std::string>& units) {
      auto& st = self->state;
      if (!st.connections.count(connection_id))
        return;
      st.running[connection_id] = std::move(units);
      report_running(self);
    },
  };
}

} // namespace syncforce::actors
