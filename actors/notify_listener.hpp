#pragma once

#include "actors/atoms.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace syncforce::actors {

/// Whoever a notify_listener wakes: any actor whose protocol takes wake_atom.
using wake_target = caf::typed_actor<caf::reacts_to<wake_atom>>;

/// A thread holding one PostgreSQL connection that LISTENs on a channel and
/// sends `wake_atom` to `target` for every notification (the trigger log's
/// notify trigger). It reconnects on its own after the database went away
/// and stops, joined, when destroyed.
class notify_listener {
public:
  notify_listener(std::string database_url, std::string channel, wake_target target);
  ~notify_listener();
  notify_listener(const notify_listener&) = delete;
  notify_listener& operator=(const notify_listener&) = delete;

private:
  void run();

  std::string url_;
  std::string channel_;
  wake_target target_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

} // namespace syncforce::actors
