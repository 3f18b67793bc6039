#include "services/call_relay.hpp"

namespace syncforce::services {

call_relay_actor::behavior_type call_relay(call_relay_actor::pointer self) {
  return {
    [self](relay_atom, relay_call& c) {
      if (c.ask)
        c.ask(self);
    },
  };
}

relay_pool::relay_pool(caf::actor_system& sys, std::size_t max_waiting)
  : slots_(max_waiting), relay_(sys.spawn(call_relay)) {}

relay_pool::~relay_pool() { caf::anon_send_exit(relay_, caf::exit_reason::user_shutdown); }

bool relay_pool::carry(std::function<void(call_relay_actor::pointer self, std::function<void()> done)> ask) {
  auto place = slots_.try_take();
  if (!place)
    return false;
  // The place is held by the message and then by the `done` the handlers
  // keep: it is given back by done(), or when the last of them goes away
  // (the relay stopped before the answer came).
  auto held = std::make_shared<std::shared_ptr<call_slots::slot>>(std::move(place));
  relay_call c;
  c.ask = [held, ask = std::move(ask)](call_relay_actor::pointer self) {
    ask(self, [held] { held->reset(); });
  };
  caf::anon_send(relay_, relay_atom::value, std::move(c));
  return true;
}

} // namespace syncforce::services
