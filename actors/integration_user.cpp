#include "actors/integration_user.hpp"

#include "actors/atoms.hpp"
#include "actors/log.hpp"
#include "metrics/metrics.hpp"

#include <cstdlib>

namespace syncforce::actors {

int cursor_limit_for(const std::string& api_version) {
  auto major = std::atoi(api_version.c_str());
  return major > 0 && major < 56 ? 10 : 0;
}

namespace {

using user_ptr = caf::stateful_actor<integration_user_state>*;

void report_cursors(user_ptr self) {
  const auto& st = self->state;
  metrics::cursors(st.cfg.username, st.held, static_cast<int>(st.waiters.size()));
}

bool budget_spent(user_ptr self) {
  auto& st = self->state;
  return st.api_max > 0 && st.api_max - st.api_used <= st.cfg.api_reserve;
}

void grant(user_ptr self, const std::string& mapping_id, const caf::actor_addr& who) {
  auto& st = self->state;
  auto& h = st.holders[mapping_id];
  if (h.second == 0)
    self->monitor(who);
  h.first = who;
  ++h.second;
  ++st.held;
  st.peak = std::max(st.peak, st.held);
  report_cursors(self);
}

void serve_waiters(user_ptr self) {
  auto& st = self->state;
  while (!st.waiters.empty() && (st.cfg.cursor_limit == 0 || st.held < st.cfg.cursor_limit)) {
    auto w = std::move(st.waiters.front());
    st.waiters.pop_front();
    grant(self, w.mapping_id, w.who);
    w.promise.deliver(true, std::string{});
  }
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

} // namespace

caf::behavior integration_user(caf::stateful_actor<integration_user_state>* self, integration_user_config cfg) {
  self->state.cfg = std::move(cfg);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    std::vector<std::pair<std::string, int>> gone;
    for (auto& [id, h] : st.holders)
      if (h.first == dm.source)
        gone.emplace_back(id, h.second);
    for (auto it = st.waiters.begin(); it != st.waiters.end();) {
      if (it->who == dm.source)
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
      if (budget_spent(self)) {
        auto now = self->clock().now();
        if (st.last_probe && now - *st.last_probe < st.cfg.probe_interval)
          return {false, "API budget exhausted (" + std::to_string(st.api_used) + "/" + std::to_string(st.api_max) +
                           " daily calls used)"};
        // Let this one through: its answer tells whether the budget came back.
        st.last_probe = now;
        log(spdlog::level::info, log_event{"API budget exhausted, letting one request through to check",
                                           "integration_user", st.cfg.username, ""}
                                   .with("api_usage", std::to_string(st.api_used) + "/" + std::to_string(st.api_max)));
      }
      auto who = self->current_sender();
      if (st.cfg.cursor_limit == 0 || st.held < st.cfg.cursor_limit) {
        grant(self, mapping_id, caf::actor_cast<caf::actor_addr>(who));
        return {true, std::string{}};
      }
      ++st.delayed;
      log(spdlog::level::info, log_event{"Operation delayed, no available query cursors", "mapping", mapping_id, ""}
                                 .with("user", st.cfg.username)
                                 .with("cursors_held", std::to_string(st.held)));
      auto rp = self->make_response_promise();
      // Not monitored while waiting: a waiter that died is granted, monitored
      // then, and its cursor comes back with the down message.
      st.waiters.push_back({mapping_id, caf::actor_cast<caf::actor_addr>(who), rp});
      metrics::cursor_wait(st.cfg.username);
      report_cursors(self);
      return rp;
    },
    [self](release_atom, const std::string& mapping_id) { give_back(self, mapping_id, 1); },
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
    [self](status_atom) {
      auto& st = self->state;
      return caf::make_message(static_cast<int32_t>(st.held), static_cast<int32_t>(st.peak),
                               static_cast<int32_t>(st.delayed), static_cast<int32_t>(st.waiters.size()));
    },
  };
}

} // namespace syncforce::actors
