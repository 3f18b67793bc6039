#include "emulator/org.hpp"

#include "sync/csv.hpp"
#include "emulator/formula.hpp"
#include "emulator/ids.hpp"
#include "emulator/standard_objects/builder.hpp"

#include <malloc.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <set>

namespace sfemu {

// ---- helpers -----------------------------------------------------------------------

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    const char* run = p;
    while (p < end && static_cast<unsigned char>(*p) >= 0x20 && *p != '"' && *p != '\\')
      ++p;
    out.append(run, static_cast<std::size_t>(p - run));
    if (p >= end)
      break;
    char c = *p++;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
        out += buf;
      }
    }
  }
  out.push_back('"');
}

namespace {

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
      ++n;
  return n;
}

std::string format_number(double d) {
  if (!std::isfinite(d))
    return "null";
  char buf[40];
  auto res = std::to_chars(buf, buf + sizeof(buf), d);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eE") == std::string::npos)
    s += ".0";
  return s;
}

std::string mask(std::string_view s) { return std::string(utf8_length(s), '*'); }

field_error error_of(std::string code, std::string message, std::vector<std::string> fields = {}) {
  return field_error{std::move(code), std::move(message), std::move(fields)};
}

std::string json_text(const nlohmann::json& j) {
  if (j.is_string())
    return j.get<std::string>();
  return j.dump();
}

bool valid_email(std::string_view s) {
  auto at = s.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= s.size())
    return false;
  auto dot = s.find('.', at);
  return dot != std::string_view::npos && dot + 1 < s.size() && s.find(' ') == std::string_view::npos;
}

soql::field_type soql_type(field_type t) {
  if (t == field_type::int_)
    return soql::field_type::integer;
  if (t == field_type::anytype)
    return soql::field_type::other;
  auto parsed = soql::field_type_from_string(to_string(t));
  return parsed ? *parsed : soql::field_type::other;
}

} // namespace

std::string key_of(const field_def& f, const value& v) {
  std::string k;
  switch (v.type()) {
    case value::kind::string: k = std::string(v.as_string()); break;
    case value::kind::integer: k = std::to_string(v.as_int()); break;
    case value::kind::real: k = format_number(v.as_real()); break;
    case value::kind::boolean: k = v.as_bool() ? "true" : "false"; break;
    case value::kind::null: return {};
  }
  return f.case_sensitive ? k : lower(k);
}

bool convert_value(const field_def& f, const nlohmann::json& in, value& out, field_error& error) {
  if (in.is_null()) {
    out = value();
    return true;
  }
  auto bad = [&](const std::string& shown) {
    std::string kind = in.is_string() ? "VALUE_STRING" : in.is_boolean() ? (in.get<bool>() ? "VALUE_TRUE" : "VALUE_FALSE")
                     : in.is_number() ? "VALUE_NUMBER" : in.is_object() ? "START_OBJECT" : "START_ARRAY";
    error = error_of("JSON_PARSER_ERROR", "Cannot deserialize instance of " + std::string(to_string(f.type)) +
                                              " from " + kind + " value " + shown +
                                              " or request may be missing a required field",
                     {f.name});
    return false;
  };
  if (in.is_object() || in.is_array())
    return bad(in.dump());
  switch (f.type) {
    case field_type::boolean: {
      if (in.is_boolean()) {
        out = value::of_bool(in.get<bool>());
        return true;
      }
      if (in.is_string()) {
        std::string s = lower(in.get<std::string>());
        if (s == "true" || s == "1") {
          out = value::of_bool(true);
          return true;
        }
        if (s == "false" || s == "0") {
          out = value::of_bool(false);
          return true;
        }
        if (s.empty()) {
          out = value();
          return true;
        }
      }
      if (in.is_number_integer() && (in.get<std::int64_t>() == 0 || in.get<std::int64_t>() == 1)) {
        out = value::of_bool(in.get<std::int64_t>() == 1);
        return true;
      }
      return bad(json_text(in));
    }
    case field_type::int_: {
      if (in.is_number_integer()) {
        out = value::of_int(in.get<std::int64_t>());
        return true;
      }
      if (in.is_number_float()) {
        double d = in.get<double>();
        if (std::floor(d) == d && std::fabs(d) < 9e15) {
          out = value::of_int(static_cast<std::int64_t>(d));
          return true;
        }
        return bad(json_text(in));
      }
      if (in.is_string()) {
        std::string s = in.get<std::string>();
        if (s.empty()) {
          out = value();
          return true;
        }
        char* end = nullptr;
        double d = std::strtod(s.c_str(), &end);
        if (end && *end == '\0' && std::floor(d) == d && std::fabs(d) < 9e15) {
          out = value::of_int(static_cast<std::int64_t>(d));
          return true;
        }
      }
      return bad(json_text(in));
    }
    case field_type::double_:
    case field_type::currency:
    case field_type::percent: {
      if (in.is_number()) {
        out = value::of_real(in.get<double>());
        return true;
      }
      if (in.is_string()) {
        std::string s = in.get<std::string>();
        if (s.empty()) {
          out = value();
          return true;
        }
        char* end = nullptr;
        double d = std::strtod(s.c_str(), &end);
        if (end && *end == '\0' && std::isfinite(d)) {
          out = value::of_real(d);
          return true;
        }
      }
      return bad(json_text(in));
    }
    case field_type::date: {
      if (in.is_string()) {
        auto s = in.get<std::string>();
        if (s.empty()) {
          out = value();
          return true;
        }
        if (auto d = parse_date(s)) {
          out = value::of_int(*d);
          return true;
        }
      }
      return bad(json_text(in));
    }
    case field_type::datetime: {
      if (in.is_string()) {
        auto s = in.get<std::string>();
        if (s.empty()) {
          out = value();
          return true;
        }
        if (auto d = parse_datetime(s)) {
          out = value::of_int(*d);
          return true;
        }
      }
      if (in.is_number_integer()) { // epoch milliseconds, as some clients send
        out = value::of_int(in.get<std::int64_t>());
        return true;
      }
      return bad(json_text(in));
    }
    case field_type::time: {
      if (in.is_string()) {
        auto s = in.get<std::string>();
        if (s.empty()) {
          out = value();
          return true;
        }
        if (auto d = parse_time(s)) {
          out = value::of_int(*d);
          return true;
        }
      }
      return bad(json_text(in));
    }
    default: {
      std::string s = json_text(in);
      if (in.is_number_float())
        s = format_number(in.get<double>());
      if (s.empty()) {
        out = value();
        return true;
      }
      out = value::of_string(s);
      return true;
    }
  }
}

bool convert_text(const field_def& f, std::string_view in, value& out, field_error& error) {
  auto bad = [&] {
    error = error_of("INVALID_FIELD", "'" + std::string(in) + "' is not a valid value for the type " +
                                          std::string(soap_type(f.type)), {f.name});
    return false;
  };
  if (in.empty()) {
    out = value();
    return true;
  }
  switch (f.type) {
    case field_type::boolean: {
      if (iequals(in, "true") || in == "1") {
        out = value::of_bool(true);
        return true;
      }
      if (iequals(in, "false") || in == "0") {
        out = value::of_bool(false);
        return true;
      }
      return bad();
    }
    case field_type::int_:
    case field_type::double_:
    case field_type::currency:
    case field_type::percent: {
      std::string text(in);
      char* end = nullptr;
      double d = std::strtod(text.c_str(), &end);
      if (!end || *end != '\0' || !std::isfinite(d))
        return bad();
      if (f.type == field_type::int_) {
        if (std::floor(d) != d || std::fabs(d) >= 9e15)
          return bad();
        out = value::of_int(static_cast<std::int64_t>(d));
      } else {
        out = value::of_real(d);
      }
      return true;
    }
    case field_type::date: {
      auto d = parse_date(in);
      if (!d)
        return bad();
      out = value::of_int(*d);
      return true;
    }
    case field_type::datetime: {
      auto d = parse_datetime(in);
      if (!d)
        return bad();
      out = value::of_int(*d);
      return true;
    }
    case field_type::time: {
      auto d = parse_time(in);
      if (!d)
        return bad();
      out = value::of_int(*d);
      return true;
    }
    case field_type::id:
    case field_type::reference: {
      std::string id = ids::to_18(in);
      if (id.empty()) {
        error = error_of("MALFORMED_ID", f.label + ": id value of incorrect type: " + std::string(in), {f.name});
        return false;
      }
      out = value::of_string(id);
      return true;
    }
    case field_type::picklist: out = value::of_atom(in); return true;
    default: out = value::of_string(in); return true;
  }
}

/// Appends one field value as JSON (formatting by the field's type; masks encrypted values).
static void append_value(std::string& out, const field_def& f, const value& v) {
  if (v.is_null()) {
    out += "null";
    return;
  }
  switch (f.type) {
    case field_type::boolean: out += v.as_bool() ? "true" : "false"; return;
    case field_type::int_:
      if (v.type() == value::kind::real)
        out += format_number(v.as_real());
      else
        out += std::to_string(v.as_int());
      return;
    case field_type::double_:
    case field_type::currency:
    case field_type::percent: out += format_number(v.as_real()); return;
    case field_type::date: append_json_string(out, format_date(v.as_int())); return;
    case field_type::datetime: append_json_string(out, format_datetime(v.as_int())); return;
    case field_type::time: append_json_string(out, format_time(v.as_int())); return;
    case field_type::encryptedstring: append_json_string(out, mask(v.as_string())); return;
    default: append_json_string(out, v.as_string()); return;
  }
}

/// CSV text of a value (Bulk 2.0 query results).
static std::string csv_text(const field_def& f, const value& v) {
  switch (f.type) {
    case field_type::boolean: return v.as_bool() ? "true" : "false";
    case field_type::int_: return v.type() == value::kind::real ? format_number(v.as_real()) : std::to_string(v.as_int());
    case field_type::double_:
    case field_type::currency:
    case field_type::percent: {
      char buf[40];
      std::snprintf(buf, sizeof(buf), "%.15g", v.as_real());
      return buf;
    }
    case field_type::date: return format_date(v.as_int());
    case field_type::datetime: {
      auto s = format_datetime(v.as_int());
      return s.substr(0, 23) + "Z";
    }
    case field_type::time: return format_time(v.as_int());
    case field_type::encryptedstring: return mask(v.as_string());
    default: return std::string(v.as_string());
  }
}

// ---- object_store ---------------------------------------------------------------------

void object_store::refresh_positions() {
  is_deleted = def.field_index("IsDeleted");
  created_date = def.field_index("CreatedDate");
  created_by = def.field_index("CreatedById");
  last_modified_date = def.field_index("LastModifiedDate");
  last_modified_by = def.field_index("LastModifiedById");
  system_modstamp = def.field_index("SystemModstamp");
  owner = def.field_index("OwnerId");
}

// ---- record views (SOQL) -----------------------------------------------------------------

