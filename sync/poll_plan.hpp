#pragma once

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
// Overlap rule: a poll selects `SystemModstamp >= hwm` (not `>`), ordered by
// SystemModstamp, and the high-water mark only moves to the largest stamp
// already written. Records sharing one stamp across a page or poll boundary
// are therefore read again rather than missed; the upserts are idempotent
// (and never go back in SystemModstamp), so reading a record twice is harmless.

/// The default number of records above which a load uses Bulk 2.0.
constexpr long default_bulk_threshold = 10000;

/// The field a mapping polls on: SystemModstamp when mapped, else LastModifiedDate;
/// nullopt when neither is mapped (the mapping can only be reloaded).
std::optional<std::string> modstamp_field(const std::vector<std::string>& mapped_fields);

/// `SELECT COUNT() FROM <object>` (with the poll filter when `since` is given).
std::string count_soql(std::string_view object, const std::optional<std::string>& stamp_field = std::nullopt,
                       const std::optional<std::string>& since = std::nullopt);

/// The full load: `SELECT <fields> FROM <object>`.
std::string load_soql(const std::vector<std::string>& fields, std::string_view object);

/// A resumable REST load: `SELECT <fields> FROM <object> [WHERE Id > '<after_id>'] ORDER BY Id ASC`.
/// Throws std::invalid_argument when `after_id` is not a Salesforce id (15 or 18 letters and digits).
std::string load_soql_by_id(const std::vector<std::string>& fields, std::string_view object,
                            const std::optional<std::string>& after_id = std::nullopt);

/// The newest stamp before a load reads anything, where its polls start:
/// `SELECT <stamp> FROM <object> ORDER BY <stamp> DESC LIMIT 1` (run with queryAll).
std::string latest_stamp_soql(std::string_view object, std::string_view stamp_field);

/// The mark of an object with no records yet: every record is newer.
constexpr const char* epoch_mark = "1970-01-01T00:00:00.000Z";

/// A poll: `SELECT <fields> FROM <object> WHERE <stamp> >= <since> ORDER BY <stamp> ASC`.
std::string poll_soql(const std::vector<std::string>& fields, std::string_view object, std::string_view stamp_field,
                      std::string_view since);

/// Whether a load or poll of `count` records goes through Bulk 2.0.
inline bool use_bulk(long count, long threshold) { return threshold > 0 && count > threshold; }

/// A timestamp in the canonical form `YYYY-MM-DDTHH:MM:SS.mmmZ` (also a SOQL
/// datetime literal), from Salesforce (`2024-01-02T03:04:05.000+0000`) or
/// PostgreSQL (`2024-01-02 03:04:05[.f]`) text; nullopt when unparsable.
std::optional<std::string> canonical_timestamp(std::string_view text);

/// Tracks the largest stamp seen (canonical forms compare as strings).
class high_water_mark {
public:
  high_water_mark() = default;
  explicit high_water_mark(std::optional<std::string> start);

  /// Notes one record's stamp (any form canonical_timestamp takes); false if unparsable.
  bool see(std::string_view stamp);
  const std::optional<std::string>& value() const { return value_; }
  /// Whether the mark moved past `start`.
  bool advanced() const { return value_ != start_; }

private:
  std::optional<std::string> start_;
  std::optional<std::string> value_;
};

} // namespace syncforce
