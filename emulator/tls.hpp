#pragma once

// TLS material for sfemu's HTTPS and gRPC listeners: a certificate it makes itself at
// start (self-signed, for localhost and the listening host) or one given by the user.

#include <optional>
#include <string>

namespace sfemu {

/// A certificate and its private key, PEM text.
struct tls_material {
  std::string cert_pem;
  std::string key_pem;
};

/// A fresh self-signed certificate (P-256 key, valid for 1 day before to 10 years after
/// now) whose subjectAltName lists localhost, 127.0.0.1, ::1 and `host` (a DNS name or
/// an IP address). Error message on failure.
std::optional<std::string> make_self_signed(const std::string& host, tls_material& out);

/// Reads a PEM certificate (chain) and key; checks that they parse and belong together.
std::optional<std::string> load_tls(const std::string& cert_path, const std::string& key_path, tls_material& out);

} // namespace sfemu
