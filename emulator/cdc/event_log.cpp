#include "emulator/cdc/event_log.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>

namespace sfemu::cdc {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

bool carried(const field_def& f) { return carried_in_events(f); }

nlohmann::json json_of(const body_field& f) {
  const value& v = f.v;
  if (v.is_null())
    return nullptr;
  switch (f.type) {
    case field_type::boolean: return v.as_bool();
    case field_type::int_: return v.as_int();
    case field_type::double_:
    case field_type::currency:
    case field_type::percent: return v.as_real();
    case field_type::datetime: return format_datetime(v.as_int());
    case field_type::date: return format_date(v.as_int());
    case field_type::time: return format_time(v.as_int());
    default: return std::string(v.as_string());
  }
}

} // namespace

bool carried_in_events(const field_def& f) {
  if (f.calculated())
    return false;
  return f.name != "Id" && f.name != "IsDeleted" && f.name != "SystemModstamp";
}

std::string_view to_string(change_type t) {
  switch (t) {
    case change_type::create: return "CREATE";
    case change_type::update: return "UPDATE";
    case change_type::remove: return "DELETE";
    case change_type::undelete: return "UNDELETE";
    case change_type::gap_create: return "GAP_CREATE";
    case change_type::gap_update: return "GAP_UPDATE";
    case change_type::gap_delete: return "GAP_DELETE";
    case change_type::gap_undelete: return "GAP_UNDELETE";
    case change_type::gap_overflow: return "GAP_OVERFLOW";
  }
  return "CREATE";
}

std::optional<change_type> parse_change_type(std::string_view s) {
  for (auto t : {change_type::create, change_type::update, change_type::remove, change_type::undelete,
                 change_type::gap_create, change_type::gap_update, change_type::gap_delete,
                 change_type::gap_undelete, change_type::gap_overflow})
    if (to_string(t) == s)
      return t;
  return std::nullopt;
}

change_type gap_of(change_type t) {
  switch (t) {
    case change_type::create: return change_type::gap_create;
    case change_type::update: return change_type::gap_update;
    case change_type::remove: return change_type::gap_delete;
    case change_type::undelete: return change_type::gap_undelete;
    default: return t;
  }
}

nlohmann::json change_event::to_json() const {
  nlohmann::json header = {{"entityName", entity_name},
                           {"recordIds", record_ids},
                           {"changeType", to_string(type)},
                           {"changeOrigin", change_origin},
                           {"transactionKey", transaction_key},
                           {"sequenceNumber", sequence_number},
                           {"commitTimestamp", commit_timestamp},
                           {"commitNumber", commit_number},
                           {"commitUser", commit_user},
                           {"changedFields", changed_fields},
                           {"nulledFields", nulled_fields},
                           {"diffFields", diff_fields}};
  nlohmann::json out = {{"replayId", replay_id}, {"eventUuid", event_uuid}, {"ChangeEventHeader", header}};
  for (auto& f : fields)
    out[f.name] = json_of(f);
  return out;
}

std::string event_name_of(std::string_view object) {
  if (ends_with(object, "__c"))
    return std::string(object.substr(0, object.size() - 1)) + "ChangeEvent";
  return std::string(object) + "ChangeEvent";
}

std::string object_of_event(std::string_view event) {
  if (!ends_with(event, "ChangeEvent") || event.size() == 11)
    return {};
  auto base = event.substr(0, event.size() - 11);
  if (ends_with(base, "__"))
    return std::string(base) + "c";
  return std::string(base);
}

// ---- event_log ----------------------------------------------------------------------------------

event_log::event_log(sfemu::clock& clk) : clock_(clk) {}

void event_log::select_all() {
  std::lock_guard<std::mutex> lock(mutex_);
  selected_.reset();
}

void event_log::select(const std::vector<std::string>& objects) {
  std::set<std::string> names;
  for (auto& o : objects)
    names.insert(lower(o));
  std::lock_guard<std::mutex> lock(mutex_);
  selected_ = std::move(names);
}

std::optional<std::vector<std::string>> event_log::selection() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!selected_)
    return std::nullopt;
  return std::vector<std::string>(selected_->begin(), selected_->end());
}

bool event_log::selected(std::string_view object) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return enabled_ && (!selected_ || selected_->count(lower(object)) > 0);
}

