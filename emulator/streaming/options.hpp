#pragma once

#include <cstdint>

namespace sfemu::streaming {

/// Streaming API settings from the command line (and POST /__sfemu/streaming).
struct streaming_options {
  std::int64_t connect_timeout_ms = 110000; ///< long poll of /meta/connect (Salesforce: 110 s)
  std::int64_t client_timeout_ms = 40000;   ///< a client silent this long is dropped (Salesforce: 40 s)
};

} // namespace sfemu::streaming
