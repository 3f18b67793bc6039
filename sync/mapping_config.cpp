#include "sync/mapping_config.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "sync/json_input.hpp"
#include "sync/type_mapping.hpp"

namespace syncforce {

using ojson = nlohmann::ordered_json;

// ---------------------------------------------------------------------------
// small helpers
// ---------------------------------------------------------------------------

std::string_view to_string(mapping_access a) {
  return a == mapping_access::read_write ? "read_write" : "read_only";
}

std::optional<mapping_access> parse_mapping_access(std::string_view text) {
  if (text == "read_only")
    return mapping_access::read_only;
  if (text == "read_write")
    return mapping_access::read_write;
  return std::nullopt;
}

std::string mapping_config::table_name() const {
  return lowercase_name(object_name);
}

// In any case: Salesforce API names ignore case (`email` is `Email`).
bool mapping_config::has_field(std::string_view api_name) const {
  return std::any_of(fields.begin(), fields.end(), [&](const std::string& f) { return iequals(f, api_name); });
}

bool operator==(const mapping_config& a, const mapping_config& b) {
  return a.object_name == b.object_name && a.access == b.access
         && a.sf_notify_enabled == b.sf_notify_enabled && a.sf_polling_seconds == b.sf_polling_seconds
         && a.sf_max_daily_api_calls == b.sf_max_daily_api_calls && a.upsert_field == b.upsert_field
         && a.applied_at == b.applied_at && a.revision == b.revision && a.fields == b.fields
         && a.indexes == b.indexes && a.read_repair == b.read_repair;
}

const mapping_config* config_document::find_mapping(std::string_view object_name) const {
  for (const auto& m : mappings)
    if (m.object_name == object_name)
      return &m;
  return nullptr;
}

std::string config_parse_result::error_text() const {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty())
      out += '\n';
    out += e.to_string();
  }
  return out;
}

namespace {

/// Short text of a JSON value for messages (strings quoted, long ones cut).
std::string show(const ojson& v) {
  auto text = v.dump();
  if (text.size() > 60)
    text = text.substr(0, 57) + "...";
  return text;
}

std::string type_name_of(const ojson& v) {
  if (v.is_number_integer())
    return "an integer";
  if (v.is_number())
    return "a number";
  if (v.is_string())
    return "a string";
  if (v.is_boolean())
    return "a boolean";
  if (v.is_null())
    return "null";
  if (v.is_array())
    return "an array";
  return "an object";
}

bool is_api_name(std::string_view s) {
  if (s.empty() || s.size() > 255)
    return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  if (!alpha(s[0]))
    return false;
  for (char c : s)
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '_')
      return false;
  return s.back() != '_';
}

bool is_org_id(std::string_view s) {
  if (s.size() != 15 && s.size() != 18)
    return false;
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      return false;
  return true;
}

bool is_api_version(std::string_view s) {
  auto dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == s.size())
    return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i != dot && !(s[i] >= '0' && s[i] <= '9'))
      return false;
  return true;
}

/// Collects problems while walking a document.
class validator {
public:
  std::vector<config_problem> errors;
  std::vector<config_problem> warnings;
  std::vector<config_parse_result::readable_mapping> readable;

  void error(const std::string& path, std::string message) {
    errors.push_back(config_problem{path, std::move(message)});
  }

