// OAuth 2.0 (password and JWT bearer flows), token revocation, the identity URL and
// SOAP login/logout.
#include "emulator/handlers.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

namespace sfemu {

namespace {

/// Decodes one x-www-form-urlencoded key or value ('+' is a space).
std::string url_decode(std::string_view s) {
  return httplib::detail::decode_url(std::string(s), true);
}

/// Form fields of an x-www-form-urlencoded body, plus the query string.
std::map<std::string, std::string> form_params(const httplib::Request& req) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : req.params)
    out[k] = v;
  std::string_view body = req.body;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto amp = body.find('&', pos);
    auto part = body.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    auto eq = part.find('=');
    if (!part.empty()) {
      std::string key = url_decode(part.substr(0, eq));
      std::string val = eq == std::string_view::npos ? std::string() : url_decode(part.substr(eq + 1));
      out[key] = val;
    }
    if (amp == std::string_view::npos)
      break;
    pos = amp + 1;
  }
  return out;
}

void oauth_error(httplib::Response& res, int status, const std::string& error, const std::string& description) {
  route_context::write_json(res, status, {{"error", error}, {"error_description", description}});
}

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[0]), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

std::optional<std::string> base64url_decode(std::string_view in) {
  std::string s(in);
  for (auto& c : s) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '='))
      return std::nullopt;
  }
  while (s.size() % 4 != 0)
    s.push_back('=');
  std::string out(s.size() / 4 * 3 + 1, '\0');
  int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(&out[0]),
                            reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (len < 0)
    return std::nullopt;
  std::size_t pad = 0;
  for (auto it = s.rbegin(); it != s.rend() && *it == '='; ++it)
    ++pad;
  out.resize(static_cast<std::size_t>(len) - std::min<std::size_t>(pad, static_cast<std::size_t>(len)));
  return out;
}

std::string signature(const std::string& secret, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return base64(mac, len);
}

