#pragma once

// The parsed (unbound) form of a SOQL query. Names are kept as written; byte
// offsets into the query text let bind() point at the offending token.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sfemu::soql {

/// A dotted field path as written, e.g. `Account.Owner.Name` -> {"Account","Owner","Name"}.
struct field_path {
  std::vector<std::string> parts;
  std::vector<std::size_t> offsets;  ///< byte offset of each part in the query text
  std::string text() const;          ///< the parts joined with '.'
};

/// The period of a relative date literal (TODAY is a day, THIS_MONTH a month, ...).
enum class date_period : std::uint8_t { day, week, month, quarter, year };

/// Which periods a relative date literal covers, relative to the current one:
/// TODAY = this_ day, YESTERDAY = last day, LAST_N_DAYS:n = last_n days (today included,
/// as Salesforce does), NEXT_N_DAYS:n = next_n days (today excluded), N_DAYS_AGO:n = n_ago.
/// For weeks, months, quarters and years, last_n excludes the current period. Weeks start
/// on Sunday (the en_US locale). Every literal is a range of whole local days.
enum class relative_unit : std::uint8_t { this_, last, next, last_n, next_n, n_ago };

/// A literal in a WHERE clause.
struct literal {
  enum class kind : std::uint8_t { null, boolean, integer, decimal, string, date, datetime, time, relative };
  kind type = kind::null;
  bool boolean = false;
  std::int64_t integer = 0;   ///< integer; date (days); datetime (ms); time (ms of the day); relative: n
  double decimal = 0;         ///< decimal (also set for integer)
  std::string text;           ///< string: decoded value; others: the token as written
  std::string like_pattern;   ///< string: the value with wildcards kept distinct (see like.hpp)
  relative_unit relative = relative_unit::this_;
  date_period period = date_period::day;
  std::size_t offset = 0;
};

/// Comparison operators.
enum class comparison_op : std::uint8_t { eq, ne, lt, le, gt, ge, like, in, not_in, includes, excludes };

/// A date function applied to the field of a condition (`CALENDAR_YEAR(CreatedDate) = 2024`).
/// Datetimes are taken in UTC, as Salesforce does without convertTimezone().
enum class date_function : std::uint8_t {
  none, calendar_month, calendar_quarter, calendar_year, day_in_month, day_in_week, day_in_year, day_only,
  fiscal_month, fiscal_quarter, fiscal_year, hour_in_day, week_in_month, week_in_year
};

/// `field op value` or `field IN (values)`.
struct condition {
  field_path field;
  date_function function = date_function::none;  ///< applied to the field's value first
  std::string function_name;                     ///< as written
  comparison_op op = comparison_op::eq;
  std::vector<literal> values;  ///< one for scalar operators, one or more for IN/NOT IN/INCLUDES/EXCLUDES
  std::size_t op_offset = 0;
};

/// A boolean expression node of WHERE.
struct expr {
  enum class kind : std::uint8_t { and_, or_, not_, condition };
  kind type = kind::condition;
  std::vector<std::unique_ptr<expr>> children;  ///< and_/or_: two or more; not_: one
  condition cond;                               ///< when type == condition
};

/// One ORDER BY key.
struct order_key {
  field_path field;
  bool descending = false;
  bool nulls_last = false;  ///< defaults: ASC -> NULLS FIRST, DESC -> NULLS LAST
};

/// A parsed SOQL query.
struct query {
  std::string text;                  ///< the query as given (for error pointers)
  bool count_only = false;           ///< SELECT COUNT()
  std::vector<field_path> fields;    ///< selected fields, in query order (empty if count_only)
  std::string object;                ///< FROM, as written
  std::size_t object_offset = 0;
  std::unique_ptr<expr> where;       ///< null without WHERE
  std::vector<order_key> order_by;
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> offset;
};

} // namespace sfemu::soql
