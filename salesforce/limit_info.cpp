#include "salesforce/limit_info.hpp"

#include <charconv>

namespace syncforce::salesforce {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

bool parse_long(std::string_view s, long& out) {
  s = trim(s);
  if (s.empty())
    return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size() && out >= 0;
}

} // namespace

std::optional<api_usage> parse_limit_info(std::string_view value) {
  while (!value.empty()) {
    auto sep = value.find_first_of(";,");
    auto part = trim(value.substr(0, sep));
    value = sep == std::string_view::npos ? std::string_view{} : value.substr(sep + 1);
    auto eq = part.find('=');
    if (eq == std::string_view::npos || trim(part.substr(0, eq)) != "api-usage")
      continue;
    auto numbers = part.substr(eq + 1);
    auto slash = numbers.find('/');
    if (slash == std::string_view::npos)
      return std::nullopt;
    api_usage u;
    if (!parse_long(numbers.substr(0, slash), u.used) || !parse_long(numbers.substr(slash + 1), u.max))
      return std::nullopt;
    return u;
  }
  return std::nullopt;
}

} // namespace syncforce::salesforce
