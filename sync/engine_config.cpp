#include "sync/engine_config.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <regex>

namespace syncforce {

namespace {

using json = nlohmann::json;

std::string join_path(const std::string& prefix, const std::string& key) {
  if (prefix.empty())
    return key;
  if (!key.empty() && key[0] == '[')
    return prefix + key;
  return prefix + "." + key;
}

bool valid_env_name(const std::string& s) {
  static const std::regex re{"[A-Za-z_][A-Za-z0-9_]*"};
  return std::regex_match(s, re);
}

bool valid_schema_name(const std::string& s) {
  static const std::regex re{"[a-z_][a-z0-9_]{0,62}"};
  return std::regex_match(s, re);
}

/// Reads a `<base>_env` / `<base>_file` pair into a reference.
std::string secret_ref_of(const json& sf, const std::string& path, const std::string& base, bool required,
                          std::vector<config_problem>& errors) {
  auto env_key = base + "_env";
  auto file_key = base + "_file";
  bool has_env = sf.contains(env_key);
  bool has_file = sf.contains(file_key);
  if (sf.contains(base))
    errors.push_back({join_path(path, base), "secrets never go in the configuration file: name an environment "
                                             "variable with '" + env_key + "' or a file with '" + file_key + "'"});
  if (has_env && has_file) {
    errors.push_back({join_path(path, env_key), "give either '" + env_key + "' or '" + file_key + "', not both"});
    return {};
  }
  if (has_env) {
    const auto& v = sf[env_key];
    if (!v.is_string() || !valid_env_name(v.get<std::string>())) {
      errors.push_back({join_path(path, env_key), "must be an environment variable name"});
      return {};
    }
    return "env:" + v.get<std::string>();
  }
  if (has_file) {
    const auto& v = sf[file_key];
    if (!v.is_string() || v.get<std::string>().empty()) {
      errors.push_back({join_path(path, file_key), "must be a file path"});
      return {};
    }
    return "file:" + v.get<std::string>();
  }
  if (required)
    errors.push_back({join_path(path, env_key), "is required (or '" + file_key + "')"});
  return {};
}

std::string string_member(const json& obj, const std::string& path, const std::string& key, bool required,
                          std::vector<config_problem>& errors) {
  if (!obj.contains(key)) {
    if (required)
      errors.push_back({join_path(path, key), "is required"});
    return {};
  }
  const auto& v = obj[key];
  if (!v.is_string() || v.get<std::string>().empty()) {
    errors.push_back({join_path(path, key), "must be a non-empty string"});
    return {};
  }
  return v.get<std::string>();
}

void parse_login(const json& sf, const std::string& path, salesforce_login& out, std::vector<config_problem>& errors,
                 std::vector<config_problem>& warnings) {
  if (!sf.is_object()) {
    errors.push_back({path, "must be an object"});
    return;
  }
  static const std::vector<std::string> known{"login_url",     "username",       "auth",
                                              "password",      "password_env",   "password_file",
                                              "client_id",     "client_secret",  "client_secret_env",
                                              "client_secret_file", "private_key", "private_key_env",
                                              "private_key_file"};
  for (auto it = sf.begin(); it != sf.end(); ++it)
    if (std::find(known.begin(), known.end(), it.key()) == known.end())
      warnings.push_back({join_path(path, it.key()), "unknown key, ignored"});
  out.login_url = string_member(sf, path, "login_url", true, errors);
  if (!out.login_url.empty()) {
    if (out.login_url.rfind("http://", 0) != 0 && out.login_url.rfind("https://", 0) != 0)
      errors.push_back({join_path(path, "login_url"), "must start with https:// (or http:// for a local emulator)"});
    while (!out.login_url.empty() && out.login_url.back() == '/')
      out.login_url.pop_back();
  }
  out.username = string_member(sf, path, "username", true, errors);
  if (sf.contains("auth")) {
    out.auth = string_member(sf, path, "auth", true, errors);
    if (!out.auth.empty() && out.auth != "password" && out.auth != "jwt")
      errors.push_back({join_path(path, "auth"), "must be 'password' or 'jwt'"});
  }
  if (sf.contains("client_id"))
    out.client_id = string_member(sf, path, "client_id", false, errors);
  if (out.auth == "jwt") {
    if (out.client_id.empty())
      errors.push_back({join_path(path, "client_id"), "is required for auth 'jwt' (the connected app's consumer key)"});
    out.secret_ref = secret_ref_of(sf, path, "private_key", true, errors);
  } else {
    out.secret_ref = secret_ref_of(sf, path, "password", true, errors);
  }
  out.client_secret_ref = secret_ref_of(sf, path, "client_secret", false, errors);
}

void prefix_problems(const std::vector<config_problem>& in, const std::string& prefix,
                     std::vector<config_problem>& out) {
  for (const auto& p : in)
    out.push_back({prefix.empty() ? p.path : (p.path.empty() ? prefix : join_path(prefix, p.path)), p.message});
}

std::optional<engine_connection> parse_connection(const json& doc, const std::string& path,
                                                  std::vector<config_problem>& errors,
                                                  std::vector<config_problem>& warnings) {
  if (!doc.is_object()) {
    errors.push_back({path, "must be an object"});
    return std::nullopt;
  }
  engine_connection conn;
  auto before = errors.size();
  if (!doc.contains("salesforce"))
    errors.push_back({join_path(path, "salesforce"), "is required: how to log in (login_url, username, auth, "
                                                     "password_env ...)"});
  else
    parse_login(doc["salesforce"], join_path(path, "salesforce"), conn.login, errors, warnings);
  if (doc.contains("schema")) {
    conn.schema = string_member(doc, path, "schema", true, errors);
    if (!conn.schema.empty() && !valid_schema_name(conn.schema))
      errors.push_back({join_path(path, "schema"), "must be a lowercase PostgreSQL name (letters, digits, '_')"});
  }
  json rest = doc;
  rest.erase("salesforce");
  rest.erase("schema");
  auto parsed = parse_config(rest.dump());
  prefix_problems(parsed.errors, path, errors);
  prefix_problems(parsed.warnings, path, warnings);
  if (!parsed.document || errors.size() != before)
    return std::nullopt;
  conn.document = std::move(*parsed.document);
  if (conn.document.mappings.empty())
    warnings.push_back({join_path(path, "mappings"), "no mappings: the connection syncs nothing"});
  if (const auto& c = conn.document.connection) {
    if (c->name)
      conn.name = *c->name;
    else if (c->app_name)
      conn.name = *c->app_name;
    if (c->api_version)
      conn.api_version = *c->api_version;
  }
  if (conn.name.empty())
    conn.name = "default";
  return conn;
}

} // namespace

std::string engine_config_result::error_text() const {
  std::string out;
  for (const auto& e : errors)
    out += (out.empty() ? "" : "\n") + e.to_string();
  return out;
}

engine_config_result parse_engine_config(std::string_view json_text) {
  engine_config_result result;
  json doc = json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (doc.is_discarded()) {
    result.errors.push_back({"", "not valid JSON"});
    return result;
  }
  if (!doc.is_object()) {
    result.errors.push_back({"", "must be a JSON object"});
    return result;
  }
  engine_config cfg;
  if (doc.contains("connections")) {
    const auto& list = doc["connections"];
    if (!list.is_array() || list.empty()) {
      result.errors.push_back({"connections", "must be a non-empty array of connection documents"});
      return result;
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      auto c = parse_connection(list[i], "connections[" + std::to_string(i) + "]", result.errors, result.warnings);
      if (c)
        cfg.connections.push_back(std::move(*c));
    }
    for (auto it = doc.begin(); it != doc.end(); ++it)
      if (it.key() != "connections")
        result.warnings.push_back({it.key(), "unknown key beside 'connections', ignored"});
  } else {
    auto c = parse_connection(doc, "", result.errors, result.warnings);
    if (c)
      cfg.connections.push_back(std::move(*c));
  }
  for (std::size_t i = 0; i < cfg.connections.size(); ++i)
    for (std::size_t k = 0; k < i; ++k) {
      if (cfg.connections[i].name == cfg.connections[k].name)
        result.errors.push_back({"connections[" + std::to_string(i) + "].connection.name",
                                 "duplicate connection name '" + cfg.connections[i].name + "'"});
      if (cfg.connections[i].schema == cfg.connections[k].schema)
        result.errors.push_back({"connections[" + std::to_string(i) + "].schema",
                                 "schema '" + cfg.connections[i].schema + "' is used by another connection"});
    }
  if (result.errors.empty())
    result.config = std::move(cfg);
  return result;
}

std::optional<std::string> resolve_secret(const std::string& ref, const secret_lookup& lookup, std::string& error) {
  if (auto refused = refuse_secret_ref(ref, lookup.policy)) {
    error = "secret reference refused: " + *refused;
    return std::nullopt;
  }
  auto colon = ref.find(':');
  if (colon == std::string::npos) {
    error = "bad secret reference (want env:NAME or file:/path)";
    return std::nullopt;
  }
  auto kind = ref.substr(0, colon);
  auto where = ref.substr(colon + 1);
  std::optional<std::string> value;
  if (kind == "env") {
    value = lookup.env ? lookup.env(where) : std::nullopt;
    if (!value || value->empty()) {
      error = "environment variable " + where + " is not set";
      return std::nullopt;
    }
  } else if (kind == "file") {
    value = lookup.file ? lookup.file(where) : std::nullopt;
    if (!value) {
      error = "cannot read secret file " + where;
      return std::nullopt;
    }
    while (!value->empty() && (value->back() == '\n' || value->back() == '\r'))
      value->pop_back();
  } else {
    error = "bad secret reference kind '" + kind + "' (want env or file)";
    return std::nullopt;
  }
  return value;
}

} // namespace syncforce
