#include "emulator/standard_objects/builder.hpp"

#include "emulator/formula.hpp"

#include <cctype>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>

namespace sfemu::standard {

namespace {

/// "BillingCity" -> "Billing City", "AccountId" -> "Account ID" (the usual standard label).
std::string derived_label(std::string_view name) {
  std::string label;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (i > 0 && std::isupper(static_cast<unsigned char>(c)) && std::islower(static_cast<unsigned char>(name[i - 1])))
      label.push_back(' ');
    label.push_back(c);
  }
  if (label.size() > 3 && label.compare(label.size() - 3, 3, " Id") == 0)
    label.replace(label.size() - 2, 2, "ID");
  return label;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find(sep, start);
    if (end == std::string_view::npos)
      end = s.size();
    out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

[[noreturn]] void bad(std::string_view object, std::string_view field, const std::string& why) {
  throw std::logic_error("standard object " + std::string(object) + "." + std::string(field) + ": " + why);
}

field_def build_field(std::string_view object, const field_spec& spec) {
  field_def f;
  f.name = std::string(spec.name);
  f.label = spec.label.empty() ? derived_label(spec.name) : std::string(spec.label);
  auto t = parse_field_type(spec.type);
  if (!t || to_string(*t) != spec.type)
    bad(object, spec.name, "unknown type " + std::string(spec.type));
  f.type = *t;
  switch (f.type) {
    case field_type::int_: f.digits = spec.length; break;
    case field_type::double_:
    case field_type::currency:
    case field_type::percent:
      f.precision = spec.length;
      f.scale = spec.scale;
      break;
    case field_type::id:
    case field_type::reference: f.length = 18; break;
    case field_type::boolean:
      // Salesforce: checkboxes are never null and default to false.
      f.nillable = false;
      f.defaulted_on_create = true;
      f.default_value = value::of_bool(false);
      break;
    default: f.length = spec.length; break;
  }
  for (char c : spec.flags) {
    switch (c) {
      case 'r': f.nillable = false; break;
      case 'd': f.defaulted_on_create = true; break;
      case 'c': f.createable = false; break;
      case 'u': f.updateable = false; break;
      case 'x': f.createable = f.updateable = false; break;
      case 'n': f.name_field = true; break;
      case 'i': f.id_lookup = true; break;
      case 'U': f.unique = true; break;
      case 'e': f.external_id = true; break;
      case 'p': f.restricted_picklist = true; break;
      case 's': f.case_sensitive = true; break;
      case 'F': {
        f.formula_text = "TRIM(FirstName & \" \" & LastName)";
        std::string err;
        f.compiled = formula::parse(f.formula_text, err);
        if (!f.compiled)
          bad(object, spec.name, "full-name formula: " + err);
        break;
      }
      default: bad(object, spec.name, std::string("unknown flag '") + c + "'");
    }
  }
  if (f.type == field_type::reference) {
    std::string_view targets = spec.extra;
    std::string rel;
    if (auto gt = targets.find('>'); gt != std::string_view::npos) {
      rel = std::string(targets.substr(gt + 1));
      targets = targets.substr(0, gt);
    } else if (f.name.size() > 2 && f.name.compare(f.name.size() - 2, 2, "Id") == 0) {
      rel = f.name.substr(0, f.name.size() - 2);
    }
    if (targets.empty())
      bad(object, spec.name, "a reference needs its target objects");
    f.reference_to = split(targets, ',');
    f.relationship_name = std::move(rel);
  } else if (f.type == field_type::picklist || f.type == field_type::multipicklist ||
             f.type == field_type::combobox) {
    for (auto& v : split(spec.extra, '|')) {
      if (v.empty())
        continue;
      picklist_value p;
      if (v.front() == '*') {
        v.erase(0, 1);
        p.default_value = true;
        f.defaulted_on_create = true;
        f.default_value = value::of_string(v);
      }
      p.value = v;
      p.label = v;
      f.picklist.push_back(std::move(p));
    }
  } else if (!spec.extra.empty()) {
    bad(object, spec.name, "extra given for a " + std::string(spec.type) + " field");
  }
  return f;
}

} // namespace

object_def build_object(const object_spec& spec) {
  object_def o;
  o.name = std::string(spec.name);
  o.label = std::string(spec.label);
  o.label_plural = std::string(spec.label_plural);
  o.key_prefix = std::string(spec.key_prefix);
  o.has_is_deleted = spec.has_is_deleted;
  o.deletable = spec.deletable;
  add_system_fields(o);
  for (auto& fs : spec.fields) {
    if (o.field_index(fs.name) >= 0)
      bad(spec.name, fs.name, "defined twice (or clashes with a system field)");
    o.fields.push_back(build_field(spec.name, fs));
    o.rebuild_index();
  }
  return o;
}

} // namespace sfemu::standard

namespace sfemu::standard {

std::vector<field_spec> operator+(std::vector<field_spec> a, const std::vector<field_spec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

namespace {

/// Spellings kept alive for the string_views of address() (prefix + part).
std::string_view interned(std::string s) {
  static std::mutex mutex;
  static std::set<std::string> names;
  std::lock_guard<std::mutex> lock(mutex);
  return *names.insert(std::move(s)).first;
}

} // namespace

std::vector<field_spec> address(std::string_view prefix) {
  std::string p(prefix);
  // Labels: "Billing Street" for Account, "Mailing City" for Contact, "Street" for Lead.
  std::string lp = p.empty() ? "" : p + " ";
  return {
      {interned(p + "Street"), "textarea", 255, "", interned(lp + "Street")},
      {interned(p + "City"), "string", 40, "", interned(lp + "City")},
      {interned(p + "State"), "string", 80, "", interned(lp + "State/Province")},
      {interned(p + "PostalCode"), "string", 20, "", interned(lp + "Zip/Postal Code")},
      {interned(p + "Country"), "string", 80, "", interned(lp + "Country")},
      {interned(p + "Latitude"), "double", 18, "", interned(lp + "Latitude"), {}, 15},
      {interned(p + "Longitude"), "double", 18, "", interned(lp + "Longitude"), {}, 15},
      {interned(p + "GeocodeAccuracy"), "picklist", 40, "p", interned(lp + "Geocode Accuracy"),
       "Address|NearAddress|Block|Street|ExtendedZip|Zip|Neighborhood|City|County|State|Unknown"},
  };
}

std::vector<field_spec> recently_viewed() {
  return {{"LastViewedDate", "datetime", 0, "x"}, {"LastReferencedDate", "datetime", 0, "x"}};
}

} // namespace sfemu::standard
