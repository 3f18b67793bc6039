#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

namespace syncforce {

/// The time the node reads, in one place: wall-clock time (timestamps, the
/// UTC day of API-call counters, gRPC deadlines) and monotonic time
/// (durations, waits). Production uses real_time(); tests inject a
/// manual_time and move it by hand. Nothing outside sync/clock.cpp calls
/// std::chrono::system_clock::now() or steady_clock::now() in actors/,
/// engine_io/, services/ or store/ (the top CMakeLists.txt checks it).
class time_source {
public:
  virtual ~time_source() = default;
  virtual std::chrono::system_clock::time_point system_now() const = 0;
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;

  /// Days since 1970-01-01 UTC.
  long utc_day() const;
  /// Milliseconds since the epoch.
  std::int64_t unix_ms() const;
  /// Seconds of monotonic time since `t`.
  double seconds_since(std::chrono::steady_clock::time_point t) const;
};

/// The real clocks.
const time_source& real_time();
std::shared_ptr<const time_source> shared_real_time();

/// A clock that only moves when told to (thread-safe). Starts at `start`
/// (wall) and at an arbitrary monotonic origin.
class manual_time : public time_source {
public:
  explicit manual_time(std::chrono::system_clock::time_point start = std::chrono::system_clock::time_point{});
  std::chrono::system_clock::time_point system_now() const override;
  std::chrono::steady_clock::time_point steady_now() const override;
  /// Moves both clocks forward by `d`.
  void advance(std::chrono::milliseconds d);
  /// Sets the wall clock (it may jump either way, as NTP can); the monotonic one does not move.
  void set_system(std::chrono::system_clock::time_point t);

private:
  mutable std::mutex mutex_;
  std::chrono::system_clock::time_point system_;
  std::chrono::steady_clock::time_point steady_;
};

} // namespace syncforce
