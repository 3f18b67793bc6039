#include "emulator/streaming/push_topics.hpp"

#include "emulator/org.hpp"
#include "emulator/schema.hpp"
#include "emulator/value.hpp"

#include <algorithm>
#include <cstdio>

namespace sfemu::streaming {

namespace {

/// "2016-03-29T16:40:08.208Z", the form PushTopic events carry.
std::string iso_utc(std::int64_t ms) {
  std::string s = format_datetime(ms);
  if (s.size() > 5 && s.compare(s.size() - 5, 5, "+0000") == 0)
    s.replace(s.size() - 5, 5, "Z");
  return s;
}

std::string version_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v > 0 ? v : 60.0);
  return buf;
}

bool contains(const std::vector<std::uint32_t>& v, std::uint32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

} // namespace

std::optional<notify_fields> parse_notify_fields(std::string_view s) {
  if (iequals(s, "All"))
    return notify_fields::all;
  if (iequals(s, "Referenced"))
    return notify_fields::referenced;
  if (iequals(s, "Select"))
    return notify_fields::select;
  if (iequals(s, "Where"))
    return notify_fields::where;
  return std::nullopt;
}

std::optional<std::string> check_query(const soql::query& q) {
  if (q.count_only)
    return std::string("Aggregate queries are not supported");
  if (!q.order_by.empty())
    return std::string("ORDER BY is not supported in a PushTopic query");
  if (q.limit || q.offset)
    return std::string("LIMIT and OFFSET are not supported in a PushTopic query");
  return std::nullopt;
}

std::string_view event_type_of(cdc::change_type t) {
  switch (t) {
    case cdc::change_type::create: return "created";
    case cdc::change_type::update: return "updated";
    case cdc::change_type::remove: return "deleted";
    case cdc::change_type::undelete: return "undeleted";
    default: return {};
  }
}

push_topics::push_topics(org& model, std::function<void()> wake) : org_(model), wake_(std::move(wake)) {}

void push_topics::attach() {
  org_.set_change_observer([this](const std::vector<cdc::record_change>& changes) { on_changes(changes); });
}

void push_topics::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  topics_.clear();
  events_.clear();
}

void push_topics::on_changes(const std::vector<cdc::record_change>& changes) {
  std::size_t added = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::int64_t now = org_.clock().now_ms();
    expire_locked(now);
    std::size_t before = events_.size();
    for (const auto& c : changes) {
      if (!c.def)
        continue;
      if (iequals(c.def->name, "PushTopic")) {
        track_topic_locked(c);
        continue;
      }
      if (event_type_of(c.type).empty())
        continue;
      for (const auto& [id, t] : topics_)
        if (t.active && t.query && iequals(t.query->object(), c.def->name))
          match_locked(t, c, now);
    }
    added = events_.size() - before;
    while (events_.size() > max_events_)
      events_.pop_front();
  }
  if (added > 0 && wake_)
    wake_();
}

void push_topics::track_topic_locked(const cdc::record_change& c) {
  if (c.type == cdc::change_type::remove) {
    topics_.erase(c.id);
    return;
  }
  const auto& fields = c.def->fields;
  auto text = [&](std::string_view name) -> std::string {
    int i = c.def->field_index(name);
    if (i < 0 || static_cast<std::size_t>(i) >= c.after.size() || c.after[static_cast<std::size_t>(i)].is_null())
      return {};
    return std::string(c.after[static_cast<std::size_t>(i)].as_string());
  };
  auto flag = [&](std::string_view name) {
    int i = c.def->field_index(name);
    if (i < 0 || static_cast<std::size_t>(i) >= c.after.size() || c.after[static_cast<std::size_t>(i)].is_null())
      return true;
    return c.after[static_cast<std::size_t>(i)].as_bool();
  };
  (void)fields;
  push_topic t;
  t.id = c.id;
  t.name = text("Name");
  t.query_text = text("Query");
  if (int i = c.def->field_index("ApiVersion"); i >= 0 && !c.after[static_cast<std::size_t>(i)].is_null())
    t.api_version = c.after[static_cast<std::size_t>(i)].as_real();
  t.active = flag("IsActive");
  t.on_create = flag("NotifyForOperationCreate");
  t.on_update = flag("NotifyForOperationUpdate");
  t.on_delete = flag("NotifyForOperationDelete");
  t.on_undelete = flag("NotifyForOperationUndelete");
  t.fields = parse_notify_fields(text("NotifyForFields")).value_or(notify_fields::referenced);
  // Called under the org's lock: binding against the org (a schema_view) is safe here.
  auto parsed = soql::parse(t.query_text);
  if (!parsed) {
    t.error = parsed.error().message;
  } else if (auto why = check_query(parsed.value())) {
    t.error = *why;
  } else {
    auto bound = soql::bind(parsed.value(), org_);
    if (!bound) {
      t.error = bound.error().message;
    } else {
      auto q = std::make_shared<soql::bound_query>(std::move(bound.value()));
      bool has_id = false;
      for (const auto& f : q->fields()) {
        if (!f.hops.empty())
          continue;
        t.select_slots.push_back(f.field.slot);
        if (f.field.slot == 0)
          has_id = true;
      }
      for (const auto& f : q->where_fields())
        if (f.hops.empty())
          t.where_slots.push_back(f.field.slot);
      if (!has_id)
        t.error = "The SELECT statement's field list must include Id";
      else
        t.query = std::move(q);
    }
  }
  topics_[c.id] = std::move(t);
}

