#pragma once

#include "salesforce/result.hpp"
#include "salesforce/secret.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace syncforce::salesforce {

/// The claims of a Salesforce JWT bearer assertion.
struct jwt_claims {
  std::string iss; ///< the connected app's consumer key
  std::string sub; ///< the username
  std::string aud; ///< the login URL, e.g. https://login.salesforce.com
  std::chrono::system_clock::time_point exp;
};

/// base64url without padding (RFC 7515).
std::string base64url_encode(std::string_view data);
/// Decodes base64url (padding optional); nullopt-like empty + false on bad input.
bool base64url_decode(std::string_view text, std::string& out);

/// `header.claims.signature`: the claims as JSON, RS256-signed with the PEM
/// private key (PKCS#1 or PKCS#8). Fails with `auth` if the key cannot be read
/// or cannot sign; the error never quotes the key.
result<std::string> make_jwt_assertion(const jwt_claims& claims, const secret& private_key_pem);

/// Verifies an RS256 JWT with a PEM public key (or certificate); for tests and
/// for the emulator side. True if the signature is valid.
bool verify_jwt_rs256(std::string_view token, std::string_view public_key_pem);

} // namespace syncforce::salesforce
