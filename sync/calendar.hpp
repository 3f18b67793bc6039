#pragma once

// Calendar arithmetic and fixed-width digit reading shared by the wire-value
// conversion (sync/type_mapping.cpp) and the binary COPY encoder
// (store/copy_binary.cpp): one proleptic Gregorian calendar for both.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace syncforce::calendar {

/// Reads exactly `n` decimal digits of `s` at `pos` into `out`; false if any is not a digit or `s` is too short.
inline bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

inline bool leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/// Days of month `m` (1-12) of year `y`.
inline int days_in_month(int y, int m) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap_year(y) ? 29 : days[m - 1];
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

} // namespace syncforce::calendar
