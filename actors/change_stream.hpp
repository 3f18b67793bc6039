#pragma once

// Where a change_subscriber's events come from: one subscription stream of a
// topic, started after a replay id. Production reads the Pub/Sub API on a
// thread of its own (engine_io/pubsub_change_stream.hpp); the whole-engine
// simulation delivers events of sfemu's in-process change log as scheduled
// actor messages (tests/sim/sim_change_stream.hpp). Either way a stream talks
// to its subscriber by two messages only, both tagged with its generation (the
// subscriber drops what an older stream sends):
//   (cdc_events_atom, shared_ptr<change_batch>, generation): the next batch, in
//     replay order; at most one is at the subscriber until it calls ack();
//   (cdc_ended_atom, int32 stream_failure, message, generation): the
//     stream ended (after stop(): nothing is sent any more).

#include "actors/atoms.hpp"
#include "actors/sync_io.hpp"

#include <caf/typed_actor.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace syncforce::actors {

struct change_event_settings;

/// What the subscriber asks of its mapping: a keyset poll to read what events could not carry.
using catch_up_target = caf::typed_actor<caf::reacts_to<catch_up_atom>>;

/// The change_subscriber's protocol, as its stream sees it (the two messages above).
using change_subscriber_hdl = caf::typed_actor<
  caf::reacts_to<cdc_events_atom, std::shared_ptr<change_batch>, std::uint64_t>,
  caf::reacts_to<cdc_ended_atom, std::int32_t, std::string, std::uint64_t>>;

/// The subscriber's whole behaviour: its protocol plus its own timers (resubscribe, retry a job).
using change_subscriber_impl = change_subscriber_hdl::extend<caf::reacts_to<start_atom>, caf::reacts_to<retry_atom>>;

/// One stream, owned by the subscriber's state.
class change_stream {
public:
  virtual ~change_stream() = default;
  /// Opens the stream (events start to arrive as messages).
  virtual void start() = 0;
  /// The subscriber applied the batch it was sent (`n` events): the next may come.
  virtual void ack(std::size_t n) = 0;
  /// Ends the stream; nothing more is sent. Idempotent; also on destruction.
  virtual void stop() = 0;
};

/// What a new stream is for.
struct change_stream_args {
  change_subscriber_hdl owner; ///< the subscriber: gets the two messages above
  std::shared_ptr<const change_event_settings> cfg;
  mapping_job job;
  std::string topic; ///< `/data/AccountChangeEvent`
  /// Resume after this replay id; none: from the newest event.
  std::optional<std::uint64_t> replay;
  std::uint64_t generation = 0;
};

/// Makes a stream (not started). Empty in change_event_settings: no events (the mapping polls).
using change_stream_factory = std::function<std::unique_ptr<change_stream>(change_stream_args)>;

} // namespace syncforce::actors
