#pragma once

#include "salesforce/client.hpp"
#include "store/rows.hpp"
#include "sync/engine_config.hpp"

#include <optional>
#include <string>

namespace syncforce::actors {

/// The Salesforce client settings of a stored connection: its login URL, API
/// version and credentials with the secrets resolved through `secrets`.
/// nullopt with `error` (naming the reference, never the secret) when a secret
/// cannot be found.
std::optional<salesforce::client_config> client_config_for(const store::connection_row& c,
                                                           const secret_lookup& secrets, std::string& error);

} // namespace syncforce::actors
