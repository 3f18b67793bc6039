#include "emulator/schema.hpp"

#include "emulator/formula.hpp"

#include <algorithm>
#include <cctype>

namespace sfemu {

namespace {

struct type_name {
  field_type t;
  std::string_view name;
  std::string_view soap;
};

constexpr type_name type_names[] = {
    {field_type::id, "id", "tns:ID"},
    {field_type::reference, "reference", "tns:ID"},
    {field_type::string, "string", "xsd:string"},
    {field_type::textarea, "textarea", "xsd:string"},
    {field_type::picklist, "picklist", "xsd:string"},
    {field_type::multipicklist, "multipicklist", "xsd:string"},
    {field_type::combobox, "combobox", "xsd:string"},
    {field_type::boolean, "boolean", "xsd:boolean"},
    {field_type::int_, "int", "xsd:int"},
    {field_type::double_, "double", "xsd:double"},
    {field_type::currency, "currency", "xsd:double"},
    {field_type::percent, "percent", "xsd:double"},
    {field_type::date, "date", "xsd:date"},
    {field_type::datetime, "datetime", "xsd:dateTime"},
    {field_type::time, "time", "xsd:time"},
    {field_type::base64, "base64", "xsd:base64Binary"},
    {field_type::phone, "phone", "xsd:string"},
    {field_type::url, "url", "xsd:string"},
    {field_type::email, "email", "xsd:string"},
    {field_type::encryptedstring, "encryptedstring", "xsd:string"},
    {field_type::anytype, "anyType", "xsd:anyType"},
};

field_def make(std::string name, field_type t, int length = 0) {
  field_def f;
  f.name = std::move(name);
  f.label = f.name;
  // "BillingCity" -> "Billing City"
  std::string label;
  for (std::size_t i = 0; i < f.name.size(); ++i) {
    char c = f.name[i];
    if (i > 0 && std::isupper(static_cast<unsigned char>(c)) &&
        std::islower(static_cast<unsigned char>(f.name[i - 1])))
      label.push_back(' ');
    label.push_back(c);
  }
  if (label.size() > 3 && label.compare(label.size() - 3, 3, " Id") == 0)
    label.replace(label.size() - 2, 2, "ID");
  f.label = label;
  f.type = t;
  f.length = length;
  switch (t) {
    case field_type::currency: f.precision = 18; f.scale = 2; break;
    case field_type::double_: f.precision = 18; f.scale = 0; break;
    case field_type::percent: f.precision = 3; f.scale = 0; break;
    case field_type::int_: f.digits = 9; break;
    case field_type::boolean:
      f.nillable = false;
      f.defaulted_on_create = true;
      f.default_value = value::of_bool(false);
      break;
    default: break;
  }
  return f;
}

field_def reference(std::string name, std::string to, std::string rel) {
  field_def f = make(std::move(name), field_type::reference, 18);
  f.reference_to.push_back(std::move(to));
  f.relationship_name = std::move(rel);
  return f;
}

field_def read_only(field_def f) {
  f.createable = false;
  f.updateable = false;
  return f;
}

} // namespace

std::string_view to_string(field_type t) {
  for (auto& n : type_names)
    if (n.t == t)
      return n.name;
  return "string";
}

std::string_view soap_type(field_type t) {
  for (auto& n : type_names)
    if (n.t == t)
      return n.soap;
  return "xsd:string";
}

std::optional<field_type> parse_field_type(std::string_view name) {
  std::string l = lower(name);
  for (auto& n : type_names)
    if (lower(n.name) == l)
      return n.t;
  if (l == "text")
    return field_type::string;
  if (l == "number")
    return field_type::double_;
  if (l == "checkbox")
    return field_type::boolean;
  if (l == "lookup" || l == "masterdetail")
    return field_type::reference;
  if (l == "integer")
    return field_type::int_;
  if (l == "longtextarea")
    return field_type::textarea;
  return std::nullopt;
}

bool is_string_like(field_type t) {
  switch (t) {
    case field_type::boolean:
    case field_type::int_:
    case field_type::double_:
    case field_type::currency:
    case field_type::percent:
    case field_type::date:
    case field_type::datetime:
    case field_type::time: return false;
    default: return true;
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// ---- object_def -------------------------------------------------------------------------

int object_def::field_index(std::string_view name) const {
  auto it = by_lower_.find(lower(name));
  return it == by_lower_.end() ? -1 : it->second;
}

const field_def* object_def::field(std::string_view name) const {
  int i = field_index(name);
  return i < 0 ? nullptr : &fields[static_cast<std::size_t>(i)];
}

int object_def::relationship_index(std::string_view relationship) const {
  auto it = rel_by_lower_.find(lower(relationship));
  return it == rel_by_lower_.end() ? -1 : it->second;
}

void object_def::put_field(field_def f) {
  int i = field_index(f.name);
  if (i >= 0)
    fields[static_cast<std::size_t>(i)] = std::move(f);
  else
    fields.push_back(std::move(f));
  rebuild_index();
}

void object_def::rebuild_index() {
  by_lower_.clear();
  rel_by_lower_.clear();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    by_lower_[lower(fields[i].name)] = static_cast<int>(i);
    if (fields[i].type == field_type::reference && !fields[i].relationship_name.empty())
      rel_by_lower_[lower(fields[i].relationship_name)] = static_cast<int>(i);
  }
}

void add_system_fields(object_def& o) {
  field_def id = read_only(make("Id", field_type::id, 18));
  id.nillable = false;
  id.defaulted_on_create = true;
  id.id_lookup = true;
  id.system = true;
  id.label = o.name + " ID";
  o.fields.insert(o.fields.begin(), id);
  std::vector<field_def> sys;
  if (o.has_is_deleted) {
    field_def f = read_only(make("IsDeleted", field_type::boolean));
    f.label = "Deleted";
    sys.push_back(f);
  }
  auto dt = [](std::string n) {
    field_def f = read_only(make(std::move(n), field_type::datetime));
    f.nillable = false;
    f.defaulted_on_create = true;
    return f;
  };
  auto by = [](std::string n, std::string rel) {
    field_def f = read_only(reference(std::move(n), "User", std::move(rel)));
    f.nillable = false;
    f.defaulted_on_create = true;
    return f;
  };
  sys.push_back(dt("CreatedDate"));
  sys.push_back(by("CreatedById", "CreatedBy"));
  sys.push_back(dt("LastModifiedDate"));
  sys.push_back(by("LastModifiedById", "LastModifiedBy"));
  sys.push_back(dt("SystemModstamp"));
  for (auto& f : sys) {
    f.system = true;
    o.fields.push_back(f);
  }
  o.rebuild_index();
}

// ---- JSON definitions --------------------------------------------------------------------

namespace {

template <class T>
bool get_opt(const nlohmann::json& j, std::initializer_list<const char*> keys, T& out) {
  for (auto* k : keys) {
    auto it = j.find(k);
    if (it != j.end() && !it->is_null()) {
      out = it->get<T>();
      return true;
    }
  }
  return false;
}

} // namespace

std::optional<schema_error> field_from_json(const nlohmann::json& j, field_def& out) {
  if (!j.is_object())
    return schema_error{"a field definition must be a JSON object"};
  try {
    std::string name;
    if (!get_opt(j, {"name", "fullName"}, name) || name.empty())
      return schema_error{"a field definition needs a name"};
    std::string type_text = "string";
    get_opt(j, {"type"}, type_text);
    auto t = parse_field_type(type_text);
    if (!t)
      return schema_error{"unknown field type '" + type_text + "' for field " + name};
    int length = 0;
    get_opt(j, {"length"}, length);
    if (length == 0) {
      switch (*t) {
        case field_type::string:
        case field_type::picklist:
        case field_type::multipicklist:
        case field_type::combobox:
        case field_type::url: length = 255; break;
        case field_type::encryptedstring: length = 175; break;
        case field_type::textarea: length = 32768; break;
        case field_type::phone: length = 40; break;
        case field_type::email: length = 80; break;
        case field_type::reference:
        case field_type::id: length = 18; break;
        default: break;
      }
    }
    field_def f = make(name, *t, length);
    out.custom = name.size() > 3 && iequals(name.substr(name.size() - 3), "__c");
    f.custom = out.custom;
    get_opt(j, {"label"}, f.label);
    get_opt(j, {"precision"}, f.precision);
    get_opt(j, {"scale"}, f.scale);
    get_opt(j, {"digits"}, f.digits);
    bool req = false;
    if (get_opt(j, {"required"}, req))
      f.nillable = !req;
    get_opt(j, {"nillable"}, f.nillable);
    get_opt(j, {"unique"}, f.unique);
    get_opt(j, {"external_id", "externalId"}, f.external_id);
    get_opt(j, {"case_sensitive", "caseSensitive"}, f.case_sensitive);
    get_opt(j, {"createable"}, f.createable);
    get_opt(j, {"updateable"}, f.updateable);
    get_opt(j, {"restricted", "restrictedPicklist"}, f.restricted_picklist);
    if (f.external_id || f.unique)
      f.id_lookup = true;
    if (auto it = j.find("reference_to"); it != j.end() || (it = j.find("referenceTo")) != j.end()) {
      if (it->is_string())
        f.reference_to.push_back(it->get<std::string>());
      else if (it->is_array())
        for (auto& r : *it)
          f.reference_to.push_back(r.get<std::string>());
    }
    if (f.type == field_type::reference) {
      if (f.reference_to.empty())
        return schema_error{"reference field " + name + " needs reference_to"};
      if (!get_opt(j, {"relationship_name", "relationshipName"}, f.relationship_name)) {
        if (f.custom)
          f.relationship_name = name.substr(0, name.size() - 3) + "__r";
        else if (name.size() > 2 && iequals(name.substr(name.size() - 2), "id"))
          f.relationship_name = name.substr(0, name.size() - 2);
      }
    }
    if (auto it = j.find("picklist"); it != j.end() || (it = j.find("picklistValues")) != j.end()) {
      if (!it->is_array())
        return schema_error{"picklist of " + name + " must be an array"};
      for (auto& p : *it) {
        picklist_value v;
        if (p.is_string()) {
          v.value = p.get<std::string>();
        } else if (p.is_object()) {
          get_opt(p, {"value"}, v.value);
          get_opt(p, {"default", "defaultValue"}, v.default_value);
          get_opt(p, {"active"}, v.active);
          get_opt(p, {"label"}, v.label);
        }
        if (v.label.empty())
          v.label = v.value;
        f.picklist.push_back(std::move(v));
      }
    }
    if (get_opt(j, {"formula", "calculatedFormula"}, f.formula_text) && !f.formula_text.empty()) {
      std::string err;
      auto compiled = formula::parse(f.formula_text, err);
      if (!compiled)
        return schema_error{"bad formula for " + name + ": " + err};
      f.compiled = std::shared_ptr<const formula>(std::move(compiled));
      f.createable = false;
      f.updateable = false;
      f.nillable = true;
      f.defaulted_on_create = false;
      f.default_value.reset();
    }
    if (auto it = j.find("rollup"); it != j.end() && !it->is_null()) {
      if (!f.formula_text.empty())
        return schema_error{"field " + name + " cannot be both a formula and a roll-up summary"};
      if (!it->is_object())
        return schema_error{"rollup of " + name + " must be an object {\"function\",\"child\",\"field\",\"summarized\"}"};
      field_def::rollup_def r;
      std::string fn = lower(it->value("function", std::string()));
      if (fn == "count")
        r.fn = field_def::rollup_def::function::count;
      else if (fn == "sum")
        r.fn = field_def::rollup_def::function::sum;
      else if (fn == "min")
        r.fn = field_def::rollup_def::function::min;
      else if (fn == "max")
        r.fn = field_def::rollup_def::function::max;
      else
        return schema_error{"rollup of " + name + ": function must be COUNT, SUM, MIN or MAX"};
      r.child = it->value("child", std::string());
      r.via = it->value("field", std::string());
      r.summarized = it->value("summarized", std::string());
      if (r.child.empty() || r.via.empty())
        return schema_error{"rollup of " + name + " needs child (the child object) and field (its reference to " +
                            "this object)"};
      if (r.fn != field_def::rollup_def::function::count && r.summarized.empty())
        return schema_error{"rollup of " + name + ": " + fn + " needs summarized (the child field)"};
      if (f.type != field_type::double_ && f.type != field_type::int_ && f.type != field_type::currency &&
          f.type != field_type::percent && f.type != field_type::date && f.type != field_type::datetime)
        return schema_error{"rollup field " + name + " must be a number, currency, percent, date or datetime"};
      f.rollup = std::move(r);
      f.createable = false;
      f.updateable = false;
      f.nillable = true;
      f.defaulted_on_create = false;
      f.default_value.reset();
    }
    if (auto it = j.find("default"); it != j.end() && !it->is_null()) {
      if (it->is_boolean())
        f.default_value = value::of_bool(it->get<bool>());
      else if (it->is_number_integer())
        f.default_value = value::of_int(it->get<std::int64_t>());
      else if (it->is_number())
        f.default_value = value::of_real(it->get<double>());
      else if (it->is_string())
        f.default_value = value::of_string(it->get<std::string>());
      f.defaulted_on_create = true;
    }
    out = std::move(f);
    return std::nullopt;
  } catch (const nlohmann::json::exception& e) {
    return schema_error{std::string("bad field definition: ") + e.what()};
  }
}

} // namespace sfemu
