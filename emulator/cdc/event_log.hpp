#pragma once

// Change Data Capture in sfemu: the org's change event log.
//
// Every record change the org commits through the APIs (REST, collections, composite,
// Bulk 2.0, undelete) becomes one change event here, in commit order, each with a
// replay id. Subscribers (the Pub/Sub API, emulator/pubsub/) read the log after a
// replay id and wait for new events. Events older than the retention (72 hours on
// the org's clock, as Salesforce keeps them) are dropped; reading after a dropped
// event is "replay id too old". See docs/sfemu-cdc.md.

#include "emulator/clock.hpp"
#include "emulator/schema.hpp"
#include "emulator/value.hpp"

#include <atomic>
#include <nlohmann/json.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sfemu::cdc {

/// ChangeEventHeader.changeType.
enum class change_type {
  create, update, remove, undelete,
  gap_create, gap_update, gap_delete, gap_undelete, gap_overflow
};

/// "CREATE", "UPDATE", "DELETE", "UNDELETE", "GAP_CREATE", ..., "GAP_OVERFLOW".
std::string_view to_string(change_type t);
std::optional<change_type> parse_change_type(std::string_view s);
/// The GAP_ form of a change (GAP_OVERFLOW stays).
change_type gap_of(change_type t);

/// One field of a change event's body: the object's field and its new value.
struct body_field {
  std::string name;
  field_type type = field_type::string;
  value v;
};

/// One change event: ChangeEventHeader plus the body's fields.
struct change_event {
  std::uint64_t replay_id = 0;
  std::string event_uuid;
  // ChangeEventHeader
  std::string entity_name;
  change_type type = change_type::create;
  std::vector<std::string> record_ids;
  std::string change_origin;
  std::string transaction_key;
  int sequence_number = 0; ///< 1-based, within the transaction
  std::int64_t commit_timestamp = 0;
  std::uint64_t commit_number = 0;
  std::string commit_user;
  std::vector<std::string> changed_fields;
  std::vector<std::string> nulled_fields;
  std::vector<std::string> diff_fields;
  /// CREATE/UNDELETE: every non-null field; UPDATE: the changed fields with a value
  /// (nulled ones are listed in nulled_fields); DELETE and gaps: none.
  std::vector<body_field> fields;

  /// The event as JSON (header as ChangeEventHeader, fields by name); for the control API.
  nlohmann::json to_json() const;
};

/// Whether change events carry a field: not the record's Id (it is in recordIds), not
/// IsDeleted or SystemModstamp (Salesforce leaves them out) and no calculated field
/// (formulas change without a write, so they have no change to report).
bool carried_in_events(const field_def& f);

/// The change event topic's name of an object: Account -> AccountChangeEvent,
/// Widget__c -> Widget__ChangeEvent (Salesforce's naming).
std::string event_name_of(std::string_view object);
/// The reverse (case kept as given); empty if `event` is not a change event name.
std::string object_of_event(std::string_view event);

/// A record change made inside one org transaction, before it becomes an event.
struct record_change {
  change_type type = change_type::create;
  const object_def* def = nullptr;   ///< the object (valid until the transaction is published)
  std::string id;
  std::vector<value> before;         ///< update: the values before (empty otherwise)
  std::vector<value> after;          ///< create/update/undelete: the values after
};

/// What a read of the log found.
struct read_result {
  enum class status { ok, too_old, unknown };
  status what = status::ok;
  std::vector<change_event> events;
  std::uint64_t latest = 0; ///< the newest replay id at the time of the read (0: none yet)
};

/// The org's change event log (thread-safe).
class event_log {
public:
  static constexpr std::int64_t default_retention_ms = 72LL * 3600 * 1000;
  /// Salesforce's overflow limit: a transaction's changes past it become GAP_OVERFLOW events.
  static constexpr std::size_t default_overflow_after = 100000;

  explicit event_log(sfemu::clock& clk);

  /// Which objects generate events: all (the default) or the named ones (case-insensitive).
  void select_all();
  void select(const std::vector<std::string>& objects);
  /// nullopt when all objects are selected.
  std::optional<std::vector<std::string>> selection() const;
  bool selected(std::string_view object) const;

