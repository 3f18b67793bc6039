#pragma once
// The simulation's change event source (stands for the Pub/Sub API's Subscribe
// stream, engine_io/pubsub_change_stream.cpp, and the server behind it,
// emulator/pubsub/service.cpp): the real change_subscriber reads sfemu's
// in-process CDC log (emulator/cdc/event_log: read_after, latest) through it.
// No thread: the driver calls pump() between scheduler steps and a stream
// hands a batch over as an ordinary actor message, so the seed decides when
// events arrive, like every other message. Seeded faults (world::faults): a
// stream dropped before or right after a batch, an event that cannot be
// decoded; a replay id too old comes from the log itself (its events expired).

#include "actors/change_stream.hpp"
#include "tests/sim/sim_world.hpp"

#include <memory>
#include <vector>

namespace syncforce::sim {

class change_streams {
public:
  explicit change_streams(world& w) : w_(w) {}

  /// What change_event_settings::streams gets.
  actors::change_stream_factory factory();

  /// Each open stream with no batch at its subscriber may deliver its next batch, or drop (seeded).
  void pump();

  /// Streams started so far, batches handed over, drops (for the report).
  long opened = 0;
  long batches = 0;
  long drops = 0;

  struct stream_state;

private:
  void deliver(stream_state& s);

  world& w_;
  std::vector<std::shared_ptr<stream_state>> open_;
};

} // namespace syncforce::sim