  void warn(const std::string& path, std::string message) {
    warnings.push_back(config_problem{path, std::move(message)});
  }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  /// Warns about keys of `obj` not in `known` (values are never echoed).
  void unknown_keys(const ojson& obj, const std::string& path,
                    std::initializer_list<std::string_view> known) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (std::find(known.begin(), known.end(), it.key()) == known.end())
        warn(join(path, it.key()), "unknown key, ignored");
    }
  }

  /// A member that must be an object when present; returns nullptr otherwise.
  const ojson* object_member(const ojson& obj, const std::string& path, const char* key,
                             bool required) {
    auto it = obj.find(key);
    if (it == obj.end() || (it->is_null() && !required)) {
      if (required)
        error(join(path, key), "is required");
      return nullptr;
    }
    if (!it->is_object()) {
      error(join(path, key), "must be an object, not " + type_name_of(*it));
      return nullptr;
    }
    return &*it;
  }

  std::optional<std::string> string_member(const ojson& obj, const std::string& path,
                                           const char* key, bool required) {
    auto it = obj.find(key);
    if (it == obj.end() || (it->is_null() && !required)) {
      if (required)
        error(join(path, key), "is required");
      return std::nullopt;
    }
    if (!it->is_string()) {
      error(join(path, key), "must be a string, not " + type_name_of(*it));
      return std::nullopt;
    }
    return it->get<std::string>();
  }

  std::optional<bool> bool_member(const ojson& obj, const std::string& path, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
      return std::nullopt;
    if (!it->is_boolean()) {
      error(join(path, key), "must be true or false, not " + show(*it));
      return std::nullopt;
    }
    return it->get<bool>();
  }

  std::optional<std::int64_t> int_member(const ojson& obj, const std::string& path,
                                         const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
      return std::nullopt;
    if (!it->is_number_integer()) {
      error(join(path, key), "must be an integer, not " + show(*it));
      return std::nullopt;
    }
    if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      error(join(path, key), show(*it) + " is too large");
      return std::nullopt;
    }
    return it->get<std::int64_t>();
  }

  // ---- connection ----------------------------------------------------------

  std::optional<connection_config> connection(const ojson& obj, const std::string& path) {
    unknown_keys(obj, path,
                 {"name", "organization_id", "app_name", "exported_at", "api_version",
                  "logplex_log_enabled", "features"});
    connection_config c;
    auto before = errors.size();
    c.name = string_member(obj, path, "name", false);
    c.organization_id = string_member(obj, path, "organization_id", false);
    // Informational in an import (the connection logs in to its own org): a
    // malformed one is dropped with a warning.
    if (c.organization_id && !is_org_id(*c.organization_id)) {
      warn(join(path, "organization_id"),
           show(ojson(*c.organization_id)) + " is not a 15- or 18-character organization id");
      c.organization_id.reset();
    }
    c.app_name = string_member(obj, path, "app_name", false);
    c.exported_at = string_member(obj, path, "exported_at", false);
    auto version = obj.find("api_version");
    if (version != obj.end() && !version->is_null()) {
      if (version->is_string() && is_api_version(version->get_ref<const std::string&>())) {
        c.api_version = version->get<std::string>();
      } else if (version->is_number() && version->get<double>() >= 1 && version->get<double>() < 1000) {
        // Accept 57 or 57.0 written as a number; keep the usual "57.0" form.
        const auto tenths = std::llround(version->get<double>() * 10); // 57.96 -> 580 -> "58.0"
        c.api_version = std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
      } else {
        error(join(path, "api_version"), show(*version) + " is not an API version like \"57.0\"");
      }
    }
    c.logplex_log_enabled = bool_member(obj, path, "logplex_log_enabled");
    if (const auto* f = object_member(obj, path, "features", false)) {
      auto fpath = join(path, "features");
      unknown_keys(*f, fpath,
                   {"disable_bulk_writes", "poll_db_no_merge", "poll_external_ids",
                    "rest_count_only", "ucs_basic_collation_index"});
      connection_features features;
      features.disable_bulk_writes = bool_member(*f, fpath, "disable_bulk_writes").value_or(false);
      features.poll_db_no_merge = bool_member(*f, fpath, "poll_db_no_merge").value_or(false);
      features.poll_external_ids = bool_member(*f, fpath, "poll_external_ids").value_or(false);
      features.rest_count_only = bool_member(*f, fpath, "rest_count_only").value_or(false);
      features.ucs_basic_collation_index
        = bool_member(*f, fpath, "ucs_basic_collation_index").value_or(false);
      c.features = features;
    }
    if (errors.size() != before)
      return std::nullopt;
    return c;
  }

  // ---- mapping -------------------------------------------------------------

  std::optional<mapping_config> mapping(const ojson& obj, const std::string& path) {
    if (!obj.is_object()) {
      error(path, "must be an object, not " + type_name_of(obj));
      return std::nullopt;
    }
    unknown_keys(obj, path, {"object_name", "config"});
    auto before = errors.size();
    mapping_config m;
    auto name = string_member(obj, path, "object_name", true);
    if (name) {
      if (!is_api_name(*name))
        error(join(path, "object_name"), show(ojson(*name)) + " is not a Salesforce API name");
      m.object_name = *name;
    }
    const auto* cfg = object_member(obj, path, "config", true);
    if (cfg != nullptr)
      mapping_body(*cfg, join(path, "config"), m);
    if (name && is_api_name(*name))
      readable.push_back(config_parse_result::readable_mapping{path, m});
    if (errors.size() != before)
      return std::nullopt;
    return m;
  }

  void mapping_body(const ojson& cfg, const std::string& path, mapping_config& m) {
    unknown_keys(cfg, path,
                 {"access", "sf_notify_enabled", "sf_polling_seconds", "sf_max_daily_api_calls",
                  "upsert_field", "applied_at", "revision", "fields", "indexes", "syncforce"});
    if (auto access = string_member(cfg, path, "access", true)) {
      if (auto a = parse_mapping_access(*access))
        m.access = *a;
      else
        error(join(path, "access"), show(ojson(*access)) + " is not read_only or read_write");
    }
    m.sf_notify_enabled = bool_member(cfg, path, "sf_notify_enabled").value_or(false);
    if (auto secs = int_member(cfg, path, "sf_polling_seconds")) {
      if (*secs < mapping_config::min_polling_seconds || *secs > mapping_config::max_polling_seconds)
        error(join(path, "sf_polling_seconds"),
              std::to_string(*secs) + " is outside "
                + std::to_string(mapping_config::min_polling_seconds) + ".."
                + std::to_string(mapping_config::max_polling_seconds));
      else
        m.sf_polling_seconds = static_cast<int>(*secs);
    }
    if (auto calls = int_member(cfg, path, "sf_max_daily_api_calls")) {
      if (*calls < 0)
        error(join(path, "sf_max_daily_api_calls"), std::to_string(*calls) + " is negative");
      else
        m.sf_max_daily_api_calls = calls;
    }
    if (const auto* extras = object_member(cfg, path, "syncforce", false))
      read_repair_body(*extras, join(path, "syncforce"), m.read_repair);
    m.upsert_field = string_member(cfg, path, "upsert_field", false);
    m.applied_at = string_member(cfg, path, "applied_at", false);
    if (auto rev = int_member(cfg, path, "revision")) {
      if (*rev < 0)
        error(join(path, "revision"), std::to_string(*rev) + " is negative");
      else
        m.revision = rev;
    }
    // fields: required, at least Id.
    std::map<std::string, std::string> columns; // column name -> field, to catch collisions
    if (const auto* fields = object_member(cfg, path, "fields", true)) {
      auto fpath = join(path, "fields");
      for (auto it = fields->begin(); it != fields->end(); ++it) {
        auto key_path = join(fpath, it.key());
        if (!is_api_name(it.key())) {
          error(key_path, "is not a Salesforce field API name");
          continue;
        }
        if (!it->is_object()) {
          error(key_path, "must be an object ({}), not " + type_name_of(*it));
          continue;
        }
        if (!it->empty())
          unknown_keys(*it, key_path, {});
        auto column = column_name_for(it.key());
        auto [pos, inserted] = columns.emplace(column, it.key());
        if (!inserted) {
          error(key_path, "maps to the same column '" + column + "' as " + pos->second);
          continue;
        }
        if (is_hc_system_column(column)) {
          error(key_path, "maps to the reserved column '" + column + "'");
          continue;
        }
        m.fields.push_back(it.key());
      }
      if (columns.find("sfid") == columns.end() && fields->find("Id") == fields->end())
        error(fpath, "must include Id");
    }
    if (m.upsert_field) {
      if (*m.upsert_field == "Id")
        error(join(path, "upsert_field"), "cannot be Id (it must be an external id field)");
      else if (!columns.empty() && !m.has_field(*m.upsert_field))
        error(join(path, "upsert_field"),
              show(ojson(*m.upsert_field)) + " is not one of the mapped fields");
    }
    if (const auto* indexes = object_member(cfg, path, "indexes", false)) {
      auto ipath = join(path, "indexes");
      for (auto it = indexes->begin(); it != indexes->end(); ++it) {
        auto key_path = join(ipath, it.key());
        if (!it->is_object()) {
          error(key_path, "must be an object like {\"unique\": false}, not " + type_name_of(*it));
          continue;
        }
        unknown_keys(*it, key_path, {"unique"});
        auto unique = bool_member(*it, key_path, "unique");
        if (!columns.empty() && !m.has_field(it.key())) {
          error(key_path, "indexes a field that is not mapped");
          continue;
        }
        m.indexes.push_back(mapping_index{it.key(), unique.value_or(false)});
      }
    }
  }

  /// `config.syncforce`: seconds between sweeps / repairs (0: off) and the sweep's look-back.
  void read_repair_body(const ojson& obj, const std::string& path, read_repair_config& r) {
    unknown_keys(obj, path, {"sweep_seconds", "sweep_window_seconds", "formula_repair_seconds"});
    auto seconds = [&](const char* key, bool zero_is_off, int& out) {
      auto v = int_member(obj, path, key);
      if (!v)
        return;
      if ((*v == 0 && zero_is_off) || (*v >= 1 && *v <= read_repair_config::max_seconds)) {
        out = static_cast<int>(*v);
        return;
      }
      error(join(path, key), std::to_string(*v) + " is outside 1.." + std::to_string(read_repair_config::max_seconds) +
                               (zero_is_off ? " (0: off)" : ""));
    };
    seconds("sweep_seconds", true, r.sweep_seconds);
    seconds("sweep_window_seconds", false, r.sweep_window_seconds);
    seconds("formula_repair_seconds", true, r.formula_repair_seconds);
  }

  void duplicate_mappings(const std::vector<std::pair<std::string, std::string>>& names) {
    // names: (table name, path)
    std::map<std::string, std::string> seen;
    for (const auto& [table, path] : names) {
      auto [pos, inserted] = seen.emplace(table, path);
      if (!inserted)
        error(path + ".object_name", "maps the same table '" + table + "' as " + pos->second);
    }
  }
};

