#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace syncforce {

/// How many restarts a supervisor allows a child within a sliding window.
/// A lifetime total would make a node give up after enough far-apart,
/// harmless failures (a database restart a day); a window only stops a child
/// that is crash-looping now.
struct restart_window {
  int max_restarts = 8;
  std::chrono::milliseconds window{std::chrono::minutes(10)};
};

/// What a supervisor does with a crash.
struct restart_decision {
  /// True when the child crashed more than `max_restarts` times within the window.
  bool give_up = false;
  /// Crashes within the window, this one included (1-based): the backoff attempt.
  int attempt = 0;
};

/// The crashes of one supervised child. Pure: the caller passes the time (an
/// actor's clock, a fake clock in simulations) and its supervisor's policy.
class restart_budget {
public:
  using time_point = std::chrono::steady_clock::time_point;

  /// Records a crash at `now` and says whether to restart (and which attempt it is).
  restart_decision record(time_point now, const restart_window& policy);

  /// Crashes within `policy.window` before `now`.
  int recent(time_point now, const restart_window& policy);

  /// Forgets every crash (the child proved healthy, or an operator recovered it).
  void clear() { crashes_.clear(); }

private:
  void expire(time_point now, std::chrono::milliseconds window);

  /// Oldest first; a handful at most (max_restarts + 1 within a window). A vector, not a
  /// deque: every supervised child has one, and an empty deque already holds ~600 bytes.
  std::vector<time_point> crashes_;
};

/// "more than N times within M minutes": how a give-up is told.
std::string describe(const restart_window& policy);

} // namespace syncforce
