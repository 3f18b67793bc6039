#pragma once

// The engine's Pub/Sub API client for one topic: a Subscribe stream with
// FetchRequest flow control, schemas fetched once with GetSchema, payloads
// decoded by change_event_decoder. Blocking; one thread reads it, any thread
// may cancel it. Never logs: the access token travels only as call metadata
// to the one target it was built for.

#include "salesforce/pubsub/change_event_decoder.hpp"
#include "sync/clock.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace syncforce::pubsub {

/// Where and as whom to subscribe.
struct subscription_config {
  std::string target;       ///< host:port of the Pub/Sub API
  bool tls = true;          ///< plaintext only for development hosts the node's policy allows
  std::string ca_pem;       ///< trusted roots (PEM); empty: the system's
  std::string access_token; ///< the connection's session
  std::string instance_url;
  std::string tenant_id;    ///< the org id
  std::string topic;        ///< `/data/AccountChangeEvent`
  /// Resume after this replay id; none: from the newest event (LATEST).
  std::optional<std::uint64_t> replay_after;
  int batch = 100; ///< events asked for per FetchRequest
  /// The node's time source: deadlines of the unary calls (GetSchema).
  std::shared_ptr<const time_source> time = shared_real_time();
};

// stream_failure and received_event are plain data in sync/change_event.hpp.
using syncforce::received_event;
using syncforce::stream_failure;

struct stream_error {
  stream_failure kind = stream_failure::other;
  std::string message; ///< the server's message (never holds the token)
};

/// One FetchResponse.
struct fetch_batch {
  std::vector<received_event> events;
  std::uint64_t latest_replay_id = 0;
  int pending = 0; ///< events still requested and not yet sent
};

class subscription {
public:
  explicit subscription(subscription_config cfg);
  ~subscription();
  subscription(const subscription&) = delete;
  subscription& operator=(const subscription&) = delete;

  /// Opens the stream and asks for the first batch.
  std::optional<stream_error> start();
  /// The next response (blocking). False when the stream ended: `error` says why
  /// (after cancel(): kind unavailable, message "cancelled").
  bool next(fetch_batch& out, stream_error& error);
  /// Asks for `n` more events (flow control). False when the stream is gone.
  bool request(int n);
  /// Ends a blocked next() from another thread.
  void cancel();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace syncforce::pubsub
