// The mapping's lifecycle as a table (sync/mapping_lifecycle.hpp): for each
// step and event, the actions and the next status. No CAF: the actor only
// carries these out (mapping_sim_test.cpp checks that it does, end to end).
// A row may hold for several steps at once (e.g. "a stop while anything is in
// flight waits for it"); `every_step_meets_every_event` fails when a step, an
// event or a job outcome is added without a row that says what it does.

#include "sync/mapping_lifecycle.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

using namespace syncforce;
using namespace std::chrono_literals;

namespace {

constexpr long day0 = 20000;

mapping_timing timing() {
  mapping_timing t;
  t.poll_interval = 120s;
  t.sweep_every = 600s;
  t.formula_every = 3600s;
  return t;
}

/// A status in short, built step by step.
struct S {
  S(mapping_state state, mapping_step step) {
    s.state = state;
    s.step = step;
    s.calls_day = day0;
    s.stored_known = true; // every row but the fresh start's has read the stored state
  }
  /// The stored state is not read yet (a start, before load_mapping answered).
  S& unread() { return set([&] { s.stored_known = false; }); }
  S& busy(int n = 1) { return set([&] { s.in_flight = n; }); }
  S& cursor() { return set([&] { s.holds_cursor = true; }); }
  S& waiting() { return set([&] { s.waiting = true; }); }
  S& stopping() { return set([&] { s.stopping = true; }); }
  S& failures(int n) { return set([&] { s.failures = n; }); }
  S& hwm(std::string h) { return set([&] { s.hwm = h; }); }
  S& columns(std::vector<std::string> c) { return set([&] { s.backfill_columns = c; }); }
  S& desc(std::string d) { return set([&] { s.description = d; }); }
  S& poll_waiting() { return set([&] { s.poll_waiting = true; }); }
  S& sweep_waiting() { return set([&] { s.sweep_waiting = true; }); }
  S& formula_waiting() { return set([&] { s.formula_waiting = true; }); }
  S& timers() { return set([&] { s.repair_timers = true; }); }
  S& calls(long n, long day = day0) {
    return set([&] {
      s.calls_today = n;
      s.calls_day = day;
    });
  }
  template <class F>
  S& set(F f) {
    f();
    return *this;
  }
  mapping_status s;
};

std::string describe(const mapping_status& s) {
  std::string out = std::string{to_string(s.state)} + " " + std::string{to_string(s.step)};
  auto flag = [&](bool on, const char* name) {
    if (on)
      out += std::string(",") + name;
  };
  flag(s.waiting, "waiting");
  flag(s.holds_cursor, "cursor");
  if (s.in_flight > 0)
    out += ",in_flight=" + std::to_string(s.in_flight);
  flag(s.stopping, "stopping");
  if (s.failures > 0)
    out += ",failures=" + std::to_string(s.failures);
  if (s.hwm)
    out += ",hwm=" + *s.hwm;
  flag(s.poll_waiting, "poll_waiting");
  flag(s.sweep_waiting, "sweep_waiting");
  flag(s.formula_waiting, "formula_waiting");
  flag(s.repair_timers, "timers");
  if (s.calls_today > 0)
    out += ",calls=" + std::to_string(s.calls_today);
  if (!s.description.empty())
    out += " '" + s.description + "'";
  return out;
}

/// The actions in short: "run(poll)", "save(INITIAL)", "save_bg(BAD_CONFIG,'why')", "acquire", "release",
/// "timer(poll,120s)", "wait(backoff,2)", "synced", "log(reload_table)", "cancel", "quit(lease_lost)", ...
std::string describe(const mapping_actions& actions) {
  using A = mapping_action;
  std::string out;
  auto add = [&](const std::string& x) { out += (out.empty() ? "" : " ") + x; };
  for (const auto& any : actions) {
    if (auto* a = std::get_if<A::run_job>(&any)) {
      add("run(" + std::string{to_string(a->job)} + ")");
    } else if (auto* a = std::get_if<A::save_state>(&any)) {
      auto args = std::string{to_string(a->state)} + (a->description.empty() ? "" : ",'" + a->description + "'");
      add((a->background ? "save_bg(" : "save(") + args + ")");
    } else if (std::holds_alternative<A::acquire_cursor>(any)) {
      add("acquire");
    } else if (std::holds_alternative<A::release_cursor>(any)) {
      add("release");
    } else if (auto* a = std::get_if<A::arm_timer>(&any)) {
      const char* which = a->which == A::timer::poll ? "poll" : a->which == A::timer::sweep ? "sweep" : "formula";
      add(std::string("timer(") + which + "," +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(a->delay).count()) + "s)");
    } else if (auto* a = std::get_if<A::wait_then_retry>(&any)) {
      add(std::string("wait(") + (a->kind == wait_kind::budget ? "budget" : "backoff") + "," +
          std::to_string(a->attempt) + ")");
    } else if (std::holds_alternative<A::notify_synced>(any)) {
      add("synced");
    } else if (auto* a = std::get_if<A::log_line>(&any)) {
      const char* line = a->line == mapping_line::reload_table      ? "reload_table"
                         : a->line == mapping_line::reload_complete ? "reload_complete"
                         : a->line == mapping_line::aborted         ? "aborted"
                                                                    : "bad_config";
      add(std::string("log(") + line + ")");
    } else if (std::holds_alternative<A::cancel_jobs>(any)) {
      add("cancel");
    } else if (auto* a = std::get_if<A::quit>(&any)) {
      switch (a->reason) {
        case A::quit_reason::shutdown:
          add("quit(shutdown)");
          break;
        case A::quit_reason::lease_lost:
          add("quit(lease_lost)");
          break;
        case A::quit_reason::job_failed:
          add("quit(job_failed,'" + a->message + "')");
          break;
        case A::quit_reason::request_failed:
          add("quit(request_failed)");
          break;
      }
    }
  }
  return out.empty() ? "-" : out;
}

