#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace syncforce::salesforce {

// ---- injected time and randomness ------------------------------------------

/// The clock, sleep and random source the client uses, injected so unit tests
/// run deterministically with no real waiting.
struct runtime_hooks {
  /// Wall-clock time (JWT `exp`).
  std::function<std::chrono::system_clock::time_point()> wall_now;
  /// Monotonic time (deadlines of job polling).
  std::function<std::chrono::steady_clock::time_point()> steady_now;
  /// Blocks the calling thread (backoff, job polling).
  std::function<void(std::chrono::milliseconds)> sleep;
  /// A uniform random number in [0, 1) (jitter).
  std::function<double()> random;

  /// The real clock, std::this_thread::sleep_for and a seeded-from-device PRNG.
  static runtime_hooks real();
};

// ---- retry policy ------------------------------------------------------------

/// How often and how patiently idempotent calls are retried on 5xx, 429,
/// timeouts and dropped connections.
struct retry_policy {
  int max_attempts = 5;                                ///< per call, first try included
  std::chrono::milliseconds base_delay{500};           ///< delay before retry n is base * 2^n ...
  std::chrono::milliseconds max_delay{30000};          ///< ... capped here ...
  double jitter = 0.5;                                 ///< ... minus up to this fraction of it, at random
  /// Client-wide retry budget (gRPC-style token bucket): each retry costs one
  /// token, each success gives back `token_ratio`; retries stop while fewer than
  /// half of `max_tokens` remain, so a dead server is not hammered by every call.
  double max_tokens = 20.0;
  double token_ratio = 0.2;

  /// The delay before retry number `retry` (0 for the first retry), given a
  /// random number `u` in [0, 1): d = min(max, base * 2^retry); d - jitter*d*u.
  std::chrono::milliseconds backoff(int retry, double u) const;
};

/// The client-wide retry budget of a retry_policy.
class retry_budget {
public:
  explicit retry_budget(const retry_policy& policy)
    : max_tokens_(policy.max_tokens), ratio_(policy.token_ratio), tokens_(policy.max_tokens) {}

  /// Whether another retry may be spent now; takes its token if so.
  bool try_spend();
  /// A call succeeded: some budget comes back.
  void on_success();

  double tokens() const { return tokens_; }

private:
  double max_tokens_;
  double ratio_;
  double tokens_;
};

} // namespace syncforce::salesforce