void event_log::set_retention_ms(std::int64_t ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  retention_ms_ = ms;
}
std::int64_t event_log::retention_ms() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return retention_ms_;
}
void event_log::set_overflow_after(std::size_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  overflow_after_ = n;
}
std::size_t event_log::overflow_after() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return overflow_after_;
}
void event_log::set_max_events(std::size_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  max_events_ = std::max<std::size_t>(n, 1);
}
std::size_t event_log::max_events() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return max_events_;
}
void event_log::set_enabled(bool on) {
  std::lock_guard<std::mutex> lock(mutex_);
  enabled_ = on;
}
bool event_log::enabled() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return enabled_;
}

std::string event_log::new_uuid_locked() {
  // Unique per process run (random high bits) and per event (counter in the low bits).
  static const std::uint64_t run = [] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }();
  std::uint64_t hi = run;
  std::uint64_t lo = ++uuid_counter_;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xfff),
                static_cast<unsigned>(0x8000 | ((lo >> 48) & 0x3fff)),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

void event_log::append_locked(change_event ev) {
  ev.replay_id = next_replay_++;
  ev.event_uuid = new_uuid_locked();
  events_.push_back(std::move(ev));
  while (events_.size() > max_events_)
    events_.pop_front();
}

std::size_t event_log::publish(std::vector<record_change>& changes, const std::string& user_id,
                               const std::string& origin) {
  if (changes.empty())
    return 0;
  std::int64_t now = clock_.now_ms();
  std::lock_guard<std::mutex> lock(mutex_);
  if (!enabled_)
    return 0;
  expire_locked(now);
  std::string key = new_uuid_locked();
  std::uint64_t commit = ++commit_number_;
  int sequence = 0;
  std::size_t added = 0;
  std::vector<std::string> overflowed; ///< objects with changes past the limit, in first-seen order
  std::size_t counted = 0;
  for (auto& c : changes) {
    const std::string& object = c.def->name;
    if (selected_ && !selected_->count(lower(object)))
      continue;
    if (++counted > overflow_after_) {
      if (std::find(overflowed.begin(), overflowed.end(), object) == overflowed.end())
        overflowed.push_back(object);
      continue;
    }
    change_event ev;
    ev.entity_name = object;
    ev.type = c.type;
    ev.record_ids = {c.id};
    ev.change_origin = origin;
    ev.transaction_key = key;
    ev.sequence_number = ++sequence;
    ev.commit_timestamp = now;
    ev.commit_number = commit;
    ev.commit_user = user_id;
    const auto& fields = c.def->fields;
    if (c.type == change_type::create || c.type == change_type::undelete) {
      for (std::size_t i = 0; i < fields.size() && i < c.after.size(); ++i)
        if (carried(fields[i]) && !c.after[i].is_null())
          ev.fields.push_back(body_field{fields[i].name, fields[i].type, c.after[i]});
    } else if (c.type == change_type::update) {
      for (std::size_t i = 0; i < fields.size() && i < c.after.size() && i < c.before.size(); ++i) {
        // LastModifiedDate is listed on every update, as Salesforce does, even when the
        // stamp (kept to the second) did not move
        if (!carried(fields[i]) || (c.before[i] == c.after[i] && fields[i].name != "LastModifiedDate"))
          continue;
        ev.changed_fields.push_back(fields[i].name);
        if (c.after[i].is_null())
          ev.nulled_fields.push_back(fields[i].name);
        else
          ev.fields.push_back(body_field{fields[i].name, fields[i].type, c.after[i]});
      }
    }
    append_locked(std::move(ev));
    ++added;
  }
  for (auto& object : overflowed) {
    change_event ev;
    ev.entity_name = object;
    ev.type = change_type::gap_overflow;
    ev.change_origin = origin;
    ev.transaction_key = key;
    ev.sequence_number = ++sequence;
    ev.commit_timestamp = now;
    ev.commit_number = commit;
    ev.commit_user = user_id;
    append_locked(std::move(ev));
    ++added;
  }
  changes.clear();
  if (added) {
    changed_.notify_all();
    if (listener_)
      listener_();
  }
  return added;
}