/// Never throws: a syntax error, an out-of-range number (1e400), a duplicate key or
/// nesting too deep is a problem at the path where it was found.
std::optional<ojson> parse_json(std::string_view text, validator& v, const std::string& prefix = "") {
  auto parsed = parse_json_input(text);
  for (auto& e : parsed.errors)
    v.error(prefix.empty() ? e.path : (e.path.empty() ? prefix : prefix + "." + e.path), std::move(e.message));
  return std::move(parsed.value);
}

config_parse_result finish(validator& v) {
  config_parse_result r;
  r.errors = std::move(v.errors);
  r.warnings = std::move(v.warnings);
  r.readable = std::move(v.readable);
  return r;
}

} // namespace

config_parse_result parse_config(std::string_view json_text) {
  validator v;
  auto root = parse_json(json_text, v);
  if (!root)
    return finish(v);
  if (!root->is_object()) {
    v.error("", "the document must be a JSON object, not " + type_name_of(*root));
    return finish(v);
  }
  v.unknown_keys(*root, "", {"version", "connection", "mappings"});
  config_document doc;
  auto version = root->find("version");
  if (version == root->end())
    v.error("version", "is required (1)");
  else if (!version->is_number_integer() || version->get<std::int64_t>() != 1)
    v.error("version", show(*version) + " is not a supported version (1)");
  if (const auto* conn = v.object_member(*root, "", "connection", false))
    doc.connection = v.connection(*conn, "connection");
  auto mappings = root->find("mappings");
  if (mappings == root->end()) {
    v.error("mappings", "is required");
  } else if (!mappings->is_array()) {
    v.error("mappings", "must be an array, not " + type_name_of(*mappings));
  } else {
    std::vector<std::pair<std::string, std::string>> names;
    for (std::size_t i = 0; i < mappings->size(); ++i) {
      auto path = "mappings[" + std::to_string(i) + "]";
      auto m = v.mapping((*mappings)[i], path);
      if (m) {
        names.emplace_back(m->table_name(), path);
        doc.mappings.push_back(std::move(*m));
      }
    }
    v.duplicate_mappings(names);
  }
  auto r = finish(v);
  if (r.errors.empty())
    r.document = std::move(doc);
  return r;
}

