#pragma once

// The Bayeux protocol (CometD long polling) as Salesforce's Streaming API speaks it,
// independent of HTTP: /meta/handshake, /meta/connect, /meta/subscribe,
// /meta/unsubscribe, /meta/disconnect, the `replay` extension, and Salesforce's
// errors (403::Unknown client with advice reconnect=handshake, 400::... for bad
// channels and replay ids). Events come from channel sources (change events,
// PushTopics); a /meta/connect waits (long poll) until one of its client's
// subscriptions has an event, the poll timeout passes, or the client goes away.
// See docs/sfemu-streaming.md.

#include "sync/clock.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sfemu::streaming {

/// One event a source holds for a channel.
struct channel_event {
  std::uint64_t replay_id = 0;
  nlohmann::json data; ///< the Bayeux message's `data`
};

/// Where the events of a family of channels come from (thread-safe).
class channel_source {
public:
  virtual ~channel_source() = default;
  /// Whether `channel` belongs to this source (by its prefix: /data/, /topic/).
  virtual bool serves(std::string_view channel) const = 0;
  /// nullopt if `channel` can be subscribed to, else the Bayeux error ("400::...").
  virtual std::optional<std::string> check(std::string_view channel) const = 0;
  struct read_result {
    enum class status { ok, too_old, unknown };
    status what = status::ok;
    std::vector<channel_event> events;
  };
  /// Events of `channel` after replay id `after`, at most `max`.
  virtual read_result read(std::string_view channel, std::uint64_t after, std::size_t max) const = 0;
  /// The newest replay id of the source (-1 subscriptions start after it).
  virtual std::uint64_t latest() const = 0;
  /// The oldest replay id still kept (-2 subscriptions start just before it).
  virtual std::uint64_t earliest() const = 0;
};

struct bayeux_options {
  /// How long a /meta/connect waits for events (Salesforce: 110 s), also advised to clients.
  std::int64_t connect_timeout_ms = 110000;
  /// A client with no /meta/connect for this long is dropped (Salesforce: 40 s).
  std::int64_t client_timeout_ms = 40000;
  /// The most events one /meta/connect answer carries.
  std::size_t max_batch = 500;
};

/// The Bayeux server of one org (thread-safe; connects wait without holding locks).
class bayeux_server {
public:
  /// `time`: the monotonic clock of client timeouts and long polls (the org clock's time source).
  explicit bayeux_server(bayeux_options opts = {},
                         std::shared_ptr<const syncforce::time_source> time = syncforce::shared_real_time());
  ~bayeux_server();
  bayeux_server(const bayeux_server&) = delete;
  bayeux_server& operator=(const bayeux_server&) = delete;

  void add_source(std::shared_ptr<channel_source> source);
  void set_options(const bayeux_options& opts);
  bayeux_options options() const;

  /// Handles one request's messages (a JSON array or one object) for the user `user_id`
  /// (the request's session; the caller authenticated it) and returns the replies
  /// (an array). A /meta/connect among them may block for up to the connect timeout.
  /// On malformed input the reply is a single error message (400::...).
  nlohmann::json handle(const nlohmann::json& messages, const std::string& user_id);
  /// The replies for a request whose session is invalid: 401::Authentication invalid
  /// with advice reconnect=none on every message (what Salesforce answers).
  static nlohmann::json unauthenticated(const nlohmann::json& messages);

  /// New events may exist: wakes waiting connects.
  void notify();
  /// Drops one client (or every client with an empty id): its next message gets
  /// 403::Unknown client, a waiting connect returns at once. Returns how many.
  std::size_t expire(const std::string& client_id = {});
  /// Wakes every waiting connect and refuses new waits (server shutdown).
  void shutdown();
  /// Clients and their subscriptions (control API).
  nlohmann::json state() const;

private:
  using steady = std::chrono::steady_clock;
  struct client {
    std::string id;
    std::string user_id;
    std::map<std::string, std::uint64_t> cursors; ///< channel -> last delivered replay id
    bool connected = false;      ///< had its first /meta/connect
    int waiting = 0;             ///< connects in progress
    std::uint64_t connect_seq = 0;
    steady::time_point last_seen;
  };

  nlohmann::json handshake(const nlohmann::json& m, const std::string& user_id);
  nlohmann::json connect(const nlohmann::json& m, const std::string& user_id, nlohmann::json& out);
  nlohmann::json subscribe(const nlohmann::json& m, const std::string& user_id);
  nlohmann::json unsubscribe(const nlohmann::json& m, const std::string& user_id);
  nlohmann::json disconnect(const nlohmann::json& m, const std::string& user_id);
  /// The client of `m` for this user, or nullptr (lock held).
  client* find_locked(const nlohmann::json& m, const std::string& user_id);
  void sweep_locked(steady::time_point now);
  channel_source* source_of(std::string_view channel) const;
  /// Reads the events due to `client_id` (without the lock while reading sources),
  /// advances its cursors; false if the client is gone.
  bool collect(const std::string& client_id, nlohmann::json& out);
  std::string new_client_id_locked();

  // Lock order: mutex_ (clients) -> the sources' locks. wake_mutex_ is taken alone:
  // notify() runs under the sources' (and the org's) locks, so it must not take mutex_.
  mutable std::mutex mutex_;
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::uint64_t generation_ = 0; ///< bumped by notify(): wakes waiting connects to look again
  bool stopping_ = false;
  bayeux_options opts_;
  std::shared_ptr<const syncforce::time_source> time_;
  std::vector<std::shared_ptr<channel_source>> sources_;
  std::map<std::string, client> clients_;
  std::uint64_t id_counter_ = 0;
};

/// `400::The replayId {N} you provided was invalid. ...` (Salesforce's text).
std::string invalid_replay_error(long long replay_id);
/// `400::The channel you requested to subscribe to does not exist {/topic/X}`.
std::string unknown_channel_error(std::string_view channel);

} // namespace sfemu::streaming
