#pragma once

// PushTopics (Streaming API): PushTopic records name a SOQL query; every committed
// create, update, delete or undelete of a record that the query selects becomes an
// event on /topic/<Name>, kept 24 hours (Salesforce's retention) for replay.
//
// The org calls on_changes() under its write lock with each transaction's changes
// (org::set_change_observer), so a topic sees the record as that transaction left it
// and events come in commit order. PushTopic records themselves are tracked the same
// way: creating, updating or deleting one through the API changes the topics.

#include "emulator/cdc/event_log.hpp"
#include "emulator/soql/soql.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sfemu {
class org;
}

namespace sfemu::standard {
/// The PushTopic sObject (push_topic_object.cpp), added to every org's standard objects.
std::vector<object_def> streaming_objects();
} // namespace sfemu::standard

namespace sfemu::streaming {

/// NotifyForFields: which updates of a matching record notify.
enum class notify_fields { all, referenced, select, where };
std::optional<notify_fields> parse_notify_fields(std::string_view s);

/// One PushTopic as its record defines it, with its compiled query.
struct push_topic {
  std::string id;
  std::string name;
  std::string query_text;
  double api_version = 0;
  bool active = true;
  notify_fields fields = notify_fields::referenced;
  bool on_create = true, on_update = true, on_delete = true, on_undelete = true;
  std::shared_ptr<const soql::bound_query> query; ///< null when the query is not usable
  std::string error;                              ///< why not (Salesforce's wording)
  std::vector<std::uint32_t> select_slots, where_slots; ///< fields of the object the query reads
};

/// One event of a topic: `data` is the CometD message's data ({"event":{...},"sobject":{...}}).
struct topic_event {
  std::uint64_t replay_id = 0;
  std::string topic; ///< lowercased topic name
  std::int64_t created_ms = 0;
  nlohmann::json data;
};

/// Why a topic query is refused, or nullopt: Salesforce wants a SELECT of one object's
/// fields with Id among them, without ORDER BY, LIMIT, OFFSET or COUNT().
std::optional<std::string> check_query(const soql::query& q);

/// The "type" of a PushTopic event for a change: created, updated, deleted, undeleted
/// (empty for the change types PushTopics do not notify, the gap events).
std::string_view event_type_of(cdc::change_type t);

/// The org's PushTopics and their event log (thread-safe).
class push_topics {
public:
  static constexpr std::int64_t default_retention_ms = 24LL * 3600 * 1000;

  /// `wake` is called (outside any lock of this class) after events were added.
  push_topics(org& model, std::function<void()> wake);

  /// Registers on_changes() as the org's change observer.
  void attach();
  /// The org was reset: no topics, no events (replay ids keep counting).
  void clear();

  /// Called by the org under its write lock with one transaction's changes.
  void on_changes(const std::vector<cdc::record_change>& changes);

  /// The topic named `name` (case-insensitive), if a PushTopic record defines it.
  std::optional<push_topic> find(std::string_view name) const;
  std::vector<push_topic> topics() const;

  struct read_result {
    enum class status { ok, too_old, unknown };
    status what = status::ok;
    std::vector<topic_event> events;
  };
  /// Events of `topic` after replay id `after` (at most `max`). too_old when events
  /// after `after` are gone; unknown when `after` is beyond the newest id.
  read_result read_after(std::string_view topic, std::uint64_t after, std::size_t max) const;
  std::uint64_t latest() const;
  std::uint64_t earliest() const;
  void set_retention_ms(std::int64_t ms);
  std::int64_t retention_ms() const;

private:
  void track_topic_locked(const cdc::record_change& c);
  void match_locked(const push_topic& t, const cdc::record_change& c, std::int64_t now);
  void expire_locked(std::int64_t now) const;

  org& org_;
  std::function<void()> wake_;
  mutable std::mutex mutex_;
  std::map<std::string, push_topic> topics_; ///< by record id
  mutable std::deque<topic_event> events_;
  std::uint64_t next_replay_ = 1;
  std::int64_t retention_ms_ = default_retention_ms;
  std::size_t max_events_ = 200000;
};

} // namespace sfemu::streaming
