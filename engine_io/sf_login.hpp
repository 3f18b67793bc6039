#pragma once

#include "actors/worker_pool.hpp"
#include "salesforce/client.hpp"
#include "salesforce/shared_session.hpp"
#include "store/rows.hpp"
#include "sync/engine_config.hpp"

#include <memory>
#include <optional>
#include <string>

namespace syncforce::engine_io {

/// The Salesforce client settings of a stored connection: its login URL, API
/// version and credentials with the secrets resolved through `secrets`.
/// nullopt with `error` (naming the reference, never the secret) when a secret
/// cannot be found.
std::optional<salesforce::client_config> client_config_for(const store::connection_row& c,
                                                           const secret_lookup& secrets, std::string& error);

/// A Salesforce user's login as the workers use it (actors::sf_user holds it
/// without knowing what it is): the client settings with the resolved secrets
/// and the OAuth session every client of the user shares.
struct salesforce_login : actors::sf_login {
  salesforce::client_config config;
  std::shared_ptr<salesforce::shared_session> session;
};

/// The login of connection `c` (engine_backend::log_in): its client settings
/// under `client_name` (shown in Salesforce's API usage) and a new shared
/// session. nullptr with `error` as client_config_for.
std::shared_ptr<actors::sf_login> log_in(const store::connection_row& c, const secret_lookup& secrets,
                                         const std::string& client_name, std::string& error);

} // namespace syncforce::engine_io
