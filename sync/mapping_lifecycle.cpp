// GCC 12 at -O3 (bench/run's Release build) reports -Wmaybe-uninitialized inside
// std::variant's move when an action is pushed into the list: a known false
// positive of its flow analysis, not a read of uninitialized memory (every member
// of the actions has an initializer). Set before the includes: the warning is
// located in <variant>.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "sync/mapping_lifecycle.hpp"

namespace syncforce {

namespace {

using action = mapping_action;

bool is_cursor_step(mapping_step s) {
  return s == mapping_step::cursor_reload || s == mapping_step::cursor_backfill || s == mapping_step::cursor_poll ||
         s == mapping_step::cursor_sweep || s == mapping_step::cursor_formula;
}

/// The steps that wait for a job's answer (a job_done).
bool is_job_step(mapping_step s) {
  return s != mapping_step::idle && !is_cursor_step(s);
}

bool is_repair(mapping_step s) {
  return s == mapping_step::cursor_sweep || s == mapping_step::sweep || s == mapping_step::cursor_formula ||
         s == mapping_step::formula_repair;
}

/// The job a step runs, as named in a crash's reason.
std::string_view job_name(mapping_step s) {
  switch (s) {
    case mapping_step::load:
      return "load_mapping";
    case mapping_step::prepare_synced:
    case mapping_step::prepare_reload:
      return "prepare_mapping";
    case mapping_step::save_synced:
    case mapping_step::save_initial:
    case mapping_step::save_reload_table:
    case mapping_step::save_resync:
    case mapping_step::save_backfilled:
      return "save_state";
    case mapping_step::reload:
      return "reload";
    case mapping_step::backfill:
      return "backfill";
    case mapping_step::poll:
      return "poll";
    case mapping_step::sweep:
      return "sweep";
    case mapping_step::formula_repair:
      return "formula_repair";
    default:
      return to_string(s);
  }
}

/// One transition: the status it changes and the actions it collects.
class transition {
public:
  transition(mapping_status& s, const mapping_timing& t, long day) : s_(s), t_(t), day_(day) {}

  mapping_actions take() { return std::move(out_); }

  // ---- events -----------------------------------------------------------------

  void start() {
    if (s_.step != mapping_step::idle || s_.waiting)
      return; // started already
    run(mapping_step::load, mapping_job_kind::load_mapping);
  }

  void stop(bool cancel) {
    s_.stopping = true;
    if (cancel)
      out_.push_back(action::cancel_jobs{});
    finish_stop();
  }

  void retry_due() {
    if (s_.stopping || !s_.waiting)
      return;
    s_.waiting = false;
    switch (s_.step) {
      case mapping_step::idle:
        return;
      case mapping_step::load:
      case mapping_step::prepare_synced:
        run(mapping_step::load, mapping_job_kind::load_mapping);
        return;
      case mapping_step::save_synced:
        enter(mapping_step::save_synced, mapping_state::data_synced, "");
        return;
      case mapping_step::save_initial:
      case mapping_step::prepare_reload:
      case mapping_step::cursor_reload:
      case mapping_step::reload:
        begin_reload();
        return;
      case mapping_step::save_reload_table:
        enter(mapping_step::save_reload_table, mapping_state::reload_table, "");
        return;
      case mapping_step::save_resync:
      case mapping_step::cursor_backfill:
      case mapping_step::backfill:
        begin_backfill();
        return;
      case mapping_step::save_backfilled:
        enter(mapping_step::save_backfilled, mapping_state::data_synced, "");
        return;
      case mapping_step::cursor_poll:
      case mapping_step::poll:
        s_.step = mapping_step::idle;
        s_.state = mapping_state::data_synced;
        poll_now();
        return;
      case mapping_step::cursor_sweep:
      case mapping_step::sweep:
        ask_cursor(mapping_step::cursor_sweep);
        return;
      case mapping_step::cursor_formula:
      case mapping_step::formula_repair:
        ask_cursor(mapping_step::cursor_formula);
        return;
    }
  }

