#include "emulator/soql/value.hpp"

#include <array>
#include <cstdio>
#include <utility>

namespace sfemu::soql {

namespace {

constexpr std::array<std::pair<field_type, std::string_view>, 21> type_names{{
  {field_type::id, "id"},
  {field_type::reference, "reference"},
  {field_type::string, "string"},
  {field_type::textarea, "textarea"},
  {field_type::picklist, "picklist"},
  {field_type::multipicklist, "multipicklist"},
  {field_type::combobox, "combobox"},
  {field_type::boolean, "boolean"},
  {field_type::integer, "int"},
  {field_type::double_, "double"},
  {field_type::currency, "currency"},
  {field_type::percent, "percent"},
  {field_type::date, "date"},
  {field_type::datetime, "datetime"},
  {field_type::time, "time"},
  {field_type::phone, "phone"},
  {field_type::url, "url"},
  {field_type::email, "email"},
  {field_type::encryptedstring, "encryptedstring"},
  {field_type::base64, "base64"},
  {field_type::other, "anyType"},
}};

using syncforce::calendar::digits;

} // namespace

std::string_view to_string(field_type type) {
  for (const auto& [t, name] : type_names)
    if (t == type)
      return name;
  return "anyType";
}

std::optional<field_type> field_type_from_string(std::string_view name) {
  for (const auto& [t, n] : type_names) {
    if (n.size() != name.size())
      continue;
    bool same = true;
    for (std::size_t i = 0; i < n.size() && same; ++i) {
      char a = n[i], b = name[i];
      if (a >= 'A' && a <= 'Z')
        a = static_cast<char>(a - 'A' + 'a');
      if (b >= 'A' && b <= 'Z')
        b = static_cast<char>(b - 'A' + 'a');
      same = a == b;
    }
    if (same)
      return t;
  }
  return std::nullopt;
}

bool is_text_type(field_type type) {
  switch (type) {
    case field_type::id:
    case field_type::reference:
    case field_type::string:
    case field_type::textarea:
    case field_type::picklist:
    case field_type::multipicklist:
    case field_type::combobox:
    case field_type::phone:
    case field_type::url:
    case field_type::email:
    case field_type::encryptedstring:
    case field_type::base64:
      return true;
    default:
      return false;
  }
}

bool is_numeric_type(field_type type) {
  return type == field_type::integer || type == field_type::double_ || type == field_type::currency
         || type == field_type::percent;
}

std::optional<std::int64_t> parse_date(std::string_view s) {
  syncforce::calendar::ymd d;
  std::size_t pos = 0;
  if (s.size() != 10 || !syncforce::calendar::read_date(s, pos, d))
    return std::nullopt;
  return days_from_civil(d.year, static_cast<unsigned>(d.month), static_cast<unsigned>(d.day));
}

std::optional<std::int64_t> parse_datetime(std::string_view s) {
  if (s.size() < 20 || s[10] != 'T')
    return std::nullopt;
  auto day = parse_date(s.substr(0, 10));
  int hh = 0, mi = 0, ss = 0;
  if (!day || s[13] != ':' || s[16] != ':' || !digits(s, 11, 2, hh) || !digits(s, 14, 2, mi)
      || !digits(s, 17, 2, ss))
    return std::nullopt;
  if (hh > 23 || mi > 59 || ss > 59)
    return std::nullopt;
  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    std::int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9)
      return std::nullopt;
  }
  if (pos >= s.size())
    return std::nullopt;
  std::int64_t offset_min = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!digits(s, pos, 2, oh))
      return std::nullopt;
    pos += 2;
    if (pos < s.size() && s[pos] == ':')
      ++pos;
    if (!digits(s, pos, 2, om))
      return std::nullopt;
    pos += 2;
    if (oh > 23 || om > 59)
      return std::nullopt;
    offset_min = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (pos != s.size())
    return std::nullopt;
  return *day * ms_per_day + ((hh * 60 + mi) * 60 + ss) * 1000LL + millis - offset_min * 60'000;
}

std::string format_date(std::int64_t days) {
  auto c = civil_from_days(days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(c.year), c.month, c.day);
  return buf;
}

std::string format_datetime(std::int64_t ms) {
  std::int64_t days = floor_div(ms, ms_per_day);
  std::int64_t rest = ms - days * ms_per_day;
  auto c = civil_from_days(days);
  auto secs = rest / 1000;
  char buf[128]; // room for what the compiler cannot rule out (it sees the calendar inline)
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lld+0000",
                static_cast<long long>(c.year), c.month, c.day, static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                static_cast<long long>(rest % 1000));
  return buf;
}

} // namespace sfemu::soql