/// A record as the SOQL evaluator reads it.
class org_record_view final : public soql::record_view {
public:
  org_record_view(const org& o, const object_store& s, const record& r) : org_(o), store_(&s), record_(&r) {}
  void reset(const record& r) { record_ = &r; }

  soql::value get(const soql::field_handle& h) const override {
    const object_store* s = store_;
    const record* r = record_;
    for (const auto& hop : h.hops) {
      const object_store* target = nullptr;
      r = org_.follow(*s, *r, static_cast<int>(hop.reference.slot), &target);
      if (!r)
        return soql::value::null();
      s = target;
    }
    int idx = static_cast<int>(h.field.slot);
    const field_def& f = s->def.fields[static_cast<std::size_t>(idx)];
    if (f.calculated()) {
      scratch_ = org_.field_value(*s, *r, idx);
      return to_soql(f, scratch_);
    }
    return to_soql(f, r->values[static_cast<std::size_t>(idx)]);
  }

  static soql::value to_soql(const field_def& f, const value& v) {
    if (v.is_null())
      return soql::value::null();
    switch (f.type) {
      case field_type::boolean: return soql::value::boolean(v.as_bool());
      case field_type::int_: return soql::value::integer(v.as_int());
      case field_type::double_:
      case field_type::currency:
      case field_type::percent: return soql::value::decimal(v.as_real());
      case field_type::date: return soql::value::date(v.as_int());
      case field_type::datetime: return soql::value::datetime(v.as_int());
      case field_type::time: return soql::value::integer(v.as_int());
      default: return soql::value::string(v.as_string());
    }
  }

private:
  const org& org_;
  const object_store* store_;
  const record* record_;
  mutable value scratch_;
};

/// Formula field references resolved against a record (parent paths included).
struct org_formula_resolver final : formula_resolver {
  org_formula_resolver(const org& o, const object_store& s, const record& r, int depth)
      : org_(o), store_(s), record_(r), depth_(depth) {}

  fvalue field(const std::vector<std::string>& path) const override {
    const object_store* s = &store_;
    const record* r = &record_;
    for (std::size_t i = 0; i + 1 < path.size(); ++i) {
      int rel = s->def.relationship_index(path[i]);
      if (rel < 0)
        return {};
      const object_store* target = nullptr;
      r = org_.follow(*s, *r, rel, &target);
      if (!r)
        return {};
      s = target;
    }
    int idx = s->def.field_index(path.back());
    if (idx < 0)
      return {};
    const field_def& f = s->def.fields[static_cast<std::size_t>(idx)];
    value v;
    if (f.calculated()) {
      if (depth_ > 8)
        return {};
      v = org_.field_value(*s, *r, idx, depth_ + 1);
    } else {
      v = r->values[static_cast<std::size_t>(idx)];
    }
    if (v.is_null())
      return {};
    switch (f.type) {
      case field_type::boolean: return fvalue::boolean(v.as_bool());
      case field_type::int_:
      case field_type::double_:
      case field_type::currency:
      case field_type::percent: return fvalue::number(v.as_real());
      case field_type::date: return fvalue::date(v.as_int());
      case field_type::datetime: return fvalue::datetime(v.as_int());
      default: return fvalue::text(std::string(v.as_string()));
    }
  }
  std::int64_t now_ms() const override { return org_.clock_.now_ms(); }

  const org& org_;
  const object_store& store_;
  const record& record_;
  int depth_;
};

// ---- org ------------------------------------------------------------------------------

struct org::undo_entry {
  enum class kind { created, changed, erased };
  kind what;
  object_store* store;
  std::uint32_t slot;
  std::vector<value> old_values;
};

org::org(sfemu::clock& clk) : clock_(clk) {
  org_id_ = ids::make_id("00D", 7654321);
  reset();
}

org::~org() = default;

void org::reset() {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  stores_.clear();
  store_by_lower_.clear();
  store_by_prefix_.clear();
  passwords_.clear();
  next_custom_prefix_ = 1;
  pending_changes_.clear();
  change_log_.clear();
  for (auto& def : standard_objects())
    add_object_unlocked(std::move(def));
  // The records every org has (profiles, the standard price book), created by the
  // admin, whose id is known before the user record exists (ids are sequential).
  std::string admin = ids::make_id("005", 1);
  for (auto& seed : standard::seed_records()) {
    nlohmann::json row = nlohmann::json::object();
    for (auto& [field, text] : seed.values)
      row[std::string(field)] = std::string(text);
    bulk_load_unlocked(seed.object, {row}, admin);
  }
  add_user_unlocked("admin@sfemu.local", "sfemu");
}

object_store& org::add_object_unlocked(object_def def) {
  auto s = std::make_unique<object_store>();
  s->def = std::move(def);
  s->def.rebuild_index();
  s->refresh_positions();
  rebuild_soql_info(*s);
  store_by_lower_[lower(s->def.name)] = stores_.size();
  store_by_prefix_[s->def.key_prefix] = stores_.size();
  stores_.push_back(std::move(s));
  return *stores_.back();
}

void org::rebuild_soql_info(object_store& s) {
  std::vector<soql::field_info> infos;
  for (std::size_t i = 0; i < s.def.fields.size(); ++i) {
    const auto& f = s.def.fields[i];
    soql::field_info fi;
    fi.name = f.name;
    fi.type = soql_type(f.type);
    fi.slot = static_cast<std::uint32_t>(i);
    fi.relationship_name = f.relationship_name;
    fi.reference_to = f.reference_to;
    bool long_text = f.type == field_type::textarea && f.length > 255;
    fi.filterable = !long_text && !f.encrypted();
    fi.sortable = !long_text && !f.encrypted();
    infos.push_back(std::move(fi));
  }
  s.soql_info = std::make_unique<soql::basic_object_info>(s.def.name, std::move(infos));
}

object_store* org::store_unlocked(std::string_view name) {
  auto it = store_by_lower_.find(lower(name));
  return it == store_by_lower_.end() ? nullptr : stores_[it->second].get();
}

const object_store* org::store_unlocked(std::string_view name) const {
  auto it = store_by_lower_.find(lower(name));
  return it == store_by_lower_.end() ? nullptr : stores_[it->second].get();
}

const object_store* org::store_for_id_unlocked(std::string_view id) const {
  if (id.size() < 3)
    return nullptr;
  auto it = store_by_prefix_.find(std::string(id.substr(0, 3)));
  return it == store_by_prefix_.end() ? nullptr : stores_[it->second].get();
}

const soql::object_info* org::find_object(std::string_view name) const {
  const object_store* s = store_unlocked(name);
  return s ? s->soql_info.get() : nullptr;
}

std::vector<std::string> org::object_names() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  std::vector<std::string> out;
  for (auto& s : stores_)
    out.push_back(s->def.name);
  return out;
}

bool org::has_object(std::string_view name) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return store_unlocked(name) != nullptr;
}

std::string org::canonical_name(std::string_view name) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto* s = store_unlocked(name);
  return s ? s->def.name : std::string();
}

std::optional<object_def> org::object_definition(std::string_view object) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto* s = store_unlocked(object);
  if (!s)
    return std::nullopt;
  return s->def;
}

std::string org::object_for_id(std::string_view id) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto* s = store_for_id_unlocked(id);
  return s ? s->def.name : std::string();
}

std::size_t org::size(std::string_view object) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto* s = store_unlocked(object);
  return s ? s->live_count : 0;
}

// ---- schema definition ------------------------------------------------------------------

std::optional<std::string> org::define(const nlohmann::json& spec) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  return define_unlocked(spec);
}

std::optional<std::string> org::define_unlocked(const nlohmann::json& spec) {
  std::vector<nlohmann::json> objects;
  if (spec.is_array()) {
    for (auto& o : spec)
      objects.push_back(o);
  } else if (spec.is_object() && spec.contains("objects")) {
    if (!spec["objects"].is_array())
      return std::string("\"objects\" must be an array");
    for (auto& o : spec["objects"])
      objects.push_back(o);
  } else if (spec.is_object() && spec.contains("name")) {
    objects.push_back(spec);
  } else if (spec.is_object() && spec.empty()) {
    return std::nullopt;
  } else {
    return std::string("expected {\"objects\":[...]}, an object definition or an array of them");
  }
  // Validate everything first, then apply (a bad definition changes nothing).
  struct pending {
    std::string name;
    nlohmann::json j;
    std::vector<field_def> fields;
  };
  std::vector<pending> todo;
  for (auto& o : objects) {
    if (!o.is_object() || !o.contains("name") || !o["name"].is_string())
      return std::string("an object definition needs a string \"name\"");
    pending p;
    p.name = o["name"].get<std::string>();
    if (p.name.empty() || !std::all_of(p.name.begin(), p.name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        }))
      return "bad object name '" + p.name + "'";
    p.j = o;
    if (o.contains("fields")) {
      if (!o["fields"].is_array())
        return "\"fields\" of " + p.name + " must be an array";
      for (auto& fj : o["fields"]) {
        field_def f;
        if (auto err = field_from_json(fj, f))
          return err->message;
        if (f.type == field_type::reference)
          for (auto& target : f.reference_to) {
            bool known = store_unlocked(target) != nullptr;
            for (auto& q : objects)
              if (q.is_object() && q.contains("name") && q["name"].is_string() &&
                  iequals(q["name"].get<std::string>(), target))
                known = true;
            if (!known)
              return "field " + f.name + " references unknown object " + target;
          }
        p.fields.push_back(std::move(f));
      }
    }
    todo.push_back(std::move(p));
  }
  for (auto& p : todo) {
    object_store* s = store_unlocked(p.name);
    if (!s) {
      object_def def;
      def.name = p.name;
      def.custom = p.name.size() > 3 && iequals(p.name.substr(p.name.size() - 3), "__c");
      def.label = p.j.value("label", def.custom ? p.name.substr(0, p.name.size() - 3) : p.name);
      def.label_plural = p.j.value("label_plural", p.j.value("labelPlural", def.label + "s"));
      std::string prefix = p.j.value("key_prefix", p.j.value("keyPrefix", std::string()));
      while (prefix.empty() || store_by_prefix_.count(prefix)) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "a%02d", next_custom_prefix_++);
        prefix = buf;
      }
      def.key_prefix = prefix;
      add_system_fields(def);
      field_def name;
      name.name = "Name";
      name.label = def.label + " Name";
      name.type = field_type::string;
      name.length = 80;
      name.name_field = true;
      name.id_lookup = true;
      def.fields.push_back(name);
      field_def owner_f;
      owner_f.name = "OwnerId";
      owner_f.label = "Owner ID";
      owner_f.type = field_type::reference;
      owner_f.length = 18;
      owner_f.reference_to = {"User"};
      owner_f.relationship_name = "Owner";
      owner_f.nillable = false;
      owner_f.defaulted_on_create = true;
      def.fields.push_back(owner_f);
      def.rebuild_index();
      s = &add_object_unlocked(std::move(def));
    }
    for (auto& f : p.fields) {
      int existing = s->def.field_index(f.name);
      if (existing >= 0 && s->def.fields[static_cast<std::size_t>(existing)].system)
        continue; // system fields cannot be redefined
      bool added = existing < 0;
      std::optional<field_def> before;
      if (!added)
        before = s->def.fields[static_cast<std::size_t>(existing)];
      s->def.put_field(std::move(f));
      if (added) {
        for (auto& r : s->records)
          if (!r.erased)
            r.values.emplace_back();
        continue;
      }
      // A field whose type changed keeps its values the way Salesforce converts
      // them (3 -> "3", "42" -> 42); a value the new type cannot hold becomes null.
      const auto& now = s->def.fields[static_cast<std::size_t>(existing)];
      if (before->type == now.type)
        continue;
      for (auto& r : s->records) {
        if (r.erased || static_cast<std::size_t>(existing) >= r.values.size())
          continue;
        auto& v = r.values[static_cast<std::size_t>(existing)];
        if (v.is_null())
          continue;
        value converted;
        field_error error;
        if (convert_text(now, csv_text(*before, v), converted, error)) {
          settle(now, converted);
          v = std::move(converted);
        }
        else
          v = value{};
      }
    }
    s->refresh_positions();
    rebuild_soql_info(*s);
    // rebuild key indexes (new unique fields)
    s->keys.clear();
    for (std::uint32_t slot = 0; slot < s->records.size(); ++slot)
      index_add(*s, slot);
  }
  return std::nullopt;
}