/// The token response of a successful login.
void token_response(route_context& ctx, const httplib::Request& req, httplib::Response& res, const user_info& user,
                    const std::string& secret, bool jwt) {
  auto now = ctx.clock().now_ms();
  auto s = ctx.sessions().open(user, now, ctx.settings().session_seconds * 1000, ctx.model().org_id());
  ctx.usage().count_login(user.username);
  std::string base = ctx.instance_url(req);
  std::string id_url = base + "/id/" + ctx.model().org_id() + "/" + user.id;
  std::string issued = std::to_string(now);
  nlohmann::json body = {{"access_token", s.token},
                         {"instance_url", base},
                         {"id", id_url},
                         {"token_type", "Bearer"},
                         {"issued_at", issued},
                         {"signature", signature(secret.empty() ? "sfemu" : secret, id_url + issued)}};
  if (jwt)
    body["scope"] = "api full";
  route_context::write_json(res, 200, body);
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string xml_unescape(std::string s) {
  static const std::pair<const char*, char> entities[] = {
      {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}, {"&amp;", '&'}};
  for (auto& [from, to] : entities) {
    std::size_t pos = 0;
    std::string f = from;
    while ((pos = s.find(f, pos)) != std::string::npos) {
      s.replace(pos, f.size(), 1, to);
      ++pos;
    }
  }
  return s;
}

/// The text of the first element named `name` (any namespace prefix).
std::optional<std::string> xml_element(const std::string& body, const std::string& name) {
  std::regex re("<(?:[A-Za-z0-9_]+:)?" + name + "(?:\\s[^>]*)?>([^<]*)</(?:[A-Za-z0-9_]+:)?" + name + ">");
  std::smatch m;
  if (!std::regex_search(body, m, re))
    return std::nullopt;
  return xml_unescape(m[1].str());
}

void soap_fault(httplib::Response& res, const std::string& code, const std::string& message) {
  std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope "
      "xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:sf=\"urn:fault.partner.soap.sforce.com\" "
      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body><soapenv:Fault><faultcode>sf:" +
      code + "</faultcode><faultstring>" + xml_escape(code + ": " + message) +
      "</faultstring><detail><sf:LoginFault xsi:type=\"sf:LoginFault\"><sf:exceptionCode>" + code +
      "</sf:exceptionCode><sf:exceptionMessage>" + xml_escape(message) +
      "</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>";
  res.status = 500;
  res.set_content(body, "text/xml;charset=UTF-8");
}

nlohmann::json identity(route_context& ctx, const httplib::Request& req, const user_info& u) {
  std::string base = ctx.instance_url(req);
  std::string org = ctx.model().org_id();
  auto first_space = u.display_name.find(' ');
  return {{"id", base + "/id/" + org + "/" + u.id},
          {"asserted_user", true},
          {"user_id", u.id},
          {"organization_id", org},
          {"username", u.username},
          {"nick_name", u.username.substr(0, u.username.find('@'))},
          {"display_name", u.display_name},
          {"email", u.email},
          {"email_verified", true},
          {"first_name", first_space == std::string::npos ? "" : u.display_name.substr(0, first_space)},
          {"last_name", first_space == std::string::npos ? u.display_name : u.display_name.substr(first_space + 1)},
          {"timezone", "America/Los_Angeles"},
          {"active", true},
          {"user_type", "STANDARD"},
          {"language", "en_US"},
          {"locale", "en_US"},
          {"utcOffset", -28800000},
          {"is_lightning_login_user", false},
          {"urls",
           {{"enterprise", base + "/services/Soap/c/{version}/" + org},
            {"metadata", base + "/services/Soap/m/{version}/" + org},
            {"partner", base + "/services/Soap/u/{version}/" + org},
            {"rest", base + "/services/data/v{version}/"},
            {"sobjects", base + "/services/data/v{version}/sobjects/"},
            {"search", base + "/services/data/v{version}/search/"},
            {"query", base + "/services/data/v{version}/query/"},
            {"recent", base + "/services/data/v{version}/recent/"},
            {"profile", base + "/" + u.id}}}};
}

/// Verifies an RS256 JWT; the claims or an error description.
std::optional<nlohmann::json> verify_jwt(const std::string& assertion, EVP_PKEY* key, std::string& error) {
  auto d1 = assertion.find('.');
  auto d2 = d1 == std::string::npos ? std::string::npos : assertion.find('.', d1 + 1);
  if (d2 == std::string::npos || assertion.find('.', d2 + 1) != std::string::npos) {
    error = "invalid assertion";
    return std::nullopt;
  }
  auto header = base64url_decode(std::string_view(assertion).substr(0, d1));
  auto payload = base64url_decode(std::string_view(assertion).substr(d1 + 1, d2 - d1 - 1));
  auto sig = base64url_decode(std::string_view(assertion).substr(d2 + 1));
  if (!header || !payload || !sig) {
    error = "invalid assertion";
    return std::nullopt;
  }
  auto h = nlohmann::json::parse(*header, nullptr, false);
  auto claims = nlohmann::json::parse(*payload, nullptr, false);
  if (h.is_discarded() || claims.is_discarded() || !h.is_object() || !claims.is_object() ||
      h.value("alg", std::string()) != "RS256") {
    error = "invalid assertion";
    return std::nullopt;
  }
  if (!key) {
    error = "invalid assertion";
    return std::nullopt;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::string signed_part = assertion.substr(0, d2);
  bool ok = md && EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                             reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
  if (!ok) {
    error = "invalid assertion";
    return std::nullopt;
  }
  return claims;
}

} // namespace

std::optional<std::string> load_public_key(const std::string& path, std::shared_ptr<EVP_PKEY>& out) {
  std::ifstream in(path);
  if (!in)
    return "cannot read JWT certificate " + path;
  std::stringstream buf;
  buf << in.rdbuf();
  std::string pem = buf.str();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  EVP_PKEY* key = nullptr;
  if (pem.find("BEGIN CERTIFICATE") != std::string::npos) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert) {
      key = X509_get_pubkey(cert);
      X509_free(cert);
    }
  } else {
    key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  }
  if (!key)
    return "no certificate or public key found in " + path;
  out = std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
  return std::nullopt;
}

