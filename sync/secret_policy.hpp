#pragma once

#include <optional>
#include <string>
#include <vector>

namespace syncforce {

/// Where a node may take secrets from and where it may send them. An admin
/// token lets its holder name a secret reference and a login URL; without
/// these limits it could make the node send any environment variable or
/// readable file (its database URL, its token file, /etc/shadow) to any host.
/// Checked before anything is resolved or sent.
struct secret_policy {
  /// `env:NAME` only for names starting with one of these.
  std::vector<std::string> env_prefixes{"SF_", "SALESFORCE_", "SYNCFORCE_SECRET_"};
  /// Never, whatever the prefixes: the node's own credentials.
  std::vector<std::string> denied_env{"SYNCFORCE_DATABASE_URL", "SYNCFORCE_ADMIN_TOKEN", "DATABASE_URL",
                                      "PGPASSWORD", "PGPASSFILE"};
  /// `file:/path` only below one of these directories (a Kubernetes Secret
  /// mounted there fits; /run/secrets as a whole would include the service
  /// account's token, so it is not a default).
  std::vector<std::string> file_dirs{"/run/secrets/syncforce", "/etc/syncforce/secrets"};
  /// Never, wherever they are: the node's token file and configuration file.
  std::vector<std::string> denied_files;
  /// Hosts a login URL may name, over https: exact (`login.salesforce.com`),
  /// with a port (`sf.example.com:8443`) or a suffix (`*.my.salesforce.com`).
  std::vector<std::string> login_hosts{"login.salesforce.com", "test.salesforce.com", "*.my.salesforce.com"};
  /// Hosts a login URL may name over plain http too: development only (sfemu
  /// on loopback). Empty in production.
  std::vector<std::string> insecure_login_hosts;
  /// Hosts the Pub/Sub API endpoint (change events) may name over https,
  /// besides the login hosts: Salesforce's own endpoints.
  std::vector<std::string> pubsub_hosts{"api.pubsub.salesforce.com", "api.deu.pubsub.salesforce.com"};
};

/// Why `ref` (`env:NAME` / `file:/path`) may not be used under `policy`, or
/// nullopt when it may. Lexical: the file reader checks the resolved path too.
/// The message names the reference's kind and rule, never a value.
std::optional<std::string> refuse_secret_ref(const std::string& ref, const secret_policy& policy);

/// Why the node may not send credentials to `login_url` under `policy`, or nullopt.
std::optional<std::string> refuse_login_url(const std::string& login_url, const secret_policy& policy);

/// Why the node may not send a session to the Pub/Sub API at `endpoint`
/// (`https://host:port`; `http://` only for --insecure-login-hosts), or nullopt.
std::optional<std::string> refuse_pubsub_endpoint(const std::string& endpoint, const secret_policy& policy);

/// `https://api.pubsub.salesforce.com:7443` -> target `api.pubsub.salesforce.com:7443`, tls;
/// the port defaults to 7443 (Salesforce's); nullopt when it is not such a URL.
struct pubsub_endpoint {
  std::string target;
  bool tls = true;
};
std::optional<pubsub_endpoint> parse_pubsub_endpoint(const std::string& endpoint);

/// Whether `path` (absolute, normalized) lies below `dir` (absolute, normalized).
bool path_below(const std::string& path, const std::string& dir);

/// `items` joined by `separator` (the inverse of split_list with ",").
std::string join_list(const std::vector<std::string>& items, const std::string& separator);

/// Splits a comma-separated flag value into its non-empty, trimmed items.
std::vector<std::string> split_list(const std::string& text);

} // namespace syncforce
