#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

namespace syncforce {

/// The time the node reads, in one place: wall-clock time (timestamps, the
/// UTC day of API-call counters, gRPC deadlines), monotonic time (durations,
/// waits) and the blocking sleep of a thread that must wait (a retry's
/// backoff). Production uses real_time(); tests inject a manual_time and move
/// it by hand. Nothing outside sync/clock.cpp reads a clock itself, in any
/// module (the top CMakeLists.txt checks every source file of the product).
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
  /// The wall-clock instant `d` from now: what a gRPC deadline is
  /// (ClientContext::set_deadline, Server::Shutdown take system_clock time).
  std::chrono::system_clock::time_point deadline_in(std::chrono::milliseconds d) const;

  /// Blocks the calling thread for `d` (real time), or moves a manual clock
  /// by `d` and returns at once. Only for a thread that has nothing to do but
  /// wait (a retry's backoff, a job's poll interval): an actor never sleeps.
  virtual void sleep_for(std::chrono::milliseconds d) const = 0;
};

/// The real clocks.
const time_source& real_time();
std::shared_ptr<const time_source> shared_real_time();

/// A clock that only moves when told to (thread-safe). Starts at `start`
/// (wall) and at an arbitrary monotonic origin. sleep_for(d) is advance(d):
/// a retry's backoff in a test costs no real time, and the time the code
/// under test waited is read back from the clock.
class manual_time : public time_source {
public:
  explicit manual_time(std::chrono::system_clock::time_point start = std::chrono::system_clock::time_point{});
  std::chrono::system_clock::time_point system_now() const override;
  std::chrono::steady_clock::time_point steady_now() const override;
  void sleep_for(std::chrono::milliseconds d) const override;
  /// Moves both clocks forward by `d`.
  void advance(std::chrono::milliseconds d);
  /// Sets the wall clock (it may jump either way, as NTP can); the monotonic one does not move.
  void set_system(std::chrono::system_clock::time_point t);

private:
  // Mutable: sleeping on a const time source moves a manual clock (time is
  // shared state outside the code that reads it, as the real clock is).
  mutable std::mutex mutex_;
  mutable std::chrono::system_clock::time_point system_;
  mutable std::chrono::steady_clock::time_point steady_;
};

} // namespace syncforce
