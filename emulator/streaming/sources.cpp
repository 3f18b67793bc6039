#include "emulator/streaming/sources.hpp"

#include "emulator/cdc/event_log.hpp"
#include "emulator/org.hpp"
#include "emulator/schema.hpp"
#include "emulator/value.hpp"

#include <functional>

namespace sfemu::streaming {

namespace {

constexpr std::string_view data_prefix = "/data/";
constexpr std::string_view topic_prefix = "/topic/";
constexpr std::string_view all_changes = "/data/ChangeEvents";

std::string iso_utc(std::int64_t ms) {
  std::string s = format_datetime(ms);
  if (s.size() > 5 && s.compare(s.size() - 5, 5, "+0000") == 0)
    s.replace(s.size() - 5, 5, "Z");
  return s;
}

/// A stable 22-character schema id per object (Salesforce's ids are opaque hashes too).
std::string schema_id_of(const std::string& entity) {
  static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::uint64_t h1 = std::hash<std::string>{}(entity), h2 = std::hash<std::string>{}(entity + "/ChangeEvent");
  std::string out;
  for (int i = 0; i < 11; ++i, h1 >>= 6, h2 >>= 6) {
    out += digits[h1 & 63];
    out += digits[h2 & 63];
  }
  return out;
}

channel_source::read_result::status status_of(cdc::read_result::status s) {
  switch (s) {
    case cdc::read_result::status::ok: return channel_source::read_result::status::ok;
    case cdc::read_result::status::too_old: return channel_source::read_result::status::too_old;
    case cdc::read_result::status::unknown: return channel_source::read_result::status::unknown;
  }
  return channel_source::read_result::status::unknown;
}

} // namespace

nlohmann::json cometd_data_of(const cdc::change_event& ev) {
  nlohmann::json j = ev.to_json();
  nlohmann::json payload = nlohmann::json::object();
  payload["ChangeEventHeader"] = std::move(j["ChangeEventHeader"]);
  for (const auto& f : ev.fields) {
    // CometD's JSON carries datetimes in ISO 8601 with Z, as Salesforce sends them.
    if (f.type == field_type::datetime && !f.v.is_null())
      payload[f.name] = iso_utc(f.v.as_int());
    else
      payload[f.name] = j[f.name];
  }
  return {{"schema", schema_id_of(ev.entity_name)},
          {"payload", std::move(payload)},
          {"event", {{"replayId", ev.replay_id}, {"EventUuid", ev.event_uuid}}}};
}

// ---- change events -------------------------------------------------------------------

change_event_source::change_event_source(org& model) : org_(model) {}

bool change_event_source::serves(std::string_view channel) const { return channel.rfind(data_prefix, 0) == 0; }

std::optional<std::string> change_event_source::entity_of(std::string_view channel) const {
  if (channel == all_changes)
    return std::string();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = entities_.find(channel); it != entities_.end())
      return it->second;
  }
  auto object = cdc::object_of_event(channel.substr(data_prefix.size()));
  if (object.empty())
    return std::nullopt;
  for (const auto& name : org_.object_names())
    if (iequals(name, object)) {
      std::lock_guard<std::mutex> lock(mutex_);
      entities_.emplace(std::string(channel), name);
      return name;
    }
  return std::nullopt;
}

std::optional<std::string> change_event_source::check(std::string_view channel) const {
  // An object that exists but is not selected for Change Data Capture can be
  // subscribed to (as in Salesforce); it just has no events.
  if (!entity_of(channel))
    return unknown_channel_error(channel);
  return std::nullopt;
}

channel_source::read_result change_event_source::read(std::string_view channel, std::uint64_t after,
                                                      std::size_t max) const {
  read_result out;
  auto entity = entity_of(channel);
  if (!entity) {
    out.what = read_result::status::unknown;
    return out;
  }
  auto r = org_.change_log().read_after(after, max, *entity);
  out.what = status_of(r.what);
  for (const auto& ev : r.events)
    out.events.push_back({ev.replay_id, cometd_data_of(ev)});
  return out;
}

std::uint64_t change_event_source::latest() const { return org_.change_log().latest(); }
std::uint64_t change_event_source::earliest() const { return org_.change_log().earliest(); }

// ---- PushTopics ------------------------------------------------------------------------

push_topic_source::push_topic_source(push_topics& topics) : topics_(topics) {}

bool push_topic_source::serves(std::string_view channel) const { return channel.rfind(topic_prefix, 0) == 0; }

std::optional<std::string> push_topic_source::check(std::string_view channel) const {
  auto t = topics_.find(channel.substr(topic_prefix.size()));
  if (!t || !t->active)
    return unknown_channel_error(channel);
  if (!t->query)
    return "400::The PushTopic " + t->name + " has an unusable query: " + t->error;
  return std::nullopt;
}

channel_source::read_result push_topic_source::read(std::string_view channel, std::uint64_t after,
                                                    std::size_t max) const {
  read_result out;
  auto r = topics_.read_after(channel.substr(topic_prefix.size()), after, max);
  switch (r.what) {
    case push_topics::read_result::status::ok: out.what = read_result::status::ok; break;
    case push_topics::read_result::status::too_old: out.what = read_result::status::too_old; break;
    case push_topics::read_result::status::unknown: out.what = read_result::status::unknown; break;
  }
  for (auto& ev : r.events)
    out.events.push_back({ev.replay_id, std::move(ev.data)});
  return out;
}

std::uint64_t push_topic_source::latest() const { return topics_.latest(); }
std::uint64_t push_topic_source::earliest() const { return topics_.earliest(); }

} // namespace sfemu::streaming
