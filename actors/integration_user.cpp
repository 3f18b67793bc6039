#include "actors/integration_user.hpp"

#include "actors/atoms.hpp"
#include "actors/log.hpp"
#include "metrics/metrics.hpp"

#include <cstdlib>
#include <random>

namespace syncforce::actors {

int cursor_limit_for(const std::string& api_version) {
  auto major = std::atoi(api_version.c_str());
  return major > 0 && major < 56 ? 10 : 0;
}

namespace {

using user_ptr = integration_user_impl::stateful_pointer<integration_user_state>;
using time_point = caf::actor_clock::time_point;

int64_t millis(caf::actor_clock::duration_type d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::string random_incarnation() {
  std::random_device rd;
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 12; ++i)
    out += hex[rd() % 16];
  return out;
}

void report_cursors(user_ptr self) {
  const auto& st = self->state;
  metrics::cursors(st.cfg.username, st.held, static_cast<int>(st.waiters.size()));
}

bool budget_spent(user_ptr self) {
  auto& st = self->state;
  return st.api_max > 0 && st.api_max - st.api_used <= st.cfg.api_reserve;
}

std::string budget_reason(user_ptr self) {
  auto& st = self->state;
  return "API budget exhausted (" + std::to_string(st.api_used) + "/" + std::to_string(st.api_max) +
         " daily calls used)";
}

/// Why a request is refused now because of the API budget (nullopt: go on).
/// While the budget is spent one request per probe interval goes through: its
/// answer tells whether the budget came back.
std::optional<std::string> budget_gate(user_ptr self) {
  auto& st = self->state;
  if (!budget_spent(self))
    return std::nullopt;
  auto now = self->clock().now();
  if (st.last_probe && now - *st.last_probe < st.cfg.probe_interval)
    return budget_reason(self);
  st.last_probe = now;
  log(spdlog::level::info, log_event{"API budget exhausted, letting one request through to check",
                                     "integration_user", st.cfg.username, ""}
                             .with("api_usage", std::to_string(st.api_used) + "/" + std::to_string(st.api_max)));
  return std::nullopt;
}

bool recovering(user_ptr self) {
  return self->clock().now() < self->state.recovering_until;
}

/// A cursor may be handed out now: one is free and no grant of a previous
/// broker may still be unknown.
bool can_grant(user_ptr self) {
  auto& st = self->state;
  // Without a limit there is nothing to over-grant.
  return st.cfg.cursor_limit == 0 || (!recovering(self) && st.held < st.cfg.cursor_limit);
}

void count_one(user_ptr self) {
  auto& st = self->state;
  ++st.held;
  st.peak = std::max(st.peak, st.held);
  report_cursors(self);
}

void grant(user_ptr self, const std::string& mapping_id, const caf::actor_addr& who) {
  auto& st = self->state;
  auto& h = st.holders[mapping_id];
  if (h.second == 0)
    self->monitor(who);
  h.first = who;
  ++h.second;
  count_one(self);
}

std::chrono::milliseconds capped_ttl(user_ptr self, int64_t ttl_ms) {
  auto ttl = std::chrono::milliseconds(std::max<int64_t>(ttl_ms, 1000));
  return std::min(ttl, self->state.cfg.max_grant_ttl);
}

/// A new grant for a remote holder: its id.
std::string grant_remote(user_ptr self, const std::string& holder_node, const std::string& holder,
                         std::chrono::milliseconds ttl) {
  auto& st = self->state;
  auto id = st.cfg.incarnation + "-" + std::to_string(st.next_grant++);
  st.grants[id] = integration_user_state::grant{holder_node, holder, self->clock().now() + ttl};
  count_one(self);
  ++st.remote_grants;
  ++st.grants_by_node[holder_node];
  return id;
}

void schedule_sweep(user_ptr self);

void serve_waiters(user_ptr self) {
  auto& st = self->state;
  bool granted_remote = false;
  // A remote waiter between its retry answer and its next ask (a network
  // round trip) keeps its place: nobody behind it is served meanwhile. One that
  // does not come back within keep_place is forgotten by the sweep.
  while (!st.waiters.empty() && !st.waiters.front().keep_place_until && can_grant(self)) {
    auto w = std::move(st.waiters.front());
    st.waiters.pop_front();
    if (!w.remote) {
      grant(self, w.mapping_id, w.who);
      w.acquired.deliver(true, std::string{});
      continue;
    }
    auto id = grant_remote(self, w.holder_node, w.mapping_id, w.ttl);
    granted_remote = true;
    grant_reply r;
    r.granted = true;
    r.grant_id = id;
    r.expires_in_ms = static_cast<int64_t>(w.ttl.count());
    w.granted.deliver(std::move(r));
  }
  if (granted_remote)
    schedule_sweep(self);
  report_cursors(self);
}

void give_back(user_ptr self, const std::string& mapping_id, int count) {
  auto& st = self->state;
  auto i = st.holders.find(mapping_id);
  if (i == st.holders.end())
    return;
  auto n = std::min(count, i->second.second);
  i->second.second -= n;
  st.held -= n;
  if (i->second.second == 0) {
    self->demonitor(i->second.first);
    st.holders.erase(i);
  }
  serve_waiters(self);
}

/// Expired grants back to the pool, remote waits that ran out answered retry,
/// waiters served when recovery is over.
void sweep(user_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  for (auto i = st.grants.begin(); i != st.grants.end();) {
    if (i->second.expires > now) {
      ++i;
      continue;
    }
    log(spdlog::level::warn, log_event{"Cursor grant expired: its holder stopped renewing it", "integration_user",
                                       st.cfg.username, ""}
                               .with("holder_node", i->second.holder_node)
                               .with("holder", i->second.holder)
                               .with("grant", i->first));
    --st.held;
    i = st.grants.erase(i);
  }
  for (auto i = st.waiters.begin(); i != st.waiters.end();) {
    if (i->keep_place_until && *i->keep_place_until <= now) {
      log(spdlog::level::info, log_event{"A waiting holder did not ask again, its place in line is given up",
                                         "integration_user", st.cfg.username, ""}
                                 .with("holder_node", i->holder_node)
                                 .with("holder", i->mapping_id));
      i = st.waiters.erase(i);
      continue;
    }
    if (i->remote && i->deadline && *i->deadline <= now) {
      grant_reply r;
      r.reason = "still waiting for a query cursor (" + std::to_string(st.held) + " held)";
      r.retry = true;
      i->granted.deliver(std::move(r));
      i->granted = caf::typed_response_promise<grant_reply>{};
      i->deadline.reset();
      i->keep_place_until = now + st.cfg.keep_place;
    }
    ++i;
  }
  serve_waiters(self);
}

void schedule_sweep(user_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  std::optional<time_point> earliest;
  auto consider = [&](time_point t) {
    if (!earliest || t < *earliest)
      earliest = t;
  };
  for (const auto& [id, g] : st.grants)
    consider(g.expires);
  for (const auto& w : st.waiters) {
    if (w.deadline)
      consider(*w.deadline);
    if (w.keep_place_until)
      consider(*w.keep_place_until);
  }
  if (st.recovering_until > now)
    consider(st.recovering_until);
  if (!earliest || (st.next_sweep && *st.next_sweep <= *earliest))
    return;
  st.next_sweep = earliest;
  auto delay = *earliest > now ? *earliest - now : caf::actor_clock::duration_type{0};
  self->delayed_send(self, std::max<caf::actor_clock::duration_type>(delay, std::chrono::milliseconds(1)),
                     expire_atom::value);
}

std::vector<broker_state::holder_grants> holders_of(user_ptr self) {
  auto& st = self->state;
  std::vector<broker_state::holder_grants> out;
  for (const auto& [id, h] : st.holders)
    out.push_back({"", id, h.second});
  std::map<std::pair<std::string, std::string>, int> remote;
  for (const auto& [id, g] : st.grants)
    ++remote[{g.holder_node, g.holder}];
  for (const auto& [k, n] : remote)
    out.push_back({k.first, k.second, n});
  return out;
}

} // namespace

integration_user_impl::behavior_type integration_user(integration_user_impl::stateful_pointer<integration_user_state> self,
                                                      integration_user_config cfg) {
  self->state.cfg = std::move(cfg);
  auto& cf = self->state.cfg;
  if (cf.incarnation.empty())
    cf.incarnation = random_incarnation();
  self->state.recovering_until = self->clock().now() + cf.recover_for;
  if (cf.recover_for.count() > 0) {
    log(spdlog::level::info, log_event{"Broker taking over: granting nothing new until grants of the previous "
                                       "broker are renewed here or expired",
                                       "integration_user", cf.username, ""}
                               .with("recover_ms", std::to_string(cf.recover_for.count())));
    schedule_sweep(self);
  }
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    std::vector<std::pair<std::string, int>> gone;
    for (auto& [id, h] : st.holders)
      if (h.first == dm.source)
        gone.emplace_back(id, h.second);
    for (auto it = st.waiters.begin(); it != st.waiters.end();) {
      if (!it->remote && it->who == dm.source)
        it = st.waiters.erase(it);
      else
        ++it;
    }
    for (auto& [id, n] : gone)
      give_back(self, id, n);
    report_cursors(self);
  });
  return {
    [self](acquire_atom, const std::string& mapping_id) -> caf::result<bool, std::string> {
      auto& st = self->state;
      if (auto refused = budget_gate(self))
        return {false, *refused};
      auto who = self->current_sender();
      if (st.waiters.empty() && can_grant(self)) {
        grant(self, mapping_id, caf::actor_cast<caf::actor_addr>(who));
        return {true, std::string{}};
      }
      ++st.delayed;
      log(spdlog::level::info, log_event{"Operation delayed, no available query cursors", "mapping", mapping_id, ""}
                                 .with("user", st.cfg.username)
                                 .with("cursors_held", std::to_string(st.held)));
      auto rp = self->make_response_promise<bool, std::string>();
      // Not monitored while waiting: a waiter that died is granted, monitored
      // then, and its cursor comes back with the down message.
      integration_user_state::waiter w;
      w.mapping_id = mapping_id;
      w.who = caf::actor_cast<caf::actor_addr>(who);
      w.acquired = rp;
      st.waiters.push_back(std::move(w));
      metrics::cursor_wait(st.cfg.username);
      report_cursors(self);
      return rp;
    },
    [self](release_atom, const std::string& mapping_id) { give_back(self, mapping_id, 1); },
    [self](grant_atom, const std::string& holder_node, const std::string& holder, int64_t ttl_ms,
           int64_t max_wait_ms) -> caf::result<grant_reply> {
      auto& st = self->state;
      if (auto refused = budget_gate(self)) {
        grant_reply r;
        r.reason = *refused;
        return r;
      }
      auto ttl = capped_ttl(self, ttl_ms);
      auto deadline = self->clock().now() + std::chrono::milliseconds(std::max<int64_t>(max_wait_ms, 0));
      for (auto& w : st.waiters)
        if (w.keep_place_until && w.remote && w.holder_node == holder_node && w.mapping_id == holder) {
          // Back after a retry answer: its place in line again.
          auto rp = self->make_response_promise<grant_reply>();
          w.keep_place_until.reset();
          w.granted = rp;
          w.ttl = ttl;
          w.deadline = deadline;
          serve_waiters(self);
          schedule_sweep(self);
          return rp;
        }
      if (st.waiters.empty() && can_grant(self)) {
        auto id = grant_remote(self, holder_node, holder, ttl);
        schedule_sweep(self);
        grant_reply r;
        r.granted = true;
        r.grant_id = id;
        r.expires_in_ms = static_cast<int64_t>(ttl.count());
        return r;
      }
      ++st.delayed;
      // Holders are "<node>/<mapping id>": the log names the mapping as local holders do.
      auto mapping_id = holder.compare(0, holder_node.size() + 1, holder_node + "/") == 0
                          ? holder.substr(holder_node.size() + 1)
                          : holder;
      log(spdlog::level::info, log_event{"Operation delayed, no available query cursors", "mapping", mapping_id, ""}
                                 .with("user", st.cfg.username)
                                 .with("holder_node", holder_node)
                                 .with("cursors_held", std::to_string(st.held)));
      auto rp = self->make_response_promise<grant_reply>();
      integration_user_state::waiter w;
      w.mapping_id = holder;
      w.granted = rp;
      w.remote = true;
      w.holder_node = holder_node;
      w.ttl = ttl;
      w.deadline = deadline;
      st.waiters.push_back(std::move(w));
      metrics::cursor_wait(st.cfg.username);
      report_cursors(self);
      schedule_sweep(self);
      return rp;
    },
    [self](renew_atom, const std::string& holder_node, const std::vector<std::string>& ids,
           const std::vector<std::string>& holders, int64_t ttl_ms) {
      auto& st = self->state;
      auto ttl = capped_ttl(self, ttl_ms);
      auto expires = self->clock().now() + ttl;
      std::vector<std::string> valid;
      for (size_t i = 0; i < ids.size(); ++i) {
        const auto& id = ids[i];
        auto holder = i < holders.size() ? holders[i] : std::string{};
        auto g = st.grants.find(id);
        if (g != st.grants.end()) {
          if (g->second.holder_node != holder_node)
            continue; // not the asker's grant
          g->second.expires = expires;
          valid.push_back(id);
          continue;
        }
        bool own = id.compare(0, st.cfg.incarnation.size() + 1, st.cfg.incarnation + "-") == 0;
        // A grant of the previous broker is real: its holder uses the cursor,
        // so it counts, even past the limit. One of ours that expired is only
        // taken back while a cursor is free (it may be someone else's by now).
        if (own && st.cfg.cursor_limit != 0 && st.held >= st.cfg.cursor_limit)
          continue;
        st.grants[id] = integration_user_state::grant{holder_node, holder, expires};
        count_one(self);
        valid.push_back(id);
        log(spdlog::level::info, log_event{own ? "Cursor grant renewed after it had expired"
                                               : "Cursor grant of the previous broker taken over",
                                           "integration_user", st.cfg.username, ""}
                                   .with("holder_node", holder_node)
                                   .with("holder", holder)
                                   .with("grant", id));
      }
      schedule_sweep(self);
      return valid;
    },
    [self](release_atom, const std::string& holder_node, const std::string& grant_id) {
      auto& st = self->state;
      auto g = st.grants.find(grant_id);
      if (g == st.grants.end() || g->second.holder_node != holder_node)
        return;
      st.grants.erase(g);
      --st.held;
      serve_waiters(self);
    },
    [self](expire_atom) {
      auto& st = self->state;
      if (st.next_sweep && self->clock().now() >= *st.next_sweep)
        st.next_sweep.reset();
      sweep(self);
      schedule_sweep(self);
    },
    [self](usage_atom, int64_t used, int64_t max) {
      auto& st = self->state;
      bool was_spent = budget_spent(self);
      st.api_used = used;
      st.api_max = max;
      metrics::api_usage(st.cfg.username, used, max);
      if (!was_spent && budget_spent(self))
        log(spdlog::level::warn, log_event{"API budget exhausted, waiting", "integration_user", st.cfg.username, ""}
                                   .with("api_usage", std::to_string(used) + "/" + std::to_string(max)));
      if (was_spent && !budget_spent(self)) {
        st.last_probe.reset();
        log(spdlog::level::info, log_event{"API budget available again", "integration_user", st.cfg.username, ""}
                                   .with("api_usage", std::to_string(used) + "/" + std::to_string(max)));
      }
    },
    [self](budget_atom) {
      auto& st = self->state;
      bool spent = budget_spent(self);
      budget_reply r;
      r.available = !spent;
      r.used = static_cast<int64_t>(st.api_used);
      r.max = static_cast<int64_t>(st.api_max);
      if (spent)
        r.reason = budget_reason(self);
      return r;
    },
    [self](status_atom) {
      auto& st = self->state;
      broker_status s;
      s.held = static_cast<int32_t>(st.held);
      s.peak = static_cast<int32_t>(st.peak);
      s.delayed = static_cast<int32_t>(st.delayed);
      s.waiting = static_cast<int32_t>(st.waiters.size());
      return s;
    },
    [self](broker_state_atom) {
      auto& st = self->state;
      broker_state out;
      out.username = st.cfg.username;
      out.cursor_limit = st.cfg.cursor_limit;
      out.held = st.held;
      out.peak = st.peak;
      out.waiting = static_cast<int>(st.waiters.size());
      out.delayed = st.delayed;
      auto now = self->clock().now();
      if (st.recovering_until > now)
        out.recovering_for = std::chrono::milliseconds(millis(st.recovering_until - now));
      out.api_used = st.api_used;
      out.api_max = st.api_max;
      out.holders = holders_of(self);
      out.remote_grants = st.remote_grants;
      out.grants_by_node = st.grants_by_node;
      return out;
    },
  };
}

} // namespace syncforce::actors
