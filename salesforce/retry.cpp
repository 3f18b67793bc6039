#include "salesforce/retry.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace syncforce::salesforce {

namespace {

class device_seeded_jitter : public jitter_source {
public:
  double next() override { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }

private:
  std::mt19937_64 engine_{std::random_device{}()};
};

} // namespace

std::shared_ptr<jitter_source> device_jitter() { return std::make_shared<device_seeded_jitter>(); }

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
