#pragma once

#include <chrono>
#include <cstdint>

namespace syncforce::actors {

/// Exponential backoff with optional jitter. Randomness is injected through a
/// seed so simulation tests replay exactly.
struct backoff_policy {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{5000};
  double factor = 2.0;
  /// 0 = none; 0.2 = up to +-20% of the delay.
  double jitter = 0.0;

  /// The delay before retry number `attempt` (1-based).
  std::chrono::milliseconds delay(int attempt, std::uint64_t seed = 0) const;
};

} // namespace syncforce::actors