  /// A sweep or repair is due: now if the mapping is synced and idle, else once it is.
  void repair_due(bool sweep) {
    if (s_.stopping)
      return;
    if (s_.step != mapping_step::idle || s_.waiting || s_.state != mapping_state::data_synced) {
      (sweep ? s_.sweep_waiting : s_.formula_waiting) = true;
      return;
    }
    ask_cursor(sweep ? mapping_step::cursor_sweep : mapping_step::cursor_formula);
  }

  void cursor_answer(bool granted, const std::string& reason) {
    answered();
    if (granted)
      s_.holds_cursor = true;
    if (s_.stopping) {
      finish_stop();
      return;
    }
    if (!is_cursor_step(s_.step) || s_.waiting) {
      release(); // nothing asked for it (cannot happen): give it back
      return;
    }
    if (!granted) {
      wait(wait_kind::budget, reason);
      return;
    }
    switch (s_.step) {
      case mapping_step::cursor_reload:
        run(mapping_step::reload, mapping_job_kind::reload);
        return;
      case mapping_step::cursor_backfill:
        run(mapping_step::backfill, mapping_job_kind::backfill);
        return;
      case mapping_step::cursor_poll:
        run(mapping_step::poll, mapping_job_kind::poll);
        return;
      case mapping_step::cursor_sweep:
        run(mapping_step::sweep, mapping_job_kind::sweep);
        return;
      case mapping_step::cursor_formula:
        run(mapping_step::formula_repair, mapping_job_kind::formula_repair);
        return;
      default:
        return;
    }
  }

  void job_done(const job_outcome& o) {
    answered();
    if (s_.stopping) {
      finish_stop();
      return;
    }
    if (!is_job_step(s_.step) || s_.waiting)
      return; // no job runs now (cannot happen): a stray answer changes nothing
    switch (o.kind) {
      case outcome_kind::ok:
        ok(o);
        return;
      case outcome_kind::retry:
      case outcome_kind::cancelled:
        release();
        wait(wait_kind::backoff, o.error);
        return;
      case outcome_kind::budget:
        release();
        wait(wait_kind::budget, o.error);
        return;
      case outcome_kind::bad_config:
        // Parked: nothing runs until an edit or a recover restarts the actor.
        release();
        s_.state = mapping_state::bad_config;
        s_.description = o.error;
        s_.step = mapping_step::idle;
        out_.push_back(action::log_line{mapping_line::bad_config, mapping_state::bad_config, o.error});
        save_in_background(mapping_state::bad_config, o.error);
        return;
      case outcome_kind::fatal:
        out_.push_back(action::quit{action::quit_reason::job_failed, std::string{job_name(s_.step)} + ": " + o.error});
        return;
      case outcome_kind::fenced:
        release();
        out_.push_back(action::quit{action::quit_reason::lease_lost, o.error});
        return;
    }
  }

  void saved() {
    answered();
    finish_stop();
  }

  void request_failed() { out_.push_back(action::quit{action::quit_reason::request_failed, {}}); }