std::optional<std::string> org::load(const nlohmann::json& file) {
  if (!file.is_object())
    return std::string("an org file must be a JSON object");
  {
    std::unique_lock<std::shared_mutex> lock(mutex_);
    if (file.contains("objects"))
      if (auto err = define_unlocked(nlohmann::json{{"objects", file["objects"]}}))
        return err;
    if (file.contains("users")) {
      if (!file["users"].is_array())
        return std::string("\"users\" must be an array");
      for (auto& u : file["users"]) {
        if (!u.is_object() || !u.contains("username") || !u["username"].is_string())
          return std::string("a user needs a \"username\"");
        add_user_unlocked(u["username"].get<std::string>(), u.value("password", std::string("sfemu")));
      }
    }
  }
  if (file.contains("records")) {
    if (!file["records"].is_object())
      return std::string("\"records\" must be an object of arrays keyed by object name");
    auto admin = find_user("admin@sfemu.local");
    std::string uid = admin ? admin->id : std::string();
    for (auto& [name, rows] : file["records"].items()) {
      if (!rows.is_array())
        return "records of " + name + " must be an array";
      std::vector<nlohmann::json> list(rows.begin(), rows.end());
      auto res = bulk_load(name, list, uid);
      if (res.error)
        return res.error;
    }
  }
  return std::nullopt;
}

// ---- users -------------------------------------------------------------------------------

std::string org::add_user(const std::string& username, const std::string& password) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  return add_user_unlocked(username, password);
}

std::string org::add_user_unlocked(const std::string& username, const std::string& password) {
  object_store* s = store_unlocked("User");
  int uname = s->def.field_index("Username");
  auto& idx = s->keys[uname];
  auto it = idx.find(lower(username));
  if (it != idx.end() && !it->second.empty()) {
    std::string id(s->records[it->second.front()].values[0].as_string());
    passwords_[id] = password;
    return id;
  }
  std::string id = next_id(*s);
  record r;
  r.values.resize(s->def.fields.size());
  r.values[0] = value::of_string(id);
  auto set = [&](const char* f, value v) {
    int i = s->def.field_index(f);
    if (i >= 0)
      r.values[static_cast<std::size_t>(i)] = std::move(v);
  };
  std::string local = username.substr(0, username.find('@'));
  std::int64_t now = stamp_now();
  set("Username", value::of_string(username));
  set("LastName", value::of_string(local.empty() ? username : local));
  set("Email", value::of_string(username.find('@') != std::string::npos ? username : username + "@sfemu.local"));
  set("Alias", value::of_string(local.substr(0, 8)));
  set("IsActive", value::of_bool(true));
  set("TimeZoneSidKey", value::of_string("America/Los_Angeles"));
  set("LocaleSidKey", value::of_string("en_US"));
  set("EmailEncodingKey", value::of_string("UTF-8"));
  set("LanguageLocaleKey", value::of_string("en_US"));
  set("CommunityNickname", value::of_string(local.empty() ? username : local));
  set("UserType", value::of_string("Standard"));
  // Every user has a profile; the first seeded one is System Administrator.
  if (object_store* p = store_unlocked("Profile"); p && !p->records.empty())
    set("ProfileId", p->records.front().values[0]);
  set("CreatedDate", value::of_int(now));
  set("LastModifiedDate", value::of_int(now));
  set("SystemModstamp", value::of_int(now));
  set("CreatedById", value::of_string(id));
  set("LastModifiedById", value::of_string(id));
  auto slot = static_cast<std::uint32_t>(s->records.size());
  s->records.push_back(std::move(r));
  s->by_id[id] = slot;
  ++s->live_count;
  index_add(*s, slot);
  passwords_[id] = password;
  return id;
}

static user_info user_from(const object_store& s, const record& r) {
  user_info u;
  u.id = std::string(r.values[0].as_string());
  auto get = [&](const char* f) {
    int i = s.def.field_index(f);
    return i < 0 ? std::string() : std::string(r.values[static_cast<std::size_t>(i)].as_string());
  };
  u.username = get("Username");
  u.email = get("Email");
  std::string first = get("FirstName"), last = get("LastName");
  u.display_name = first.empty() ? last : first + " " + last;
  return u;
}

std::optional<user_info> org::find_user(const std::string& username) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  const object_store* s = store_unlocked("User");
  int uname = s->def.field_index("Username");
  auto kit = s->keys.find(uname);
  if (kit == s->keys.end())
    return std::nullopt;
  auto it = kit->second.find(lower(username));
  if (it == kit->second.end() || it->second.empty())
    return std::nullopt;
  return user_from(*s, s->records[it->second.front()]);
}

std::optional<user_info> org::check_password(const std::string& username, const std::string& password) const {
  auto u = find_user(username);
  if (!u)
    return std::nullopt;
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto it = passwords_.find(u->id);
  if (it == passwords_.end() || it->second != password)
    return std::nullopt;
  return u;
}

std::optional<user_info> org::user_by_id(const std::string& id) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  const object_store* s = store_unlocked("User");
  auto it = s->by_id.find(ids::to_18(id));
  if (it == s->by_id.end())
    return std::nullopt;
  return user_from(*s, s->records[it->second]);
}

// ---- indexes ------------------------------------------------------------------------------

std::string org::next_id(object_store& s) {
  for (;;) {
    std::string id = ids::make_id(s.def.key_prefix, s.next_sequence++);
    if (!s.by_id.count(id))
      return id;
  }
}

void org::index_add(object_store& s, std::uint32_t slot) {
  const record& r = s.records[slot];
  if (r.erased || s.is_deleted_slot(slot))
    return;
  for (std::size_t i = 0; i < s.def.fields.size(); ++i) {
    const auto& f = s.def.fields[i];
    if (!(f.unique || f.external_id) || f.calculated() || i >= r.values.size() || r.values[i].is_null())
      continue;
    s.keys[static_cast<int>(i)][key_of(f, r.values[i])].push_back(slot);
  }
}

void org::index_remove(object_store& s, std::uint32_t slot) {
  const record& r = s.records[slot];
  for (std::size_t i = 0; i < s.def.fields.size(); ++i) {
    const auto& f = s.def.fields[i];
    if (!(f.unique || f.external_id) || f.calculated() || i >= r.values.size() || r.values[i].is_null())
      continue;
    auto kit = s.keys.find(static_cast<int>(i));
    if (kit == s.keys.end())
      continue;
    auto it = kit->second.find(key_of(f, r.values[i]));
    if (it == kit->second.end())
      continue;
    auto& v = it->second;
    v.erase(std::remove(v.begin(), v.end(), slot), v.end());
    if (v.empty())
      kit->second.erase(it);
  }
}

const record* org::follow(const object_store& s, const record& r, int ref_field,
                          const object_store** target) const {
  if (ref_field < 0 || static_cast<std::size_t>(ref_field) >= r.values.size())
    return nullptr;
  const value& v = r.values[static_cast<std::size_t>(ref_field)];
  if (v.is_null())
    return nullptr;
  const object_store* t = store_for_id_unlocked(v.as_string());
  if (!t)
    return nullptr;
  auto it = t->by_id.find(std::string(v.as_string()));
  if (it == t->by_id.end())
    return nullptr;
  const record& parent = t->records[it->second];
  if (parent.erased || t->is_deleted_slot(it->second))
    return nullptr;
  *target = t;
  return &parent;
}

value org::rollup_value(const field_def& f, const record& parent) const {
  // Read-time aggregation over the child store: every read costs a scan of the
  // children (fine for an emulator's test data; documented in docs/sfemu.md).
  const auto& spec = *f.rollup;
  using fn = field_def::rollup_def::function;
  const object_store* child = store_unlocked(spec.child);
  if (!child)
    return {};
  int via = child->def.field_index(spec.via);
  int summarized = spec.summarized.empty() ? -1 : child->def.field_index(spec.summarized);
  if (via < 0 || (spec.fn != fn::count && summarized < 0))
    return {};
  const std::string_view id = parent.values[0].as_string();
  std::int64_t count = 0;
  double acc = 0;
  bool any = false;
  for (std::uint32_t slot = 0; slot < child->records.size(); ++slot) {
    const record& c = child->records[slot];
    if (c.erased || child->is_deleted_slot(slot))
      continue;
    const value& ref = c.values[static_cast<std::size_t>(via)];
    if (ref.is_null() || ref.as_string() != id)
      continue;
    ++count;
    if (spec.fn == fn::count)
      continue;
    const value& v = c.values[static_cast<std::size_t>(summarized)];
    if (v.is_null())
      continue;
    double x = v.type() == value::kind::real ? v.as_real() : static_cast<double>(v.as_int());
    if (!any)
      acc = x;
    else if (spec.fn == fn::sum)
      acc += x;
    else if (spec.fn == fn::min)
      acc = std::min(acc, x);
    else
      acc = std::max(acc, x);
    any = true;
  }
  if (spec.fn == fn::count)
    return f.type == field_type::int_ ? value::of_int(count) : value::of_real(static_cast<double>(count));
  if (!any) {
    if (spec.fn != fn::sum)
      return {}; // MIN/MAX of no children: empty
    acc = 0;     // SUM of no children: 0
  }
  switch (f.type) {
    case field_type::int_:
    case field_type::date:
    case field_type::datetime: return value::of_int(static_cast<std::int64_t>(std::llround(acc)));
    default: {
      double scale = std::pow(10.0, f.scale);
      return value::of_real(f.scale > 0 ? std::round(acc * scale) / scale : acc);
    }
  }
}

