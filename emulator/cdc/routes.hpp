#pragma once

// The control API of Change Data Capture (/__sfemu/cdc...) and record undelete.

#include "emulator/cdc/options.hpp"
#include "emulator/server.hpp"

#include <httplib.h>

#include <optional>
#include <string>
#include <vector>

namespace sfemu::cdc {

/// Applies `o` to the org's change log; error message (and nothing changed) on bad input.
std::optional<std::string> apply_options(org& model, const cdc_options& o);

/// GET/POST /__sfemu/cdc, GET /__sfemu/cdc/events, POST /__sfemu/cdc/gap, POST /__sfemu/undelete.
void register_routes(httplib::Server& http, route_context& ctx, const cdc_options& startup);

} // namespace sfemu::cdc