  void poll_due() {
    if (s_.stopping)
      return;
    poll_now();
  }

private:
  /// The running step's job ended well.
  void ok(const job_outcome& o) {
    switch (s_.step) {
      case mapping_step::load: {
        auto stored = o.stored_state;
        s_.stored_known = true;
        if (stored == mapping_state::aborted) {
          // An aborted first load: nothing to poll from; a reload starts it again.
          s_.state = mapping_state::aborted;
          s_.step = mapping_step::idle;
          out_.push_back(action::log_line{mapping_line::aborted, mapping_state::aborted, {}});
          return;
        }
        bool synced = stored == mapping_state::data_synced || stored == mapping_state::polling_sf_changes ||
                      stored == mapping_state::polling_sf_bulk || stored == mapping_state::system_error;
        if (o.hwm.empty() || !synced) {
          s_.hwm.reset();
          begin_reload();
          return;
        }
        // Synced before: bring the table to the mapping (an edit may have added
        // or re-typed columns: those are read again), then catch up at once.
        s_.hwm = o.hwm;
        s_.state = mapping_state::data_synced; // a wait meanwhile keeps the stored state synced
        run(mapping_step::prepare_synced, mapping_job_kind::prepare_mapping);
        return;
      }
      case mapping_step::prepare_synced:
        if (!o.columns.empty()) {
          s_.backfill_columns = o.columns;
          begin_backfill();
          return;
        }
        enter(mapping_step::save_synced, mapping_state::data_synced, "");
        return;
      case mapping_step::save_synced:
        s_.step = mapping_step::idle;
        poll_now();
        return;
      case mapping_step::save_initial:
        run(mapping_step::prepare_reload, mapping_job_kind::prepare_mapping);
        return;
      case mapping_step::prepare_reload:
        enter(mapping_step::save_reload_table, mapping_state::reload_table, "");
        return;
      case mapping_step::save_reload_table:
        out_.push_back(action::log_line{mapping_line::reload_table, s_.state, {}});
        ask_cursor(mapping_step::cursor_reload);
        return;
      case mapping_step::reload:
        release();
        count_calls(o.api_calls);
        out_.push_back(action::log_line{mapping_line::reload_complete, s_.state, {}});
        s_.state = mapping_state::data_synced;
        s_.step = mapping_step::idle;
        if (!o.hwm.empty())
          s_.hwm = o.hwm;
        succeeded();
        arm(action::timer::poll, t_.poll_interval);
        return;
      case mapping_step::save_resync:
        ask_cursor(mapping_step::cursor_backfill);
        return;
      case mapping_step::backfill:
        release();
        count_calls(o.api_calls);
        enter(mapping_step::save_backfilled, mapping_state::data_synced, "");
        return;
      case mapping_step::save_backfilled:
        s_.step = mapping_step::idle;
        s_.backfill_columns.clear();
        succeeded();
        poll_now();
        return;
      case mapping_step::poll:
        release();
        count_calls(o.api_calls);
        s_.state = mapping_state::data_synced;
        s_.step = mapping_step::idle;
        if (!o.hwm.empty())
          s_.hwm = o.hwm;
        succeeded();
        arm(action::timer::poll, t_.poll_interval);
        read_side_free();
        return;
      case mapping_step::sweep:
      case mapping_step::formula_repair: {
        bool sweep = s_.step == mapping_step::sweep;
        release();
        count_calls(o.api_calls);
        s_.step = mapping_step::idle;
        succeeded();
        arm_repair(sweep);
        read_side_free();
        return;
      }
      case mapping_step::idle:
      case mapping_step::cursor_reload:
      case mapping_step::cursor_backfill:
      case mapping_step::cursor_poll:
      case mapping_step::cursor_sweep:
      case mapping_step::cursor_formula:
        return; // no job runs in these steps (job_done ignores them)
    }
  }

  // ---- steps --------------------------------------------------------------------

  void run(mapping_step step, mapping_job_kind job) {
    s_.step = step;
    s_.waiting = false;
    if (s_.stopping) {
      finish_stop();
      return;
    }
    ++s_.in_flight;
    out_.push_back(action::run_job{job});
  }

  /// Persists `state` as the step; the next one follows its answer.
  void enter(mapping_step step, mapping_state state, std::string description) {
    s_.state = state;
    s_.description = description;
    s_.step = step;
    s_.waiting = false;
    if (s_.stopping) {
      finish_stop();
      return;
    }
    ++s_.in_flight;
    out_.push_back(action::save_state{state, std::move(description), false});
  }

  /// Takes a query cursor from the integration user (unless the mapping's own daily cap is reached).
  void ask_cursor(mapping_step step) {
    s_.step = step;
    s_.waiting = false;
    if (s_.stopping) {
      finish_stop();
      return;
    }
    if (auto reason = over_daily_cap()) {
      wait(wait_kind::budget, *reason);
      return;
    }
    ++s_.in_flight;
    out_.push_back(action::acquire_cursor{});
  }

