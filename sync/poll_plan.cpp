#include "sync/poll_plan.hpp"
#include "sync/type_mapping.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace syncforce {

namespace {

std::string field_list(const std::vector<std::string>& fields) {
  std::string out;
  for (const auto& f : fields)
    out += (out.empty() ? "" : ", ") + f;
  return out;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size())
    return false;
  for (std::size_t i = pos; i < pos + n; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i])))
      return false;
  return true;
}

} // namespace

std::optional<std::string> modstamp_field(const std::vector<std::string>& mapped_fields) {
  for (const auto& f : mapped_fields)
    if (iequals(f, "SystemModstamp"))
      return std::string{"SystemModstamp"};
  for (const auto& f : mapped_fields)
    if (iequals(f, "LastModifiedDate"))
      return std::string{"LastModifiedDate"};
  return std::nullopt;
}

std::string count_soql(std::string_view object, const std::optional<std::string>& stamp_field,
                       const std::optional<std::string>& since) {
  std::string q = "SELECT COUNT() FROM " + std::string{object};
  if (stamp_field && since)
    q += " WHERE " + *stamp_field + " >= " + *since;
  return q;
}

std::string load_soql(const std::vector<std::string>& fields, std::string_view object) {
  return "SELECT " + field_list(fields) + " FROM " + std::string{object};
}

std::string load_soql_by_id(const std::vector<std::string>& fields, std::string_view object,
                            const std::optional<std::string>& after_id) {
  std::string q = load_soql(fields, object);
  if (after_id) {
    bool valid = (after_id->size() == 15 || after_id->size() == 18) &&
                 std::all_of(after_id->begin(), after_id->end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
    if (!valid)
      throw std::invalid_argument("not a Salesforce id: '" + *after_id + "'");
    q += " WHERE Id > '" + *after_id + "'";
  }
  return q + " ORDER BY Id ASC";
}

std::string latest_stamp_soql(std::string_view object, std::string_view stamp_field) {
  return "SELECT " + std::string{stamp_field} + " FROM " + std::string{object} + " ORDER BY " +
         std::string{stamp_field} + " DESC LIMIT 1";
}

std::string poll_soql(const std::vector<std::string>& fields, std::string_view object, std::string_view stamp_field,
                      std::string_view since) {
  return "SELECT " + field_list(fields) + " FROM " + std::string{object} + " WHERE " + std::string{stamp_field} +
         " >= " + std::string{since} + " ORDER BY " + std::string{stamp_field} + " ASC";
}

std::optional<std::string> canonical_timestamp(std::string_view s) {
  // YYYY-MM-DD[T ]HH:MM:SS[.f+][Z|+0000|+00:00]
  if (!digits(s, 0, 4) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' || !digits(s, 8, 2) ||
      (s[10] != 'T' && s[10] != ' ') || !digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2) || s[16] != ':' ||
      !digits(s, 17, 2))
    return std::nullopt;
  std::string out{s.substr(0, 10)};
  out += 'T';
  out += s.substr(11, 8);
  std::size_t pos = 19;
  std::string frac;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])))
      frac += s[pos++];
  }
  auto zone = s.substr(pos);
  if (!(zone.empty() || zone == "Z" || zone == "+0000" || zone == "+00:00" || zone == "+00" || zone == "-0000"))
    return std::nullopt;
  frac.resize(3, '0');
  out += '.' + frac + 'Z';
  return out;
}

high_water_mark::high_water_mark(std::optional<std::string> start) {
  if (start)
    start = canonical_timestamp(*start);
  start_ = start;
  value_ = start;
}

bool high_water_mark::see(std::string_view stamp) {
  auto c = canonical_timestamp(stamp);
  if (!c)
    return false;
  if (!value_ || *c > *value_)
    value_ = std::move(c);
  return true;
}

} // namespace syncforce