// ---- events -------------------------------------------------------------------

mapping_event ev(mapping_event_kind k) {
  return mapping_event::of(k, day0);
}
mapping_event stop(bool cancel = false) {
  auto e = ev(mapping_event_kind::stop);
  e.cancel = cancel;
  return e;
}
mapping_event denied(std::string why) {
  auto e = ev(mapping_event_kind::cursor_denied);
  e.reason = std::move(why);
  return e;
}
mapping_event done(job_outcome o = {}) {
  return mapping_event::done(std::move(o), day0);
}
mapping_event failed(outcome_kind k, std::string why) {
  return done(job_outcome::failure(k, std::move(why)));
}
mapping_event loaded(std::optional<mapping_state> stored, std::string hwm) {
  job_outcome o;
  o.stored_state = stored;
  o.hwm = std::move(hwm);
  return done(o);
}
mapping_event prepared(std::vector<std::string> columns) {
  job_outcome o;
  o.columns = std::move(columns);
  return done(o);
}
mapping_event read(std::string hwm, long calls) {
  job_outcome o;
  o.hwm = std::move(hwm);
  o.api_calls = calls;
  return done(o);
}

// ---- groups of steps ------------------------------------------------------------

std::vector<mapping_step> all_steps() {
  std::vector<mapping_step> out;
  for (int i = 0; i < mapping_step_count; ++i)
    out.push_back(static_cast<mapping_step>(i));
  return out;
}

std::vector<mapping_step> all_but(std::set<mapping_step> excluded) {
  std::vector<mapping_step> out;
  for (auto s : all_steps())
    if (!excluded.count(s))
      out.push_back(s);
  return out;
}

const std::set<mapping_step> cursor_steps{mapping_step::cursor_reload, mapping_step::cursor_backfill,
                                          mapping_step::cursor_poll, mapping_step::cursor_sweep,
                                          mapping_step::cursor_formula};
const std::set<mapping_step> repair_steps{mapping_step::cursor_sweep, mapping_step::sweep,
                                          mapping_step::cursor_formula, mapping_step::formula_repair};
/// Jobs run without a cursor (the store only) and with one (Salesforce queries).
const std::vector<mapping_step> store_jobs{mapping_step::load,           mapping_step::prepare_synced,
                                           mapping_step::save_synced,    mapping_step::save_initial,
                                           mapping_step::prepare_reload, mapping_step::save_reload_table,
                                           mapping_step::save_resync,    mapping_step::save_backfilled};
const std::vector<mapping_step> query_jobs{mapping_step::reload, mapping_step::backfill, mapping_step::poll,
                                           mapping_step::sweep, mapping_step::formula_repair};

std::vector<mapping_step> of(std::set<mapping_step> steps) {
  return {steps.begin(), steps.end()};
}

/// The job each step runs, as a crash names it.
const std::map<mapping_step, std::string> job_names{
  {mapping_step::load, "load_mapping"},          {mapping_step::prepare_synced, "prepare_mapping"},
  {mapping_step::save_synced, "save_state"},     {mapping_step::save_initial, "save_state"},
  {mapping_step::prepare_reload, "prepare_mapping"}, {mapping_step::save_reload_table, "save_state"},
  {mapping_step::reload, "reload"},              {mapping_step::save_resync, "save_state"},
  {mapping_step::backfill, "backfill"},          {mapping_step::save_backfilled, "save_state"},
  {mapping_step::poll, "poll"},                  {mapping_step::sweep, "sweep"},
  {mapping_step::formula_repair, "formula_repair"},
};

// ---- rows -----------------------------------------------------------------------

struct row {
  const char* name;
  std::vector<mapping_step> steps; ///< the row holds in each (empty: the before's own step)
  S before;
  mapping_event event;
  const char* actions; ///< "{job}": the step's job name
  const char* after;   ///< "=": unchanged; "{step}": the step's name
};

std::string substitute(std::string text, const std::string& key, const std::string& value) {
  for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size()))
    text.replace(at, key.size(), value);
  return text;
}

const mapping_status synced_status = S(mapping_state::data_synced, mapping_step::idle).hwm("h1").timers().s;

