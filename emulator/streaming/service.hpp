#pragma once

// sfemu's Streaming API: the CometD endpoint /cometd/<version> and its control API
// (/__sfemu/streaming...). Owns the Bayeux server and the org's PushTopics.
// See docs/sfemu-streaming.md.

#include "emulator/server.hpp"
#include "emulator/streaming/bayeux.hpp"
#include "emulator/streaming/options.hpp"
#include "emulator/streaming/push_topics.hpp"

#include <httplib.h>

#include <memory>

namespace sfemu::streaming {

class service {
public:
  service(route_context& ctx, const streaming_options& opts);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  /// POST /cometd/<version>[/...], GET/POST /__sfemu/streaming, POST /__sfemu/streaming/expire.
  void register_routes(httplib::Server& http);
  /// Ends every waiting long poll (before the HTTP server stops).
  void stop();

  bayeux_server& bayeux() { return *bayeux_; }
  push_topics& topics() { return *topics_; }

private:
  route_context& ctx_;
  std::unique_ptr<bayeux_server> bayeux_;
  std::unique_ptr<push_topics> topics_;
};

} // namespace sfemu::streaming
