#pragma once

#include "sync/clock.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

namespace sfemu {

/// The org's clock: a time source's wall time plus an offset, or frozen at an
/// instant. Every timestamp the emulator writes or compares (SystemModstamp,
/// session and cursor expiry, JWT exp) reads now_ms(), so tests can move or
/// stop the org's time. Waits that must not stop with it (keepalives, long
/// polls, a server's shutdown deadline) read the underlying time source
/// (time()), which is the only place sfemu reads a clock: sfemu links the
/// engine's pure sync/ library already, so it shares sync/clock.hpp instead
/// of keeping a second way to read time.
class clock {
public:
  explicit clock(std::shared_ptr<const syncforce::time_source> base = syncforce::shared_real_time())
    : base_(base ? std::move(base) : syncforce::shared_real_time()) {}

  /// The time source under the org's clock: monotonic time and gRPC deadlines.
  const syncforce::time_source& time() const { return *base_; }
  std::shared_ptr<const syncforce::time_source> shared_time() const { return base_; }

  /// Milliseconds since the epoch.
  std::int64_t now_ms() const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (frozen_)
      return frozen_at_;
    return real_ms() + offset_ms_;
  }
  /// Sets "now" (keeps running unless frozen).
  void set(std::int64_t ms) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (frozen_)
      frozen_at_ = ms;
    else
      offset_ms_ = ms - real_ms();
  }
  void advance(std::int64_t ms) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (frozen_)
      frozen_at_ += ms;
    else
      offset_ms_ += ms;
  }
  void freeze() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!frozen_) {
      frozen_at_ = real_ms() + offset_ms_;
      frozen_ = true;
    }
  }
  void unfreeze() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (frozen_) {
      offset_ms_ = frozen_at_ - real_ms();
      frozen_ = false;
    }
  }
  bool frozen() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return frozen_;
  }
  void reset() {
    std::lock_guard<std::mutex> lock(mutex_);
    frozen_ = false;
    offset_ms_ = 0;
  }

private:
  std::int64_t real_ms() const { return base_->unix_ms(); }
  std::shared_ptr<const syncforce::time_source> base_;
  mutable std::mutex mutex_;
  bool frozen_ = false;
  std::int64_t frozen_at_ = 0;
  std::int64_t offset_ms_ = 0;
};

} // namespace sfemu