std::vector<row> table() {
  using st = mapping_state;
  using sp = mapping_step;
  using ek = mapping_event_kind;
  using ok = outcome_kind;
  auto synced = [] { return S(st::data_synced, sp::idle).hwm("h1").timers(); };
  auto at = [](sp step) { return S(st::data_synced, step); };
  return {
    // ---- start
    {"start reads the stored state and mark", {}, S(st::initial, sp::idle), ev(ek::start), "run(load_mapping)",
     "INITIAL load,in_flight=1"},
    {"a start after the stop quits", {}, S(st::initial, sp::idle).stopping(), ev(ek::start), "quit(shutdown)",
     "INITIAL load,stopping"},
    {"a second start changes nothing", all_but({sp::idle}), at(sp::idle).busy(), ev(ek::start), "-", "="},

    // ---- the poll timer
    {"a poll takes a cursor first", {}, synced(), ev(ek::poll_due), "acquire",
     "POLLING_SF_CHANGES cursor_poll,in_flight=1,hwm=h1,timers"},
    {"a poll without a mark reloads", {}, S(st::data_synced, sp::idle).timers(), ev(ek::poll_due), "save(INITIAL)",
     "INITIAL save_initial,in_flight=1,timers"},
    {"an ABORTED mapping does not poll", {}, S(st::aborted, sp::idle), ev(ek::poll_due), "-", "="},
    {"a BAD_CONFIG mapping does not poll", {}, S(st::bad_config, sp::idle).hwm("h1").desc("no such field"),
     ev(ek::poll_due), "-", "="},
    {"a poll during a sweep or repair follows it", of(repair_steps), at(sp::idle).busy().hwm("h1").timers(),
     ev(ek::poll_due), "-", "DATA_SYNCED {step},in_flight=1,hwm=h1,poll_waiting,timers"},
    {"a poll during a repair's retry wait follows it", {}, at(sp::sweep).waiting().failures(1).hwm("h1"),
     ev(ek::poll_due), "-", "DATA_SYNCED sweep,waiting,failures=1,hwm=h1,poll_waiting"},
    {"a poll during any other step is dropped (that step ends in a poll or arms its timer)",
     all_but({sp::idle, sp::cursor_sweep, sp::sweep, sp::cursor_formula, sp::formula_repair}), at(sp::idle).busy(),
     ev(ek::poll_due), "-", "="},
    {"no poll once stopping", {}, synced().stopping(), ev(ek::poll_due), "-", "="},

    // ---- the sweep and formula repair timers
    {"a sweep when idle takes a cursor", {}, synced(), ev(ek::sweep_due), "acquire",
     "DATA_SYNCED cursor_sweep,in_flight=1,hwm=h1,timers"},
    {"a formula repair when idle takes a cursor", {}, synced(), ev(ek::formula_due), "acquire",
     "DATA_SYNCED cursor_formula,in_flight=1,hwm=h1,timers"},
    {"a sweep while busy waits for the read side", all_but({sp::idle}), at(sp::idle).busy(), ev(ek::sweep_due), "-",
     "DATA_SYNCED {step},in_flight=1,sweep_waiting"},
    {"a formula repair while busy waits for the read side", all_but({sp::idle}), at(sp::idle).busy(),
     ev(ek::formula_due), "-", "DATA_SYNCED {step},in_flight=1,formula_waiting"},
    {"a sweep waits while the mapping is not synced", {}, S(st::aborted, sp::idle), ev(ek::sweep_due), "-",
     "ABORTED idle,sweep_waiting"},
    {"a formula repair waits while the mapping is not synced", {}, S(st::bad_config, sp::idle), ev(ek::formula_due),
     "-", "BAD_CONFIG idle,formula_waiting"},
    {"no sweep once stopping", {}, synced().stopping(), ev(ek::sweep_due), "-", "="},
    {"no formula repair once stopping", {}, synced().stopping(), ev(ek::formula_due), "-", "="},

    // ---- the end of a wait: the step's activity again from its start
    {"a retry without a wait changes nothing", all_steps(), at(sp::idle), ev(ek::retry_due), "-", "="},
    {"no retry once stopping", {}, S(st::polling_sf_changes, sp::poll).waiting().stopping().failures(1),
     ev(ek::retry_due), "-", "="},
    {"a stray wait on an idle mapping ends", {}, at(sp::idle).waiting(), ev(ek::retry_due), "-", "DATA_SYNCED idle"},
    {"load again", {}, S(st::initial, sp::load).waiting().failures(1), ev(ek::retry_due), "run(load_mapping)",
     "INITIAL load,in_flight=1,failures=1"},
    {"a failed prepare of a synced mapping starts over", {}, S(st::initial, sp::prepare_synced).waiting().failures(1).hwm("h1"),
     ev(ek::retry_due), "run(load_mapping)", "INITIAL load,in_flight=1,failures=1,hwm=h1"},
    {"save DATA_SYNCED again", {}, at(sp::save_synced).waiting().failures(1).hwm("h1"), ev(ek::retry_due),
     "save(DATA_SYNCED)", "DATA_SYNCED save_synced,in_flight=1,failures=1,hwm=h1"},
    {"a reload starts over from INITIAL", {sp::save_initial, sp::prepare_reload, sp::cursor_reload, sp::reload},
     S(st::reload_table, sp::idle).waiting().failures(1).desc("503"), ev(ek::retry_due), "save(INITIAL)",
     "INITIAL save_initial,in_flight=1,failures=1"},
    {"save RELOAD_TABLE again", {}, S(st::reload_table, sp::save_reload_table).waiting().failures(1),
     ev(ek::retry_due), "save(RELOAD_TABLE)", "RELOAD_TABLE save_reload_table,in_flight=1,failures=1"},
    {"a backfill starts over from RESYNC", {sp::save_resync, sp::cursor_backfill, sp::backfill},
     S(st::resync, sp::idle).waiting().failures(1).hwm("h1").columns({"A", "B"}), ev(ek::retry_due),
     "save(RESYNC,'loading new columns: A, B')",
     "RESYNC save_resync,in_flight=1,failures=1,hwm=h1 'loading new columns: A, B'"},
    {"save DATA_SYNCED after the backfill again", {}, at(sp::save_backfilled).waiting().failures(1).hwm("h1"),
     ev(ek::retry_due), "save(DATA_SYNCED)", "DATA_SYNCED save_backfilled,in_flight=1,failures=1,hwm=h1"},
    {"a poll asks for a cursor again", {sp::cursor_poll, sp::poll},
     S(st::polling_sf_changes, sp::idle).waiting().failures(1).hwm("h1").timers(), ev(ek::retry_due), "acquire",
     "POLLING_SF_CHANGES cursor_poll,in_flight=1,failures=1,hwm=h1,timers"},
    {"a sweep asks for a cursor again", {sp::cursor_sweep, sp::sweep}, at(sp::idle).waiting().failures(1).hwm("h1"),
     ev(ek::retry_due), "acquire", "DATA_SYNCED cursor_sweep,in_flight=1,failures=1,hwm=h1"},
    {"a formula repair asks for a cursor again", {sp::cursor_formula, sp::formula_repair},
     at(sp::idle).waiting().failures(1).hwm("h1"), ev(ek::retry_due), "acquire",
     "DATA_SYNCED cursor_formula,in_flight=1,failures=1,hwm=h1"},

    // ---- stop
    {"a stop with nothing in flight quits", {}, synced(), stop(), "quit(shutdown)",
     "DATA_SYNCED idle,stopping,hwm=h1,timers"},
    {"a stop during a wait quits (the timer finds nothing)", {},
     S(st::polling_sf_changes, sp::poll).waiting().failures(1), stop(), "quit(shutdown)",
     "POLLING_SF_CHANGES poll,waiting,stopping,failures=1"},
    {"a stop while anything is in flight waits for it", all_but({sp::idle}), at(sp::idle).busy(), stop(), "-",
     "DATA_SYNCED {step},in_flight=1,stopping"},
    {"a cancelling stop tells the running load to stop between pages", {},
     S(st::reload_table, sp::reload).busy().cursor(), stop(true), "cancel",
     "RELOAD_TABLE reload,cursor,in_flight=1,stopping"},

    // ---- the integration user's answer
    {"a cursor for the reload runs it", {}, S(st::reload_table, sp::cursor_reload).busy(), ev(ek::cursor_granted),
     "run(reload)", "RELOAD_TABLE reload,cursor,in_flight=1"},
    {"a cursor for the backfill runs it", {}, S(st::resync, sp::cursor_backfill).busy().hwm("h1"),
     ev(ek::cursor_granted), "run(backfill)", "RESYNC backfill,cursor,in_flight=1,hwm=h1"},
    {"a cursor for the poll runs it", {}, S(st::polling_sf_changes, sp::cursor_poll).busy().hwm("h1"),
     ev(ek::cursor_granted), "run(poll)", "POLLING_SF_CHANGES poll,cursor,in_flight=1,hwm=h1"},
    {"a cursor for the sweep runs it", {}, at(sp::cursor_sweep).busy().hwm("h1"), ev(ek::cursor_granted),
     "run(sweep)", "DATA_SYNCED sweep,cursor,in_flight=1,hwm=h1"},
    {"a cursor for the formula repair runs it", {}, at(sp::cursor_formula).busy().hwm("h1"), ev(ek::cursor_granted),
     "run(formula_repair)", "DATA_SYNCED formula_repair,cursor,in_flight=1,hwm=h1"},
    {"a cursor nobody asked for goes back", all_but(cursor_steps),
     at(sp::idle).busy(), ev(ek::cursor_granted), "release", "DATA_SYNCED {step}"},
    {"a cursor granted during a wait goes back", {}, S(st::polling_sf_changes, sp::cursor_poll).busy().waiting(),
     ev(ek::cursor_granted), "release", "POLLING_SF_CHANGES cursor_poll,waiting"},
    {"a cursor that comes after the stop goes back", {}, S(st::polling_sf_changes, sp::cursor_poll).busy().stopping(),
     ev(ek::cursor_granted), "release quit(shutdown)", "POLLING_SF_CHANGES cursor_poll,stopping"},
    {"no cursor: the budget wait, the reason stored", of(cursor_steps), at(sp::idle).busy(), denied("no cursor"),
     "wait(budget,1) save_bg(DATA_SYNCED,'no cursor')",
     "DATA_SYNCED {step},waiting,in_flight=1,failures=1 'no cursor'"},
    {"a refusal nobody asked for changes nothing", all_but(cursor_steps), at(sp::idle).busy(), denied("no cursor"),
     "-", "DATA_SYNCED {step}"},
    {"a refusal after the stop quits", {}, S(st::polling_sf_changes, sp::cursor_poll).busy().stopping(),
     denied("no cursor"), "quit(shutdown)", "POLLING_SF_CHANGES cursor_poll,stopping"},

    // ---- a job ended well: the next step
    {"synced before: bring the table to the mapping", {}, S(st::initial, sp::load).busy(),
     loaded(st::data_synced, "h0"), "run(prepare_mapping)", "DATA_SYNCED prepare_synced,in_flight=1,hwm=h0"},
    {"stopped while polling: synced", {}, S(st::initial, sp::load).busy(), loaded(st::polling_sf_changes, "h0"),
     "run(prepare_mapping)", "DATA_SYNCED prepare_synced,in_flight=1,hwm=h0"},
    {"stopped while polling in bulk: synced", {}, S(st::initial, sp::load).busy(), loaded(st::polling_sf_bulk, "h0"),
     "run(prepare_mapping)", "DATA_SYNCED prepare_synced,in_flight=1,hwm=h0"},
    {"parked after a synced state: synced", {}, S(st::initial, sp::load).busy(), loaded(st::system_error, "h0"),
     "run(prepare_mapping)", "DATA_SYNCED prepare_synced,in_flight=1,hwm=h0"},
    {"a synced state without a mark reloads", {}, S(st::initial, sp::load).busy().hwm("old"),
     loaded(st::data_synced, ""), "save(INITIAL)", "INITIAL save_initial,in_flight=1"},
    {"an interrupted load reloads", {}, S(st::initial, sp::load).busy(), loaded(st::reload_table, "h0"),
     "save(INITIAL)", "INITIAL save_initial,in_flight=1"},
    {"a state we do not know reloads", {}, S(st::initial, sp::load).busy(), loaded(std::nullopt, "h0"),
     "save(INITIAL)", "INITIAL save_initial,in_flight=1"},
    {"ABORTED waits for a reload", {}, S(st::initial, sp::load).busy(), loaded(st::aborted, ""), "log(aborted)",
     "ABORTED idle"},
    {"an unchanged table: DATA_SYNCED", {}, S(st::initial, sp::prepare_synced).busy().hwm("h1"), prepared({}),
     "save(DATA_SYNCED)", "DATA_SYNCED save_synced,in_flight=1,hwm=h1"},
    {"new columns: RESYNC", {}, S(st::initial, sp::prepare_synced).busy().hwm("h1"), prepared({"A", "B"}),
     "save(RESYNC,'loading new columns: A, B')", "RESYNC save_resync,in_flight=1,hwm=h1 'loading new columns: A, B'"},
    {"synced again: poll at once", {}, at(sp::save_synced).busy().hwm("h1"), done(), "acquire",
     "POLLING_SF_CHANGES cursor_poll,in_flight=1,hwm=h1"},
    {"INITIAL saved: prepare the table", {}, S(st::initial, sp::save_initial).busy(), done(), "run(prepare_mapping)",
     "INITIAL prepare_reload,in_flight=1"},
    {"table ready: RELOAD_TABLE", {}, S(st::initial, sp::prepare_reload).busy(), prepared({"A"}),
     "save(RELOAD_TABLE)", "RELOAD_TABLE save_reload_table,in_flight=1"},
    {"RELOAD_TABLE saved: say so, take a cursor", {}, S(st::reload_table, sp::save_reload_table).busy(), done(),
     "log(reload_table) acquire", "RELOAD_TABLE cursor_reload,in_flight=1"},
    {"loaded: DATA_SYNCED, timers armed, polls every interval", {},
     S(st::reload_table, sp::reload).busy().cursor().failures(2), read("h2", 3),
     "release log(reload_complete) timer(sweep,600s) timer(formula,3600s) synced timer(poll,120s)",
     "DATA_SYNCED idle,hwm=h2,timers,calls=3"},
    {"loaded without a mark: the next poll reloads", {}, S(st::reload_table, sp::reload).busy().cursor().timers(),
     read("", 0), "release log(reload_complete) synced timer(poll,120s)", "DATA_SYNCED idle,timers"},
    {"RESYNC saved: take a cursor", {}, S(st::resync, sp::save_resync).busy().hwm("h1").desc("loading new columns: A"),
     done(), "acquire", "RESYNC cursor_backfill,in_flight=1,hwm=h1 'loading new columns: A'"},
    {"backfilled: DATA_SYNCED", {}, S(st::resync, sp::backfill).busy().cursor().hwm("h1").columns({"A"}),
     read("", 4), "release save(DATA_SYNCED)", "DATA_SYNCED save_backfilled,in_flight=1,hwm=h1,calls=4"},
    {"synced after the backfill: poll at once", {}, at(sp::save_backfilled).busy().hwm("h1").failures(1).columns({"A"}),
     done(), "timer(sweep,600s) timer(formula,3600s) synced acquire",
     "POLLING_SF_CHANGES cursor_poll,in_flight=1,hwm=h1,timers"},
    {"polled: the mark moves, the next poll is armed", {},
     S(st::polling_sf_changes, sp::poll).busy().cursor().hwm("h1").timers().failures(1), read("h2", 2),
     "release synced timer(poll,120s)", "DATA_SYNCED idle,hwm=h2,timers,calls=2"},
    {"polled, no change: the mark stays", {}, S(st::polling_sf_changes, sp::poll).busy().cursor().hwm("h1").timers(),
     read("", 1), "release synced timer(poll,120s)", "DATA_SYNCED idle,hwm=h1,timers,calls=1"},
    {"polled: a waiting sweep goes next", {},
     S(st::polling_sf_changes, sp::poll).busy().cursor().hwm("h1").timers().sweep_waiting(), read("h2", 0),
     "release synced timer(poll,120s) acquire", "DATA_SYNCED cursor_sweep,in_flight=1,hwm=h2,timers"},
    {"polled: a waiting formula repair goes next", {},
     S(st::polling_sf_changes, sp::poll).busy().cursor().hwm("h1").timers().formula_waiting(), read("h2", 0),
     "release synced timer(poll,120s) acquire", "DATA_SYNCED cursor_formula,in_flight=1,hwm=h2,timers"},
    {"swept: the next sweep is armed", {}, at(sp::sweep).busy().cursor().hwm("h1").timers(), read("", 5),
     "release synced timer(sweep,600s)", "DATA_SYNCED idle,hwm=h1,timers,calls=5"},
    {"swept: a waiting poll goes first", {},
     at(sp::sweep).busy().cursor().hwm("h1").timers().poll_waiting().formula_waiting(), done(),
     "release synced timer(sweep,600s) acquire",
     "POLLING_SF_CHANGES cursor_poll,in_flight=1,hwm=h1,formula_waiting,timers"},
    {"repaired: the next repair is armed", {}, at(sp::formula_repair).busy().cursor().hwm("h1").timers(), done(),
     "release synced timer(formula,3600s)", "DATA_SYNCED idle,hwm=h1,timers"},
    {"repaired: a waiting sweep goes next", {},
     at(sp::formula_repair).busy().cursor().hwm("h1").timers().sweep_waiting(), done(),
     "release synced timer(formula,3600s) acquire", "DATA_SYNCED cursor_sweep,in_flight=1,hwm=h1,timers"},

    // ---- a job failed
    {"trouble before the stored state was read waits without saving the default over it (found by tests/sim)", {},
     S(st::initial, sp::load).busy().unread(), failed(ok::retry, "503"), "wait(backoff,1)",
     "INITIAL load,waiting,failures=1 '503'"},
    {"transient trouble waits with backoff, the reason stored", store_jobs, at(sp::idle).busy(),
     failed(ok::retry, "503"), "wait(backoff,1) save_bg(DATA_SYNCED,'503')",
     "DATA_SYNCED {step},waiting,in_flight=1,failures=1 '503'"},
    {"transient trouble gives the cursor back and waits", query_jobs, at(sp::idle).busy().cursor(),
     failed(ok::retry, "503"), "release wait(backoff,1) save_bg(DATA_SYNCED,'503')",
     "DATA_SYNCED {step},waiting,in_flight=1,failures=1 '503'"},
    {"the backoff grows", {}, S(st::polling_sf_changes, sp::poll).busy().cursor().failures(2),
     failed(ok::retry, "503"), "release wait(backoff,3) save_bg(POLLING_SF_CHANGES,'503')",
     "POLLING_SF_CHANGES poll,waiting,in_flight=1,failures=3 '503'"},
    {"a cancelled job (not stopping) waits like transient trouble", store_jobs, at(sp::idle).busy(),
     failed(ok::cancelled, "cancelled"), "wait(backoff,1) save_bg(DATA_SYNCED,'cancelled')",
     "DATA_SYNCED {step},waiting,in_flight=1,failures=1 'cancelled'"},
    {"a cancelled query (not stopping) gives the cursor back and waits", query_jobs, at(sp::idle).busy().cursor(),
     failed(ok::cancelled, "cancelled"), "release wait(backoff,1) save_bg(DATA_SYNCED,'cancelled')",
     "DATA_SYNCED {step},waiting,in_flight=1,failures=1 'cancelled'"},
    {"a spent budget waits the budget wait", store_jobs, at(sp::idle).busy(), failed(ok::budget, "limit"),
     "wait(budget,1) save_bg(DATA_SYNCED,'limit')", "DATA_SYNCED {step},waiting,in_flight=1,failures=1 'limit'"},
    {"a spent budget gives the cursor back", query_jobs, at(sp::idle).busy().cursor(), failed(ok::budget, "limit"),
     "release wait(budget,1) save_bg(DATA_SYNCED,'limit')",
     "DATA_SYNCED {step},waiting,in_flight=1,failures=1 'limit'"},
    {"bad configuration parks the mapping in BAD_CONFIG", store_jobs, at(sp::idle).busy(),
     failed(ok::bad_config, "no such field"), "log(bad_config) save_bg(BAD_CONFIG,'no such field')",
     "BAD_CONFIG idle,in_flight=1 'no such field'"},
    {"bad configuration in a query parks it and gives the cursor back", query_jobs, at(sp::idle).busy().cursor(),
     failed(ok::bad_config, "no such field"), "release log(bad_config) save_bg(BAD_CONFIG,'no such field')",
     "BAD_CONFIG idle,in_flight=1 'no such field'"},
    {"anything else crashes the actor (its connection restarts it)", store_jobs, at(sp::idle).busy(),
     failed(ok::fatal, "boom"), "quit(job_failed,'{job}: boom')", "DATA_SYNCED {step}"},
    {"a crash in a query (the user takes the cursor back from the dead actor)", query_jobs,
     at(sp::idle).busy().cursor(), failed(ok::fatal, "boom"), "quit(job_failed,'{job}: boom')",
     "DATA_SYNCED {step},cursor"},
    {"a lost lease stops without a crash", store_jobs, at(sp::idle).busy(), failed(ok::fenced, "epoch 1 gone"),
     "quit(lease_lost)", "DATA_SYNCED {step}"},
    {"a lost lease gives the cursor back and stops", query_jobs, at(sp::idle).busy().cursor(),
     failed(ok::fenced, "epoch 1 gone"), "release quit(lease_lost)", "DATA_SYNCED {step}"},
    {"after the stop, any answer ends it", store_jobs, at(sp::idle).busy().stopping(), failed(ok::fatal, "boom"),
     "quit(shutdown)", "DATA_SYNCED {step},stopping"},
    {"after the stop, a query's answer gives the cursor back and ends it", query_jobs,
     at(sp::idle).busy().cursor().stopping(), read("h9", 1), "release quit(shutdown)", "DATA_SYNCED {step},stopping"},
    {"after the stop, a fenced answer ends it as asked (no second reason)", {},
     S(st::reload_table, sp::reload).busy().cursor().stopping(), failed(ok::fenced, "gone"),
     "release quit(shutdown)", "RELOAD_TABLE reload,stopping"},
    {"after the stop, a background save still in flight is waited for", {},
     S(st::reload_table, sp::reload).busy(2).cursor().stopping(), done(), "-",
     "RELOAD_TABLE reload,cursor,in_flight=1,stopping"},
    {"an answer while no job runs changes nothing", of(cursor_steps), at(sp::idle).busy(), failed(ok::fatal, "boom"),
     "-", "DATA_SYNCED {step}"},
    {"an answer on an idle mapping changes nothing", {}, at(sp::idle).busy(), failed(ok::retry, "503"), "-",
     "DATA_SYNCED idle"},
    {"an answer during a wait changes nothing", {}, at(sp::poll).busy().waiting(), done(), "-",
     "DATA_SYNCED poll,waiting"},

    // ---- a background save ended; a request failed
    {"a background save ended", all_steps(), at(sp::idle).busy(), ev(ek::saved), "-", "DATA_SYNCED {step}"},
    {"the last background save after the stop quits", {}, S(st::bad_config, sp::idle).busy().stopping(),
     ev(ek::saved), "quit(shutdown)", "BAD_CONFIG idle,stopping"},
    {"no answer from the pool or the user: crash with their error", all_steps(), at(sp::idle).busy(),
     ev(ek::request_failed), "quit(request_failed)", "="},
  };
}

