#include "sync/admin_rules.hpp"

#include "sync/json_input.hpp"
#include "sync/hc_export.hpp"

#include "sync/states.hpp"
#include "sync/type_mapping.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace syncforce {

namespace {

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r");
  return std::string{s.substr(b, e - b + 1)};
}

bool is_token_name(std::string_view s) {
  if (s.empty() || s.size() > 64)
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '@';
  });
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

void problem(std::vector<config_problem>& out, const std::string& path, std::string message) {
  out.push_back(config_problem{path, std::move(message)});
}

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

bool contains_field(const std::vector<std::string>& fields, std::string_view name) {
  return std::any_of(fields.begin(), fields.end(), [&](const std::string& f) { return iequals(f, name); });
}

/// Runs mapping_config's own validation on {"object_name", "config"}.
mapping_build_result parse_built(const nlohmann::ordered_json& doc, const std::string& path,
                                 std::vector<config_problem> problems) {
  mapping_build_result r;
  // Request fields may hold any bytes: replace what is not UTF-8 rather than throw.
  auto parsed = parse_mapping(doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace), path);
  for (auto& e : parsed.errors)
    problems.push_back(std::move(e));
  r.problems = std::move(problems);
  if (r.problems.empty() && parsed.document && !parsed.document->mappings.empty())
    r.config = std::move(parsed.document->mappings.front());
  return r;
}

nlohmann::ordered_json config_object(const mapping_config& m) {
  return nlohmann::ordered_json::parse(serialize_mapping(m, -1))["config"];
}

} // namespace

// ---- tokens ------------------------------------------------------------------

token_file_result parse_token_file(std::string_view text) {
  token_file_result r;
  std::vector<std::pair<int, std::string>> lines; // (line number, trimmed text)
  int number = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    auto line = trim(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    ++number;
    if (!line.empty() && line.front() != '#')
      lines.emplace_back(number, line);
    if (end == std::string_view::npos)
      break;
    start = end + 1;
  }
  if (lines.empty()) {
    r.errors.push_back("holds no token");
    return r;
  }
  if (lines.size() == 1 && lines.front().second.find(':') == std::string::npos) {
    r.tokens.push_back(admin_token{"admin", lines.front().second});
    return r;
  }
  for (const auto& [n, line] : lines) {
    auto colon = line.find(':');
    auto where = "line " + std::to_string(n);
    if (colon == std::string::npos) {
      r.errors.push_back(where + ": expected NAME:TOKEN (a bare token must be the file's only line)");
      continue;
    }
    auto name = trim(std::string_view{line}.substr(0, colon));
    auto token = trim(std::string_view{line}.substr(colon + 1));
    if (!is_token_name(name)) {
      r.errors.push_back(where + ": the name must be 1-64 letters, digits, '_', '-', '.' or '@'");
      continue;
    }
    if (token.empty()) {
      r.errors.push_back(where + ": the token of " + name + " is empty");
      continue;
    }
    bool duplicate = false;
    for (const auto& t : r.tokens) {
      if (t.name == name) {
        r.errors.push_back(where + ": " + name + " is named twice");
        duplicate = true;
      } else if (same_secret(t.token, token)) {
        r.errors.push_back(where + ": " + name + " has the same token as " + t.name);
        duplicate = true;
      }
    }
    if (!duplicate)
      r.tokens.push_back(admin_token{name, token});
  }
  return r;
}

bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

std::optional<std::string> token_name(const std::vector<admin_token>& tokens, std::string_view presented) {
  std::optional<std::string> found;
  for (const auto& t : tokens)
    if (same_secret(presented, t.token) && !found)
      found = t.name;
  return found;
}

// ---- effective connection state ---------------------------------------------

bool is_loading_state(std::string_view state) {
  return state == "INITIAL" || state == "RELOAD_TABLE" || state == "RESYNC";
}

effective_state effective_connection_state(const std::string& stored,
                                           const std::vector<mapping_activity>& mappings) {
  effective_state s{stored, {}};
  if (stored != "IDLE")
    return s;
  for (const auto& m : mappings) {
    if (is_loading_state(m.state)) {
      s.state = "BUSY";
      s.reason = m.object_name + " is " + m.state;
      return s;
    }
    if (m.command) {
      s.state = "BUSY";
      s.reason = m.object_name + " has a pending " + *m.command;
      return s;
    }
  }
  return s;
}

std::optional<std::string> pause_refusal(const std::string& name, const effective_state& s) {
  if (s.state == "IDLE")
    return std::nullopt;
  if (s.state == "PAUSED")
    return "connection " + name + " is already PAUSED";
  auto why = s.reason.empty() ? s.state : s.state + " (" + s.reason + ")";
  return "connection " + name + " is " + why + "; pause when it is IDLE";
}