void register_auth_routes(httplib::Server& http, route_context& ctx, const auth_config& auth) {
  http.Post("/services/oauth2/token", [&ctx, &auth](const httplib::Request& req, httplib::Response& res) {
    auto p = form_params(req);
    std::string grant = p["grant_type"];
    if (grant == "password") {
      std::string client_id = p["client_id"], secret = p["client_secret"];
      if (!auth.clients.empty()) {
        auto it = auth.clients.find(client_id);
        if (it == auth.clients.end())
          return oauth_error(res, 400, "invalid_client_id", "client identifier invalid");
        if (it->second != secret)
          return oauth_error(res, 400, "invalid_client", "invalid client credentials");
      }
      auto user = ctx.model().check_password(p["username"], p["password"]);
      if (!user)
        return oauth_error(res, 400, "invalid_grant", "authentication failure");
      return token_response(ctx, req, res, *user, secret, false);
    }
    if (grant == "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      std::string error;
      auto claims = verify_jwt(p["assertion"], auth.jwt_key.get(), error);
      if (!claims)
        return oauth_error(res, 400, "invalid_grant", error);
      std::string iss = claims->value("iss", std::string());
      std::string sub = claims->value("sub", std::string());
      std::string aud;
      if (claims->contains("aud")) {
        auto& a = (*claims)["aud"];
        aud = a.is_array() && !a.empty() && a[0].is_string() ? a[0].get<std::string>()
              : a.is_string()                                 ? a.get<std::string>()
                                                              : std::string();
      }
      if (!auth.clients.empty() && !auth.clients.count(iss))
        return oauth_error(res, 400, "invalid_client_id", "client identifier invalid");
      if (iss.empty())
        return oauth_error(res, 400, "invalid_client_id", "client identifier invalid");
      while (!aud.empty() && aud.back() == '/')
        aud.pop_back();
      std::string base = ctx.instance_url(req);
      if (aud != "https://login.salesforce.com" && aud != "https://test.salesforce.com" && aud != base &&
          aud != "http://login.salesforce.com")
        return oauth_error(res, 400, "invalid_grant", "audience is invalid");
      if (!claims->contains("exp") || !(*claims)["exp"].is_number())
        return oauth_error(res, 400, "invalid_grant", "invalid assertion");
      double exp = (*claims)["exp"].get<double>();
      if (exp * 1000.0 <= static_cast<double>(ctx.clock().now_ms()))
        return oauth_error(res, 400, "invalid_grant", "expired authorization code");
      auto user = ctx.model().find_user(sub);
      if (!user)
        return oauth_error(res, 400, "invalid_grant", "user hasn't approved this consumer");
      return token_response(ctx, req, res, *user, std::string(), true);
    }
    if (grant == "refresh_token" || grant == "authorization_code" || grant == "client_credentials")
      return oauth_error(res, 400, "invalid_grant", "authentication failure");
    return oauth_error(res, 400, "unsupported_grant_type", "grant type not supported");
  });

  auto revoke = [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto p = form_params(req);
    if (!ctx.sessions().revoke(p["token"]))
      return oauth_error(res, 400, "unsupported_token_type", "this token type is not supported");
    res.status = 200;
  };
  http.Post("/services/oauth2/revoke", revoke);
  http.Get("/services/oauth2/revoke", revoke);

  http.Get(R"(/id/([A-Za-z0-9]{15,18})/([A-Za-z0-9]{15,18}))", [&ctx](const httplib::Request& req,
                                                                      httplib::Response& res) {
    auto s = ctx.authenticate(req, res);
    if (!s) {
      res.status = 403;
      res.set_content("Bad_OAuth_Token", "text/plain");
      return;
    }
    auto u = ctx.model().user_by_id(req.matches[2].str());
    if (!u || iequals(req.matches[1].str(), "x"))
      return oauth_error(res, 404, "not_found", "user not found");
    route_context::write_json(res, 200, identity(ctx, req, *u));
  });
  http.Get("/services/oauth2/userinfo", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto s = ctx.authenticate(req, res);
    if (!s) {
      res.status = 403;
      res.set_content("Bad_OAuth_Token", "text/plain");
      return;
    }
    auto u = ctx.model().user_by_id(s->user_id);
    if (!u)
      return oauth_error(res, 404, "not_found", "user not found");
    route_context::write_json(res, 200, identity(ctx, req, *u));
  });

  http.Post(R"(/services/Soap/u/(\d+\.\d+)(/[A-Za-z0-9]*)?)", [&ctx](const httplib::Request& req,
                                                                      httplib::Response& res) {
    std::string version = req.matches[1].str();
    const std::string& body = req.body;
    if (body.find("login>") != std::string::npos || body.find(":login ") != std::string::npos ||
        body.find("<login ") != std::string::npos) {
      auto username = xml_element(body, "username");
      auto password = xml_element(body, "password");
      std::optional<user_info> user;
      if (username && password)
        user = ctx.model().check_password(*username, *password);
      if (!user)
        return soap_fault(res, "INVALID_LOGIN", "Invalid username, password, security token; or user locked out.");
      auto now = ctx.clock().now_ms();
      auto s = ctx.sessions().open(*user, now, ctx.settings().session_seconds * 1000, ctx.model().org_id());
      ctx.usage().count_login(user->username);
      std::string base = ctx.instance_url(req);
      std::string org = ctx.model().org_id();
      std::string xml =
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope "
          "xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns=\"urn:partner.soap.sforce.com\" "
          "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body><loginResponse><result>"
          "<metadataServerUrl>" + base + "/services/Soap/m/" + version + "/" + org + "</metadataServerUrl>"
          "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
          "<serverUrl>" + base + "/services/Soap/u/" + version + "/" + org + "</serverUrl>"
          "<sessionId>" + xml_escape(s.token) + "</sessionId><userId>" + user->id + "</userId>"
          "<userInfo><accessibilityMode>false</accessibilityMode><chatterExternal>false</chatterExternal>"
          "<currencySymbol>$</currencySymbol><orgAttachmentFileSizeLimit>5242880</orgAttachmentFileSizeLimit>"
          "<orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode><orgDisallowHtmlAttachments>false"
          "</orgDisallowHtmlAttachments><orgHasPersonAccounts>false</orgHasPersonAccounts>"
          "<organizationId>" + org + "</organizationId><organizationMultiCurrency>false</organizationMultiCurrency>"
          "<organizationName>sfemu</organizationName><profileId>00e000000000000AAA</profileId>"
          "<roleId xsi:nil=\"true\"/><sessionSecondsValid>" + std::to_string(ctx.settings().session_seconds) +
          "</sessionSecondsValid><userDefaultCurrencyIsoCode xsi:nil=\"true\"/>"
          "<userEmail>" + xml_escape(user->email) + "</userEmail><userFullName>" + xml_escape(user->display_name) +
          "</userFullName><userId>" + user->id + "</userId><userLanguage>en_US</userLanguage>"
          "<userLocale>en_US</userLocale><userName>" + xml_escape(user->username) + "</userName>"
          "<userTimeZone>America/Los_Angeles</userTimeZone><userType>Standard</userType>"
          "<userUiSkin>Theme3</userUiSkin></userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>";
      res.status = 200;
      res.set_content(xml, "text/xml;charset=UTF-8");
      return;
    }
    if (body.find("logout") != std::string::npos) {
      if (auto sid = xml_element(body, "sessionId"))
        ctx.sessions().revoke(*sid);
      res.status = 200;
      res.set_content("<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope "
                      "xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                      "xmlns=\"urn:partner.soap.sforce.com\"><soapenv:Body><logoutResponse/></soapenv:Body>"
                      "</soapenv:Envelope>",
                      "text/xml;charset=UTF-8");
      return;
    }
    soap_fault(res, "UNSUPPORTED_API_METHOD", "sfemu implements only login and logout over SOAP");
  });
}

} // namespace sfemu