std::vector<mapping_step> steps_of(const row& r) {
  return r.steps.empty() ? std::vector<mapping_step>{r.before.s.step} : r.steps;
}

} // namespace

TEST(mapping_lifecycle, every_event_in_every_step) {
  auto t = timing();
  for (const auto& r : table()) {
    for (auto step : steps_of(r)) {
      auto s = r.before.s;
      s.step = step;
      auto before = describe(s);
      auto a = on_event(s, r.event, t);
      auto job = job_names.count(step) ? job_names.at(step) : std::string{"?"};
      std::string where = std::string(r.name) + " [" + std::string{to_string(step)} + "]";
      EXPECT_EQ(describe(a), substitute(r.actions, "{job}", job)) << where;
      std::string after = r.after;
      EXPECT_EQ(describe(s), after == "=" ? before : substitute(after, "{step}", std::string{to_string(step)})) << where;
    }
  }
}

TEST(mapping_lifecycle, every_step_meets_every_event) {
  // (step, event) pairs and, for the steps that run a job, (step, outcome) pairs the table says something about.
  std::set<std::pair<int, int>> events;
  std::set<std::pair<int, int>> outcomes;
  for (const auto& r : table())
    for (auto step : steps_of(r)) {
      events.insert({static_cast<int>(step), static_cast<int>(r.event.kind)});
      if (r.event.kind == mapping_event_kind::job_done)
        outcomes.insert({static_cast<int>(step), static_cast<int>(r.event.outcome.kind)});
    }
  for (int step = 0; step < mapping_step_count; ++step)
    for (int kind = 0; kind < mapping_event_kind_count; ++kind)
      EXPECT_TRUE(events.count({step, kind}))
        << "no row for " << to_string(static_cast<mapping_step>(step)) << " x "
        << to_string(static_cast<mapping_event_kind>(kind));
  // Every outcome of every job (outcome_kind's last value is cancelled: a new one must be added here and in the table).
  constexpr int outcome_count = static_cast<int>(outcome_kind::cancelled) + 1;
  for (const auto& [step, name] : job_names)
    for (int kind = 0; kind < outcome_count; ++kind)
      EXPECT_TRUE(outcomes.count({static_cast<int>(step), kind}))
        << "no row for " << to_string(step) << " x job_done(outcome " << kind << ")";
  // Every step that is not idle or waiting for a cursor runs a job (and so has a name in job_names).
  for (int step = 0; step < mapping_step_count; ++step) {
    auto s = static_cast<mapping_step>(step);
    if (s != mapping_step::idle && !cursor_steps.count(s)) {
      EXPECT_TRUE(job_names.count(s)) << to_string(s) << " runs a job the table does not name";
    }
  }
}

