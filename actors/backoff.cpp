#include "actors/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace syncforce::actors {

std::chrono::milliseconds backoff_policy::delay(int attempt, std::uint64_t seed) const {
  if (attempt < 1)
    attempt = 1;
  double ms = static_cast<double>(initial.count()) * std::pow(factor, attempt - 1);
  ms = std::min(ms, static_cast<double>(max.count()));
  if (jitter > 0.0) {
    // splitmix64 of (seed, attempt): a reproducible value in [-1, 1)
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(attempt);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    double unit = static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53) * 2.0 - 1.0;
    ms *= 1.0 + jitter * unit;
  }
  return std::chrono::milliseconds(static_cast<long long>(std::max(ms, 1.0)));
}

} // namespace syncforce::actors