std::size_t event_log::publish_gap(const std::string& object, change_type type, const std::vector<std::string>& ids,
                                   const std::string& user_id) {
  std::int64_t now = clock_.now_ms();
  std::lock_guard<std::mutex> lock(mutex_);
  if (!enabled_ || (selected_ && !selected_->count(lower(object))))
    return 0;
  expire_locked(now);
  std::string key = new_uuid_locked();
  std::uint64_t commit = ++commit_number_;
  int sequence = 0;
  // GAP_OVERFLOW events carry no record ids; the other gaps one event per record.
  std::vector<std::vector<std::string>> groups;
  if (type == change_type::gap_overflow || ids.empty())
    groups.push_back({});
  else
    for (auto& id : ids)
      groups.push_back({id});
  for (auto& g : groups) {
    change_event ev;
    ev.entity_name = object;
    ev.type = gap_of(type);
    ev.record_ids = g;
    ev.transaction_key = key;
    ev.sequence_number = ++sequence;
    ev.commit_timestamp = now;
    ev.commit_number = commit;
    ev.commit_user = user_id;
    append_locked(std::move(ev));
  }
  changed_.notify_all();
  if (listener_)
    listener_();
  return groups.size();
}

void event_log::expire_locked(std::int64_t now) const {
  while (!events_.empty() && events_.front().commit_timestamp < now - retention_ms_)
    events_.pop_front();
}

void event_log::expire() {
  std::int64_t now = clock_.now_ms();
  std::lock_guard<std::mutex> lock(mutex_);
  expire_locked(now);
}

read_result event_log::read_after(std::uint64_t after, std::size_t max, std::string_view entity) const {
  std::int64_t now = clock_.now_ms();
  std::lock_guard<std::mutex> lock(mutex_);
  expire_locked(now);
  read_result out;
  out.latest = next_replay_ - 1;
  if (after > out.latest) {
    out.what = read_result::status::unknown;
    return out;
  }
  std::uint64_t earliest = events_.empty() ? next_replay_ : events_.front().replay_id;
  // Events after `after` were dropped when the first kept one is not the very next.
  if (after != 0 && after + 1 < earliest) {
    out.what = read_result::status::too_old;
    return out;
  }
  // Replay ids are dense in the deque: jump to the first one after `after`.
  std::size_t start = after < earliest ? 0 : static_cast<std::size_t>(after + 1 - earliest);
  for (std::size_t i = start; i < events_.size() && out.events.size() < max; ++i) {
    const auto& ev = events_[i];
    if (entity.empty() || ev.entity_name == entity)
      out.events.push_back(ev);
  }
  return out;
}

std::uint64_t event_log::latest() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_replay_ - 1;
}

std::uint64_t event_log::earliest() const {
  std::int64_t now = clock_.now_ms();
  std::lock_guard<std::mutex> lock(mutex_);
  expire_locked(now);
  return events_.empty() ? next_replay_ : events_.front().replay_id;
}

std::size_t event_log::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return events_.size();
}

bool event_log::wait_beyond(std::uint64_t after, int timeout_ms) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return next_replay_ - 1 > after; });
}

void event_log::notify_all() { changed_.notify_all(); }

void event_log::set_listener(std::function<void()> listener) {
  std::lock_guard<std::mutex> lock(mutex_);
  listener_ = std::move(listener);
}

void event_log::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  events_.clear();
}

// ---- origin --------------------------------------------------------------------------------------

namespace {
thread_local std::string current_origin_;
}

const std::string& current_origin() { return current_origin_; }
void set_current_origin(std::string origin) { current_origin_ = std::move(origin); }

origin_scope::origin_scope(std::string origin) : saved_(std::move(current_origin_)) {
  current_origin_ = std::move(origin);
}
origin_scope::~origin_scope() { current_origin_ = std::move(saved_); }

std::string make_origin(std::string_view api, std::string_view version, std::string_view client) {
  std::string out = "com/salesforce/api/";
  out += api;
  out += '/';
  out += version;
  if (!client.empty()) {
    out += ";client=";
    out += client;
  }
  return out;
}

std::string client_of_call_options(std::string_view header) {
  auto at = header.find("client=");
  if (at == std::string_view::npos)
    return {};
  auto rest = header.substr(at + 7);
  auto end = rest.find(',');
  auto client = rest.substr(0, end);
  while (!client.empty() && client.back() == ' ')
    client.remove_suffix(1);
  return std::string(client);
}

} // namespace sfemu::cdc
