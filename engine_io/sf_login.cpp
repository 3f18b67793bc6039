#include "engine_io/sf_login.hpp"

namespace syncforce::engine_io {

std::optional<salesforce::client_config> client_config_for(const store::connection_row& c,
                                                           const secret_lookup& secrets, std::string& error) {
  // Where the secrets would go is checked before any is read.
  if (auto refused = refuse_login_url(c.login.login_url, secrets.policy)) {
    error = "login URL refused: " + *refused;
    return std::nullopt;
  }
  auto secret = resolve_secret(c.login.secret_ref, secrets, error);
  if (!secret)
    return std::nullopt;
  std::string client_secret;
  if (!c.login.client_secret_ref.empty()) {
    auto s = resolve_secret(c.login.client_secret_ref, secrets, error);
    if (!s)
      return std::nullopt;
    client_secret = *s;
  }
  salesforce::client_config config;
  config.login_url = c.login.login_url;
  if (auto v = salesforce::api_version::parse(c.api_version))
    config.version = *v;
  if (c.login.auth == "jwt") {
    salesforce::jwt_credentials jc;
    jc.client_id = c.login.client_id;
    jc.username = c.login.username;
    jc.private_key_pem = salesforce::secret{*secret};
    config.creds = jc;
  } else {
    salesforce::password_credentials pc;
    pc.client_id = c.login.client_id;
    pc.client_secret = salesforce::secret{client_secret};
    pc.username = c.login.username;
    pc.password = salesforce::secret{*secret};
    config.creds = pc;
  }
  return config;
}

std::shared_ptr<actors::sf_login> log_in(const store::connection_row& c, const secret_lookup& secrets,
                                         const std::string& client_name, std::string& error) {
  auto config = client_config_for(c, secrets, error);
  if (!config)
    return nullptr;
  auto login = std::make_shared<salesforce_login>();
  login->config = std::move(*config);
  login->config.client_name = client_name;
  login->session = std::make_shared<salesforce::shared_session>(login->config);
  return login;
}

} // namespace syncforce::engine_io
