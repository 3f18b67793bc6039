#include "engine_io/config_validation.hpp"

#include "engine_io/mapping_describe.hpp"
#include "sync/sf_write.hpp"
#include "sync/type_mapping.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>

namespace syncforce::engine_io {

namespace {

constexpr std::string_view relationship_marker = "__r__";

/// Where `__r__` (in any case: `__R__` is the same marker) starts in a mapped name, or npos.
std::size_t find_relationship_marker(std::string_view field) {
  for (std::size_t i = 0; i + relationship_marker.size() <= field.size(); ++i)
    if (iequals(field.substr(i, relationship_marker.size()), relationship_marker))
      return i;
  return std::string_view::npos;
}

/// Edit distance of two API names, ignoring ASCII case.
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1);
  std::vector<std::size_t> cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t subst = prev[j - 1] + (ascii_lower(a[i - 1]) == ascii_lower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

bool ends_with_ci(std::string_view text, std::string_view tail) {
  return text.size() >= tail.size() && iequals(text.substr(text.size() - tail.size()), tail);
}

/// The closest of `candidates` to `name` when one is close enough to be a
/// likely typo (a few edits, or the same name under a managed-package namespace).
std::optional<std::string> closest_name(std::string_view name, const std::vector<std::string>& candidates) {
  const std::size_t budget = std::max<std::size_t>(2, name.size() / 4);
  std::optional<std::string> best;
  std::size_t best_distance = budget + 1;
  for (const auto& c : candidates) {
    if (ends_with_ci(c, "__" + std::string{name}))
      return c; // `ADM_Work__c` -> `agf__ADM_Work__c`
    auto d = distance(name, c);
    // A different first letter is rarely a typo ("Nope__c" is not "Code__c").
    if (d > 1 && !name.empty() && !c.empty() && ascii_lower(name.front()) != ascii_lower(c.front()))
      continue;
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates) {
  auto c = closest_name(name, candidates);
  return c ? " (did you mean " + *c + "?)" : std::string{};
}

std::vector<std::string> field_names(const salesforce::sobject_describe& d) {
  std::vector<std::string> out;
  out.reserve(d.fields.size());
  for (const auto& f : d.fields)
    out.push_back(f.name);
  return out;
}

/// Describes each object once per validation.
class describe_cache {
public:
  explicit describe_cache(salesforce::client& sf) : sf_(sf) {}

  const salesforce::result<salesforce::sobject_describe>& get(const std::string& object) {
    auto key = lowercase_name(object);
    auto it = cache_.find(key);
    if (it == cache_.end())
      it = cache_.emplace(key, sf_.describe(object)).first;
    return it->second;
  }

private:
  salesforce::client& sf_;
  std::map<std::string, salesforce::result<salesforce::sobject_describe>> cache_;
};

/// Checks one mapping against the org; appends its problems.
class mapping_validator {
public:
  mapping_validator(const mapping_to_validate& m, const salesforce::global_describe& global, describe_cache& describes,
                    std::vector<config_problem>& out)
    : m_(m), canonical_(m.config), cfg_(canonical_), global_(global), describes_(describes), out_(out) {}

  /// The mapping as Salesforce spells it (after run()).
  const mapping_config& canonical() const { return canonical_; }

  void run() {
    const auto* summary = global_.find(cfg_.object_name);
    if (summary == nullptr) {
      std::vector<std::string> names;
      for (const auto& s : global_.sobjects)
        names.push_back(s.name);
      problem("object_name", "no object " + cfg_.object_name + " in the org" + did_you_mean(cfg_.object_name, names));
      return;
    }
    const auto& d = describes_.get(summary->name);
    if (!d) {
      problem("object_name", "cannot describe " + cfg_.object_name + ": " + d.error().describe());
      return;
    }
    const auto& desc = d.value();
    const auto names = field_names(desc);
    // From here on the checks see the names as Salesforce spells them (`__R__` too).
    canonicalize(desc);

    // Every mapped field: known, mappable; relationship columns resolvable.
    std::vector<sf_field_info> infos;
    mapping_config valid = cfg_;
    valid.fields.clear();
    for (const auto& field : cfg_.fields) {
      auto rel = find_relationship_marker(field);
      if (rel != std::string::npos && rel > 0) {
        if (auto parent = check_relationship_column(desc, field, rel)) {
          infos.push_back(*parent);
          valid.fields.push_back(field);
        }
        continue;
      }
      const auto* f = desc.find_field(field);
      if (f == nullptr) {
        problem(field_path(field), "no field " + field + " on " + desc.name + did_you_mean(field, names));
        continue;
      }
      auto type = parse_sf_field_type(f->type);
      if (!type) {
        problem(field_path(field), "field " + f->name + " of type " + f->type + " cannot be mapped");
        continue;
      }
      if (*type == sf_field_type::address) {
        problem(field_path(field),
                "field " + f->name + " is a compound address: map its parts (e.g. street, city) instead");
        continue;
      }
      valid.fields.push_back(field);
    }
    for (const auto& f : desc.fields)
      if (auto type = parse_sf_field_type(f.type))
        infos.push_back(sf_field_info{f.name, *type, f.length});

    // The upsert field must exist (read-only mappings match incoming records by it).
    const bool upsert_unknown = cfg_.upsert_field && !cfg_.upsert_field->empty()
                                && desc.find_field(*cfg_.upsert_field) == nullptr;
    if (upsert_unknown)
      problem("config.upsert_field", "upsert_field " + *cfg_.upsert_field + " does not exist on " + desc.name
                                       + did_you_mean(*cfg_.upsert_field, names));

    // Columns, the upsert field's and the indexes' columns (make_table_spec),
    // over the fields that passed the checks above.
    auto spec = make_table_spec("salesforce", valid, infos);
    for (const auto& e : spec.errors)
      spec_problem(e, upsert_unknown);

    // Writing: a unique External ID upsert field, insert-required fields mapped.
    std::vector<sf_field_rules> rules;
    for (const auto& f : desc.fields)
      rules.push_back(rules_of(f));
    for (const auto& w : validate_write_mapping(cfg_, rules))
      if (!(upsert_unknown && w.find("does not exist") != std::string::npos))
        write_problem(w);
  }

private:
  /// A mapped name as describe spells it: a field, or a relationship column
  /// `Base__r__Ext__c` (the relationship's and the parent field's spelling).
  /// Unknown names are returned as given.
  std::string canonical_field(const salesforce::sobject_describe& desc, const std::string& field) {
    auto rel = find_relationship_marker(field);
    if (rel == std::string::npos || rel == 0) {
      const auto* f = desc.find_field(field);
      return f != nullptr ? f->name : field;
    }
    const std::string base = field.substr(0, rel);
    const std::string ext = field.substr(rel + relationship_marker.size());
    for (const auto& f : desc.fields) {
      if (f.relationship_name.empty() || f.reference_to.size() != 1)
        continue;
      std::string canonical_base;
      if (iequals(f.relationship_name, base + "__r"))
        canonical_base = f.relationship_name.substr(0, f.relationship_name.size() - 3);
      else if (iequals(f.relationship_name, base))
        canonical_base = f.relationship_name;
      else
        continue;
      std::string canonical_ext = ext;
      if (const auto& parent = describes_.get(f.reference_to.front()))
        if (const auto* pf = parent->find_field(ext))
          canonical_ext = pf->name;
      return canonical_base + std::string{relationship_marker} + canonical_ext;
    }
    return field;
  }

  void canonicalize(const salesforce::sobject_describe& desc) {
    canonical_.object_name = desc.name;
    for (auto& f : canonical_.fields)
      f = canonical_field(desc, f);
    if (canonical_.upsert_field && !canonical_.upsert_field->empty())
      canonical_.upsert_field = canonical_field(desc, *canonical_.upsert_field);
    for (auto& i : canonical_.indexes)
      i.field = canonical_field(desc, i.field);
  }

  /// `Parent__r__Ext__c`: the relationship must exist on the object and the
  /// parent must have an External ID field `Ext__c`. Returns the describe
  /// entry make_table_spec types the column from.
  std::optional<sf_field_info> check_relationship_column(const salesforce::sobject_describe& desc,
                                                         const std::string& field, std::size_t rel) {
    const std::string base = field.substr(0, rel);
    const std::string ext = field.substr(rel + relationship_marker.size());
    const salesforce::field_describe* lookup = nullptr;
    std::vector<std::string> relationships;
    for (const auto& f : desc.fields) {
      if (f.relationship_name.empty())
        continue;
      relationships.push_back(f.relationship_name);
      if (iequals(f.relationship_name, base + "__r") || iequals(f.relationship_name, base))
        lookup = &f;
    }
    if (lookup == nullptr) {
      std::vector<std::string> bases;
      for (const auto& r : relationships)
        bases.push_back(ends_with_ci(r, "__r") ? r.substr(0, r.size() - 3) : r);
      auto hint = closest_name(base, bases);
      problem(field_path(field), "no relationship " + base + " on " + desc.name
                                   + (hint ? " (did you mean " + *hint + "__r__" + ext + "?)" : std::string{}));
      return std::nullopt;
    }
    if (lookup->reference_to.empty()) {
      problem(field_path(field),
              "relationship " + lookup->relationship_name + " of " + desc.name + " has no parent object");
      return std::nullopt;
    }
    if (lookup->reference_to.size() > 1) {
      problem(field_path(field), "relationship " + lookup->relationship_name + " of " + desc.name
                                   + " is polymorphic; it cannot be set by an external id");
      return std::nullopt;
    }
    const auto& parent_name = lookup->reference_to.front();
    const auto& parent = describes_.get(parent_name);
    if (!parent) {
      problem(field_path(field), "cannot describe " + parent_name + ": " + parent.error().describe());
      return std::nullopt;
    }
    const auto* pf = parent->find_field(ext);
    if (pf == nullptr) {
      problem(field_path(field),
              "no field " + ext + " on " + parent->name + did_you_mean(ext, field_names(parent.value())));
      return std::nullopt;
    }
    if (!pf->external_id) {
      problem(field_path(field), "field " + pf->name + " of " + parent->name + " is not an External ID field");
      return std::nullopt;
    }
    auto type = parse_sf_field_type(pf->type);
    // make_table_spec types the column from a describe entry named like the mapped field.
    return sf_field_info{field, type.value_or(sf_field_type::string), pf->length > 0 ? pf->length : 255};
  }

  std::string field_path(const std::string& field) const { return "config.fields." + field; }

  void problem(const std::string& rest, std::string message) {
    out_.push_back(config_problem{m_.path.empty() ? rest : m_.path + "." + rest, std::move(message)});
  }

  bool mapped(std::string_view field) const {
    return std::any_of(cfg_.fields.begin(), cfg_.fields.end(), [&](const std::string& f) { return iequals(f, field); });
  }

  /// make_table_spec's `Field: message`; problems of fields reported already are left out.
  void spec_problem(const std::string& e, bool upsert_unknown) {
    auto colon = e.find(": ");
    if (colon == std::string::npos) {
      problem("config.fields", e);
      return;
    }
    const auto field = e.substr(0, colon);
    const auto message = e.substr(colon + 2);
    if (message.find("upsert field") != std::string::npos) {
      if (!upsert_unknown && !mapped(field))
        problem("config.upsert_field", "upsert_field " + field + " is not among the mapped fields");
    } else if (message.find("index") != std::string::npos) {
      if (!mapped(field))
        problem("config.indexes." + field, "index on " + field + ", which is not mapped");
    } else {
      problem(field_path(field), field + ": " + message);
    }
  }

  void write_problem(const std::string& w) {
    if (w.rfind("Fields needed", 0) == 0)
      problem("config.fields", w);
    else
      problem("config.upsert_field", w);
  }

  const mapping_to_validate& m_;
  mapping_config canonical_;  ///< the mapping, names in describe's spelling once run() has described it
  const mapping_config& cfg_; ///< what the checks read: canonical_
  const salesforce::global_describe& global_;
  describe_cache& describes_;
  std::vector<config_problem>& out_;
};

} // namespace

salesforce::result<std::vector<std::string>> org_api_versions(salesforce::client& sf) {
  salesforce::raw_call call;
  call.path = "/services/data/";
  call.options.idempotent = true;
  auto r = sf.call(call);
  if (!r)
    return r.error();
  auto doc = nlohmann::json::parse(r->body, nullptr, false);
  if (!doc.is_array()) {
    salesforce::sf_error e;
    e.kind = salesforce::error_kind::protocol;
    e.code = "MALFORMED_RESPONSE";
    e.message = "the versions list (GET /services/data) is not a JSON array";
    e.http_status = r->status;
    return e;
  }
  std::vector<std::string> out;
  for (const auto& v : doc)
    if (v.is_object() && v.contains("version") && v["version"].is_string())
      out.push_back(v["version"].get<std::string>());
  return out;
}

std::vector<config_problem> validate_mappings(salesforce::client& sf, const std::vector<mapping_to_validate>& mappings,
                                              std::vector<mapping_config>* canonical) {
  std::vector<config_problem> out;
  if (canonical != nullptr) {
    canonical->clear();
    for (const auto& m : mappings)
      canonical->push_back(m.config);
  }
  auto at = [](const mapping_to_validate& m, const std::string& rest) {
    return m.path.empty() ? rest : m.path + "." + rest;
  };
  // What needs no Salesforce: the polling bounds (configs built outside
  // parse_config too), mappings of the same object twice.
  for (std::size_t i = 0; i < mappings.size(); ++i) {
    const auto& m = mappings[i];
    const int secs = m.config.sf_polling_seconds;
    if (secs < mapping_config::min_polling_seconds || secs > mapping_config::max_polling_seconds)
      out.push_back({at(m, "config.sf_polling_seconds"),
                     "must be between " + std::to_string(mapping_config::min_polling_seconds) + " and "
                       + std::to_string(mapping_config::max_polling_seconds) + " seconds, not "
                       + std::to_string(secs)});
    if (m.config.sf_max_daily_api_calls && *m.config.sf_max_daily_api_calls < 0)
      out.push_back({at(m, "config.sf_max_daily_api_calls"), "must not be negative"});
    if (m.config.object_name.empty()) {
      out.push_back({at(m, "object_name"), "is empty"});
      continue;
    }
    for (std::size_t j = 0; j < i; ++j)
      if (iequals(mappings[j].config.object_name, m.config.object_name)) {
        out.push_back({at(m, "object_name"), m.config.object_name + " is mapped twice"
                                               + (mappings[j].path.empty() ? std::string{}
                                                                           : " (also " + mappings[j].path + ")")});
        break;
      }
  }
  if (mappings.empty())
    return out;
  auto global = sf.describe_global();
  if (!global) {
    out.push_back({"salesforce", "cannot check the mappings against Salesforce: " + global.error().describe()});
    return out;
  }
  describe_cache describes(sf);
  for (std::size_t i = 0; i < mappings.size(); ++i) {
    const auto& m = mappings[i];
    if (m.config.object_name.empty())
      continue;
    mapping_validator v(m, global.value(), describes, out);
    v.run();
    if (canonical != nullptr)
      (*canonical)[i] = v.canonical();
  }
  return out;
}

} // namespace syncforce::engine_io
