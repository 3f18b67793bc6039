#include "actors/remote_broker.hpp"

#include "actors/atoms.hpp"
#include "actors/log.hpp"

#include <algorithm>

namespace syncforce::actors {

namespace {

using proxy_ptr = remote_broker_impl::stateful_pointer<remote_broker_state>;

/// How long an in-process ask waits in the broker's line: as long as it takes.
constexpr int64_t local_wait = int64_t{7} * 24 * 3600 * 1000;

/// Where the user's broker is now: "" for this node (with its handle), the
/// owner's address, or nullopt while nobody is known to own it.
struct owner_target {
  std::string address; ///< empty: in-process
  integration_user_actor local;
};

std::optional<owner_target> resolve(proxy_ptr self, std::string& why) {
  auto& cfg = self->state.cfg;
  if (cfg.directory->is_local(cfg.user_key)) {
    auto b = cfg.local ? cfg.local->find(cfg.user_key) : integration_user_actor{};
    if (!b) {
      why = "the broker of this node is not running yet";
      return std::nullopt;
    }
    return owner_target{"", b};
  }
  auto address = cfg.directory->owner_address(cfg.user_key);
  if (!address || address->empty()) {
    why = "no node owns the user's broker";
    return std::nullopt;
  }
  return owner_target{*address, {}};
}

int held(proxy_ptr self) {
  return static_cast<int>(self->state.grants.size());
}

std::string holder_of(proxy_ptr self, const std::string& mapping_id) {
  return self->state.cfg.node_name + "/" + mapping_id;
}

void failed(proxy_ptr self, const std::string& what, const std::string& why) {
  auto& st = self->state;
  if (st.failures++ == 0)
    log(spdlog::level::warn, log_event{"Cluster broker not answering, asking again", "integration_user",
                                       st.cfg.username, ""}
                               .with("call", what)
                               .with("reason", why));
}

void succeeded(proxy_ptr self) {
  auto& st = self->state;
  if (st.failures > 0)
    log(spdlog::level::info, log_event{"Cluster broker answering again", "integration_user", st.cfg.username, ""}
                               .with("failed_calls", std::to_string(st.failures)));
  st.failures = 0;
}

void schedule_renew(proxy_ptr self, std::chrono::milliseconds after) {
  auto& st = self->state;
  if (st.renew_scheduled)
    return;
  st.renew_scheduled = true;
  self->delayed_send(self, after, renew_tick_atom::value);
}

void give_back(proxy_ptr self, const std::string& grant_id, const std::string& target) {
  auto& cfg = self->state.cfg;
  if (target.empty()) {
    if (auto b = cfg.local ? cfg.local->find(cfg.user_key) : integration_user_actor{})
      self->send(b, release_atom::value, cfg.node_name, grant_id);
    return;
  }
  cfg.transport->release(target, cfg.user_key, cfg.node_name, grant_id);
}

void send_acquire(proxy_ptr self, std::uint64_t call) {
  auto& st = self->state;
  auto p = st.pending.find(call);
  if (p == st.pending.end())
    return;
  if (p->second.abandoned) {
    st.pending.erase(p);
    return;
  }
  std::string why;
  auto owner = resolve(self, why);
  if (!owner) {
    failed(self, "AcquireCursor", why);
    self->delayed_send(self, st.cfg.retry_delay, retry_atom::value, call);
    return;
  }
  auto holder = holder_of(self, p->second.mapping_id);
  auto ttl = static_cast<int64_t>(st.cfg.grant_ttl.count());
  auto wait = static_cast<int64_t>(st.cfg.max_wait.count());
  if (owner->address.empty()) {
    // In-process no thread waits: keep the place in line until served (a
    // broker that stops answers with an error, and the owner is asked anew).
    self->request(owner->local, caf::infinite, grant_atom::value, st.cfg.node_name, holder, ttl, local_wait)
      .then(
        [self, call](grant_reply& r) {
          broker_answer a;
          a.reached = true;
          a.granted = r.granted;
          a.reason = std::move(r.reason);
          a.grant_id = std::move(r.grant_id);
          a.expires_in_ms = r.expires_in_ms;
          a.retry = r.retry;
          self->send(self, answer_atom::value, call, std::string{}, std::move(a));
        },
        [self, call](caf::error& err) {
          broker_answer a;
          a.error = caf::to_string(err);
          self->send(self, answer_atom::value, call, std::string{}, std::move(a));
        });
    return;
  }
  auto me = caf::actor_cast<remote_broker_impl>(self);
  auto address = owner->address;
  st.cfg.transport->acquire(address, st.cfg.user_key, st.cfg.node_name, holder, ttl, wait,
                            [me, call, address](broker_answer a) {
                              caf::anon_send(me, answer_atom::value, call, address, std::move(a));
                            });
}

void on_answer(proxy_ptr self, std::uint64_t call, const std::string& target, broker_answer& a) {
  auto& st = self->state;
  auto p = st.pending.find(call);
  if (!a.reached) {
    failed(self, "AcquireCursor", a.error);
    if (p != st.pending.end())
      self->delayed_send(self, st.cfg.retry_delay, retry_atom::value, call);
    return;
  }
  succeeded(self);
  if (a.granted) {
    if (p == st.pending.end() || p->second.abandoned) {
      give_back(self, a.grant_id, target);
      if (p != st.pending.end())
        st.pending.erase(p);
      return;
    }
    st.grants[a.grant_id] = remote_broker_state::held_grant{p->second.mapping_id, target};
    st.peak = std::max(st.peak, held(self));
    p->second.promise.deliver(true, std::string{});
    st.pending.erase(p);
    schedule_renew(self, st.cfg.grant_ttl / 3);
    return;
  }
  if (p == st.pending.end())
    return;
  if (a.retry) { // still in line: ask again (the wait is bounded so no call hangs)
    if (!p->second.counted_delay) {
      p->second.counted_delay = true;
      ++st.delayed;
    }
    send_acquire(self, call);
    return;
  }
  p->second.promise.deliver(false, a.reason);
  st.pending.erase(p);
}

/// Renews every grant at the current owner: a broker that moved takes them over.
void renew(proxy_ptr self) {
  auto& st = self->state;
  st.renew_scheduled = false;
  if (st.grants.empty())
    return;
  std::string why;
  auto owner = resolve(self, why);
  if (!owner) {
    failed(self, "RenewGrants", why);
    schedule_renew(self, st.cfg.retry_delay);
    return;
  }
  std::vector<std::string> ids, holders;
  for (const auto& [id, g] : st.grants) {
    ids.push_back(id);
    holders.push_back(holder_of(self, g.mapping_id));
  }
  auto ttl = static_cast<int64_t>(st.cfg.grant_ttl.count());
  if (owner->address.empty()) {
    self->request(owner->local, std::chrono::seconds(10), renew_atom::value, st.cfg.node_name, ids, holders, ttl)
      .then(
        [self, ids](std::vector<std::string>& valid) {
          broker_answer a;
          a.reached = true;
          a.valid_grant_ids = std::move(valid);
          self->send(self, renew_atom::value, std::string{}, ids, std::move(a));
        },
        [self, ids](caf::error& err) {
          broker_answer a;
          a.error = caf::to_string(err);
          self->send(self, renew_atom::value, std::string{}, ids, std::move(a));
        });
    return;
  }
  auto me = caf::actor_cast<remote_broker_impl>(self);
  auto address = owner->address;
  st.cfg.transport->renew(address, st.cfg.user_key, st.cfg.node_name, ids, holders, ttl,
                          [me, address, ids](broker_answer a) {
                            caf::anon_send(me, renew_atom::value, address, ids, std::move(a));
                          });
}

void on_renewed(proxy_ptr self, const std::string& target, const std::vector<std::string>& ids, broker_answer& a) {
  auto& st = self->state;
  if (!a.reached) {
    failed(self, "RenewGrants", a.error);
    schedule_renew(self, st.cfg.retry_delay);
    return;
  }
  succeeded(self);
  std::sort(a.valid_grant_ids.begin(), a.valid_grant_ids.end());
  for (const auto& id : ids) {
    auto g = st.grants.find(id);
    if (g == st.grants.end())
      continue; // released meanwhile
    if (std::binary_search(a.valid_grant_ids.begin(), a.valid_grant_ids.end(), id)) {
      g->second.target = target;
      continue;
    }
    log(spdlog::level::warn, log_event{"Cursor grant lost at the broker (not renewed in time)", "mapping",
                                       g->second.mapping_id, ""}
                               .with("user", st.cfg.username)
                               .with("grant", id));
    st.grants.erase(g);
  }
  schedule_renew(self, st.cfg.grant_ttl / 3);
}

void flush_usage(proxy_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (!st.usage)
    return;
  auto [used, max] = *st.usage;
  st.usage.reset();
  std::string why;
  auto owner = resolve(self, why);
  if (!owner)
    return; // the next snapshot goes to whoever owns the user then
  if (owner->address.empty())
    self->send(owner->local, usage_atom::value, used, max);
  else
    st.cfg.transport->report_limits(owner->address, st.cfg.user_key, used, max);
}

void watch(proxy_ptr self, const caf::actor_addr& who, const std::string& mapping_id) {
  auto& st = self->state;
  if (!who || st.watched.count(who))
    return;
  st.watched[who] = mapping_id;
  self->monitor(who);
}

} // namespace

remote_broker_impl::behavior_type remote_broker(remote_broker_impl::stateful_pointer<remote_broker_state> self,
                                                remote_broker_config cfg) {
  self->state.cfg = std::move(cfg);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto w = st.watched.find(dm.source);
    if (w == st.watched.end())
      return;
    auto mapping_id = w->second;
    st.watched.erase(w);
    for (auto& [call, p] : st.pending)
      if (p.who == dm.source)
        p.abandoned = true;
    for (auto g = st.grants.begin(); g != st.grants.end();) {
      if (g->second.mapping_id != mapping_id) {
        ++g;
        continue;
      }
      give_back(self, g->first, g->second.target);
      g = st.grants.erase(g);
    }
  });
  return {
    [self](acquire_atom, const std::string& mapping_id) -> caf::result<bool, std::string> {
      auto& st = self->state;
      auto who = caf::actor_cast<caf::actor_addr>(self->current_sender());
      watch(self, who, mapping_id);
      auto call = st.next_call++;
      auto rp = self->make_response_promise<bool, std::string>();
      st.pending[call] = remote_broker_state::pending_acquire{mapping_id, who, rp};
      send_acquire(self, call);
      return rp;
    },
    [self](retry_atom, std::uint64_t call) { send_acquire(self, call); },
    [self](answer_atom, std::uint64_t call, const std::string& target, broker_answer& a) {
      on_answer(self, call, target, a);
    },
    [self](release_atom, const std::string& mapping_id) {
      auto& st = self->state;
      auto g = std::find_if(st.grants.begin(), st.grants.end(),
                            [&](const auto& kv) { return kv.second.mapping_id == mapping_id; });
      if (g == st.grants.end())
        return; // lost at the broker already
      give_back(self, g->first, g->second.target);
      st.grants.erase(g);
    },
    [self](renew_tick_atom) { renew(self); },
    [self](renew_atom, const std::string& target, const std::vector<std::string>& ids, broker_answer& a) {
      on_renewed(self, target, ids, a);
    },
    [self](usage_atom, int64_t used, int64_t max) {
      auto& st = self->state;
      st.usage = std::make_pair(used, max);
      if (st.cfg.directory->is_local(st.cfg.user_key)) {
        flush_usage(self);
        return;
      }
      if (!st.flush_scheduled) {
        st.flush_scheduled = true;
        self->delayed_send(self, st.cfg.usage_interval, flush_atom::value);
      }
    },
    [self](flush_atom) { flush_usage(self); },
    [self](status_atom) {
      auto& st = self->state;
      int waiting = 0;
      for (const auto& [call, p] : st.pending)
        if (!p.abandoned)
          ++waiting;
      broker_status s;
      s.held = static_cast<int32_t>(held(self));
      s.peak = static_cast<int32_t>(st.peak);
      s.delayed = static_cast<int32_t>(st.delayed);
      s.waiting = static_cast<int32_t>(waiting);
      return s;
    },
  };
}

} // namespace syncforce::actors