value org::field_value(const object_store& s, const record& r, int field, int depth) const {
  const field_def& f = s.def.fields[static_cast<std::size_t>(field)];
  if (!f.calculated())
    return r.values[static_cast<std::size_t>(field)];
  if (f.rollup)
    return rollup_value(f, r);
  if (!f.compiled)
    return {};
  org_formula_resolver res(*this, s, r, depth);
  fvalue fv = f.compiled->evaluate(res);
  if (fv.k == fvalue::kind::null)
    return {};
  switch (f.type) {
    case field_type::boolean: return value::of_bool(fv.k == fvalue::kind::boolean ? fv.b : !fv.is_blank());
    case field_type::int_: return value::of_int(static_cast<std::int64_t>(std::llround(fv.n)));
    case field_type::double_:
    case field_type::currency:
    case field_type::percent: {
      if (fv.k != fvalue::kind::number)
        return {};
      double scale = std::pow(10.0, f.scale);
      return value::of_real(f.scale > 0 ? std::round(fv.n * scale) / scale : fv.n);
    }
    case field_type::date:
      if (fv.k == fvalue::kind::date)
        return value::of_int(fv.t);
      if (fv.k == fvalue::kind::datetime)
        return value::of_int(fv.t >= 0 ? fv.t / 86400000 : (fv.t - 86399999) / 86400000);
      return {};
    case field_type::datetime:
      if (fv.k == fvalue::kind::datetime)
        return value::of_int(fv.t);
      if (fv.k == fvalue::kind::date)
        return value::of_int(fv.t * 86400000);
      return {};
    default: {
      std::string text = fv.to_text();
      if (text.empty())
        return {};
      return value::of_string(text);
    }
  }
}

// ---- writes ---------------------------------------------------------------------------------

void org::settle(const field_def& f, value& v) const {
  if (f.type == field_type::datetime && !v.is_null() && !millisecond_datetimes())
    v = value::of_int(truncate_to_second(v.as_int()));
}

bool org::convert_fields(object_store& s, const nlohmann::json& fields, bool creating,
                         std::vector<std::pair<int, value>>& changes, std::vector<field_error>& errors,
                         bool allow_system) {
  if (!fields.is_object()) {
    errors.push_back(error_of("JSON_PARSER_ERROR", "Expected a JSON object for the record's fields"));
    return false;
  }
  std::vector<std::string> not_writable;
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    const std::string& key = it.key();
    if (key == "attributes")
      continue;
    // relationship by external id: "Account": {"Ext__c": "x"} or "Account.Ext__c": "x"
    std::string rel, rel_field;
    nlohmann::json rel_value;
    if (it->is_object() && s.def.relationship_index(key) >= 0) {
      rel = key;
      for (auto f = it->begin(); f != it->end(); ++f)
        if (f.key() != "attributes") {
          rel_field = f.key();
          rel_value = f.value();
        }
    } else if (auto dot = key.find('.'); dot != std::string::npos && s.def.relationship_index(key.substr(0, dot)) >= 0) {
      rel = key.substr(0, dot);
      rel_field = key.substr(dot + 1);
      rel_value = *it;
    }
    if (!rel.empty()) {
      int ref = s.def.relationship_index(rel);
      const field_def& rf = s.def.fields[static_cast<std::size_t>(ref)];
      if (!allow_system && !(creating ? rf.createable : rf.updateable)) {
        not_writable.push_back(rf.name);
        continue;
      }
      if (rel_value.is_null() || (rel_value.is_string() && rel_value.get<std::string>().empty())) {
        changes.emplace_back(ref, value());
        continue;
      }
      object_store* target = rf.reference_to.empty() ? nullptr : store_unlocked(rf.reference_to.front());
      const field_def* ef = target ? target->def.field(rel_field) : nullptr;
      if (!target || !ef || !(ef->external_id || ef->id_lookup || ef->type == field_type::id)) {
        errors.push_back(error_of("INVALID_FIELD", "Field name provided, " + rel_field +
                                                       " is not an External ID or indexed field for " +
                                                       (target ? target->def.name : rel)));
        continue;
      }
      std::string wanted = json_text(rel_value);
      std::vector<std::uint32_t> found;
      int eidx = target->def.field_index(rel_field);
      if (ef->type == field_type::id) {
        auto f = target->by_id.find(ids::to_18(wanted));
        if (f != target->by_id.end() && !target->is_deleted_slot(f->second))
          found.push_back(f->second);
      } else if (auto kit = target->keys.find(eidx); kit != target->keys.end()) {
        value probe = value::of_string(wanted);
        auto f = kit->second.find(key_of(*ef, probe));
        if (f != kit->second.end())
          found = f->second;
      } else {
        for (std::uint32_t slot = 0; slot < target->records.size(); ++slot) {
          const record& pr = target->records[slot];
          if (!pr.erased && !target->is_deleted_slot(slot) &&
              key_of(*ef, pr.values[static_cast<std::size_t>(eidx)]) == key_of(*ef, value::of_string(wanted)))
            found.push_back(slot);
        }
      }
      if (found.empty()) {
        errors.push_back(error_of("INVALID_FIELD", "Foreign key external ID: " + wanted + " not found for field " +
                                                       ef->name + " in entity " + target->def.name));
        continue;
      }
      if (found.size() > 1) {
        errors.push_back(error_of("INVALID_FIELD", "Foreign key external ID: " + wanted +
                                                       " matches more than one record for field " + ef->name +
                                                       " in entity " + target->def.name));
        continue;
      }
      changes.emplace_back(ref, target->records[found.front()].values[0]);
      continue;
    }

    int idx = s.def.field_index(key);
    if (idx < 0) {
      errors.push_back(error_of("INVALID_FIELD", "No such column '" + key + "' on sobject of type " + s.def.name));
      continue;
    }
    const field_def& f = s.def.fields[static_cast<std::size_t>(idx)];
    if (idx == 0) {
      if (allow_system) {
        if (!it->is_string() || ids::to_18(it->get<std::string>()).empty()) {
          errors.push_back(error_of("MALFORMED_ID", "Record ID: id value of incorrect type: " + json_text(*it), {"Id"}));
          continue;
        }
        std::string id = ids::to_18(it->get<std::string>());
        if (id.compare(0, 3, s.def.key_prefix) != 0) {
          errors.push_back(error_of("MALFORMED_ID", "Record ID: id value of incorrect type: " + id, {"Id"}));
          continue;
        }
        changes.emplace_back(0, value::of_string(id));
        continue;
      }
      if (creating)
        errors.push_back(error_of("INVALID_FIELD_FOR_INSERT_UPDATE", "Record ID: cannot specify Id in an insert call",
                                  {"Id"}));
      continue; // on update the Id in the body is ignored
    }
    if (!allow_system && !(creating ? f.createable : f.updateable)) {
      not_writable.push_back(f.name);
      continue;
    }
    if (allow_system && f.calculated())
      continue;
    value v;
    field_error err;
    if (!convert_value(f, *it, v, err)) {
      errors.push_back(std::move(err));
      continue;
    }
    settle(f, v);
    if (!v.is_null()) {
      if (is_string_like(f.type) && f.type != field_type::id && f.type != field_type::reference && f.length > 0 &&
          utf8_length(v.as_string()) > static_cast<std::size_t>(f.length)) {
        errors.push_back(error_of("STRING_TOO_LONG",
                                  f.label + ": data value too large: " + std::string(v.as_string()) +
                                      " (max length=" + std::to_string(f.length) + ")",
                                  {f.name}));
        continue;
      }
      if ((f.type == field_type::picklist || f.type == field_type::multipicklist) && f.restricted_picklist) {
        std::string text(v.as_string());
        std::vector<std::string> parts;
        if (f.type == field_type::multipicklist) {
          std::size_t start = 0;
          for (;;) {
            auto semi = text.find(';', start);
            parts.push_back(text.substr(start, semi == std::string::npos ? std::string::npos : semi - start));
            if (semi == std::string::npos)
              break;
            start = semi + 1;
          }
        } else {
          parts.push_back(text);
        }
        bool ok = true;
        for (auto& p : parts) {
          bool found = false;
          for (auto& pv : f.picklist)
            if (pv.active && pv.value == p)
              found = true;
          if (!found)
            ok = false;
        }
        if (!ok) {
          errors.push_back(error_of("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                    f.label + ": bad value for restricted picklist field: " + text, {f.name}));
          continue;
        }
      }
      if (f.type == field_type::email && !valid_email(v.as_string())) {
        errors.push_back(error_of("INVALID_EMAIL_ADDRESS", f.label + ": invalid email address: " +
                                                               std::string(v.as_string()), {f.name}));
        continue;
      }
      if (f.type == field_type::int_ && f.digits > 0) {
        std::int64_t limit = 1;
        for (int d = 0; d < f.digits && d < 18; ++d)
          limit *= 10;
        if (v.as_int() >= limit || v.as_int() <= -limit) {
          errors.push_back(error_of("NUMBER_OUTSIDE_VALID_RANGE",
                                    f.label + ": value outside of valid range on numeric field: " +
                                        std::to_string(v.as_int()), {f.name}));
          continue;
        }
      }
      if (f.type == field_type::reference) {
        std::string raw(v.as_string());
        std::string id = ids::to_18(raw);
        if (id.empty()) {
          errors.push_back(error_of("MALFORMED_ID", f.label + ": id value of incorrect type: " + raw, {f.name}));
          continue;
        }
        const object_store* target = store_for_id_unlocked(id);
        bool allowed = false;
        for (auto& r : f.reference_to)
          if (target && iequals(r, target->def.name))
            allowed = true;
        if (!allowed) {
          errors.push_back(
              error_of("FIELD_INTEGRITY_EXCEPTION", f.label + ": id value of incorrect type: " + raw, {f.name}));
          continue;
        }
        auto found = target->by_id.find(id);
        if (!allow_system &&
            (found == target->by_id.end() || target->is_deleted_slot(found->second))) {
          errors.push_back(error_of("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", {f.name}));
          continue;
        }
        v = value::of_string(id);
      }
    }
    changes.emplace_back(idx, std::move(v));
  }
  if (!not_writable.empty()) {
    std::string list;
    for (auto& n : not_writable)
      list += (list.empty() ? "" : ", ") + n;
    errors.push_back(error_of("INVALID_FIELD_FOR_INSERT_UPDATE",
                              "Unable to create/update fields: " + list +
                                  ". Please check the security settings of this field and verify that it is "
                                  "read/write for your profile or permission set.",
                              not_writable));
  }
  return errors.empty();
}

namespace {

/// Finds another live record holding the same unique value; its id or empty.
std::string duplicate_of(const object_store& s, const std::vector<value>& values, std::uint32_t self,
                         std::string& field_name) {
  for (std::size_t i = 0; i < s.def.fields.size(); ++i) {
    const auto& f = s.def.fields[i];
    if (!f.unique || f.calculated() || values[i].is_null())
      continue;
    auto kit = s.keys.find(static_cast<int>(i));
    if (kit == s.keys.end())
      continue;
    auto it = kit->second.find(key_of(f, values[i]));
    if (it == kit->second.end())
      continue;
    for (auto slot : it->second)
      if (slot != self) {
        field_name = f.name;
        return std::string(s.records[slot].values[0].as_string());
      }
  }
  return {};
}

std::vector<std::string> missing_required(const object_store& s, const std::vector<value>& values) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.def.fields.size(); ++i)
    if (s.def.fields[i].required() && values[i].is_null())
      out.push_back(s.def.fields[i].name);
  return out;
}

