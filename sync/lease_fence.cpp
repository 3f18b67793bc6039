#include "sync/lease_fence.hpp"

namespace syncforce {

std::uint64_t lease_validity::generation() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return generation_;
}

bool lease_validity::renew(clock::time_point sent, std::chrono::milliseconds ttl, std::chrono::milliseconds margin,
                           clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  bool lapsed = deadline_ != clock::time_point{} && now >= deadline_;
  if (lapsed)
    ++generation_;
  deadline_ = sent + ttl - margin;
  return lapsed;
}

void lease_validity::lapse() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++generation_;
  deadline_ = clock::time_point{};
}

bool lease_validity::valid(std::uint64_t generation, clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return generation == generation_ && deadline_ != clock::time_point{} && now < deadline_;
}

lease_validity::clock::time_point lease_validity::deadline() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return deadline_;
}

void lease_fence::require_valid(const char* what) const {
  if (!valid_now())
    throw fenced_out(std::string{what} + ": the lease on " + unit() + " (epoch " + std::to_string(epoch) +
                     ") is no longer this node's");
}

} // namespace syncforce