  void begin_reload() { enter(mapping_step::save_initial, mapping_state::initial, ""); }

  /// Reads the added or re-typed columns again from Salesforce (RESYNC), then polls.
  void begin_backfill() {
    std::string names;
    for (const auto& c : s_.backfill_columns)
      names += (names.empty() ? "" : ", ") + c;
    enter(mapping_step::save_resync, mapping_state::resync, "loading new columns: " + names);
  }

  void poll_now() {
    if (s_.step != mapping_step::idle || s_.waiting) {
      // A sweep or repair runs: the poll follows it. Any other step ends in a
      // poll (or arms its timer) by itself.
      if (is_repair(s_.step))
        s_.poll_waiting = true;
      return;
    }
    if (s_.state != mapping_state::data_synced)
      return; // ABORTED, BAD_CONFIG: nothing to poll
    if (!s_.hwm) {
      begin_reload();
      return;
    }
    s_.state = mapping_state::polling_sf_changes;
    ask_cursor(mapping_step::cursor_poll);
  }

  /// The read side finished a step: what waited for it goes next (a poll first).
  void read_side_free() {
    if (s_.stopping || s_.step != mapping_step::idle || s_.state != mapping_state::data_synced)
      return;
    if (s_.poll_waiting) {
      s_.poll_waiting = false;
      poll_now();
      return;
    }
    if (s_.sweep_waiting) {
      s_.sweep_waiting = false;
      repair_due(true);
      return;
    }
    if (s_.formula_waiting) {
      s_.formula_waiting = false;
      repair_due(false);
    }
  }

  /// A failed step waits, then is repeated; the stored state says why (best
  /// effort: the database may be the trouble).
  void wait(wait_kind kind, const std::string& reason) {
    ++s_.failures;
    s_.description = reason;
    s_.waiting = true;
    out_.push_back(action::wait_then_retry{kind, s_.failures, s_.state, reason});
    if (s_.stored_known)
      save_in_background(s_.state, reason);
  }

  void save_in_background(mapping_state state, const std::string& description) {
    ++s_.in_flight;
    out_.push_back(action::save_state{state, description, true});
  }

  void succeeded() {
    if (!s_.repair_timers) {
      s_.repair_timers = true;
      arm_repair(true);
      arm_repair(false);
    }
    s_.failures = 0;
    s_.description.clear();
    out_.push_back(action::notify_synced{});
  }

  void arm(action::timer which, std::chrono::milliseconds delay) { out_.push_back(action::arm_timer{which, delay}); }

  void arm_repair(bool sweep) {
    auto every = sweep ? t_.sweep_every : t_.formula_every;
    if (every.count() <= 0)
      return;
    arm(sweep ? action::timer::sweep : action::timer::formula, every);
  }

  void release() {
    if (!s_.holds_cursor)
      return;
    s_.holds_cursor = false;
    out_.push_back(action::release_cursor{});
  }

  void answered() {
    if (s_.in_flight > 0)
      --s_.in_flight;
  }

  /// Quits once nothing is in flight any more (after stop). A late save must
  /// not overwrite what the connection stores after the stop, so saves are waited for too.
  void finish_stop() {
    if (!s_.stopping || s_.in_flight > 0)
      return;
    release();
    out_.push_back(action::quit{action::quit_reason::shutdown, {}});
  }

  void count_calls(long calls) {
    if (day_ != s_.calls_day) {
      s_.calls_day = day_;
      s_.calls_today = 0;
    }
    s_.calls_today += calls;
  }

  std::optional<std::string> over_daily_cap() {
    count_calls(0);
    const auto& cap = t_.daily_api_cap;
    if (!cap || *cap <= 0 || s_.calls_today < *cap)
      return std::nullopt;
    return "sf_max_daily_api_calls reached: " + std::to_string(s_.calls_today) + " of " + std::to_string(*cap) +
           " API calls used today (UTC)";
  }