field_error required_error(const std::vector<std::string>& missing) {
  std::string list;
  for (auto& n : missing)
    list += (list.empty() ? "" : ", ") + n;
  return error_of("REQUIRED_FIELD_MISSING", "Required fields are missing: [" + list + "]", missing);
}

} // namespace

write_result org::create_unlocked(object_store& s, const nlohmann::json& fields, const std::string& user_id,
                                  std::vector<undo_entry>* undo) {
  write_result res;
  if (!s.def.createable) {
    res.errors.push_back(error_of("INVALID_TYPE", "sObject type '" + s.def.name + "' is not supported."));
    return res;
  }
  std::vector<std::pair<int, value>> changes;
  if (!convert_fields(s, fields, true, changes, res.errors))
    return res;
  std::vector<value> values(s.def.fields.size());
  for (std::size_t i = 0; i < s.def.fields.size(); ++i)
    if (s.def.fields[i].default_value)
      values[i] = *s.def.fields[i].default_value;
  for (auto& [idx, v] : changes)
    values[static_cast<std::size_t>(idx)] = std::move(v);
  if (s.owner >= 0 && values[static_cast<std::size_t>(s.owner)].is_null())
    values[static_cast<std::size_t>(s.owner)] = value::of_atom(user_id);
  auto missing = missing_required(s, values);
  if (!missing.empty()) {
    res.errors.push_back(required_error(missing));
    return res;
  }
  std::string dup_field;
  std::string dup = duplicate_of(s, values, UINT32_MAX, dup_field);
  if (!dup.empty()) {
    res.errors.push_back(error_of("DUPLICATE_VALUE", "duplicate value found: " + dup_field +
                                                         " duplicates value on record with id: " + dup));
    return res;
  }
  std::string id = next_id(s);
  values[0] = value::of_string(id);
  if (s.def.custom) {
    int name = s.def.field_index("Name");
    if (name >= 0 && values[static_cast<std::size_t>(name)].is_null())
      values[static_cast<std::size_t>(name)] = value::of_string(id);
  }
  std::int64_t now = stamp_now();
  auto set = [&](int idx, value v) {
    if (idx >= 0)
      values[static_cast<std::size_t>(idx)] = std::move(v);
  };
  set(s.is_deleted, value::of_bool(false));
  set(s.created_date, value::of_int(now));
  set(s.last_modified_date, value::of_int(now));
  set(s.system_modstamp, value::of_int(now));
  set(s.created_by, value::of_atom(user_id));
  set(s.last_modified_by, value::of_atom(user_id));
  auto slot = static_cast<std::uint32_t>(s.records.size());
  s.records.push_back(record{std::move(values), false});
  s.by_id[id] = slot;
  ++s.live_count;
  index_add(s, slot);
  if (undo)
    undo->push_back(undo_entry{undo_entry::kind::created, &s, slot, {}});
  note_change(cdc::change_type::create, s, slot, nullptr);
  res.what = write_result::outcome::created;
  res.id = id;
  return res;
}

write_result org::update_unlocked(object_store& s, std::uint32_t slot, const nlohmann::json& fields,
                                  const std::string& user_id, std::vector<undo_entry>* undo) {
  write_result res;
  record& r = s.records[slot];
  res.id = std::string(r.values[0].as_string());
  if (s.is_deleted_slot(slot)) {
    res.errors.push_back(error_of("ENTITY_IS_DELETED", "entity is deleted"));
    return res;
  }
  std::vector<std::pair<int, value>> changes;
  if (!convert_fields(s, fields, false, changes, res.errors))
    return res;
  std::vector<value> values = r.values;
  std::vector<std::string> nulled;
  for (auto& [idx, v] : changes) {
    if (v.is_null() && s.def.fields[static_cast<std::size_t>(idx)].required())
      nulled.push_back(s.def.fields[static_cast<std::size_t>(idx)].name);
    values[static_cast<std::size_t>(idx)] = std::move(v);
  }
  if (!nulled.empty()) {
    res.errors.push_back(required_error(nulled));
    return res;
  }
  std::string dup_field;
  std::string dup = duplicate_of(s, values, slot, dup_field);
  if (!dup.empty()) {
    res.errors.push_back(error_of("DUPLICATE_VALUE", "duplicate value found: " + dup_field +
                                                         " duplicates value on record with id: " + dup));
    return res;
  }
  std::int64_t now = stamp_now();
  if (s.last_modified_date >= 0)
    values[static_cast<std::size_t>(s.last_modified_date)] = value::of_int(now);
  if (s.system_modstamp >= 0)
    values[static_cast<std::size_t>(s.system_modstamp)] = value::of_int(now);
  if (s.last_modified_by >= 0)
    values[static_cast<std::size_t>(s.last_modified_by)] = value::of_atom(user_id);
  index_remove(s, slot);
  std::vector<value> before = std::move(r.values);
  r.values = std::move(values);
  note_change(cdc::change_type::update, s, slot, &before);
  if (undo)
    undo->push_back(undo_entry{undo_entry::kind::changed, &s, slot, std::move(before)});
  index_add(s, slot);
  res.what = write_result::outcome::updated;
  return res;
}

write_result org::remove_unlocked(object_store& s, std::uint32_t slot, bool hard, const std::string& user_id,
                                  std::vector<undo_entry>* undo) {
  write_result res;
  record& r = s.records[slot];
  res.id = std::string(r.values[0].as_string());
  if (!s.def.deletable) {
    res.errors.push_back(error_of("INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id"));
    return res;
  }
  if (hard) {
    note_change(cdc::change_type::remove, s, slot, nullptr);
    index_remove(s, slot);
    s.by_id.erase(res.id);
    --s.live_count;
    if (undo)
      undo->push_back(undo_entry{undo_entry::kind::erased, &s, slot, std::move(r.values)});
    r.values.clear();
    r.values.shrink_to_fit();
    r.erased = true;
    res.what = write_result::outcome::deleted;
    return res;
  }
  if (s.is_deleted_slot(slot)) {
    res.errors.push_back(error_of("ENTITY_IS_DELETED", "entity is deleted"));
    return res;
  }
  index_remove(s, slot);
  if (undo)
    undo->push_back(undo_entry{undo_entry::kind::changed, &s, slot, r.values});
  std::int64_t now = stamp_now();
  r.values[static_cast<std::size_t>(s.is_deleted)] = value::of_bool(true);
  if (s.last_modified_date >= 0)
    r.values[static_cast<std::size_t>(s.last_modified_date)] = value::of_int(now);
  if (s.system_modstamp >= 0)
    r.values[static_cast<std::size_t>(s.system_modstamp)] = value::of_int(now);
  if (s.last_modified_by >= 0)
    r.values[static_cast<std::size_t>(s.last_modified_by)] = value::of_atom(user_id);
  note_change(cdc::change_type::remove, s, slot, nullptr);
  res.what = write_result::outcome::deleted;
  return res;
}

void org::rollback_unlocked(std::vector<undo_entry>& undo) {
  for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
    object_store& s = *it->store;
    record& r = s.records[it->slot];
    switch (it->what) {
      case undo_entry::kind::created:
        index_remove(s, it->slot);
        s.by_id.erase(std::string(r.values[0].as_string()));
        --s.live_count;
        if (it->slot + 1 == s.records.size()) {
          s.records.pop_back();
        } else {
          r.values.clear();
          r.erased = true;
        }
        break;
      case undo_entry::kind::changed:
        index_remove(s, it->slot);
        r.values = std::move(it->old_values);
        index_add(s, it->slot);
        break;
      case undo_entry::kind::erased:
        r.values = std::move(it->old_values);
        r.erased = false;
        s.by_id[std::string(r.values[0].as_string())] = it->slot;
        ++s.live_count;
        index_add(s, it->slot);
        break;
    }
  }
  undo.clear();
}

