#pragma once

// Bulk API 2.0 for sfemu: ingest and query jobs under /services/data/vNN.N/jobs/.
// The server (emulator/server.cpp) calls register_routes() before its own
// catch-all routes when this header exists.

#include <httplib.h>

namespace sfemu {
class route_context;
}

namespace sfemu::bulk {

/// Registers every Bulk API 2.0 endpoint on `http` and starts the job worker.
/// `ctx` must outlive the server.
void register_routes(httplib::Server& http, sfemu::route_context& ctx);

} // namespace sfemu::bulk
