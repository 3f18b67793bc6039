#pragma once

// Calendar arithmetic, fixed-width digit and ISO date reading shared by the wire-value
// conversion (sync/type_mapping.cpp), the binary COPY encoder
// (store/copy_binary.cpp) and sfemu's SOQL values (emulator/soql/value.cpp):
// one proleptic Gregorian calendar for all three. Header-only, no dependencies.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace syncforce::calendar {

/// Reads exactly `n` decimal digits of `s` at `pos` into `out`; false (out
/// unchanged) if any is not a digit or `s` is too short.
inline bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

inline bool leap_year(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/// Days of month `m` (1-12) of year `y`.
inline int days_in_month(std::int64_t y, int m) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/// The parts of a `YYYY-MM-DD` date.
struct ymd {
  int year = 0, month = 0, day = 0;
};

/// Reads `YYYY-MM-DD` at `pos` of `s`: four year digits (any year, 0000 included), a month 1-12 and a day
/// that month has. On success `pos` moves past it; on failure `pos` and `out` are unchanged.
inline bool read_date(std::string_view s, std::size_t& pos, ymd& out) {
  ymd d;
  if (!digits(s, pos, 4, d.year) || pos + 10 > s.size() || s[pos + 4] != '-' || !digits(s, pos + 5, 2, d.month) ||
      s[pos + 7] != '-' || !digits(s, pos + 8, 2, d.day))
    return false;
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > days_in_month(d.year, d.month))
    return false;
  pos += 10;
  out = d;
  return true;
}

/// Days from 1970-01-01 (Howard Hinnant's civil calendar algorithm, public domain description).
inline std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

/// A date of the proleptic Gregorian calendar.
struct civil_date {
  std::int64_t year;
  unsigned month; ///< 1-12
  unsigned day;   ///< 1-31
};

/// The date `z` days from 1970-01-01 (the inverse of days_from_civil).
inline civil_date civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

} // namespace syncforce::calendar
