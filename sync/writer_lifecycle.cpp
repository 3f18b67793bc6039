#include "sync/writer_lifecycle.hpp"

namespace syncforce {

namespace {

writer_actions start_cycle(writer_status& s, std::chrono::steady_clock::time_point now,
                           std::chrono::milliseconds purge_every) {
  writer_actions a;
  if (s.stopping)
    return a;
  if (s.busy) {
    s.dirty = true;
    return a;
  }
  s.busy = true;
  s.dirty = false;
  writer_actions::run_cycle run;
  run.recover_pending = s.first;
  run.purge_archive = !s.last_purge || now - *s.last_purge >= purge_every;
  if (run.purge_archive)
    s.last_purge = now;
  a.run = run;
  return a;
}

} // namespace

writer_actions on_event(writer_status& s, writer_event e, std::chrono::steady_clock::time_point now,
                        std::chrono::milliseconds purge_every) {
  switch (e) {
    case writer_event::wake:
    case writer_event::tick:
      // During a backoff wait, notifications and the fallback poll do not cut the wait short.
      if (s.failures > 0)
        return {};
      return start_cycle(s, now, purge_every);
    case writer_event::retry_due:
      return start_cycle(s, now, purge_every);
    case writer_event::stop: {
      writer_actions a;
      s.stopping = true;
      if (!s.busy)
        a.quit = writer_actions::quit_reason::shutdown;
      return a;
    }
  }
  return {};
}

writer_actions on_cycle_end(writer_status& s, cycle_end end) {
  writer_actions a;
  s.busy = false;
  if (s.stopping) {
    a.quit = writer_actions::quit_reason::shutdown;
    return a;
  }
  switch (end) {
    case cycle_end::done:
    case cycle_end::more:
      s.first = false;
      s.failures = 0;
      a.wake_again = end == cycle_end::more || s.dirty;
      return a;
    case cycle_end::budget:
    case cycle_end::retry:
      // A cycle that failed after its claim may not have been able to give its
      // entries back (the database connection broke): the next cycle returns
      // every PENDING entry to NEW first. Nothing else claims this connection's
      // log meanwhile (one cycle at a time, one writer per lease); creates that
      // may have reached Salesforce are in doubt and settled before anything is
      // sent again.
      s.first = true;
      ++s.failures;
      a.wait_then_retry = writer_actions::wait{end == cycle_end::budget ? wait_kind::budget : wait_kind::backoff,
                                               s.failures};
      return a;
    case cycle_end::fenced:
      a.quit = writer_actions::quit_reason::lease_lost;
      return a;
  }
  return a;
}

} // namespace syncforce
