#pragma once
// The writer's lifecycle as data (docs/architecture.md, "Lifecycles"): what a
// connection's writer does on each event, as a pure function of its state.
// actors/writer_actor.cpp only carries the actions out (runs the cycle on the
// worker pool, arms timers, quits), so every transition is tested as a table
// (tests/unit/sync_engine/writer_lifecycle_test.cpp) without CAF.

#include "sync/job_outcome.hpp" // wait_kind

#include <chrono>
#include <optional>
#include <string>

namespace syncforce {

/// What the writer knows between events.
struct writer_status {
  bool busy = false;     ///< a write cycle runs on the pool
  bool dirty = false;    ///< woken while busy: run again once it is done
  bool stopping = false; ///< asked to stop: quit once the running cycle is done
  /// The next cycle first returns PENDING entries to NEW (the first cycle, and after a failed one).
  bool first = true;
  int failures = 0; ///< failed cycles in a row (a backoff wait runs while > 0)
  std::optional<std::chrono::steady_clock::time_point> last_purge;
};

/// How a write cycle ended (from its job outcome).
enum class cycle_end {
  done,     ///< the claim was not full: the log is drained for now
  more,     ///< the claim came back full: more is waiting
  retry,    ///< transient trouble (Salesforce, the database): wait with backoff
  budget,   ///< the API budget is spent: wait the budget wait
  fenced,   ///< the lease is no longer this node's: stop for good
};

/// What the writer is told.
enum class writer_event {
  wake,       ///< the trigger log's NOTIFY (or start)
  tick,       ///< the fallback poll's timer
  retry_due,  ///< a backoff or budget wait is over
  stop,       ///< the engine stops it
};

/// What to do, in this order: run a cycle, wait, wake again at once, quit.
struct writer_actions {
  struct run_cycle {
    bool recover_pending = false;
    bool purge_archive = false;
  };
  struct wait {
    wait_kind kind = wait_kind::backoff;
    int attempt = 0; ///< for the backoff's delay (1-based)
  };
  enum class quit_reason { shutdown, lease_lost };

  std::optional<run_cycle> run;
  std::optional<wait> wait_then_retry;
  bool wake_again = false;
  std::optional<quit_reason> quit;

  bool none() const { return !run && !wait_then_retry && !wake_again && !quit; }
};

/// An event: wake, tick and retry_due run a cycle unless one runs (then the
/// next one follows it) or, for wake and tick, a backoff wait is on (a
/// notification does not cut it short); stop quits now when idle, else after
/// the running cycle.
writer_actions on_event(writer_status& s, writer_event e, std::chrono::steady_clock::time_point now,
                        std::chrono::milliseconds purge_every);

/// The running cycle ended.
writer_actions on_cycle_end(writer_status& s, cycle_end end);

} // namespace syncforce
