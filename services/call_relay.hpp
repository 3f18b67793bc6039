#pragma once

// How a gRPC call that must ask a running actor (the Cluster service asking a
// broker, the Node service asking the supervisor) gets its answer without
// blocking a gRPC thread and without an actor of its own per call: the
// service's one long-lived relay actor sends the request and finishes the
// call's reactor when the answer (or an error) comes back. Its protocol is
// typed like the node's other actors (tests/unit/sync_engine/protocol_test.cpp
// pins it), and the number of calls waiting in it is bounded (call_slots):
// one more is refused with RESOURCE_EXHAUSTED instead of piling up.

#include "sync/call_slots.hpp"

#include <caf/all.hpp>

#include <cstddef>
#include <functional>
#include <memory>

namespace syncforce::services {

/// Carry a call to the actor it asks.
using relay_atom = caf::atom_constant<caf::atom("relay")>;

struct relay_call;

/// The relay's protocol: it accepts calls to carry, and answers nothing (the
/// call's own continuation finishes its reactor). A call is local-only (it
/// holds a closure).
using call_relay_actor = caf::typed_actor<caf::reacts_to<relay_atom, relay_call>>;

/// A call to carry: `ask` sends the request from the relay (`self->request(...)
/// .then(...)`) and must finish the call in both of its handlers.
struct relay_call {
  // Spelled out, not call_relay_actor::pointer: naming a member of the handle
  // type would need relay_call complete.
  std::function<void(caf::typed_event_based_actor<caf::reacts_to<relay_atom, relay_call>>* self)> ask;
};

/// The relay itself: carries each call as it comes, any number at once.
call_relay_actor::behavior_type call_relay(call_relay_actor::pointer self);

/// A service's relay and the bound on calls waiting in it.
class relay_pool {
public:
  relay_pool(caf::actor_system& sys, std::size_t max_waiting);
  ~relay_pool();
  relay_pool(const relay_pool&) = delete;
  relay_pool& operator=(const relay_pool&) = delete;

  /// Hands `ask` to the relay; false (nothing sent) when `max_waiting` calls
  /// wait already. `ask` receives a `done` to call from both of its handlers,
  /// which gives the call's place back.
  bool carry(std::function<void(call_relay_actor::pointer self, std::function<void()> done)> ask);

  std::size_t waiting() const { return slots_.in_use(); }
  std::size_t limit() const { return slots_.limit(); }
  const call_relay_actor& relay() const { return relay_; }

private:
  call_slots slots_;
  call_relay_actor relay_;
};

} // namespace syncforce::services

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(syncforce::services::relay_call)
