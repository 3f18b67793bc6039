#include "emulator/value.hpp"

#include "emulator/soql/value.hpp"

#include <cctype>
#include <cstdio>
#include <mutex>
#include <unordered_map>

namespace sfemu {

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    --q;
  return q;
}

/// Reads exactly `n` digits at `pos`.
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9')
      return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

bool valid_ymd(int y, int m, int d) {
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1 || m < 1 || m > 12 || d < 1)
    return false;
  int max = mdays[m - 1];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
    max = 29;
  return d <= max;
}

} // namespace

value value::of_atom(std::string_view s) {
  static std::mutex mutex;
  // Never destroyed: atoms live as long as the process, and values that share
  // them may still exist while static destructors run.
  static auto& pool = *new std::unordered_map<std::string, char*>;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = pool.find(std::string(s));
  char* p;
  if (it != pool.end()) {
    p = it->second;
  } else {
    value tmp = of_string(s);
    p = tmp.s_;
    tmp.kind_ = kind::null; // keep the buffer: the pool owns it for good
    pool.emplace(std::string(s), p);
  }
  value v;
  v.kind_ = kind::string;
  v.atom_ = true;
  v.s_ = p;
  return v;
}


namespace {
void put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10 % 10);
  p[1] = static_cast<char>('0' + v % 10);
}
} // namespace

std::string format_datetime(std::int64_t epoch_ms) {
  std::int64_t days = floor_div(epoch_ms, 86400000);
  auto rem = static_cast<unsigned>(epoch_ms - days * 86400000);
  soql::civil_date c = soql::civil_from_days(days);
  if (c.year < 0 || c.year > 9999) {
    char buf[96]; // room for what the compiler cannot rule out (it sees the calendar inline)
    std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02u:%02u:%02u.%03u+0000", static_cast<long long>(c.year), c.month,
                  c.day, rem / 3600000, rem / 60000 % 60, rem / 1000 % 60, rem % 1000);
    return buf;
  }
  // fixed width: YYYY-MM-DDTHH:MM:SS.mmm+0000 (formatted by hand: this is on every query page)
  std::string out(28, '0');
  char* p = &out[0];
  auto y = static_cast<unsigned>(c.year);
  put2(p, y / 100);
  put2(p + 2, y % 100);
  p[4] = '-';
  put2(p + 5, c.month);
  p[7] = '-';
  put2(p + 8, c.day);
  p[10] = 'T';
  put2(p + 11, rem / 3600000);
  p[13] = ':';
  put2(p + 14, rem / 60000 % 60);
  p[16] = ':';
  put2(p + 17, rem / 1000 % 60);
  p[19] = '.';
  unsigned ms = rem % 1000;
  p[20] = static_cast<char>('0' + ms / 100);
  put2(p + 21, ms % 100);
  p[23] = '+';
  return out;
}

std::string format_date(std::int64_t epoch_days) {
  soql::civil_date c = soql::civil_from_days(epoch_days);
  char buf[48]; // room for what the compiler cannot rule out (it sees the calendar inline)
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", static_cast<long long>(c.year), c.month, c.day);
  return buf;
}

std::string format_time(std::int64_t ms) {
  ms = ((ms % 86400000) + 86400000) % 86400000;
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%02d:%02d:%02d.%03dZ", static_cast<int>(ms / 3600000),
                static_cast<int>(ms / 60000 % 60), static_cast<int>(ms / 1000 % 60),
                static_cast<int>(ms % 1000));
  return buf;
}

std::optional<std::int64_t> parse_date(std::string_view s) {
  int y, m, d;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, m) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return std::nullopt;
  if (!valid_ymd(y, m, d))
    return std::nullopt;
  if (s.size() > 10 && s[10] != 'T' && s[10] != ' ')
    return std::nullopt;
  return soql::days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::optional<std::int64_t> parse_time(std::string_view s) {
  int h, mi, se = 0, ms = 0;
  if (!digits(s, 0, 2, h) || s.size() < 5 || s[2] != ':' || !digits(s, 3, 2, mi))
    return std::nullopt;
  std::size_t pos = 5;
  if (pos < s.size() && s[pos] == ':') {
    if (!digits(s, pos + 1, 2, se))
      return std::nullopt;
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int scale = 100;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
        ms += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
    }
  }
  if (pos < s.size() && s[pos] == 'Z')
    ++pos;
  if (pos != s.size() || h > 23 || mi > 59 || se > 60)
    return std::nullopt;
  return ((h * 60 + mi) * 60 + se) * 1000LL + ms;
}

std::optional<std::int64_t> parse_datetime(std::string_view s) {
  auto days = parse_date(s);
  if (!days)
    return std::nullopt;
  if (s.size() == 10)
    return *days * 86400000;
  std::size_t pos = 11;
  int h, mi, se = 0, ms = 0;
  if (!digits(s, pos, 2, h) || pos + 5 > s.size() || s[pos + 2] != ':' || !digits(s, pos + 3, 2, mi))
    return std::nullopt;
  pos += 5;
  if (pos < s.size() && s[pos] == ':') {
    if (!digits(s, pos + 1, 2, se))
      return std::nullopt;
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int scale = 100;
      std::size_t start = pos;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
        ms += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start)
        return std::nullopt;
    }
  }
  if (h > 23 || mi > 59 || se > 60)
    return std::nullopt;
  std::int64_t offset_min = 0;
  if (pos < s.size()) {
    char c = s[pos];
    if (c == 'Z' || c == 'z') {
      ++pos;
    } else if (c == '+' || c == '-') {
      int oh, om = 0;
      if (!digits(s, pos + 1, 2, oh))
        return std::nullopt;
      std::size_t p = pos + 3;
      if (p < s.size() && s[p] == ':')
        ++p;
      if (p < s.size()) {
        if (!digits(s, p, 2, om))
          return std::nullopt;
        p += 2;
      }
      offset_min = (oh * 60 + om) * (c == '-' ? -1 : 1);
      pos = p;
    }
  }
  if (pos != s.size())
    return std::nullopt;
  std::int64_t t = *days * 86400000 + ((h * 60LL + mi) * 60 + se) * 1000 + ms;
  return t - offset_min * 60000;
}

} // namespace sfemu