write_result org::write_unlocked(const write_op& op, const std::string& user_id, std::vector<undo_entry>* undo) {
  write_result res;
  auto not_found = [&](std::string code, std::string message) {
    res.what = write_result::outcome::not_found;
    res.errors.push_back(error_of(std::move(code), std::move(message)));
    return res;
  };
  object_store* s = nullptr;
  if (!op.object.empty()) {
    s = store_unlocked(op.object);
    if (!s) {
      res.errors.push_back(error_of("INVALID_TYPE", "sObject type '" + op.object + "' is not supported."));
      return res;
    }
  }
  switch (op.op) {
    case write_op::kind::create: {
      if (!s) {
        res.errors.push_back(error_of("INVALID_TYPE", "sObject type is required"));
        return res;
      }
      return create_unlocked(*s, op.fields, user_id, undo);
    }
    case write_op::kind::update:
    case write_op::kind::remove:
    case write_op::kind::hard_remove: {
      std::string id = ids::to_18(op.id);
      if (id.empty()) {
        res.id = op.id;
        res.errors.push_back(error_of("MALFORMED_ID", "malformed id " + op.id));
        return res;
      }
      object_store* owner = const_cast<object_store*>(store_for_id_unlocked(id));
      if (!owner || (s && owner != s)) {
        res.id = id;
        res.errors.push_back(error_of(owner ? "FIELD_INTEGRITY_EXCEPTION" : "INVALID_CROSS_REFERENCE_KEY",
                                      owner ? "id value of incorrect type: " + id : "invalid cross reference id"));
        res.what = owner ? write_result::outcome::error : write_result::outcome::not_found;
        return res;
      }
      auto it = owner->by_id.find(id);
      if (it == owner->by_id.end()) {
        res.id = id;
        if (op.op == write_op::kind::update)
          return not_found("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id");
        return not_found("ENTITY_IS_DELETED", "entity is deleted");
      }
      if (op.op == write_op::kind::update)
        return update_unlocked(*owner, it->second, op.fields, user_id, undo);
      return remove_unlocked(*owner, it->second, op.op == write_op::kind::hard_remove, user_id, undo);
    }
    case write_op::kind::upsert: {
      if (!s) {
        res.errors.push_back(error_of("INVALID_TYPE", "sObject type is required"));
        return res;
      }
      int idx = s->def.field_index(op.ext_field);
      if (idx < 0 || !(idx == 0 || s->def.fields[static_cast<std::size_t>(idx)].external_id)) {
        res.what = write_result::outcome::not_found;
        res.errors.push_back(error_of("NOT_FOUND", "Provided external ID field does not exist or is not accessible: " +
                                                       op.ext_field));
        return res;
      }
      const field_def& ef = s->def.fields[static_cast<std::size_t>(idx)];
      nlohmann::json body = op.fields.is_object() ? op.fields : nlohmann::json::object();
      std::vector<std::uint32_t> found;
      if (idx == 0) {
        if (op.ext_value.empty()) {
          if (op.update_only)
            return not_found("NOT_FOUND", "The requested resource does not exist");
          body.erase("Id");
          body.erase("id");
          return create_unlocked(*s, body, user_id, undo);
        }
        std::string id = ids::to_18(op.ext_value);
        auto it = id.empty() ? s->by_id.end() : s->by_id.find(id);
        if (it == s->by_id.end() || s->is_deleted_slot(it->second)) {
          res.what = write_result::outcome::not_found;
          res.errors.push_back(error_of("NOT_FOUND", "The requested resource does not exist"));
          return res;
        }
        found.push_back(it->second);
      } else {
        if (op.ext_value.empty()) {
          res.errors.push_back(error_of("MISSING_ARGUMENT", ef.name + " not specified", {ef.name}));
          return res;
        }
        auto kit = s->keys.find(idx);
        if (kit != s->keys.end()) {
          auto it = kit->second.find(key_of(ef, value::of_string(op.ext_value)));
          if (it != kit->second.end())
            found = it->second;
        }
      }
      // drop the external id from the body (it is given by the URL / record)
      for (auto it = body.begin(); it != body.end();) {
        if (iequals(it.key(), ef.name))
          it = body.erase(it);
        else
          ++it;
      }
      if (found.size() > 1) {
        res.what = write_result::outcome::multiple;
        for (auto slot : found)
          res.matches.emplace_back(s->records[slot].values[0].as_string());
        res.errors.push_back(error_of("DUPLICATE_EXTERNAL_ID",
                                      ef.name + ": more than one record found for external id field: " +
                                          std::string(res.matches.front())));
        return res;
      }
      if (found.empty()) {
        if (op.update_only) {
          res.what = write_result::outcome::not_found;
          res.errors.push_back(error_of("NOT_FOUND", "The requested resource does not exist"));
          return res;
        }
        body[ef.name] = op.ext_value;
        return create_unlocked(*s, body, user_id, undo);
      }
      return update_unlocked(*s, found.front(), body, user_id, undo);
    }
  }
  return res;
}

write_result org::write(const write_op& op, const std::string& user_id) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  auto res = write_unlocked(op, user_id, nullptr);
  publish_changes_unlocked(user_id);
  return res;
}

void org::note_change(cdc::change_type type, const object_store& s, std::uint32_t slot,
                      const std::vector<value>* before) {
  if (!change_log_.selected(s.def.name) && !change_observer_)
    return;
  cdc::record_change c;
  c.type = type;
  c.def = &s.def;
  const record& r = s.records[slot];
  c.id = std::string(r.values[0].as_string());
  if (type != cdc::change_type::remove)
    c.after = r.values;
  if (before)
    c.before = *before;
  pending_changes_.push_back(std::move(c));
}

void org::publish_changes_unlocked(const std::string& user_id) {
  if (!pending_changes_.empty() && change_observer_)
    change_observer_(pending_changes_);
  if (!pending_changes_.empty())
    change_log_.publish(pending_changes_, user_id, cdc::current_origin());
  pending_changes_.clear();
}

std::vector<write_result> org::undelete(const std::vector<std::string>& ids, const std::string& user_id) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  std::vector<write_result> out;
  for (auto& given : ids) {
    write_result res;
    std::string id = ids::to_18(given);
    res.id = id.empty() ? given : id;
    object_store* s = id.empty() ? nullptr : const_cast<object_store*>(store_for_id_unlocked(id));
    auto it = s ? s->by_id.find(id) : decltype(s->by_id.end()){};
    if (id.empty()) {
      res.errors.push_back(error_of("MALFORMED_ID", "malformed id " + given));
    } else if (!s || it == s->by_id.end()) {
      res.what = write_result::outcome::not_found;
      res.errors.push_back(error_of("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"));
    } else if (!s->is_deleted_slot(it->second)) {
      res.errors.push_back(error_of("UNDELETE_FAILED", "Entity is not in the recycle bin"));
    } else if (std::string field, dup = duplicate_of(*s, s->records[it->second].values, it->second, field);
               !dup.empty()) {
      res.errors.push_back(error_of("DUPLICATE_VALUE", "duplicate value found: " + field +
                                                           " duplicates value on record with id: " + dup));
    } else {
      record& r = s->records[it->second];
      std::int64_t now = stamp_now();
      r.values[static_cast<std::size_t>(s->is_deleted)] = value::of_bool(false);
      if (s->last_modified_date >= 0)
        r.values[static_cast<std::size_t>(s->last_modified_date)] = value::of_int(now);
      if (s->system_modstamp >= 0)
        r.values[static_cast<std::size_t>(s->system_modstamp)] = value::of_int(now);
      if (s->last_modified_by >= 0)
        r.values[static_cast<std::size_t>(s->last_modified_by)] = value::of_atom(user_id);
      index_add(*s, it->second);
      note_change(cdc::change_type::undelete, *s, it->second, nullptr);
      res.what = write_result::outcome::updated;
    }
    out.push_back(std::move(res));
  }
  publish_changes_unlocked(user_id);
  return out;
}

std::vector<write_result> org::write_batch(const std::vector<write_op>& ops, bool all_or_none,
                                           const std::string& user_id) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  std::vector<write_result> out;
  out.reserve(ops.size());
  std::vector<undo_entry> undo;
  bool failed = false;
  for (auto& op : ops) {
    out.push_back(write_unlocked(op, user_id, all_or_none ? &undo : nullptr));
    if (!out.back().success())
      failed = true;
  }
  if (all_or_none && failed) {
    pending_changes_.clear(); // rolled back: nothing was committed
    rollback_unlocked(undo);
    for (auto& r : out)
      if (r.success()) {
        r.what = write_result::outcome::error;
        r.errors = {error_of("ALL_OR_NONE_OPERATION_ROLLED_BACK",
                             "Record rolled back because not all records were valid and the request was using "
                             "AllOrNone header")};
        r.id.clear();
      }
  }
  publish_changes_unlocked(user_id);
  return out;
}

org::load_result org::bulk_load(std::string_view object, const std::vector<nlohmann::json>& rows,
                                const std::string& user_id) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  auto res = bulk_load_unlocked(object, rows, user_id);
  lock.unlock();
  malloc_trim(0);
  return res;
}

org::load_result org::bulk_load_unlocked(std::string_view object, const std::vector<nlohmann::json>& rows,
                                         const std::string& user_id) {
  load_result res;
  object_store* s = store_unlocked(object);
  if (!s) {
    res.error = "sObject type '" + std::string(object) + "' is not supported.";
    return res;
  }
  s->records.reserve(s->records.size() + rows.size());
  s->by_id.reserve(s->by_id.size() + rows.size());
  res.ids.reserve(rows.size());
  std::int64_t now = stamp_now();
  std::size_t row_no = 0;
  for (auto& row : rows) {
    ++row_no;
    std::vector<std::pair<int, value>> changes;
    std::vector<field_error> errors;
    if (!convert_fields(*s, row, true, changes, errors, true)) {
      res.error = "row " + std::to_string(row_no) + ": " + errors.front().code + ": " + errors.front().message;
      return res;
    }
    std::vector<value> values(s->def.fields.size());
    for (std::size_t i = 0; i < s->def.fields.size(); ++i)
      if (s->def.fields[i].default_value)
        values[i] = *s->def.fields[i].default_value;
    for (auto& [idx, v] : changes)
      values[static_cast<std::size_t>(idx)] = std::move(v);
    std::string id;
    if (!values[0].is_null()) {
      id = std::string(values[0].as_string());
      if (s->by_id.count(id)) {
        res.error = "row " + std::to_string(row_no) + ": DUPLICATE_VALUE: duplicate Id " + id;
        return res;
      }
    } else {
      id = next_id(*s);
      values[0] = value::of_string(id);
    }
    auto fill = [&](int idx, value v) {
      if (idx >= 0 && values[static_cast<std::size_t>(idx)].is_null())
        values[static_cast<std::size_t>(idx)] = std::move(v);
    };
    fill(s->is_deleted, value::of_bool(false));
    fill(s->created_date, value::of_int(now));
    std::int64_t created = s->created_date >= 0 ? values[static_cast<std::size_t>(s->created_date)].as_int() : now;
    fill(s->last_modified_date, value::of_int(created));
    std::int64_t modified =
        s->last_modified_date >= 0 ? values[static_cast<std::size_t>(s->last_modified_date)].as_int() : created;
    fill(s->system_modstamp, value::of_int(modified));
    fill(s->created_by, value::of_atom(user_id));
    fill(s->last_modified_by, value::of_atom(user_id));
    fill(s->owner, value::of_atom(user_id));
    if (s->def.custom) {
      int name = s->def.field_index("Name");
      if (name >= 0)
        fill(name, value::of_string(id));
    }
    auto slot = static_cast<std::uint32_t>(s->records.size());
    s->records.push_back(record{std::move(values), false});
    s->by_id.emplace(id, slot);
    ++s->live_count;
    index_add(*s, slot);
    res.ids.push_back(std::move(id));
  }
  return res;
}