TEST(mapping_lifecycle, the_daily_cap_waits_the_budget_wait_until_the_next_utc_day) {
  auto t = timing();
  t.daily_api_cap = 100;
  auto s = S(mapping_state::data_synced, mapping_step::idle).hwm("h1").timers().calls(100).s;
  auto a = on_event(s, mapping_event::of(mapping_event_kind::poll_due, day0), t);
  const std::string reason = "sf_max_daily_api_calls reached: 100 of 100 API calls used today (UTC)";
  EXPECT_EQ(describe(a), "wait(budget,1) save_bg(POLLING_SF_CHANGES,'" + reason + "')");
  EXPECT_EQ(describe(s), "POLLING_SF_CHANGES cursor_poll,waiting,in_flight=1,failures=1,hwm=h1,timers,calls=100 '" +
                           reason + "'");
  // Still the same day: the wait repeats (the save of the reason came back first).
  on_event(s, mapping_event::of(mapping_event_kind::saved, day0), t);
  a = on_event(s, mapping_event::of(mapping_event_kind::retry_due, day0), t);
  EXPECT_EQ(describe(a), "wait(budget,2) save_bg(POLLING_SF_CHANGES,'" + reason + "')");
  on_event(s, mapping_event::of(mapping_event_kind::saved, day0), t);
  // A new UTC day: a new count, the poll goes on.
  a = on_event(s, mapping_event::of(mapping_event_kind::retry_due, day0 + 1), t);
  EXPECT_EQ(describe(a), "acquire");
  EXPECT_EQ(s.calls_today, 0);
  EXPECT_EQ(s.calls_day, day0 + 1);
}

