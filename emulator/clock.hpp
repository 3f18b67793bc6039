#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace sfemu {

/// The org's clock: real time plus an offset, or frozen at an instant. Every
/// timestamp the emulator writes or compares (SystemModstamp, session and cursor
/// expiry, JWT exp) reads this, so tests can move or stop time.
class clock {
public:
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
  static std::int64_t real_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  mutable std::mutex mutex_;
  bool frozen_ = false;
  std::int64_t frozen_at_ = 0;
  std::int64_t offset_ms_ = 0;
};

} // namespace sfemu