  /// Settings (control API / flags).
  void set_retention_ms(std::int64_t ms);
  std::int64_t retention_ms() const;
  void set_overflow_after(std::size_t n);
  std::size_t overflow_after() const;
  /// The most events kept (oldest dropped first, like expiry), to bound memory.
  void set_max_events(std::size_t n);
  std::size_t max_events() const;
  void set_enabled(bool on);
  bool enabled() const;

  /// Publishes one committed transaction: its record changes become events (in order,
  /// one transaction key, sequence numbers from 1), the ones of unselected objects
  /// skipped; changes past the overflow limit become one GAP_OVERFLOW event per object.
  /// `origin` is ChangeEventHeader.changeOrigin. Returns the number of events added.
  std::size_t publish(std::vector<record_change>& changes, const std::string& user_id, const std::string& origin);
  /// Adds gap events (GAP_CREATE ... for the given ids of `object`), as Salesforce sends
  /// them when it cannot produce the change's event. Returns the number added.
  std::size_t publish_gap(const std::string& object, change_type type, const std::vector<std::string>& ids,
                          const std::string& user_id);

  /// Events after `after` (0 = from the earliest kept), at most `max`, matching `entity`
  /// (empty = every object). `too_old` when events after `after` were already dropped;
  /// `unknown` when `after` is beyond the newest replay id.
  read_result read_after(std::uint64_t after, std::size_t max, std::string_view entity = {}) const;
  /// The newest replay id (0: no event yet).
  std::uint64_t latest() const;
  /// The oldest replay id still kept (latest()+1 if none).
  std::uint64_t earliest() const;
  std::size_t size() const;
  /// Blocks until an event newer than `after` exists or `timeout_ms` passes; true if one does.
  bool wait_beyond(std::uint64_t after, int timeout_ms) const;
  /// Wakes every waiter (shutdown).
  void notify_all();
  /// Called after events were added, with the log's lock held (so it must not call the
  /// log): the Streaming API (emulator/streaming/) wakes its long polls with it.
  void set_listener(std::function<void()> listener);
  /// Drops every event (org reset); replay ids keep counting so old ids never come back.
  void clear();
  /// Drops events past retention now (also done on every publish and read).
  void expire();
  /// Counts a Pub/Sub Subscribe stream whose start position is taken (events after it
  /// reach it). Tests wait on it (GET /__sfemu/cdc `streams_opened`): a client's own
  /// "subscribed" says only that its request left, not that a LATEST position was taken.
  void stream_opened() { ++streams_opened_; }
  /// Streams opened since sfemu started (never goes down).
  std::uint64_t streams_opened() const { return streams_opened_.load(); }

private:
  void expire_locked(std::int64_t now) const;
  void append_locked(change_event ev);
  std::string new_uuid_locked();

  sfemu::clock& clock_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  mutable std::deque<change_event> events_;
  std::uint64_t next_replay_ = 1;
  std::uint64_t commit_number_ = 1000;
  std::uint64_t uuid_counter_ = 0;
  std::optional<std::set<std::string>> selected_; ///< lowercased names; nullopt = all
  std::int64_t retention_ms_ = default_retention_ms;
  std::size_t overflow_after_ = default_overflow_after;
  std::atomic<std::uint64_t> streams_opened_{0};
  std::size_t max_events_ = 500000;
  bool enabled_ = true;
  std::function<void()> listener_;
};

// ---- the caller's origin --------------------------------------------------------------

/// The changeOrigin for changes made by the current thread's request: set by the HTTP
/// server per request from the path and `Sforce-Call-Options: client=...`, and by the
/// Bulk engine while it applies a job.
const std::string& current_origin();
void set_current_origin(std::string origin);

/// Sets the current thread's origin for a scope (restores the previous one after).
class origin_scope {
public:
  explicit origin_scope(std::string origin);
  ~origin_scope();
  origin_scope(const origin_scope&) = delete;
  origin_scope& operator=(const origin_scope&) = delete;

private:
  std::string saved_;
};

/// `com/salesforce/api/<api>/<version>;client=<client>` (the client part only if given).
std::string make_origin(std::string_view api, std::string_view version, std::string_view client);
/// The client named in a `Sforce-Call-Options` header value (empty if none).
std::string client_of_call_options(std::string_view header);

} // namespace sfemu::cdc
