#pragma once

// The production change_stream: one Subscribe stream of the Pub/Sub API
// (salesforce/pubsub/subscription.hpp), read on a thread of its own. Blocking
// gRPC I/O, so it lives here, not in actors/: syncforced puts it in
// change_event_settings::streams.

#include "actors/change_stream.hpp"

#include <memory>

namespace syncforce::engine_io {

/// A stream over the Pub/Sub API with the connection's session.
std::unique_ptr<actors::change_stream> make_pubsub_change_stream(actors::change_stream_args args);

} // namespace syncforce::engine_io
