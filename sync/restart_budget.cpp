#include "sync/restart_budget.hpp"

namespace syncforce {

void restart_budget::expire(time_point now, std::chrono::milliseconds window) {
  auto kept = crashes_.begin();
  while (kept != crashes_.end() && now - *kept >= window)
    ++kept;
  crashes_.erase(crashes_.begin(), kept);
}

restart_decision restart_budget::record(time_point now, const restart_window& policy) {
  expire(now, policy.window);
  crashes_.push_back(now);
  restart_decision d;
  d.attempt = static_cast<int>(crashes_.size());
  d.give_up = d.attempt > policy.max_restarts;
  return d;
}

int restart_budget::recent(time_point now, const restart_window& policy) {
  expire(now, policy.window);
  return static_cast<int>(crashes_.size());
}

std::string describe(const restart_window& policy) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(policy.window).count();
  auto span = secs % 60 == 0 ? std::to_string(secs / 60) + " minutes" : std::to_string(secs) + " seconds";
  return "more than " + std::to_string(policy.max_restarts) + " times within " + span;
}

} // namespace syncforce