std::optional<std::string> resume_refusal(const std::string& name, const effective_state& s) {
  if (s.state == "PAUSED")
    return std::nullopt;
  return "connection " + name + " is not paused (" + s.state + ")";
}

recover_plan plan_recover(const std::string& stored, const std::vector<mapping_activity>& mappings) {
  recover_plan p;
  if (auto cs = parse_connection_state(stored); cs && is_error(*cs))
    p.reset_connection = true;
  for (const auto& m : mappings) {
    auto ms = parse_mapping_state(m.state);
    if (ms && is_error(*ms) && m.command != std::optional<std::string>{"recover"})
      p.mappings.push_back(m.object_name);
  }
  return p;
}

// ---- names and settings ------------------------------------------------------

void check_connection_name(const std::string& path, const std::string& name, std::vector<config_problem>& out) {
  if (name.empty()) {
    problem(out, path, "is required");
    return;
  }
  bool chars_ok = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ':';
  });
  if (!chars_ok || name.size() > 100 || !std::isalnum(static_cast<unsigned char>(name.front())))
    problem(out, path,
            "'" + name + "' is not a connection name: 1-100 letters, digits, '_', '-', '.' or ':', "
                         "starting with a letter or digit");
}

void check_schema_name(const std::string& path, const std::string& name, std::vector<config_problem>& out) {
  if (name.empty()) {
    problem(out, path, "is required");
    return;
  }
  bool first_ok = (name.front() >= 'a' && name.front() <= 'z') || name.front() == '_';
  bool rest_ok = std::all_of(name.begin(), name.end(),
                             [](char c) { return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_'; });
  if (!first_ok || !rest_ok || name.size() > 63) {
    problem(out, path,
            "'" + name + "' is not a plain PostgreSQL identifier: up to 63 lowercase letters, digits and '_', "
                         "not starting with a digit");
    return;
  }
  if (name.rfind("pg_", 0) == 0 || name == "information_schema" || name == "syncforce" || name == "public")
    problem(out, path, "'" + name + "' is reserved (PostgreSQL's or Syncforce's own); choose another schema");
}

void check_login_url(const std::string& path, const std::string& url, std::vector<config_problem>& out) {
  if (url.empty()) {
    problem(out, path, "is required (e.g. https://login.salesforce.com)");
    return;
  }
  if (url.size() > 2048) {
    problem(out, path, "is " + std::to_string(url.size()) + " characters long; a login URL has at most 2048");
    return;
  }
  std::string_view rest = url;
  if (rest.rfind("https://", 0) == 0)
    rest.remove_prefix(8);
  else if (rest.rfind("http://", 0) == 0)
    rest.remove_prefix(7);
  else {
    problem(out, path, "'" + url + "' is not an http(s) URL (e.g. https://login.salesforce.com)");
    return;
  }
  auto host = rest.substr(0, rest.find('/'));
  bool bad_char = std::any_of(url.begin(), url.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) || c == '?' || c == '#' || c == '@';
  });
  if (host.empty() || bad_char)
    problem(out, path, "'" + url + "' is not a login URL like https://login.salesforce.com");
}

void check_username(const std::string& path, const std::string& username, std::vector<config_problem>& out) {
  if (username.empty())
    problem(out, path, "is required");
  else if (username.size() > 80) // Salesforce's own limit; also keeps login errors short
    problem(out, path, "is " + std::to_string(username.size()) + " characters long; a Salesforce username has at most 80");
  else if (std::any_of(username.begin(), username.end(),
                       [](char c) { return std::isspace(static_cast<unsigned char>(c)); }))
    problem(out, path, "'" + username + "' has spaces; a Salesforce username looks like an email address");
}

void check_auth_method(const std::string& path, const std::string& auth, std::vector<config_problem>& out) {
  if (auth != "password" && auth != "jwt")
    problem(out, path, "'" + auth + "' is not password or jwt");
}

