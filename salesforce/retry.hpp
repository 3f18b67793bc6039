#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

namespace syncforce::salesforce {

// ---- injected randomness -----------------------------------------------------
// Time (wall clock for JWT `exp`, monotonic clock for job-poll deadlines, the
// sleep of a backoff) comes from the node's one time source, sync/clock.hpp.

/// Where the jitter of retry delays comes from, injected so tests choose it.
class jitter_source {
public:
  virtual ~jitter_source() = default;
  /// A uniform random number in [0, 1). Called from the client's thread only.
  virtual double next() = 0;
};

/// A PRNG seeded from the device (each client its own, so none is shared across threads).
std::shared_ptr<jitter_source> device_jitter();

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
