#include "sync/poll_plan.hpp"

#include <ctime>
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

bool is_salesforce_id(std::string_view id) {
  return (id.size() == 15 || id.size() == 18) &&
         std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

std::string keyset_filter(std::string_view stamp_field, std::string_view since,
                          const std::optional<std::string>& after_id) {
  const std::string f{stamp_field};
  const std::string t{since};
  if (!after_id)
    return f + " >= " + t;
  if (!is_salesforce_id(*after_id))
    throw std::invalid_argument("not a Salesforce id: '" + *after_id + "'");
  return f + " > " + t + " OR (" + f + " = " + t + " AND Id > '" + *after_id + "')";
}

std::string count_soql(std::string_view object, const std::optional<std::string>& stamp_field,
                       const std::optional<std::string>& since, const std::optional<std::string>& after_id) {
  std::string q = "SELECT COUNT() FROM " + std::string{object};
  if (stamp_field && since)
    q += " WHERE " + keyset_filter(*stamp_field, *since, after_id);
  return q;
}

std::string load_soql(const std::vector<std::string>& fields, std::string_view object) {
  return "SELECT " + field_list(fields) + " FROM " + std::string{object};
}

std::string load_soql_by_id(const std::vector<std::string>& fields, std::string_view object,
                            const std::optional<std::string>& after_id) {
  std::string q = load_soql(fields, object);
  if (after_id) {
    if (!is_salesforce_id(*after_id))
      throw std::invalid_argument("not a Salesforce id: '" + *after_id + "'");
    q += " WHERE Id > '" + *after_id + "'";
  }
  return q + " ORDER BY Id ASC";
}

std::string latest_stamp_soql(std::string_view object, std::string_view stamp_field) {
  return "SELECT Id, " + std::string{stamp_field} + " FROM " + std::string{object} + " ORDER BY " +
         std::string{stamp_field} + " DESC, Id DESC LIMIT 1";
}

std::string poll_soql(const std::vector<std::string>& fields, std::string_view object, std::string_view stamp_field,
                      std::string_view since, const std::optional<std::string>& after_id) {
  return "SELECT " + field_list(fields) + " FROM " + std::string{object} + " WHERE " +
         keyset_filter(stamp_field, since, after_id) + " ORDER BY " + std::string{stamp_field} + " ASC, Id ASC";
}

bool high_water_mark::reach(std::string_view stamp, std::string_view id) {
  auto c = canonical_timestamp(stamp);
  if (!c)
    return false;
  if (value_ && *c < *value_)
    return true;
  value_ = std::move(c);
  id_ = is_salesforce_id(id) ? std::optional<std::string>{std::string{id}} : std::nullopt;
  settle();
  return true;
}

void high_water_mark::unsettled_from(std::string cutoff) {
  cutoff_ = canonical_timestamp(cutoff);
  settle();
}

void high_water_mark::settle() {
  if (cutoff_ && value_ && *value_ >= *cutoff_)
    id_.reset();
}

std::optional<std::string> settled_mark_id(const std::string& stamp, const std::optional<std::string>& id,
                                           const std::string& cutoff) {
  auto s = canonical_timestamp(stamp);
  auto c = canonical_timestamp(cutoff);
  if (!s || !c || *s >= *c)
    return std::nullopt;
  return id;
}

std::string settling_cutoff(std::chrono::system_clock::time_point now, std::chrono::seconds window) {
  auto t = std::chrono::system_clock::to_time_t(now - window);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

int compare_ids(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    auto x = static_cast<unsigned char>(ascii_lower(a[i]));
    auto y = static_cast<unsigned char>(ascii_lower(b[i]));
    if (x != y)
      return x < y ? -1 : 1;
  }
  if (a.size() == b.size())
    return 0;
  return a.size() < b.size() ? -1 : 1;
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

high_water_mark::high_water_mark(std::optional<std::string> start, std::optional<std::string> start_id) {
  if (start)
    start = canonical_timestamp(*start);
  if (!start || (start_id && !is_salesforce_id(*start_id)))
    start_id.reset();
  start_ = start;
  value_ = start;
  start_id_ = start_id;
  id_ = std::move(start_id);
}

bool high_water_mark::see(std::string_view stamp, std::string_view id) {
  auto c = canonical_timestamp(stamp);
  if (!c)
    return false;
  const bool valid_id = is_salesforce_id(id);
  if (!value_ || *c > *value_) {
    value_ = std::move(c);
    id_ = valid_id ? std::optional<std::string>{std::string{id}} : std::nullopt;
  } else if (*c == *value_ && valid_id && (!id_ || compare_ids(id, *id_) > 0)) {
    id_ = std::string{id};
  }
  settle();
  return true;
}

} // namespace syncforce
