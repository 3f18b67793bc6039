#include "sync/change_events.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

namespace syncforce {

std::string_view to_string(event_action a) {
  switch (a) {
    case event_action::upsert_all: return "upsert_all";
    case event_action::update_changed: return "update_changed";
    case event_action::remove: return "remove";
    case event_action::apply_echo: return "apply_echo";
    case event_action::skip_echo: return "skip_echo";
    case event_action::catch_up: return "catch_up";
    case event_action::ignore: return "ignore";
  }
  return "?";
}

std::optional<std::string> origin_client(std::string_view change_origin) {
  // `;client=` ends at the next `;` (Salesforce may append more parameters).
  static constexpr std::string_view key = "client=";
  std::size_t pos = 0;
  while ((pos = change_origin.find(key, pos)) != std::string_view::npos) {
    if (pos == 0 || change_origin[pos - 1] == ';') {
      auto start = pos + key.size();
      auto end = change_origin.find(';', start);
      return std::string{change_origin.substr(start, end == std::string_view::npos ? end : end - start)};
    }
    pos += key.size();
  }
  return std::nullopt;
}

bool is_own_change(std::string_view change_origin, std::string_view own_client) {
  if (own_client.empty())
    return false;
  auto client = origin_client(change_origin);
  if (!client)
    return false;
  if (*client == own_client)
    return true;
  return client->size() > own_client.size() && client->compare(0, own_client.size(), own_client) == 0 &&
         (*client)[own_client.size()] == '/';
}

event_action plan_event(const event_header& h, std::string_view object_name, std::string_view own_client) {
  if (!iequals(h.entity_name, object_name))
    return event_action::ignore;
  // A gap or an overflow says changes happened that no event describes: only a
  // query can find them, whoever made them.
  if (h.change_type.rfind("GAP_", 0) == 0)
    return event_action::catch_up;
  const bool known = h.change_type == "CREATE" || h.change_type == "UPDATE" || h.change_type == "DELETE" ||
                     h.change_type == "UNDELETE";
  if (!known)
    return event_action::catch_up;
  // Our own writes. The write-back recorded a create's sfid and a delete in
  // the table already, so those are skipped. An UPDATE's values are applied
  // again: events come in commit order, so another user's change committed
  // before our write comes before its echo, but the subscriber may apply it
  // only after the write-back was recorded (it lags, or the stamps tie within
  // one second), over the written values; nothing else would bring those back
  // (polls and sweeps see the record's stamp already in the row). The echo
  // carries what Salesforce holds for the fields we wrote, and the upsert's
  // rules (never an older stamp, a row whose newer local change waits keeps
  // its values) keep it from undoing a newer change.
  if (is_own_change(h.change_origin, own_client))
    return h.change_type == "UPDATE" ? event_action::apply_echo : event_action::skip_echo;
  if (h.change_type == "UPDATE")
    return event_action::update_changed;
  if (h.change_type == "DELETE")
    return event_action::remove;
  return event_action::upsert_all;
}

namespace {

std::tm utc_of(std::int64_t epoch_seconds) {
  std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  auto q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

} // namespace

nlohmann::json event_value_to_wire(pg_value_kind kind, const nlohmann::json& value) {
  if (value.is_null() || !value.is_number_integer())
    return value;
  const auto n = value.get<std::int64_t>();
  switch (kind) {
    case pg_value_kind::timestamp: {
      auto secs = floor_div(n, 1000);
      auto tm = utc_of(secs);
      return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, n - secs * 1000);
    }
    case pg_value_kind::date: {
      auto tm = utc_of(n * 86400);
      return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    }
    case pg_value_kind::time: {
      auto ms = ((n % 86400000) + 86400000) % 86400000;
      return fmt::format("{:02}:{:02}:{:02}.{:03}Z", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
    }
    default:
      return value;
  }
}

std::string stamp_text(std::int64_t epoch_ms) {
  auto tm = utc_of(floor_div(epoch_ms, 1000));
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

std::vector<const pg_column*> event_columns(const hc_table_spec& spec, event_action action,
                                            const std::vector<std::string>& changed,
                                            const std::vector<std::string>& calculated) {
  auto listed = [](const std::vector<std::string>& names, std::string_view field) {
    return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return iequals(n, field); });
  };
  std::vector<const pg_column*> out;
  const bool partial = action == event_action::update_changed || action == event_action::apply_echo;
  if (action != event_action::upsert_all && !partial)
    return out;
  for (const auto& c : spec.columns) {
    if (c.sf_field.empty() || c.sf_field.find('.') != std::string::npos)
      continue; // a relationship's external id: the event has only the reference's Id
    if (c.name == "sfid" || c.name == "isdeleted" || c.name == "systemmodstamp")
      continue; // set from the header, never carried in the body
    const bool compound_part =
      c.sf_field.size() > 3 && iequals(std::string_view{c.sf_field}.substr(c.sf_field.size() - 3), "__s");
    if (c.name != column_name_for(c.sf_field) || compound_part)
      continue; // a compound part (geolocation latitude, ...): carried nested, not as a field
    if (listed(calculated, c.sf_field))
      continue; // formulas change without events; polls and formula repair keep them
    if (partial && !listed(changed, c.sf_field))
      continue;
    out.push_back(&c);
  }
  return out;
}

} // namespace syncforce
