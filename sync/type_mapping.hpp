#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sync/mapping_config.hpp"

namespace syncforce {

// ---------------------------------------------------------------------------
// Salesforce field types and their PostgreSQL columns
// ---------------------------------------------------------------------------

/// A Salesforce field type as `describe` names it (`soapType` aside).
enum class sf_field_type {
  id,
  reference,
  string,
  textarea,
  picklist,
  multipicklist,
  combobox,
  email,
  phone,
  url,
  encryptedstring,
  boolean,
  int_,
  long_,
  double_,
  currency,
  percent,
  date,
  datetime,
  time,
  location, ///< geolocation compound field: two double columns
  address,  ///< compound address: not mapped (its parts are separate fields)
  base64,
  any_type,
  json,
  complexvalue,
};

/// Parses describe's name (`"string"`, `"anyType"`, `"int"`...); case-insensitive.
std::optional<sf_field_type> parse_sf_field_type(std::string_view name);
std::string_view to_string(sf_field_type t);

/// How a column's value is written in PostgreSQL's text input format.
enum class pg_value_kind {
  text,             ///< varchar(n) / text: the string as is
  double_precision, ///< numbers
  boolean,          ///< t / f
  date,             ///< YYYY-MM-DD
  timestamp,        ///< YYYY-MM-DD HH:MM:SS[.fff] in UTC, no zone
  time,             ///< HH:MM:SS[.fff]
  integer,          ///< the system `id` column
};

/// A column of a mapped table.
struct pg_column {
  std::string name;      ///< lowercase column name (`email__c`, `sfid`)
  std::string type;      ///< SQL type as written in DDL (`character varying(80)`)
  pg_value_kind kind = pg_value_kind::text;
  std::string sf_field;  ///< the Salesforce field it is read from (`Email__c`, `Id`)
  std::optional<std::int64_t> max_length; ///< for varchar(n): n
  bool sensitive = false; ///< an encrypted string: its value is never shown in errors or logs
};

/// The part of a describe result the type mapping needs.
struct sf_field_info {
  std::string name;                 ///< API name, e.g. `Email__c`
  sf_field_type type = sf_field_type::string;
  std::int64_t length = 0;          ///< describe `length` for text types
};

/// The PostgreSQL column(s) for a Salesforce field: the reference's table.
/// `Id` becomes `sfid`; a geolocation `Loc__c` becomes `loc__latitude__s` and
/// `loc__longitude__s`; an address yields no column.
std::vector<pg_column> columns_for_field(const sf_field_info& field);

/// The SQL type of one non-compound field (`character varying(18)`, ...).
std::string pg_type_for(sf_field_type type, std::int64_t length);
pg_value_kind value_kind_for(sf_field_type type);

/// The column for a relationship-by-external-id: `Account` + `External_Id__c`
/// -> `account__r__external_id__c`, typed like the parent's external id field.
pg_column relationship_column(std::string_view relationship_name, const sf_field_info& parent_field);

/// ASCII case folding of one character: API names and column names are ASCII.
inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

/// Whether two API names are the same ignoring ASCII case (`SystemModstamp`, `systemmodstamp`).
bool iequals(std::string_view a, std::string_view b);

/// Lowercases an API name into a column or table name (ASCII only).
std::string lowercase_name(std::string_view api_name);

/// The column name for a field: `Id` -> `sfid`, everything else lowercased.
std::string column_name_for(std::string_view api_name);

/// Whether a mapped column is one Heroku Connect always adds (`id`, `_hc_lastop`, `_hc_err`).
bool is_hc_system_column(std::string_view column);

// ---------------------------------------------------------------------------
// A mapped table's shape
// ---------------------------------------------------------------------------

/// One extra index of a mapped table (`hc_idx_<t>_<col>` / `hcu_idx_<t>_<col>`).
struct hc_index_spec {
  std::string column;
  bool unique = false;
};

/// Everything needed to create a mapped table the way Heroku Connect does.
/// `columns` are the mapped columns (with `sfid`), in order; `id`,
/// `_hc_lastop` and `_hc_err` are always added by the DDL.
struct hc_table_spec {
  std::string schema = "salesforce";
  std::string table;
  std::string object_name;
  mapping_access access = mapping_access::read_only;
  std::vector<pg_column> columns;
  std::vector<hc_index_spec> indexes; ///< besides sfid and systemmodstamp
  std::optional<std::string> upsert_column;
  bool ucs_basic_collation = false;   ///< feature ucs_basic_collation_index: sfid COLLATE ucs_basic