void push_topics::match_locked(const push_topic& t, const cdc::record_change& c, std::int64_t now) {
  switch (c.type) {
    case cdc::change_type::create:
      if (!t.on_create)
        return;
      break;
    case cdc::change_type::remove:
      if (!t.on_delete)
        return;
      break;
    case cdc::change_type::undelete:
      if (!t.on_undelete)
        return;
      break;
    case cdc::change_type::update: {
      if (!t.on_update)
        return;
      // NotifyForFields: an update notifies only if a field of the chosen set changed.
      bool where_only = t.fields == notify_fields::where && !t.where_slots.empty();
      if (t.fields != notify_fields::all && !(t.fields == notify_fields::where && t.where_slots.empty())) {
        bool hit = false;
        for (std::size_t i = 0; i < c.after.size() && i < c.before.size() && !hit; ++i) {
          if (c.before[i] == c.after[i])
            continue;
          auto slot = static_cast<std::uint32_t>(i);
          bool in_select = contains(t.select_slots, slot), in_where = contains(t.where_slots, slot);
          hit = where_only ? in_where
                : t.fields == notify_fields::select ? in_select
                                                    : (in_select || in_where);
        }
        if (!hit)
          return;
      }
      break;
    }
    default: return;
  }
  auto sobject = org_.match_locked(*t.query, c.id, version_text(t.api_version));
  if (!sobject)
    return;
  if (c.type == cdc::change_type::remove)
    sobject = nlohmann::json{{"Id", c.id}}; // Salesforce sends only the Id of a deleted record
  topic_event ev;
  ev.replay_id = next_replay_++;
  ev.topic = lower(t.name);
  ev.created_ms = now;
  ev.data = {{"event", {{"type", std::string(event_type_of(c.type))}, {"createdDate", iso_utc(now)},
                        {"replayId", ev.replay_id}}},
             {"sobject", std::move(*sobject)}};
  events_.push_back(std::move(ev));
}

std::optional<push_topic> push_topics::find(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [id, t] : topics_)
    if (iequals(t.name, name))
      return t;
  return std::nullopt;
}

std::vector<push_topic> push_topics::topics() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<push_topic> out;
  for (const auto& [id, t] : topics_)
    out.push_back(t);
  return out;
}

void push_topics::expire_locked(std::int64_t now) const {
  while (!events_.empty() && events_.front().created_ms + retention_ms_ < now)
    events_.pop_front();
}

push_topics::read_result push_topics::read_after(std::string_view topic, std::uint64_t after, std::size_t max) const {
  std::lock_guard<std::mutex> lock(mutex_);
  expire_locked(org_.clock().now_ms());
  read_result out;
  std::uint64_t latest = next_replay_ - 1;
  std::uint64_t earliest = events_.empty() ? next_replay_ : events_.front().replay_id;
  if (after > latest) {
    out.what = read_result::status::unknown;
    return out;
  }
  // Events after `after` were dropped if the first kept one is further than the next.
  if (after + 1 < earliest) {
    out.what = read_result::status::too_old;
    return out;
  }
  std::string key = lower(topic);
  auto it = std::upper_bound(events_.begin(), events_.end(), after,
                             [](std::uint64_t a, const topic_event& e) { return a < e.replay_id; });
  for (; it != events_.end() && out.events.size() < max; ++it)
    if (it->topic == key)
      out.events.push_back(*it);
  return out;
}

std::uint64_t push_topics::latest() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_replay_ - 1;
}

std::uint64_t push_topics::earliest() const {
  std::lock_guard<std::mutex> lock(mutex_);
  expire_locked(org_.clock().now_ms());
  return events_.empty() ? next_replay_ : events_.front().replay_id;
}

void push_topics::set_retention_ms(std::int64_t ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  retention_ms_ = ms;
}

std::int64_t push_topics::retention_ms() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return retention_ms_;
}

} // namespace sfemu::streaming