org::load_result org::load_csv(std::string_view object, std::string_view csv, const std::string& user_id,
                               bool want_ids, std::size_t& count) {
  load_result res;
  count = 0;
  syncforce::csv::parser parser;
  {
    std::unique_lock<std::shared_mutex> lock(mutex_);
    object_store* s = store_unlocked(object);
    if (!s) {
      res.error = "sObject type '" + std::string(object) + "' is not supported.";
      return res;
    }
    std::vector<int> columns;
    bool header_done = false;
    auto read_header = [&](const syncforce::csv::row& row) {
      header_done = true;
      for (std::size_t c = 0; c < row.size(); ++c) {
        std::string name(row[c]);
        int idx = s->def.field_index(name);
        if (idx < 0 || s->def.fields[static_cast<std::size_t>(idx)].calculated()) {
          res.error = "No such column '" + name + "' on sobject of type " + s->def.name;
          return;
        }
        columns.push_back(idx);
      }
    };
    std::size_t expected = static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n'));
    s->records.reserve(s->records.size() + expected);
    s->by_id.reserve(s->by_id.size() + expected);
    for (std::size_t i = 0; i < s->def.fields.size(); ++i)
      if ((s->def.fields[i].unique || s->def.fields[i].external_id) && !s->def.fields[i].calculated()) {
        auto& index = s->keys[static_cast<int>(i)];
        index.reserve(index.size() + expected);
      }
    std::vector<value> defaults(s->def.fields.size());
    for (std::size_t i = 0; i < s->def.fields.size(); ++i)
      if (s->def.fields[i].default_value)
        defaults[i] = *s->def.fields[i].default_value;
    std::int64_t now = stamp_now();
    int name_idx = s->def.custom ? s->def.field_index("Name") : -1;
    // Rows arrive through the shared incremental parser; after the first
    // error the rest are ignored (rows before it stay loaded, as documented).
    auto on_row = [&](const syncforce::csv::row& row) {
      if (res.error)
        return;
      if (!header_done)
        return read_header(row);
      std::string line = std::to_string(row.line());
      if (row.size() != columns.size()) {
        res.error = "row " + line + " has " + std::to_string(row.size()) + " fields, the header has " +
                    std::to_string(columns.size());
        return;
      }
      std::vector<value> values = defaults;
      for (std::size_t c = 0; c < columns.size(); ++c) {
        auto idx = static_cast<std::size_t>(columns[c]);
        if (row.is_null(c)) {
          values[idx] = value();
          continue;
        }
        std::string_view cell = row[c];
        if (cell.empty())
          continue;
        field_error err;
        if (!convert_text(s->def.fields[idx], cell, values[idx], err)) {
          res.error = "row " + line + ": " + err.code + ": " + err.message;
          return;
        }
        settle(s->def.fields[idx], values[idx]);
      }
      std::string id;
      auto slot = static_cast<std::uint32_t>(s->records.size());
      if (!values[0].is_null()) {
        id = std::string(values[0].as_string());
        if (id.compare(0, 3, s->def.key_prefix) != 0 || !s->by_id.emplace(id, slot).second) {
          res.error = "row " + line + ": bad or duplicate Id " + id;
          return;
        }
      } else {
        for (;;) { // one hash lookup: insert, retry on the rare clash with a loaded id
          id = ids::make_id(s->def.key_prefix, s->next_sequence++);
          if (s->by_id.emplace(id, slot).second)
            break;
        }
        values[0] = value::of_string(id);
      }
      auto fill = [&](int idx, value v) {
        if (idx >= 0 && values[static_cast<std::size_t>(idx)].is_null())
          values[static_cast<std::size_t>(idx)] = std::move(v);
      };
      fill(s->is_deleted, value::of_bool(false));
      fill(s->created_date, value::of_int(now));
      std::int64_t created = s->created_date >= 0 ? values[static_cast<std::size_t>(s->created_date)].as_int() : now;
      fill(s->last_modified_date, value::of_int(created));
      std::int64_t modified =
          s->last_modified_date >= 0 ? values[static_cast<std::size_t>(s->last_modified_date)].as_int() : created;
      fill(s->system_modstamp, value::of_int(modified));
      fill(s->created_by, value::of_atom(user_id));
      fill(s->last_modified_by, value::of_atom(user_id));
      fill(s->owner, value::of_atom(user_id));
      fill(name_idx, value::of_string(id));
      s->records.push_back(record{std::move(values), false});
      ++s->live_count;
      index_add(*s, slot);
      ++count;
      if (want_ids)
        res.ids.push_back(std::move(id));
    };
    auto bad = parser.feed(csv, on_row);
    if (!bad)
      bad = parser.finish(on_row);
    if (bad && !res.error)
      res.error = "bad CSV: " + bad->to_string();
    if (!header_done && !res.error)
      res.error = "the CSV has no header row";
  }
  malloc_trim(0);
  return res;
}

// ---- reads -------------------------------------------------------------------------------------

namespace {

void append_attributes(std::string& out, const std::string& type, std::string_view id, const std::string& version) {
  out += "\"attributes\":{\"type\":";
  append_json_string(out, type);
  out += ",\"url\":";
  append_json_string(out, "/services/data/v" + version + "/sobjects/" + type + "/" + std::string(id));
  out += "}";
}

} // namespace

org::read_result org::read(std::string_view object, std::string_view id, const std::vector<std::string>& fields,
                           const std::string& version) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  read_result res;
  const object_store* s = store_unlocked(object);
  if (!s) {
    res.status = 404;
    res.error = error_of("NOT_FOUND", "The requested resource does not exist");
    return res;
  }
  std::string id18 = ids::to_18(id);
  if (id18.empty()) {
    res.status = 404;
    res.error = error_of("NOT_FOUND", "Provided external ID field does not exist or is not accessible: " +
                                          std::string(id));
    return res;
  }
  auto it = s->by_id.find(id18);
  if (it == s->by_id.end()) {
    res.status = 404;
    res.error = error_of("NOT_FOUND", "The requested resource does not exist");
    return res;
  }
  if (s->is_deleted_slot(it->second)) {
    res.status = 404;
    res.error = error_of("ENTITY_IS_DELETED", "entity is deleted");
    return res;
  }
  std::vector<int> wanted;
  if (fields.empty()) {
    for (std::size_t i = 0; i < s->def.fields.size(); ++i)
      wanted.push_back(static_cast<int>(i));
  } else {
    for (auto& f : fields) {
      int idx = s->def.field_index(f);
      if (idx < 0) {
        res.status = 400;
        res.error = error_of("INVALID_FIELD", "No such column '" + f + "' on entity '" + s->def.name +
                                                  "'. If you are attempting to use a custom field, be sure to "
                                                  "append the '__c' after the custom field name. Please reference "
                                                  "your WSDL or the describe call for the appropriate names.");
        return res;
      }
      wanted.push_back(idx);
    }
  }
  const record& r = s->records[it->second];
  std::string out = "{";
  append_attributes(out, s->def.name, id18, version);
  for (int idx : wanted) {
    const field_def& f = s->def.fields[static_cast<std::size_t>(idx)];
    out += ",";
    append_json_string(out, f.name);
    out += ":";
    append_value(out, f, field_value(*s, r, idx));
  }
  out += "}";
  res.body = std::move(out);
  return res;
}

soql::result<query_run> org::run_query(std::string_view text, bool all_rows) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto bound = soql::compile(text, *this);
  if (!bound)
    return bound.error();
  query_run run;
  auto bq = std::make_shared<soql::bound_query>(std::move(bound.value()));
  const object_store* s = store_unlocked(bq->object());
  if (!s)
    return soql::soql_error{"INVALID_TYPE", "sObject type '" + bq->object() + "' is not supported."};
  soql::eval_context ctx;
  ctx.now_ms = clock_.now_ms();
  static const record empty_record;
  org_record_view view(*this, *s, empty_record);
  std::vector<std::uint32_t> slots;
  bool has_where = bq->has_where();
  for (std::uint32_t slot = 0; slot < s->records.size(); ++slot) {
    const record& r = s->records[slot];
    if (r.erased)
      continue;
    if (!all_rows && s->is_deleted_slot(slot))
      continue;
    if (has_where) {
      view.reset(r);
      if (!soql::matches(*bq, view, ctx))
        continue;
    }
    slots.push_back(slot);
  }
  if (!bq->order_by().empty()) {
    org_record_view a(*this, *s, empty_record), b(*this, *s, empty_record);
    std::stable_sort(slots.begin(), slots.end(), [&](std::uint32_t x, std::uint32_t y) {
      a.reset(s->records[x]);
      b.reset(s->records[y]);
      return soql::compare_for_order(*bq, a, b) < 0;
    });
  }
  std::size_t offset = bq->offset() ? static_cast<std::size_t>(std::max<std::int64_t>(0, *bq->offset())) : 0;
  if (offset > 0)
    slots.erase(slots.begin(), slots.begin() + static_cast<std::ptrdiff_t>(std::min(offset, slots.size())));
  if (bq->limit() && static_cast<std::size_t>(std::max<std::int64_t>(0, *bq->limit())) < slots.size())
    slots.resize(static_cast<std::size_t>(std::max<std::int64_t>(0, *bq->limit())));
  run.total = slots.size();
  if (!bq->count_only())
    run.slots = std::move(slots);
  run.query = std::move(bq);
  return run;
}

namespace {

/// The nesting of selected fields: relationship paths become nested objects. Keys and
/// attribute prefixes are rendered once per page, not per record.
struct render_node {
  struct item {
    bool leaf = true;
    std::size_t handle = 0; ///< leaf: index into fields()
    std::size_t child = 0;  ///< relationship: index into children
    std::string key;        ///< `,"Name":`
  };
  std::string relationship;
  std::string target;
  int ref_slot = -1;
  std::vector<item> items;
  std::vector<render_node> children;
};

render_node build_tree(const soql::bound_query& q) {
  render_node root;
  const auto& fields = q.fields();
  auto key_of_name = [](const std::string& name) {
    std::string k = ",";
    append_json_string(k, name);
    k += ":";
    return k;
  };
  for (std::size_t h = 0; h < fields.size(); ++h) {
    render_node* node = &root;
    for (const auto& hop : fields[h].hops) {
      std::size_t found = node->children.size();
      for (std::size_t c = 0; c < node->children.size(); ++c)
        if (node->children[c].relationship == hop.relationship)
          found = c;
      if (found == node->children.size()) {
        render_node child;
        child.relationship = hop.relationship;
        child.target = hop.target_object;
        child.ref_slot = static_cast<int>(hop.reference.slot);
        node->children.push_back(std::move(child));
        node->items.push_back(render_node::item{false, 0, found, key_of_name(hop.relationship)});
      }
      node = &node->children[found];
    }
    node->items.push_back(render_node::item{true, h, 0, key_of_name(fields[h].field.name)});
  }
  return root;
}

} // namespace

/// Renders query records (one page) as JSON text.
struct org_page_renderer {
  const org& o;
  const std::vector<soql::field_handle>& fields;
  const std::string& version;
  std::string& out;
  std::unordered_map<const object_store*, std::string> prefixes;

  void emit(const render_node& node, const object_store& st, const record& r) {
    auto it = prefixes.find(&st);
    if (it == prefixes.end()) {
      std::string p = "{\"attributes\":{\"type\":";
      append_json_string(p, st.def.name);
      p += ",\"url\":\"/services/data/v" + version + "/sobjects/" + st.def.name + "/";
      it = prefixes.emplace(&st, std::move(p)).first;
    }
    out += it->second;
    out += r.values[0].as_string();
    out += "\"}";
    for (const auto& item : node.items) {
      out += item.key;
      if (item.leaf) {
        int idx = static_cast<int>(fields[item.handle].field.slot);
        const field_def& f = st.def.fields[static_cast<std::size_t>(idx)];
        if (f.calculated())
          append_value(out, f, o.field_value(st, r, idx));
        else
          append_value(out, f, r.values[static_cast<std::size_t>(idx)]);
      } else {
        const render_node& child = node.children[item.child];
        const object_store* target = nullptr;
        const record* parent = o.follow(st, r, child.ref_slot, &target);
        if (!parent)
          out += "null";
        else
          emit(child, *target, *parent);
      }
    }
    out += "}";
  }
};

