#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syncforce {

// ---------------------------------------------------------------------------
// What the engine asks Salesforce: SOQL for loads and polls, and the
// high-water-mark rules (pure, no I/O)
// ---------------------------------------------------------------------------
//
// Keyset rule: the mark is a (stamp, Id) pair, the largest one already
// written. A poll selects `SystemModstamp > t OR (SystemModstamp = t AND
// Id > 'id')` ordered by SystemModstamp, Id: records sharing one stamp across
// a page or poll boundary are neither missed nor read again, so an idle poll
// reads nothing however many records share the mark's stamp. A mark without
// an Id (stored before keyset polls, or set by an admin command) selects
// `SystemModstamp >= t` once, like before, and the poll stores the Id it
// reached. The upserts are idempotent (and never go back in SystemModstamp),
// so reading a record twice is harmless; missing one is not.
//
// Settling: Salesforce keeps stamps to the second, so a record read at stamp
// t can be changed again within that same second and keep t; a transaction
// can also commit a little after its stamp. The keyset Id is therefore kept
// only for stamps older than a settling window (a minute in production): a
// mark within it has no Id, so its stamp is read again with `>=` until it
// settles. An idle poll over a tie reads nothing once the tie is a minute old.

/// The default number of records above which a load uses Bulk 2.0.
constexpr long default_bulk_threshold = 10000;

/// The field a mapping polls on: SystemModstamp when mapped, else LastModifiedDate;
/// nullopt when neither is mapped (the mapping can only be reloaded).
std::optional<std::string> modstamp_field(const std::vector<std::string>& mapped_fields);

/// Whether `id` is a Salesforce id (15 or 18 letters and digits), safe inside a SOQL literal.
bool is_salesforce_id(std::string_view id);

/// The keyset filter of a poll: `<stamp> > <since> OR (<stamp> = <since> AND Id > '<after_id>')`,
/// or `<stamp> >= <since>` without an id. Throws std::invalid_argument when
/// `after_id` is not a Salesforce id.
std::string keyset_filter(std::string_view stamp_field, std::string_view since,
                          const std::optional<std::string>& after_id);

/// `SELECT COUNT() FROM <object>` (with the poll's keyset filter when `since` is given).
std::string count_soql(std::string_view object, const std::optional<std::string>& stamp_field = std::nullopt,
                       const std::optional<std::string>& since = std::nullopt,
                       const std::optional<std::string>& after_id = std::nullopt);

/// The full load: `SELECT <fields> FROM <object>`.
std::string load_soql(const std::vector<std::string>& fields, std::string_view object);

/// A resumable REST load: `SELECT <fields> FROM <object> [WHERE Id > '<after_id>'] ORDER BY Id ASC`.
/// Throws std::invalid_argument when `after_id` is not a Salesforce id (15 or 18 letters and digits).
std::string load_soql_by_id(const std::vector<std::string>& fields, std::string_view object,
                            const std::optional<std::string>& after_id = std::nullopt);

/// The newest (stamp, Id) before a load reads anything, where its polls start:
/// `SELECT Id, <stamp> FROM <object> ORDER BY <stamp> DESC, Id DESC LIMIT 1` (run with queryAll).
std::string latest_stamp_soql(std::string_view object, std::string_view stamp_field);

/// The mark of an object with no records yet: every record is newer.
constexpr const char* epoch_mark = "1970-01-01T00:00:00.000Z";

/// A poll: `SELECT <fields> FROM <object> WHERE <keyset_filter> ORDER BY <stamp> ASC, Id ASC`.
std::string poll_soql(const std::vector<std::string>& fields, std::string_view object, std::string_view stamp_field,
                      std::string_view since, const std::optional<std::string>& after_id = std::nullopt);

/// Whether a load or poll of `count` records goes through Bulk 2.0.
inline bool use_bulk(long count, long threshold) { return threshold > 0 && count > threshold; }

/// A timestamp in the canonical form `YYYY-MM-DDTHH:MM:SS.mmmZ` (also a SOQL
/// datetime literal), from Salesforce (`2024-01-02T03:04:05.000+0000`) or
/// PostgreSQL (`2024-01-02 03:04:05[.f]`) text; nullopt when unparsable.
std::optional<std::string> canonical_timestamp(std::string_view text);

/// Orders two Salesforce ids the way SOQL's `Id >` does for 18-character ids
/// (ASCII case folded: 18-character ids are unique ignoring case); <0, 0, >0.
int compare_ids(std::string_view a, std::string_view b);

/// Tracks the largest (stamp, Id) seen (canonical stamps compare as strings,
/// ids by compare_ids). Pages need not be ordered: Bulk results are not.
class high_water_mark {
public:
  high_water_mark() = default;
  explicit high_water_mark(std::optional<std::string> start, std::optional<std::string> start_id = std::nullopt);

  /// Stamps at or after `cutoff` (canonical) have not settled: a mark there
  /// keeps no Id (see Settling above). Applies to the start mark too.
  void unsettled_from(std::string cutoff);

  /// Notes one record's stamp (any form canonical_timestamp takes) and Id
  /// (empty: unknown); false if the stamp is unparsable.
  bool see(std::string_view stamp, std::string_view id = {});
  /// For records that come in the server's keyset order (REST poll pages):
  /// the mark becomes this record's (stamp, Id) unless its stamp is below the
  /// mark. The server's Id order wins over compare_ids, so the next keyset
  /// poll starts exactly after the last record read; false if unparsable.
  bool reach(std::string_view stamp, std::string_view id);
  const std::optional<std::string>& value() const { return value_; }
  /// The largest Id seen at value(); nullopt when none was (a mark without id).
  const std::optional<std::string>& id() const { return id_; }
  /// Whether the mark moved past `start` (stamp or id).
  bool advanced() const { return value_ != start_ || id_ != start_id_; }

private:
  void settle();

  std::optional<std::string> start_;
  std::optional<std::string> start_id_;
  std::optional<std::string> value_;
  std::optional<std::string> id_;
  std::optional<std::string> cutoff_;
};

/// The Id a poll may use with the mark `stamp` (canonical): `id` when the
/// stamp is older than `cutoff`, else nullopt (the stamp is read with `>=`).
std::optional<std::string> settled_mark_id(const std::string& stamp, const std::optional<std::string>& id,
                                           const std::string& cutoff);

/// The canonical timestamp `window` before `now` (the settling cutoff).
std::string settling_cutoff(std::chrono::system_clock::time_point now, std::chrono::seconds window);

} // namespace syncforce
