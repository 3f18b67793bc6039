#include "salesforce/retry.hpp"

#include "sync/clock.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

namespace syncforce::salesforce {

runtime_hooks runtime_hooks::real() {
  runtime_hooks h;
  h.wall_now = [] { return real_time().system_now(); };
  h.steady_now = [] { return real_time().steady_now(); };
  h.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  struct rng_state {
    std::mutex mutex;
    std::mt19937_64 engine{std::random_device{}()};
  };
  auto state = std::make_shared<rng_state>();
  h.random = [state] {
    std::lock_guard<std::mutex> guard(state->mutex);
    return std::uniform_real_distribution<double>(0.0, 1.0)(state->engine);
  };
  return h;
}

std::chrono::milliseconds retry_policy::backoff(int retry, double u) const {
  double d = static_cast<double>(base_delay.count()) * std::pow(2.0, std::max(0, std::min(retry, 30)));
  d = std::min(d, static_cast<double>(max_delay.count()));
  u = std::clamp(u, 0.0, 1.0);
  d -= std::clamp(jitter, 0.0, 1.0) * d * u;
  return std::chrono::milliseconds(static_cast<long long>(d));
}

bool retry_budget::try_spend() {
  if (tokens_ - 1.0 < max_tokens_ / 2.0)
    return false;
  tokens_ -= 1.0;
  return true;
}

void retry_budget::on_success() { tokens_ = std::min(max_tokens_, tokens_ + ratio_); }

} // namespace syncforce::salesforce
