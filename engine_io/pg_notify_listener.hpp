#pragma once

#include "actors/notify_listener.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <string>
#include <thread>

namespace syncforce::engine_io {

/// A thread holding one PostgreSQL connection that LISTENs on a channel and
/// sends `wake_atom` to `target` for every notification (the trigger log's
/// notify trigger, the control schema's syncforce_control). It reconnects on
/// its own after the database went away and stops, joined, when destroyed.
class pg_notify_listener : public actors::notify_listener {
public:
  pg_notify_listener(std::string database_url, std::string channel, actors::wake_target target);
  ~pg_notify_listener() override;
  pg_notify_listener(const pg_notify_listener&) = delete;
  pg_notify_listener& operator=(const pg_notify_listener&) = delete;

private:
  void run();

  std::string url_;
  std::string channel_;
  actors::wake_target target_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// LISTEN sessions on `database_url`, one per call.
actors::listener_factory pg_listeners(std::string database_url);

} // namespace syncforce::engine_io