TEST(mapping_lifecycle, calls_count_toward_the_cap_of_their_day) {
  auto t = timing();
  t.daily_api_cap = 5;
  auto s = S(mapping_state::polling_sf_changes, mapping_step::poll).busy().cursor().hwm("h1").timers().s;
  on_event(s, read("h2", 5), t);
  EXPECT_EQ(s.calls_today, 5);
  auto a = on_event(s, mapping_event::of(mapping_event_kind::sweep_due, day0), t);
  EXPECT_EQ(describe(a), "wait(budget,1) save_bg(DATA_SYNCED,'sf_max_daily_api_calls reached: 5 of 5 API calls used "
                         "today (UTC)')");
  // No cap (or 0): never a wait.
  t.daily_api_cap = 0;
  s = S(mapping_state::data_synced, mapping_step::idle).hwm("h1").calls(1000000).s;
  EXPECT_EQ(describe(on_event(s, mapping_event::of(mapping_event_kind::poll_due, day0), t)), "acquire");
}

TEST(mapping_lifecycle, a_fresh_mapping_runs_through_the_heroku_connect_states) {
  // The whole first load, event by event, as the actor would see it.
  auto t = timing();
  mapping_status s;
  std::vector<std::string> saved;
  auto step = [&](const mapping_event& e) {
    auto a = on_event(s, e, t);
    for (const auto& any : a)
      if (auto* save = std::get_if<mapping_action::save_state>(&any))
        saved.emplace_back(to_string(save->state));
    return describe(a);
  };
  EXPECT_EQ(step(mapping_event::of(mapping_event_kind::start, day0)), "run(load_mapping)");
  EXPECT_EQ(step(loaded(mapping_state::initial, "")), "save(INITIAL)");
  EXPECT_EQ(step(done()), "run(prepare_mapping)");
  EXPECT_EQ(step(prepared({})), "save(RELOAD_TABLE)");
  EXPECT_EQ(step(done()), "log(reload_table) acquire");
  EXPECT_EQ(step(mapping_event::of(mapping_event_kind::cursor_granted, day0)), "run(reload)");
  EXPECT_EQ(step(read("h1", 2)),
            "release log(reload_complete) timer(sweep,600s) timer(formula,3600s) synced timer(poll,120s)");
  EXPECT_EQ(step(mapping_event::of(mapping_event_kind::poll_due, day0)), "acquire");
  EXPECT_EQ(step(mapping_event::of(mapping_event_kind::cursor_granted, day0)), "run(poll)");
  EXPECT_EQ(step(read("h2", 1)), "release synced timer(poll,120s)");
  EXPECT_EQ(saved, (std::vector<std::string>{"INITIAL", "RELOAD_TABLE"}));
  EXPECT_EQ(describe(s), "DATA_SYNCED idle,hwm=h2,timers,calls=3");
}