void check_secret_ref(const std::string& path, const std::string& ref, bool required,
                      std::vector<config_problem>& out) {
  if (ref.empty()) {
    if (required)
      problem(out, path, "is required: where the secret lives, env:NAME or file:/path (never the secret itself)");
    return;
  }
  const std::string hint = "must be env:NAME or file:/absolute/path (where the secret lives, never the secret)";
  if (ref.rfind("env:", 0) == 0) {
    auto name = std::string_view{ref}.substr(4);
    bool ok = !name.empty() && !is_digit(name.front())
              && std::all_of(name.begin(), name.end(),
                             [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
    if (!ok)
      problem(out, path, "env: " + hint);
    return;
  }
  if (ref.rfind("file:", 0) == 0) {
    if (ref.size() < 7 || ref[5] != '/')
      problem(out, path, "file: " + hint);
    return;
  }
  // Not a reference: say so without repeating it (it may be the secret itself).
  problem(out, path, hint);
}

void check_api_version(const std::string& path, const std::string& version, std::vector<config_problem>& out) {
  auto bad = [&] {
    problem(out, path,
            "'" + version + "' is not an API version between " + std::to_string(min_api_version) + ".0 and "
              + std::to_string(max_api_version) + ".0 (e.g. 60.0)");
  };
  auto dot = version.find('.');
  if (dot == std::string::npos || dot == 0 || dot > 3 || version.substr(dot) != ".0") {
    bad();
    return;
  }
  auto major = version.substr(0, dot);
  if (!std::all_of(major.begin(), major.end(), is_digit)) {
    bad();
    return;
  }
  int n = std::stoi(major);
  if (n < min_api_version || n > max_api_version)
    bad();
}

void apply_features(const std::string& path, const std::map<std::string, bool>& named, connection_features& f,
                    std::vector<config_problem>& out) {
  for (const auto& [name, on] : named) {
    if (name == "disable_bulk_writes")
      f.disable_bulk_writes = on;
    else if (name == "poll_db_no_merge")
      f.poll_db_no_merge = on;
    else if (name == "poll_external_ids")
      f.poll_external_ids = on;
    else if (name == "rest_count_only")
      f.rest_count_only = on;
    else if (name == "ucs_basic_collation_index")
      f.ucs_basic_collation_index = on;
    else
      problem(out, join_path(path, name),
              "is not a feature (disable_bulk_writes, poll_db_no_merge, poll_external_ids, rest_count_only, "
              "ucs_basic_collation_index)");
  }
}

bool is_utc_timestamp(std::string_view t) {
  auto digits = [&](std::size_t from, std::size_t n) {
    if (t.size() < from + n)
      return false;
    for (std::size_t i = from; i < from + n; ++i)
      if (!is_digit(t[i]))
        return false;
    return true;
  };
  if (!(digits(0, 4) && t.size() >= 10 && t[4] == '-' && digits(5, 2) && t[7] == '-' && digits(8, 2)))
    return false;
  if (t.size() == 10)
    return true;
  if (!(t.size() >= 20 && t[10] == 'T' && digits(11, 2) && t[13] == ':' && digits(14, 2) && t[16] == ':'
        && digits(17, 2)))
    return false;
  if (t.size() == 20)
    return t[19] == 'Z';
  return t.size() == 24 && t[19] == '.' && digits(20, 3) && t[23] == 'Z';
}

std::string problems_text(const std::vector<config_problem>& problems, std::string_view what) {
  std::string text = std::to_string(problems.size()) + (problems.size() == 1 ? " problem, " : " problems, ");
  text += what;
  text += ":";
  for (const auto& p : problems)
    text += "\n  " + p.to_string();
  return text;
}

// ---- mapping configs from request fields -------------------------------------

const std::vector<std::string>& always_mapped_fields() {
  static const std::vector<std::string> fields{"Id", "IsDeleted", "SystemModstamp", "CreatedDate"};
  return fields;
}

mapping_build_result build_mapping(const mapping_request& req, const std::string& path) {
  std::vector<config_problem> problems;
  nlohmann::ordered_json doc;
  doc["object_name"] = req.object_name;
  if (!req.config_json.empty()) {
    if (!req.fields.empty() || !req.access.empty() || !req.upsert_field.empty() || req.polling_seconds != 0)
      problem(problems, path,
              "give either the whole config (JSON) or fields/access/upsert field/polling, not both");
    auto cfg = parse_json_input(req.config_json);
    if (!cfg.value) {
      for (auto& e : cfg.errors)
        problem(problems, join_path(join_path(path, "config"), e.path), std::move(e.message));
      return mapping_build_result{std::nullopt, std::move(problems)};
    }
    doc["config"] = std::move(*cfg.value);
    return parse_built(doc, path, std::move(problems));
  }
  if (req.object_name.empty())
    problem(problems, join_path(path, "object_name"), "is required");
  std::vector<std::string> fields = always_mapped_fields();
  for (const auto& f : req.fields)
    if (!f.empty() && !contains_field(fields, f))
      fields.push_back(f);
  if (!req.upsert_field.empty() && !contains_field(fields, req.upsert_field))
    fields.push_back(req.upsert_field);
  nlohmann::ordered_json cfg;
  cfg["access"] = req.access.empty() ? std::string{"read_only"} : req.access;
  cfg["sf_notify_enabled"] = false;
  cfg["sf_polling_seconds"] = req.polling_seconds == 0 ? mapping_config::default_polling_seconds
                                                       : req.polling_seconds;
  if (!req.upsert_field.empty())
    cfg["upsert_field"] = req.upsert_field;
  nlohmann::ordered_json fj = nlohmann::ordered_json::object();
  for (const auto& f : fields)
    fj[f] = nlohmann::ordered_json::object();
  cfg["fields"] = std::move(fj);
  cfg["indexes"] = nlohmann::ordered_json::object();
  doc["config"] = std::move(cfg);
  return parse_built(doc, path, std::move(problems));
}

mapping_build_result edit_mapping(const mapping_config& current, const mapping_edit& edit, const std::string& path) {
  std::vector<config_problem> problems;
  auto cfg = config_object(current);
  const auto fields_path = join_path(path, "fields");
  std::vector<std::string> fields = current.fields;
  std::optional<std::string> upsert = current.upsert_field;
  if (edit.clear_upsert_field && !edit.upsert_field.empty())
    problem(problems, join_path(path, "upsert_field"), "give a new upsert field or clear it, not both");
  if (edit.clear_upsert_field)
    upsert.reset();
  else if (!edit.upsert_field.empty())
    upsert = edit.upsert_field;
  for (const auto& f : edit.remove_fields) {
    if (contains_field(always_mapped_fields(), f)) {
      problem(problems, join_path(fields_path, f), "is always mapped and cannot be removed");
      continue;
    }
    if (!contains_field(fields, f)) {
      problem(problems, join_path(fields_path, f), "is not mapped");
      continue;
    }
    if (upsert && iequals(*upsert, f)) {
      problem(problems, join_path(fields_path, f),
              "is the upsert field; change the upsert field (or clear it) to remove it");
      continue;
    }
    fields.erase(std::remove_if(fields.begin(), fields.end(), [&](const std::string& x) { return iequals(x, f); }),
                 fields.end());
  }
  for (const auto& f : edit.add_fields) {
    if (contains_field(current.fields, f)) {
      problem(problems, join_path(fields_path, f), "is already mapped");
      continue;
    }
    if (!contains_field(fields, f))
      fields.push_back(f);
  }
  if (upsert && !contains_field(fields, *upsert))
    fields.push_back(*upsert);
  nlohmann::ordered_json fj = nlohmann::ordered_json::object();
  for (const auto& f : fields)
    fj[f] = nlohmann::ordered_json::object();
  cfg["fields"] = std::move(fj);
  nlohmann::ordered_json ij = nlohmann::ordered_json::object();
  for (const auto& i : current.indexes)
    if (contains_field(fields, i.field))
      ij[i.field] = nlohmann::ordered_json{{"unique", i.unique}};
  cfg["indexes"] = std::move(ij);
  if (upsert)
    cfg["upsert_field"] = *upsert;
  else
    cfg.erase("upsert_field");
  if (!edit.access.empty())
    cfg["access"] = edit.access;
  if (edit.polling_seconds != 0)
    cfg["sf_polling_seconds"] = edit.polling_seconds;
  if (edit.sf_notify_enabled)
    cfg["sf_notify_enabled"] = *edit.sf_notify_enabled;
  if (edit.sweep_seconds || edit.sweep_window_seconds || edit.formula_repair_seconds) {
    // Validated with the rest below (config.syncforce.*); written whole, as serialize_mapping does.
    const auto& rr = current.read_repair;
    cfg["syncforce"] = nlohmann::ordered_json{
      {"sweep_seconds", edit.sweep_seconds.value_or(rr.sweep_seconds)},
      {"sweep_window_seconds", edit.sweep_window_seconds.value_or(rr.sweep_window_seconds)},
      {"formula_repair_seconds", edit.formula_repair_seconds.value_or(rr.formula_repair_seconds)}};
  }
  cfg.erase("applied_at");
  cfg.erase("revision");
  nlohmann::ordered_json doc;
  doc["object_name"] = current.object_name;
  doc["config"] = std::move(cfg);
  return parse_built(doc, path, std::move(problems));
}

mapping_config normalized_mapping(mapping_config m) {
  m.applied_at.reset();
  m.revision.reset();
  return m;
}

bool same_mapping_config(const mapping_config& a, const mapping_config& b) {
  // The table's own indexes (Id, SystemModstamp, the upsert field) listed or not, and an
  // unset daily cap against Heroku Connect's default, are the same: an export imported back
  // changes nothing.
  return same_exported_mapping(a, b);
}

std::string mapping_config_json(const mapping_config& m) {
  return config_object(m).dump();
}

} // namespace syncforce