config_parse_result parse_mapping(std::string_view json_text, const std::string& path) {
  validator v;
  auto root = parse_json(json_text, v, path);
  if (!root)
    return finish(v);
  auto m = v.mapping(*root, path);
  auto r = finish(v);
  if (m && r.errors.empty()) {
    config_document doc;
    doc.mappings.push_back(std::move(*m));
    r.document = std::move(doc);
  }
  return r;
}

// ---------------------------------------------------------------------------
// serialization
// ---------------------------------------------------------------------------

namespace {

ojson mapping_json(const mapping_config& m) {
  ojson cfg = ojson::object();
  cfg["access"] = std::string{to_string(m.access)};
  cfg["sf_notify_enabled"] = m.sf_notify_enabled;
  cfg["sf_polling_seconds"] = m.sf_polling_seconds;
  if (m.sf_max_daily_api_calls)
    cfg["sf_max_daily_api_calls"] = *m.sf_max_daily_api_calls;
  if (m.upsert_field)
    cfg["upsert_field"] = *m.upsert_field;
  if (m.applied_at)
    cfg["applied_at"] = *m.applied_at;
  if (m.revision)
    cfg["revision"] = *m.revision;
  ojson fields = ojson::object();
  for (const auto& f : m.fields)
    fields[f] = ojson::object();
  cfg["fields"] = std::move(fields);
  ojson indexes = ojson::object();
  for (const auto& i : m.indexes)
    indexes[i.field] = ojson{{"unique", i.unique}};
  cfg["indexes"] = std::move(indexes);
  if (!m.read_repair.is_default())
    cfg["syncforce"] = ojson{{"sweep_seconds", m.read_repair.sweep_seconds},
                             {"sweep_window_seconds", m.read_repair.sweep_window_seconds},
                             {"formula_repair_seconds", m.read_repair.formula_repair_seconds}};
  ojson out = ojson::object();
  out["object_name"] = m.object_name;
  out["config"] = std::move(cfg);
  return out;
}

std::string dump(const ojson& j, int indent) {
  return indent < 0 ? j.dump() : j.dump(indent);
}

} // namespace

