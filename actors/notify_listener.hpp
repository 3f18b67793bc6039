#pragma once

#include "actors/atoms.hpp"

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <string>

namespace syncforce::actors {

/// Whoever a notify_listener wakes: any actor whose protocol takes wake_atom.
using wake_target = caf::typed_actor<caf::reacts_to<wake_atom>>;

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
  std::function<std::unique_ptr<notify_listener>(const std::string& channel, wake_target target)>;

} // namespace syncforce::actors
