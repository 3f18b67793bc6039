#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sync/csv.hpp"
#include "sync/hstore.hpp"
#include "sync/mapping_config.hpp"
#include "sync/type_mapping.hpp"

namespace syncforce {

// ---------------------------------------------------------------------------
// PostgreSQL -> Salesforce: values, records and Bulk 2.0 CSV (pure, no I/O)
// ---------------------------------------------------------------------------
//
// The input is PostgreSQL's text output of a column, as a `_trigger_log`
// hstore holds it (`values`/`old`), nullopt being SQL NULL. The output is what
// Salesforce accepts:
//
// | pg_value_kind    | PostgreSQL text                    | JSON (REST)                  | CSV (Bulk 2.0)           |
// |------------------|------------------------------------|------------------------------|--------------------------|
// | boolean          | `t` `f` `true` `false` (any case)  | true / false                 | `true` / `false`         |
// | double_precision | `12`, `-1.5`, `1e+15`, `1.5e-05`   | number; integral -> integer  | plain decimal `1000000000000000`, `0.000015` |
// | integer          | `-42`                              | integer                      | `-42`                    |
// | date             | `2024-02-29`                       | `"2024-02-29"`               | `2024-02-29`             |
// | timestamp (UTC)  | `2024-01-02 03:04:05[.ffffff]`     | `"2024-01-02T03:04:05.000Z"` | same text                |
// | time             | `03:04:05[.ffffff]`                | `"03:04:05.000Z"`            | same text                |
// | text             | anything (valid UTF-8)             | the string                   | the string; `""` -> `#N/A` |
// | SQL NULL         |                                    | null                         | `#N/A`                   |
//
// Fractions of seconds are truncated to milliseconds (Salesforce keeps no
// more). A timestamp may carry a zero zone (`Z`, `+00`, `+00:00`); another
// zone, `infinity`, BC dates, years past 9999, `NaN`/`Infinity` and anything
// malformed is an error naming the column and the value. Salesforce has no
// empty strings, and an empty Bulk 2.0 cell means "leave as is", so an empty
// text becomes `#N/A` in CSV (and stays `""` in JSON, which Salesforce stores
// as null).

/// Why a value cannot be sent; empty when it can.
struct sf_value_error {
  std::string column;
  std::string value;   ///< the offending text, cut at 100 bytes
  std::string reason;  ///< `not a number`, `not a timestamp`...
  /// `column amount__c: not a number: 'abc'`.
  std::string to_string() const;
};

/// A value for a REST (sObject Collections) record.
struct sf_json_value {
  nlohmann::json value;               ///< null for SQL NULL
  std::optional<sf_value_error> error;
  bool ok() const { return !error.has_value(); }
};

/// A value for a Bulk 2.0 CSV cell.
struct sf_csv_value {
  std::optional<std::string> text;    ///< nullopt: write `#N/A` (set to null)
  std::optional<sf_value_error> error;
  bool ok() const { return !error.has_value(); }
};

/// Converts a column's PostgreSQL text for a REST record. `column` only names
/// the column in errors.
sf_json_value to_sf_json(pg_value_kind kind, const std::optional<std::string>& pg_text,
                         std::string_view column = {});

/// Converts a column's PostgreSQL text for a Bulk 2.0 CSV cell.
sf_csv_value to_sf_csv(pg_value_kind kind, const std::optional<std::string>& pg_text,
                       std::string_view column = {});

// ---------------------------------------------------------------------------
// What Salesforce lets a write set (from describe)
// ---------------------------------------------------------------------------

/// Case-insensitive (ASCII) ordering: Salesforce API names ignore case.
struct iless {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

/// A set of API names compared without case.
using api_name_set = std::set<std::string, iless>;

/// The write operation a record is built for. `upsert` sends what `create`
/// does (an upsert of a new row must be able to create it).
enum class sf_write_op { create, update, upsert };

/// A lookup relationship a child can set by the parent's external id.
struct sf_relationship {
  std::string name;         ///< as describe spells it: `Account`, `Parent__r`
  std::string lookup_field; ///< the reference field: `AccountId`, `Parent__c`
};

/// The fields a write may set, by operation; see writable_fields().
struct sf_writable_fields {
  api_name_set createable;
  api_name_set updateable;
  /// Lookup relationships by relationship name (case-insensitive). When a
  /// relationship column's name is not found here, `<Rel>__r` (custom) and
  /// then `<Rel>` (standard) are tried against `<Rel>__c` / `<Rel>Id` in the
  /// sets.
  std::map<std::string, sf_relationship, iless> relationships;