std::string serialize_mapping(const mapping_config& m, int indent) {
  return dump(mapping_json(m), indent);
}

std::string serialize_config(const config_document& doc, int indent) {
  ojson root = ojson::object();
  root["version"] = doc.version;
  if (doc.connection) {
    const auto& c = *doc.connection;
    ojson conn = ojson::object();
    if (c.app_name)
      conn["app_name"] = *c.app_name;
    if (c.organization_id)
      conn["organization_id"] = *c.organization_id;
    if (c.exported_at)
      conn["exported_at"] = *c.exported_at;
    if (c.features) {
      const auto& f = *c.features;
      conn["features"] = ojson{{"disable_bulk_writes", f.disable_bulk_writes},
                               {"poll_db_no_merge", f.poll_db_no_merge},
                               {"poll_external_ids", f.poll_external_ids},
                               {"rest_count_only", f.rest_count_only},
                               {"ucs_basic_collation_index", f.ucs_basic_collation_index}};
    }
    if (c.api_version)
      conn["api_version"] = *c.api_version;
    if (c.name)
      conn["name"] = *c.name;
    if (c.logplex_log_enabled)
      conn["logplex_log_enabled"] = *c.logplex_log_enabled;
    root["connection"] = std::move(conn);
  }
  ojson mappings = ojson::array();
  for (const auto& m : doc.mappings)
    mappings.push_back(mapping_json(m));
  root["mappings"] = std::move(mappings);
  return dump(root, indent);
}

} // namespace syncforce
