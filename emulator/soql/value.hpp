#pragma once

// SOQL values and field types: what a record hands to the evaluator, and the
// calendar helpers (days since epoch, ms since epoch) shared by parser and evaluator.

#include "sync/calendar.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sfemu::soql {

// ---- field types ----------------------------------------------------------

/// A field's describe type (the `type` of describe's `fields[]`).
enum class field_type : std::uint8_t {
  id,
  reference,
  string,
  textarea,
  picklist,
  multipicklist,
  combobox,
  boolean,
  integer,  ///< describe "int"
  double_,  ///< describe "double"
  currency,
  percent,
  date,
  datetime,
  time,
  phone,
  url,
  email,
  encryptedstring,
  base64,
  other,  ///< anyType, location, address, ...: neither filterable nor comparable here
};

/// The describe spelling ("int", "double", "datetime", ...).
std::string_view to_string(field_type type);

/// Parses a describe spelling; nullopt when unknown.
std::optional<field_type> field_type_from_string(std::string_view name);

/// True for types whose values are text (id, reference, string, picklist, email, ...).
bool is_text_type(field_type type);

/// True for integer, double, currency, percent.
bool is_numeric_type(field_type type);

// ---- values ---------------------------------------------------------------

/// What a value holds.
enum class value_kind : std::uint8_t { null, boolean, integer, decimal, string, date, datetime };

/// One field value of one record, as the evaluator sees it. Trivially copyable and
/// never allocating: strings are views into the record's storage (see record_view).
class value {
public:
  constexpr value() = default;

  static constexpr value null() { return value{}; }
  static constexpr value boolean(bool b) {
    value v;
    v.kind_ = value_kind::boolean;
    v.i_ = b ? 1 : 0;
    return v;
  }
  static constexpr value integer(std::int64_t i) {
    value v;
    v.kind_ = value_kind::integer;
    v.i_ = i;
    return v;
  }
  static constexpr value decimal(double d) {
    value v;
    v.kind_ = value_kind::decimal;
    v.d_ = d;
    return v;
  }
  static constexpr value string(std::string_view s) {
    value v;
    v.kind_ = value_kind::string;
    v.s_ = s;
    return v;
  }
  /// A calendar date as days since 1970-01-01.
  static constexpr value date(std::int64_t days) {
    value v;
    v.kind_ = value_kind::date;
    v.i_ = days;
    return v;
  }
  /// An instant as milliseconds since 1970-01-01T00:00:00Z.
  static constexpr value datetime(std::int64_t ms) {
    value v;
    v.kind_ = value_kind::datetime;
    v.i_ = ms;
    return v;
  }

  constexpr value_kind kind() const { return kind_; }
  constexpr bool is_null() const { return kind_ == value_kind::null; }
  constexpr bool as_bool() const { return i_ != 0; }
  /// integer, date (days) or datetime (ms) payload.
  constexpr std::int64_t as_int() const { return i_; }
  constexpr double as_double() const { return d_; }
  /// integer or decimal as a double.
  constexpr double as_number() const {
    return kind_ == value_kind::decimal ? d_ : static_cast<double>(i_);
  }
  constexpr std::string_view as_string() const { return s_; }

private:
  value_kind kind_ = value_kind::null;
  std::int64_t i_ = 0;
  double d_ = 0;
  std::string_view s_;
};

// ---- calendar -------------------------------------------------------------

constexpr std::int64_t ms_per_day = 86'400'000;

/// Days since 1970-01-01 of a proleptic Gregorian date (no validation), and back.
using syncforce::calendar::civil_date;
using syncforce::calendar::civil_from_days;
using syncforce::calendar::days_from_civil;

/// Floor division of ms by a day: the UTC day of an instant.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/// The local day number of an instant in a zone `tz_offset_minutes` east of UTC.
constexpr std::int64_t local_day(std::int64_t ms, std::int32_t tz_offset_minutes) {
  return floor_div(ms + std::int64_t{tz_offset_minutes} * 60'000, ms_per_day);
}

/// Parses `YYYY-MM-DD` (exactly); nullopt if malformed or not a real date.
std::optional<std::int64_t> parse_date(std::string_view text);

/// Parses `YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm|+hhmm)` into ms since epoch (UTC).
std::optional<std::int64_t> parse_datetime(std::string_view text);

/// `2024-01-31`.
std::string format_date(std::int64_t days);

/// Salesforce's REST output shape: `2013-05-20T20:49:32.000+0000`.
std::string format_datetime(std::int64_t ms);

} // namespace sfemu::soql
