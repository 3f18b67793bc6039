#pragma once

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <string>

namespace syncforce::actors {

/// Something that sends `wake_atom` to its target for every notification on
/// one channel (production: engine_io/pg_notify_listener.hpp, a thread
/// LISTENing on its own PostgreSQL session). It stops, joined, when destroyed.
class notify_listener {
public:
  virtual ~notify_listener() = default;
};

/// Starts listening on `channel` for `target` (none configured: the actor
/// relies on its fallback polls alone, as tests with fakes do).
using listener_factory =
  std::function<std::unique_ptr<notify_listener>(const std::string& channel, caf::actor target)>;

} // namespace syncforce::actors
