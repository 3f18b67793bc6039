#pragma once

#include "salesforce/secret.hpp"

#include <chrono>
#include <string>
#include <variant>

namespace syncforce::salesforce {

// ---- credentials -------------------------------------------------------------

/// OAuth username-password flow. `password` is the password followed by the
/// security token when the org needs one.
struct password_credentials {
  std::string client_id;
  secret client_secret;
  std::string username;
  secret password;
};

/// OAuth JWT bearer flow: an RS256 assertion signed with the connected app's
/// private key. `audience` defaults to the login URL.
struct jwt_credentials {
  std::string client_id; ///< consumer key, the `iss` claim
  std::string username;  ///< the `sub` claim
  secret private_key_pem;
  std::string audience;  ///< the `aud` claim; empty = the login URL
  std::chrono::seconds lifetime{180};
};

/// How the client logs in.
using credentials = std::variant<password_credentials, jwt_credentials>;

// ---- session -----------------------------------------------------------------

/// A logged-in OAuth session: what every REST call needs.
struct session {
  secret access_token;
  std::string instance_url; ///< e.g. https://na1.salesforce.com (no trailing slash)
  std::string identity_url; ///< the `id` URL: .../id/<orgId>/<userId>
  std::string org_id;
  std::string user_id;
  std::string issued_at; ///< epoch milliseconds as Salesforce sent it
  /// Bumped on every login by the client that made it, so holders of a shared
  /// session can tell a stale one from a fresh one.
  unsigned generation = 0;

  bool valid() const { return !access_token.empty() && !instance_url.empty(); }
};

/// Splits an identity URL `https://host/id/<orgId>/<userId>` into org and user
/// ids; false if it does not have that shape.
bool parse_identity_url(const std::string& url, std::string& org_id, std::string& user_id);

} // namespace syncforce::salesforce
