#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syncforce {

// ---------------------------------------------------------------------------
// Read repair: the look-back sweep and formula drift repair (pure, no I/O)
// ---------------------------------------------------------------------------
//
// Sweep: a record whose transaction committed after a poll had read past its
// SystemModstamp (a late commit) is below the mark and no poll reads it. The
// sweep asks Salesforce only `Id, <stamp>, IsDeleted` of the records stamped
// within a look-back window that ends at the mark (records above it are the
// polls'), keyset-paged like a poll, compares with the table, and fetches in
// full only the records whose stamp differs or that are missing (or deleted in
// Salesforce and still in the table). The fetched records go through the
// poll's upsert, which never goes back in SystemModstamp: a sweep racing a
// poll cannot write an older version over a newer one.
//
// Formula repair: formula and roll-up summary fields change without touching
// SystemModstamp. A repair reads `Id` and the mapped calculated fields of every
// record and updates only the rows whose values differ, on the engine's
// session (no trigger-log entry, no echo).

/// The window a sweep looks at: `<stamp> >= from AND <stamp> <= to` (canonical stamps).
struct sweep_window {
  std::string from;
  std::string to;

  friend bool operator==(const sweep_window& a, const sweep_window& b) { return a.from == b.from && a.to == b.to; }
};

/// The window of a sweep at `now` over the last `look_back`, ending at the
/// mark (canonical; the newest stamp polls applied). nullopt when the mark is
/// older than the window's start (nothing there can be a late commit polls
/// missed: they read everything above the mark) or unparsable.
///
/// A late commit becomes visible within `look_back` of its stamp, so the last
/// sweep saw every late record stamped before `last_sweep_started - look_back`.
/// When that sweep started earlier than now (sweeps blocked, the node down, the
/// lease moved), the window starts at `last_sweep_started - look_back` instead:
/// what became visible since is never skipped, however long no sweep ran.
std::optional<sweep_window> sweep_window_at(std::chrono::system_clock::time_point now, std::chrono::seconds look_back,
                                            const std::string& mark,
                                            const std::optional<std::string>& last_sweep_started = std::nullopt);

/// One page of a sweep: `SELECT Id, <stamp>, IsDeleted FROM <object> WHERE <stamp> >= from AND <stamp> <= to
/// [AND (<keyset after (after_stamp, after_id)>)] ORDER BY <stamp> ASC, Id ASC LIMIT <limit>` (run with queryAll).
/// Throws std::invalid_argument when `after_id` is not a Salesforce id.
std::string sweep_soql(std::string_view object, std::string_view stamp_field, const sweep_window& window,
                       const std::optional<std::string>& after_stamp, const std::optional<std::string>& after_id,
                       long limit);

/// What Salesforce says of one record in the window.
struct remote_stamp {
  std::string id;
  std::string stamp; ///< canonical
  bool deleted = false;
};

/// What the table holds of one record: its stamp (canonical; empty when NULL).
struct local_stamp {
  std::string sfid;
  std::string stamp;
};

/// The records to fetch and why.
struct sweep_diff {
  std::vector<std::string> fetch; ///< ids, in the order of `remote`
  std::size_t missing = 0;        ///< not in the table
  std::size_t stale = 0;          ///< in the table with another stamp
  std::size_t deleted = 0;        ///< deleted in Salesforce, still in the table
};

/// Compares one page of the window with the table's rows of those ids:
/// a record is fetched when it is not in the table (unless deleted), when its
/// stamp differs, or when it is deleted and still in the table.
sweep_diff diff_sweep(const std::vector<remote_stamp>& remote, const std::vector<local_stamp>& local);

/// `SELECT <fields> FROM <object> WHERE Id IN ('a', 'b', ...)` (run with queryAll
/// so a deleted record comes back with IsDeleted = true). Throws
/// std::invalid_argument when an id is not a Salesforce id or `ids` is empty.
std::string fetch_by_ids_soql(const std::vector<std::string>& fields, std::string_view object,
                              const std::vector<std::string>& ids);

/// Ids per fetch query: short enough for a GET URL, few enough calls.
constexpr std::size_t fetch_ids_per_query = 200;

/// Records per sweep page (the REST page size: one call per page).
constexpr long sweep_page_records = 2000;

/// The calculated fields a repair reads: those of `mapped` that describe calls
/// calculated (formula, roll-up summary), never Id or the system fields a poll
/// compares by, in `mapped`'s order.
std::vector<std::string> repair_fields(const std::vector<std::string>& mapped,
                                       const std::vector<std::string>& calculated);

} // namespace syncforce
