#pragma once

// The production change_stream: one Subscribe stream of the Pub/Sub API
// (salesforce/pubsub/subscription.hpp), read on a thread of its own.

#include "actors/change_stream.hpp"

#include <memory>

namespace syncforce::actors {

/// A stream over the Pub/Sub API with the connection's session (what an empty
/// change_event_settings::streams means).
std::unique_ptr<change_stream> make_pubsub_change_stream(change_stream_args args);

} // namespace syncforce::actors
