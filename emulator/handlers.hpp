#pragma once

// Route registration of the sfemu server, one function per family (internal header).

#include "emulator/server.hpp"

#include <openssl/evp.h>

#include <httplib.h>

#include <map>
#include <memory>
#include <string>

namespace sfemu {

/// OAuth clients and the JWT bearer certificate.
struct auth_config {
  std::map<std::string, std::string> clients; ///< pinned client id -> secret (empty: any client accepted)
  std::shared_ptr<EVP_PKEY> jwt_key;          ///< public key for RS256 assertions (null: JWT flow refused)
};

/// Loads a PEM certificate or public key; error message on failure.
std::optional<std::string> load_public_key(const std::string& path, std::shared_ptr<EVP_PKEY>& out);

/// OAuth token/revoke, identity URL, SOAP login/logout.
void register_auth_routes(httplib::Server& http, route_context& ctx, const auth_config& auth);
/// Everything under /services/data.
void register_rest_routes(httplib::Server& http, route_context& ctx);
/// /__sfemu/...
void register_control_routes(httplib::Server& http, route_context& ctx);

/// Splits a path into its non-empty segments (percent-decoded).
std::vector<std::string> split_path(const std::string& path);

} // namespace sfemu
