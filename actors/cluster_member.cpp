#include "actors/cluster_member.hpp"

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/log.hpp"
#include "metrics/metrics.hpp"
#include "sync/cluster_assignment.hpp"

#include <map>

namespace syncforce::actors {

namespace {

using member_ptr = cluster_member_actor::stateful_pointer<cluster_member_state>;
using steady = lease_validity::clock;

std::string unit_id(const std::string& kind, const std::string& key) { return kind + ":" + key; }

log_event unit_event(const std::string& event, const std::string& kind, const std::string& key,
                     const std::string& connection_id) {
  log_event ev{event, kind, key, ""};
  if (!connection_id.empty())
    ev.addon(connection_id);
  return ev;
}

/// Tells the engine what should run here: every lease held, minus units being handed over.
void tell_engine(member_ptr self, const std::set<std::string>& handing_over) {
  auto& st = self->state;
  owned_units run;
  std::set<std::string> wanted;
  for (const auto& [id, fence] : st.owned) {
    if (handing_over.count(id))
      continue;
    run.emplace(id, fence);
    wanted.insert(id);
  }
  if (st.told && wanted == st.wanted)
    return;
  st.told = true;
  st.wanted = wanted;
  self->send(st.cfg.engine, units_atom::value, std::move(run));
}

/// Everything stops here: the fences end at once, the node rejoins next.
void lapse(member_ptr self, const std::string& reason) {
  auto& st = self->state;
  st.cfg.validity->lapse();
  if (st.joined)
    log(spdlog::level::err, log_event{"Node lease lapsed, stopping every unit here", "node", st.cfg.node.name,
                                      "RECOVERY"}
                              .with("units", std::to_string(st.owned.size()))
                              .with("reason", reason));
  st.joined = false;
  st.owned.clear();
  tell_engine(self, {});
}

void take_units(member_ptr self, const store::cluster_view& view) {
  auto& st = self->state;
  const auto& me = st.cfg.node.name;
  std::vector<std::string> live;
  std::set<std::string> live_set;
  for (const auto& n : view.nodes)
    if (n.live) {
      live.push_back(n.info.name);
      live_set.insert(n.info.name);
    }
  std::map<std::string, const store::lease_row*> leases;
  for (const auto& l : view.leases)
    leases[unit_id(l.kind, l.key)] = &l;

  // A lease this node thinks it holds but the store gives to someone else (or
  // another epoch) is gone: its unit stops here.
  for (auto it = st.owned.begin(); it != st.owned.end();) {
    auto l = leases.find(it->first);
    bool ours = l != leases.end() && l->second->owner == me && l->second->epoch == it->second->epoch;
    if (ours) {
      ++it;
      continue;
    }
    log(spdlog::level::warn, unit_event("Unit lease lost", it->second->kind, it->second->key, it->second->connection_id)
                               .with("node", me)
                               .with("epoch", std::to_string(it->second->epoch)));
    it = st.owned.erase(it);
  }

  std::vector<unit_load> loads;
  std::map<std::string, const store::unit_row*> units;
  for (const auto& u : view.units) {
    auto id = unit_id(u.kind, u.key);
    units[id] = &u;
    unit_load ul{id, u.weight, std::nullopt};
    if (auto l = leases.find(id); l != leases.end())
      ul.owner = l->second->owner;
    loads.push_back(std::move(ul));
  }
  auto target = assign_units(loads, live);

  std::set<std::string> handing_over;
  for (const auto& [id, u] : units) {
    bool mine = target.count(id) && target[id] == me;
    bool held = st.owned.count(id) > 0;
    if (mine && !held) {
      auto l = leases.find(id);
      std::optional<std::string> from;
      if (l != leases.end())
        from = l->second->owner;
      if (from && *from != me && live_set.count(*from))
        continue; // its owner hands it over first
      auto epoch = st.store->acquire(u->kind, u->key, me, st.incarnation);
      if (!epoch)
        continue;
      auto fence = std::make_shared<lease_fence>();
      fence->kind = u->kind;
      fence->key = u->key;
      fence->node = me;
      fence->epoch = *epoch;
      fence->connection_id = u->connection_id;
      fence->generation = st.cfg.validity->generation();
      fence->validity = st.cfg.validity;
      st.owned[id] = fence;
      auto ev = unit_event("Unit taken", u->kind, u->key, u->connection_id).with("node", me).with("epoch", std::to_string(*epoch));
      if (!u->label.empty())
        ev.with("label", u->label);
      if (from && *from != me) {
        ev.with("from", *from);
        metrics::lease_moved(metrics::lease_kind_of(u->kind));
      }
      log(spdlog::level::info, ev);
      continue;
    }
    if (!mine && held)
      handing_over.insert(id);
  }
  // Units that no longer exist are handed over (given up) the same way.
  for (const auto& [id, fence] : st.owned)
    if (!units.count(id))
      handing_over.insert(id);

  // Where each user's broker runs, with the leases taken just now: told only from the view
  // (read before them), this node's own mappings found no broker until the next heartbeat
  // and waited out the proxy's retries (~4 s at every start).
  if (st.cfg.on_broker_owners) {
    std::map<std::string, std::string> address;
    for (const auto& n : view.nodes)
      if (n.live)
        address[n.info.name] = n.info.address;
    std::map<std::string, std::string> brokers;
    for (const auto& l : view.leases)
      if (l.kind == "integration_user" && l.owner && address.count(*l.owner))
        brokers[l.key] = address[*l.owner];
    for (const auto& [id, fence] : st.owned)
      if (fence->kind == "integration_user")
        brokers[fence->key] = st.cfg.node.address;
    st.cfg.on_broker_owners(std::move(brokers));
  }

  // A unit being handed over is given up once it no longer runs here: not
  // reported running on a heartbeat after the one that told the engine to stop
  // it (a report sent before the engine heard of the stop cannot release it).
  for (auto it = st.handover_since.begin(); it != st.handover_since.end();)
    it = handing_over.count(it->first) ? std::next(it) : st.handover_since.erase(it);
  for (const auto& id : handing_over) {
    auto since = st.handover_since.emplace(id, st.ticks).first->second;
    if (st.running.count(id) || st.ticks <= since)
      continue;
    st.handover_since.erase(id);
    auto fence = st.owned.at(id);
    st.store->release(fence->kind, fence->key, me, fence->epoch);
    auto ev = unit_event("Unit handed over", fence->kind, fence->key, fence->connection_id)
                .with("node", me)
                .with("epoch", std::to_string(fence->epoch));
    if (target.count(id))
      ev.with("to", target[id]);
    log(spdlog::level::info, ev);
    st.owned.erase(id);
  }
  tell_engine(self, handing_over);
}

void tick(member_ptr self) {
  auto& st = self->state;
  try {
    if (!st.store)
      st.store = st.cfg.make_store();
    auto now = st.cfg.validity->time().steady_now();
    if (st.joined && !st.cfg.validity->valid(st.cfg.validity->generation(), now))
      lapse(self, "no heartbeat got through before the lease deadline");
    if (st.joined) {
      auto sent = st.cfg.validity->time().steady_now();
      if (!st.store->heartbeat(st.cfg.node.name, st.incarnation, st.cfg.lease_ttl))
        lapse(self, "the node's lease had expired in the control schema");
      else if (st.cfg.validity->renew(sent, st.cfg.lease_ttl, st.cfg.safety_margin, st.cfg.validity->time().steady_now()))
        lapse(self, "the heartbeat came back after the lease deadline");
    }
    if (!st.joined) {
      auto sent = st.cfg.validity->time().steady_now();
      auto incarnation = st.store->join(st.cfg.node, st.cfg.lease_ttl, st.incarnation);
      if (incarnation == 0) {
        // A newer start of this node joined while this member was in a call
        // (its engine was restarted meanwhile): rejoining would give up the
        // newer member's leases while its fences still hold. This one ends.
        log(spdlog::level::err, log_event{"A newer start of this node joined the cluster; this member stops", "node",
                                          st.cfg.node.name, "RECOVERY"}
                                  .with("incarnation", std::to_string(st.incarnation)));
        self->quit(make_error(engine_errc::gave_up, "node " + st.cfg.node.name + " joined again elsewhere"));
        return;
      }
      st.incarnation = incarnation;
      st.cfg.validity->renew(sent, st.cfg.lease_ttl, st.cfg.safety_margin, st.cfg.validity->time().steady_now());
      st.joined = true;
      log(spdlog::level::info, log_event{"Node joined the cluster", "node", st.cfg.node.name, "READY"}
                                 .with("address", st.cfg.node.address)
                                 .with("incarnation", std::to_string(st.incarnation)));
    }
    if (st.store_failing) {
      st.store_failing = false;
      log(spdlog::level::info, log_event{"Cluster store reachable again", "node", st.cfg.node.name, "READY"});
    }
    take_units(self, st.store->read());
    if (++st.ticks % 30 == 0)
      st.store->prune();
  } catch (const std::exception& e) {
    if (!st.store_failing)
      log(spdlog::level::warn, log_event{"Cannot reach the cluster store, retrying", "node", st.cfg.node.name,
                                         "DB_UNAVAILABLE"}
                                 .with("reason", e.what()));
    st.store_failing = true;
    st.store.reset();
  }
}

} // namespace

cluster_member_actor::behavior_type cluster_member(cluster_member_actor::stateful_pointer<cluster_member_state> self,
                                                   cluster_member_config cfg) {
  self->state.cfg = std::move(cfg);
  if (!self->state.cfg.validity)
    self->state.cfg.validity = std::make_shared<lease_validity>();
  // However the member ends, nothing may go on under its fences; a clean end
  // also leaves the cluster, so the others take its units at once.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    st.cfg.validity->lapse();
    if (st.joined) {
      try {
        if (!st.store)
          st.store = st.cfg.make_store();
        st.store->leave(st.cfg.node.name, st.incarnation);
        log(spdlog::level::info, log_event{"Node left the cluster", "node", st.cfg.node.name, "DRAINING"});
      } catch (const std::exception& e) {
        log(spdlog::level::warn, log_event{"Cannot leave the cluster; the others take over at the lease expiry",
                                           "node", st.cfg.node.name, "DRAINING"}
                                   .with("reason", e.what()));
      }
      st.joined = false;
    }
    self->quit(msg.reason);
  });
  self->attach_functor([v = self->state.cfg.validity](const caf::error&) { v->lapse(); });
  return {
    [self](tick_atom) {
      tick(self);
      self->delayed_send(self, self->state.cfg.heartbeat_interval, tick_atom::value);
    },
    [self](running_atom, std::vector<std::string>& units) {
      self->state.running = std::set<std::string>(units.begin(), units.end());
    },
  };
}

} // namespace syncforce::actors
