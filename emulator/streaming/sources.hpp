#pragma once

// The channel sources of sfemu's Streaming API: Change Data Capture events
// (/data/<Object>ChangeEvent, /data/ChangeEvents) from the org's change event log,
// and PushTopic events (/topic/<Name>) from push_topics.

#include "emulator/streaming/bayeux.hpp"
#include "emulator/streaming/push_topics.hpp"

#include <map>
#include <mutex>

namespace sfemu {
class org;
}

namespace sfemu::cdc {
struct change_event;
}

namespace sfemu::streaming {

/// The `data` of a change event's CometD message, as Salesforce sends it:
/// {"schema": id, "payload": {"ChangeEventHeader": {...}, fields...}, "event": {"replayId", "EventUuid"}}.
nlohmann::json cometd_data_of(const cdc::change_event& ev);

/// /data/<Object>ChangeEvent and /data/ChangeEvents.
class change_event_source final : public channel_source {
public:
  explicit change_event_source(org& model);
  bool serves(std::string_view channel) const override;
  std::optional<std::string> check(std::string_view channel) const override;
  read_result read(std::string_view channel, std::uint64_t after, std::size_t max) const override;
  std::uint64_t latest() const override;
  std::uint64_t earliest() const override;

private:
  /// The object of a channel in describe case ("" for /data/ChangeEvents), nullopt if none.
  std::optional<std::string> entity_of(std::string_view channel) const;
  org& org_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, std::string, std::less<>> entities_; ///< channel -> object (cache)
};

/// /topic/<Name>.
class push_topic_source final : public channel_source {
public:
  explicit push_topic_source(push_topics& topics);
  bool serves(std::string_view channel) const override;
  std::optional<std::string> check(std::string_view channel) const override;
  read_result read(std::string_view channel, std::uint64_t after, std::size_t max) const override;
  std::uint64_t latest() const override;
  std::uint64_t earliest() const override;

private:
  push_topics& topics_;
};

} // namespace sfemu::streaming