  /// Whether `api_name` may be sent for `op` (never for the fields Salesforce
  /// always fills, see is_never_writable()).
  bool allows(std::string_view api_name, sf_write_op op) const;
};

/// Fields Salesforce fills itself and a sync never sends, whatever describe
/// says: `Id`, `SystemModstamp`, `CreatedDate`, `CreatedById`,
/// `LastModifiedDate`, `LastModifiedById`, `IsDeleted`.
bool is_never_writable(std::string_view api_name);

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------
//
// Which columns of an hstore become fields:
// - `id`, `sfid`, `_hc_lastop`, `_hc_err` are dropped (the caller adds `Id`
//   for updates);
// - a column of the spec whose field the operation may not set (see
//   sf_writable_fields::allows) is dropped and listed in `skipped`;
// - a relationship column `account__r__external_id__c` (sf_field
//   `Account.External_Id__c`) becomes `"Account": {"External_Id__c": "X"}` in
//   JSON and the header `Account.External_Id__c` in CSV. Its lookup field
//   (`AccountId`) decides whether it is writable. A NULL value leaves the
//   lookup out (never sends null). When it has a value, the lookup field's own
//   column (`accountid`, typically still NULL on a new child) is not sent in
//   that record, so the two never conflict.
// - a column that is not in the spec is an error listing all of them.

/// A REST record, or why it cannot be built.
struct sf_record_result {
  nlohmann::json record = nlohmann::json::object(); ///< no `attributes`, no `Id`
  std::vector<std::string> skipped;          ///< columns not sent (not writable)
  std::vector<std::string> unknown_columns;  ///< columns not in the spec
  std::vector<sf_value_error> bad_values;
  std::string error;                         ///< empty when ok; all problems, `; `-separated
  bool ok() const { return error.empty(); }
};

/// Builds the REST record for the changed columns `values` of a row of `spec`.
sf_record_result build_sf_record(const hc_table_spec& spec, const hstore& values,
                                 const sf_writable_fields& writable, sf_write_op op);

/// A Bulk 2.0 ingest CSV, or why it cannot be built.
struct sf_csv_result {
  std::string csv;                      ///< header + one line per row
  std::vector<std::string> header;      ///< field names, in spec column order
  std::size_t rows = 0;
  std::vector<std::string> skipped;     ///< columns not sent (not writable), once each
  std::vector<std::string> unknown_columns;
  /// Bad values with their row (0-based index into the input rows).
  std::vector<std::pair<std::size_t, sf_value_error>> bad_values;
  std::string error;                    ///< empty when ok; all problems, `; `-separated
  bool ok() const { return error.empty(); }
};

/// Builds the CSV of several rows: the header is the union of the fields the
/// rows send, in the spec's column order; a row that does not have a column
/// leaves its cell empty ("not set"), SQL NULL is `#N/A`; null row pointers
/// are skipped. Quoting is the
/// project's CSV writer's (`sync/csv.hpp`), with `options` (delimiter and line
/// ending must match the ingest job's).
sf_csv_result build_sf_csv(const hc_table_spec& spec, const std::vector<const hstore*>& rows,
                           const sf_writable_fields& writable, sf_write_op op,
                           const csv::write_options& options = {});

// ---------------------------------------------------------------------------
// `_hc_err`
// ---------------------------------------------------------------------------

/// The `_hc_err` text of a failed write, one JSON object with keys in this order:
/// `{"op":"INSERT","src":"SFDC","code":"REQUIRED_FIELD_MISSING","msg":"Required fields are missing: [LastName]","fields":["LastName"]}`
/// - `op`: the trigger-log action (`INSERT`, `UPDATE`, `DELETE`);
/// - `src`: who refused: `SFDC` (Salesforce) or `SYNCFORCE` (the engine, e.g. a bad value);
///   when `src` is empty: `SYNCFORCE` for codes starting `SYNCFORCE_`, else `SFDC`;
/// - `code`: Salesforce's `statusCode`/`errorCode`;
/// - `msg`: the message;
/// - `fields`: the fields Salesforce named (possibly empty).
/// Invalid UTF-8 in the texts is replaced by U+FFFD.
std::string hc_error_json(std::string_view op, std::string_view code, std::string_view message,
                          const std::vector<std::string>& fields, std::string_view src = {});

// ---------------------------------------------------------------------------
// Validation of a read-write mapping against describe
// ---------------------------------------------------------------------------

/// The describe facts about one field that writing needs.
struct sf_field_rules {
  std::string name;              ///< API name
  std::string type;              ///< describe type: `string`, `boolean`, `reference`...
  bool nillable = true;
  bool createable = false;
  bool updateable = false;
  bool defaulted_on_create = false;
  bool unique = false;
  bool external_id = false;
  bool id_lookup = false;
  bool calculated = false;
  std::string relationship_name; ///< lookups: `Account`, `Parent__r`; empty otherwise
};

/// The fields to send for each operation, from describe: createable /
/// updateable, never calculated ones nor is_never_writable() ones; and the
/// lookup relationships (fields with a relationship_name).
sf_writable_fields writable_fields(const std::vector<sf_field_rules>& fields);

/// Whether describe says an insert must set the field: createable, not
/// nillable, not defaulted on create, not a boolean (false by default), not
/// calculated, and not one Salesforce fills (`Id`, `OwnerId`, audit fields).
bool required_to_insert(const sf_field_rules& field);

/// Every reason `mapping` cannot write to Salesforce (empty: fine). Read-only
/// mappings are always fine. Messages:
/// - `read_write mapping of Contact needs an upsert_field: a unique External ID field in Salesforce`
/// - `upsert_field Ext__c does not exist on Contact`
/// - `upsert_field Ext__c must be a unique External ID field in Salesforce`
/// - `Fields needed for insertion to Salesforce need to be mapped: LastName, Company`
///   (describe order; a required lookup counts as mapped when a relationship
///   column `<Rel>__r__<Ext>` of its relationship is).
std::vector<std::string> validate_write_mapping(const mapping_config& mapping,
                                                const std::vector<sf_field_rules>& fields);

} // namespace syncforce