std::string org::render_records(const query_run& run, std::size_t begin, std::size_t end,
                                const std::string& version) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  if (!run.query)
    return "[]";
  const object_store* s = store_unlocked(run.query->object());
  if (!s)
    return "[]";
  render_node tree = build_tree(*run.query);
  const auto& fields = run.query->fields();
  end = std::min(end, run.slots.size());
  std::string out = "[";
  out.reserve((end > begin ? end - begin : 0) * (120 + 40 * fields.size()));
  org_page_renderer renderer{*this, fields, version, out, {}};
  bool first = true;
  for (std::size_t i = begin; i < end; ++i) {
    std::uint32_t slot = run.slots[i];
    if (slot >= s->records.size() || s->records[slot].erased)
      continue;
    if (!first)
      out += ",";
    first = false;
    renderer.emit(tree, *s, s->records[slot]);
  }
  out += "]";
  return out;
}

void org::flat_rows(const query_run& run, std::size_t begin, std::size_t end,
                    const std::function<void(const std::vector<std::optional<std::string>>&)>& row) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  if (!run.query)
    return;
  const object_store* s = store_unlocked(run.query->object());
  if (!s)
    return;
  const auto& fields = run.query->fields();
  std::vector<std::optional<std::string>> cells(fields.size());
  end = std::min(end, run.slots.size());
  for (std::size_t i = begin; i < end; ++i) {
    std::uint32_t slot = run.slots[i];
    if (slot >= s->records.size() || s->records[slot].erased)
      continue;
    for (std::size_t h = 0; h < fields.size(); ++h) {
      const object_store* st = s;
      const record* r = &s->records[slot];
      for (const auto& hop : fields[h].hops) {
        const object_store* target = nullptr;
        r = follow(*st, *r, static_cast<int>(hop.reference.slot), &target);
        if (!r)
          break;
        st = target;
      }
      cells[h].reset();
      if (!r)
        continue;
      int idx = static_cast<int>(fields[h].field.slot);
      value v = field_value(*st, *r, idx);
      if (!v.is_null())
        cells[h] = csv_text(st->def.fields[static_cast<std::size_t>(idx)], v);
    }
    row(cells);
  }
}

std::vector<std::string> org::updated_ids(std::string_view object, std::int64_t start, std::int64_t end) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  std::vector<std::string> out;
  const object_store* s = store_unlocked(object);
  if (!s || s->system_modstamp < 0)
    return out;
  for (std::uint32_t slot = 0; slot < s->records.size(); ++slot) {
    const record& r = s->records[slot];
    if (r.erased || s->is_deleted_slot(slot))
      continue;
    auto t = r.values[static_cast<std::size_t>(s->system_modstamp)].as_int();
    if (t >= start && t <= end)
      out.emplace_back(r.values[0].as_string());
  }
  return out;
}

std::vector<std::pair<std::string, std::int64_t>> org::deleted_ids(std::string_view object, std::int64_t start,
                                                                   std::int64_t end) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  std::vector<std::pair<std::string, std::int64_t>> out;
  const object_store* s = store_unlocked(object);
  if (!s || s->system_modstamp < 0)
    return out;
  for (std::uint32_t slot = 0; slot < s->records.size(); ++slot) {
    const record& r = s->records[slot];
    if (r.erased || !s->is_deleted_slot(slot))
      continue;
    auto t = r.values[static_cast<std::size_t>(s->system_modstamp)].as_int();
    if (t >= start && t <= end)
      out.emplace_back(std::string(r.values[0].as_string()), t);
  }
  return out;
}

std::optional<std::size_t> org::record_count(std::string_view object) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  const object_store* s = store_unlocked(object);
  if (!s)
    return std::nullopt;
  std::size_t n = 0;
  for (std::uint32_t slot = 0; slot < s->records.size(); ++slot)
    if (!s->records[slot].erased && !s->is_deleted_slot(slot))
      ++n;
  return n;
}

// ---- describe -----------------------------------------------------------------------------------

namespace {

/// The properties an object has both in describeGlobal and in its own describe.
nlohmann::json sobject_properties(const object_def& d, const std::string& version) {
  std::string base = "/services/data/v" + version + "/sobjects/" + d.name;
  return {{"activateable", false},
          {"createable", d.createable},
          {"custom", d.custom},
          {"customSetting", false},
          {"deletable", d.deletable},
          {"deprecatedAndHidden", false},
          {"feedEnabled", false},
          {"hasSubtypes", false},
          {"isSubtype", false},
          {"keyPrefix", d.key_prefix},
          {"label", d.label},
          {"labelPlural", d.label_plural},
          {"layoutable", true},
          {"mergeable", false},
          {"mruEnabled", false},
          {"name", d.name},
          {"queryable", true},
          {"replicateable", true},
          {"retrieveable", true},
          {"searchable", true},
          {"triggerable", true},
          {"undeletable", d.has_is_deleted},
          {"updateable", d.updateable},
          {"urls", {{"rowTemplate", base + "/{ID}"}, {"describe", base + "/describe"}, {"sobject", base}}}};
}

} // namespace

nlohmann::json org::describe_global(const std::string& version) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  nlohmann::json list = nlohmann::json::array();
  for (auto& sp : stores_)
    list.push_back(sobject_properties(sp->def, version));
  return {{"encoding", "UTF-8"}, {"maxBatchSize", 200}, {"sobjects", list}};
}

std::optional<nlohmann::json> org::describe(std::string_view object, const std::string& version) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  const object_store* s = store_unlocked(object);
  if (!s)
    return std::nullopt;
  const auto& d = s->def;
  std::string base = "/services/data/v" + version + "/sobjects/" + d.name;
  nlohmann::json fields = nlohmann::json::array();
  for (auto& f : d.fields) {
    nlohmann::json picklist = nlohmann::json::array();
    for (auto& p : f.picklist)
      picklist.push_back({{"active", p.active}, {"defaultValue", p.default_value}, {"label", p.label},
                          {"validFor", nullptr}, {"value", p.value}});
    bool text = is_string_like(f.type);
    bool long_text = f.type == field_type::textarea && f.length > 255;
    nlohmann::json default_value = nullptr;
    if (f.default_value && f.type != field_type::boolean && !f.default_value->is_null()) {
      if (f.default_value->type() == value::kind::string)
        default_value = std::string(f.default_value->as_string());
      else if (f.default_value->type() == value::kind::integer)
        default_value = f.default_value->as_int();
      else if (f.default_value->type() == value::kind::real)
        default_value = f.default_value->as_real();
    }
    bool compound = f.calculated() && !f.custom && f.name == "Name";
    fields.push_back({
        {"aggregatable", !long_text},
        {"autoNumber", false},
        {"byteLength", text ? f.length * 3 : 0},
        {"calculated", f.calculated() && !compound},
        {"calculatedFormula",
         f.calculated() && !compound && !f.formula_text.empty() ? nlohmann::json(f.formula_text) : nlohmann::json()},
        {"caseSensitive", f.case_sensitive},
        {"createable", f.createable},
        {"custom", f.custom},
        {"defaultValue", default_value},
        {"defaultedOnCreate", f.defaulted_on_create},
        {"dependentPicklist", false},
        {"deprecatedAndHidden", false},
        {"digits", f.digits},
        {"encrypted", f.encrypted()},
        {"externalId", f.external_id},
        {"filterable", !long_text && !f.encrypted()},
        {"groupable", text && !long_text},
        {"htmlFormatted", false},
        {"idLookup", f.id_lookup || f.external_id},
        {"label", f.label},
        {"length", text ? f.length : 0},
        {"mask", f.encrypted() ? nlohmann::json("all") : nlohmann::json()},
        {"maskType", f.encrypted() ? nlohmann::json("all") : nlohmann::json()},
        {"name", f.name},
        {"nameField", f.name_field},
        {"namePointing", false},
        {"nillable", f.nillable},
        {"permissionable", f.nillable && !f.system},
        {"picklistValues", picklist},
        {"precision", f.precision},
        {"referenceTo", f.reference_to},
        {"relationshipName", f.relationship_name.empty() ? nlohmann::json() : nlohmann::json(f.relationship_name)},
        {"restrictedPicklist", f.restricted_picklist},
        {"scale", f.scale},
        {"soapType", soap_type(f.type)},
        {"sortable", !long_text && !f.encrypted()},
        {"type", to_string(f.type)},
        {"unique", f.unique},
        {"updateable", f.updateable},
    });
  }
  nlohmann::json children = nlohmann::json::array();
  for (auto& other : stores_)
    for (auto& f : other->def.fields)
      if (f.type == field_type::reference && !f.system && f.name != "OwnerId")
        for (auto& r : f.reference_to)
          if (iequals(r, d.name)) {
            std::string rel = other->def.custom || f.custom ? lower(other->def.label_plural) : other->def.label_plural;
            rel.erase(std::remove(rel.begin(), rel.end(), ' '), rel.end());
            if (f.custom)
              rel = f.relationship_name.substr(0, f.relationship_name.size() - 3) + "s__r";
            children.push_back({{"cascadeDelete", false},
                                {"childSObject", other->def.name},
                                {"deprecatedAndHidden", false},
                                {"field", f.name},
                                {"relationshipName", rel}});
          }
  auto out = sobject_properties(d, version);
  out["childRelationships"] = children;
  out["fields"] = fields;
  out["recordTypeInfos"] = nlohmann::json::array({{{"active", true},
                               {"available", true},
                               {"defaultRecordTypeMapping", true},
                               {"developerName", "Master"},
                               {"master", true},
                               {"name", "Master"},
                               {"recordTypeId", "012000000000000AAA"},
                               {"urls", {{"layout", base + "/describe/layouts/012000000000000AAA"}}}}});
  out["urls"]["uiDetailTemplate"] = nullptr;
  return out;
}

} // namespace sfemu

namespace sfemu {

void org::set_change_observer(change_observer observer) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  change_observer_ = std::move(observer);
}

std::optional<nlohmann::json> org::match_locked(const soql::bound_query& q, std::string_view id,
                                                const std::string& version) const {
  const object_store* s = store_for_id_unlocked(id);
  if (!s || !iequals(s->def.name, q.object()))
    return std::nullopt;
  auto it = s->by_id.find(std::string(id));
  if (it == s->by_id.end() || it->second >= s->records.size() || s->records[it->second].erased)
    return std::nullopt;
  const record& r = s->records[it->second];
  org_record_view view(*this, *s, r);
  soql::eval_context ectx;
  ectx.now_ms = clock_.now_ms();
  if (!soql::matches(q, view, ectx))
    return std::nullopt;
  std::string out;
  render_node tree = build_tree(q);
  org_page_renderer renderer{*this, q.fields(), version, out, {}};
  renderer.emit(tree, *s, r);
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded())
    return std::nullopt;
  j.erase("attributes");
  return j;
}

} // namespace sfemu