  const pg_column* find_column(std::string_view name) const;
};

/// Result of make_table_spec: the spec, or every field that could not be mapped.
struct table_spec_result {
  std::optional<hc_table_spec> spec;
  std::vector<std::string> errors;
  bool ok() const { return spec.has_value(); }
};

/// Builds a table spec from a mapping and the object's describe fields. A
/// mapped field `Rel__r__Ext__c` is a relationship-by-external-id column; its
/// type comes from a describe entry of that exact name if the caller adds one
/// (the parent's external id field), else `character varying(255)`.
table_spec_result make_table_spec(const std::string& schema, const mapping_config& mapping,
                                  const std::vector<sf_field_info>& describe,
                                  bool ucs_basic_collation = false);

// ---------------------------------------------------------------------------
// Salesforce wire values -> PostgreSQL text
// ---------------------------------------------------------------------------

/// A value converted for PostgreSQL; nullopt `text` is SQL NULL.
struct pg_value {
  std::optional<std::string> text;
  std::string error; ///< non-empty when the wire value could not be converted
  bool ok() const { return error.empty(); }
};

/// Converts one value as Salesforce sends it in CSV (Bulk) or as a JSON string
/// into the PostgreSQL input text for `kind`. `is_null` marks a null value
/// (in Bulk 2.0 CSV an empty field). Datetimes like `2013-05-20T20:49:32.000+0000`
/// become `2013-05-20 20:49:32` (UTC, no zone).
pg_value convert_wire_value(pg_value_kind kind, std::string_view wire, bool is_null = false);

/// Same for a value inside a REST JSON record (strings, numbers, booleans, null).
pg_value convert_json_value(pg_value_kind kind, const nlohmann::json& value);

/// Escapes a PostgreSQL text value for a COPY text-format field; NULL -> `\N`.
void append_copy_field(std::string& line, const std::optional<std::string>& value);

/// Escapes a (non-NULL) PostgreSQL text value for a COPY text-format field.
void append_copy_text(std::string& line, std::string_view value);

/// One row for COPY: values in PostgreSQL text input form, nullopt = NULL.
using pg_row = std::vector<std::optional<std::string>>;

/// Appends `row` as one COPY text line (fields escaped, tab-separated, no newline).
void append_copy_row(std::string& line, const pg_row& row);

/// Why a record cannot be loaded as it is (a read error), and what was cleaned.
struct record_problem {
  std::string field;   ///< the Salesforce field of the refused value (empty: none refused)
  std::string error;   ///< why, without the value
  std::string excerpt; ///< a short printable excerpt of the value (hidden for encrypted fields)
  unsigned cleaned = 0; ///< text_cleaning bits applied to the record's texts (sync/value_cleaning.hpp)
  bool refused() const { return !error.empty(); }
};

/// Turns Salesforce records (REST JSON or Bulk 2.0 CSV) into rows whose
/// values follow `columns()` (the spec's mapped columns, in order).
class wire_row_converter {
public:
  explicit wire_row_converter(const hc_table_spec& spec);

  /// Column names to load, in row order.
  const std::vector<std::string>& columns() const { return columns_; }
  /// How each column's value is written, in row order.
  const std::vector<pg_value_kind>& kinds() const { return kinds_; }

  /// The fields to SELECT in SOQL for these columns (`Id`, `Name`,
  /// `Loc__Latitude__s`, `Account.External_Id__c`, ...).
  const std::vector<std::string>& soql_fields() const { return fields_; }

  /// Binds a CSV header (field names as Salesforce writes them); returns the
  /// fields the header lacks (empty: all found).
  std::vector<std::string> bind_csv_header(const std::vector<std::string>& header);

  /// Converts one CSV record after bind_csv_header. An empty field is NULL
  /// (Salesforce has no empty strings). False with `error` on a bad value.
  bool convert_csv(const std::vector<std::string>& record, pg_row& out, std::string& error) const;

  /// Same, cleaning texts (NUL bytes removed, invalid UTF-8 replaced) and
  /// checking every value against its column (sync/value_cleaning.hpp):
  /// false with `problem` set for a value PostgreSQL would refuse; `problem.cleaned`
  /// says what was cleaned either way.
  bool convert_csv(const std::vector<std::string>& record, pg_row& out, record_problem& problem) const;

  /// Converts one record whose values are views (in the order bound by
  /// bind_csv_header; empty = NULL) and appends it to `line` as one COPY text
  /// line: the same bytes as convert_csv followed by copy_writer::format_line,
  /// and the same `problem`, but converted on views with no string per value
  /// (a load's decoding was the node's main CPU cost). Values that need
  /// cleaning or that are refused go through convert_csv. On false, `line`
  /// holds a partial row: the caller discards it.
  bool append_copy_line(const std::vector<std::string_view>& record, std::string& line,
                        record_problem& problem) const;

  /// Converts one REST record (`{"attributes":..., "Id": ..., "Account": {"External_Id__c": ...}}`).
  /// A missing field is NULL.
  bool convert_json(const nlohmann::json& record, pg_row& out, std::string& error) const;

private:
  bool append_copy_line_slowly(const std::vector<std::string_view>& record, std::string& line, std::size_t start,
                               record_problem& problem) const;

  std::vector<std::string> columns_;
  std::vector<std::string> fields_;
  std::vector<pg_value_kind> kinds_;
  std::vector<pg_column> specs_;
  std::vector<std::size_t> csv_index_;
};

} // namespace syncforce