  mapping_status& s_;
  const mapping_timing& t_;
  long day_;
  mapping_actions out_;
};

} // namespace

mapping_actions on_event(mapping_status& s, const mapping_event& e, const mapping_timing& t) {
  transition tr(s, t, e.day);
  switch (e.kind) {
    case mapping_event_kind::start:
      tr.start();
      break;
    case mapping_event_kind::poll_due:
      tr.poll_due();
      break;
    case mapping_event_kind::sweep_due:
      tr.repair_due(true);
      break;
    case mapping_event_kind::formula_due:
      tr.repair_due(false);
      break;
    case mapping_event_kind::retry_due:
      tr.retry_due();
      break;
    case mapping_event_kind::stop:
      tr.stop(e.cancel);
      break;
    case mapping_event_kind::cursor_granted:
      tr.cursor_answer(true, {});
      break;
    case mapping_event_kind::cursor_denied:
      tr.cursor_answer(false, e.reason);
      break;
    case mapping_event_kind::job_done:
      tr.job_done(e.outcome);
      break;
    case mapping_event_kind::saved:
      tr.saved();
      break;
    case mapping_event_kind::request_failed:
      tr.request_failed();
      break;
  }
  return tr.take();
}

std::string_view to_string(mapping_step s) {
  switch (s) {
    case mapping_step::idle:
      return "idle";
    case mapping_step::load:
      return "load";
    case mapping_step::prepare_synced:
      return "prepare_synced";
    case mapping_step::save_synced:
      return "save_synced";
    case mapping_step::save_initial:
      return "save_initial";
    case mapping_step::prepare_reload:
      return "prepare_reload";
    case mapping_step::save_reload_table:
      return "save_reload_table";
    case mapping_step::cursor_reload:
      return "cursor_reload";
    case mapping_step::reload:
      return "reload";
    case mapping_step::save_resync:
      return "save_resync";
    case mapping_step::cursor_backfill:
      return "cursor_backfill";
    case mapping_step::backfill:
      return "backfill";
    case mapping_step::save_backfilled:
      return "save_backfilled";
    case mapping_step::cursor_poll:
      return "cursor_poll";
    case mapping_step::poll:
      return "poll";
    case mapping_step::cursor_sweep:
      return "cursor_sweep";
    case mapping_step::sweep:
      return "sweep";
    case mapping_step::cursor_formula:
      return "cursor_formula";
    case mapping_step::formula_repair:
      return "formula_repair";
  }
  return "unknown";
}

std::string_view to_string(mapping_event_kind k) {
  switch (k) {
    case mapping_event_kind::start:
      return "start";
    case mapping_event_kind::poll_due:
      return "poll_due";
    case mapping_event_kind::sweep_due:
      return "sweep_due";
    case mapping_event_kind::formula_due:
      return "formula_due";
    case mapping_event_kind::retry_due:
      return "retry_due";
    case mapping_event_kind::stop:
      return "stop";
    case mapping_event_kind::cursor_granted:
      return "cursor_granted";
    case mapping_event_kind::cursor_denied:
      return "cursor_denied";
    case mapping_event_kind::job_done:
      return "job_done";
    case mapping_event_kind::saved:
      return "saved";
    case mapping_event_kind::request_failed:
      return "request_failed";
  }
  return "unknown";
}

std::string_view to_string(mapping_job_kind k) {
  switch (k) {
    case mapping_job_kind::load_mapping:
      return "load_mapping";
    case mapping_job_kind::prepare_mapping:
      return "prepare_mapping";
    case mapping_job_kind::reload:
      return "reload";
    case mapping_job_kind::poll:
      return "poll";
    case mapping_job_kind::backfill:
      return "backfill";
    case mapping_job_kind::sweep:
      return "sweep";
    case mapping_job_kind::formula_repair:
      return "formula_repair";
  }
  return "unknown";
}

} // namespace syncforce
