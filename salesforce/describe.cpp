#include "salesforce/describe.hpp"

#include "sync/type_mapping.hpp"

#include <nlohmann/json.hpp>

namespace syncforce::salesforce {

namespace {

using json = nlohmann::json;

std::string str(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool flag(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

int number(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_number() ? it->get<int>() : 0;
}

sf_error malformed(std::string what) {
  sf_error e;
  e.kind = error_kind::protocol;
  e.code = "MALFORMED_RESPONSE";
  e.message = std::move(what);
  return e;
}

} // namespace

const sobject_summary* global_describe::find(std::string_view name) const {
  for (auto& s : sobjects)
    if (iequals(s.name, name))
      return &s;
  return nullptr;
}

const field_describe* sobject_describe::find_field(std::string_view name) const {
  for (auto& f : fields)
    if (iequals(f.name, name))
      return &f;
  return nullptr;
}

result<global_describe> parse_global_describe(std::string_view text) {
  auto j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("sobjects") || !j["sobjects"].is_array())
    return malformed("describe global: no sobjects array");
  global_describe out;
  out.encoding = str(j, "encoding");
  if (j.contains("maxBatchSize") && j["maxBatchSize"].is_number())
    out.max_batch_size = j["maxBatchSize"].get<int>();
  for (auto& s : j["sobjects"]) {
    if (!s.is_object())
      continue;
    sobject_summary o;
    o.name = str(s, "name");
    o.label = str(s, "label");
    o.label_plural = str(s, "labelPlural");
    o.key_prefix = str(s, "keyPrefix");
    o.custom = flag(s, "custom");
    o.createable = flag(s, "createable");
    o.updateable = flag(s, "updateable");
    o.deletable = flag(s, "deletable");
    o.queryable = flag(s, "queryable");
    o.replicateable = flag(s, "replicateable");
    o.retrieveable = flag(s, "retrieveable");
    o.searchable = flag(s, "searchable");
    o.triggerable = flag(s, "triggerable");
    o.undeletable = flag(s, "undeletable");
    out.sobjects.push_back(std::move(o));
  }
  return out;
}

result<sobject_describe> parse_sobject_describe(std::string_view text) {
  auto j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("fields") || !j["fields"].is_array())
    return malformed("describe: no fields array");
  sobject_describe out;
  out.name = str(j, "name");
  out.label = str(j, "label");
  out.label_plural = str(j, "labelPlural");
  out.key_prefix = str(j, "keyPrefix");
  out.custom = flag(j, "custom");
  out.createable = flag(j, "createable");
  out.updateable = flag(j, "updateable");
  out.deletable = flag(j, "deletable");
  out.queryable = flag(j, "queryable");
  out.replicateable = flag(j, "replicateable");
  out.retrieveable = flag(j, "retrieveable");
  out.triggerable = flag(j, "triggerable");
  out.undeletable = flag(j, "undeletable");
  for (auto& f : j["fields"]) {
    if (!f.is_object())
      continue;
    field_describe d;
    d.name = str(f, "name");
    d.label = str(f, "label");
    d.type = str(f, "type");
    d.soap_type = str(f, "soapType");
    d.length = number(f, "length");
    d.byte_length = number(f, "byteLength");
    d.precision = number(f, "precision");
    d.scale = number(f, "scale");
    d.digits = number(f, "digits");
    d.nillable = flag(f, "nillable");
    d.createable = flag(f, "createable");
    d.updateable = flag(f, "updateable");
    d.defaulted_on_create = flag(f, "defaultedOnCreate");
    d.unique = flag(f, "unique");
    d.external_id = flag(f, "externalId");
    d.id_lookup = flag(f, "idLookup");
    d.calculated = flag(f, "calculated");
    d.calculated_formula = str(f, "calculatedFormula");
    d.encrypted = flag(f, "encrypted");
    d.custom = flag(f, "custom");
    d.filterable = flag(f, "filterable");
    d.sortable = flag(f, "sortable");
    d.auto_number = flag(f, "autoNumber");
    d.case_sensitive = flag(f, "caseSensitive");
    d.relationship_name = str(f, "relationshipName");
    if (auto it = f.find("referenceTo"); it != f.end() && it->is_array())
      for (auto& r : *it)
        if (r.is_string())
          d.reference_to.push_back(r.get<std::string>());
    if (auto it = f.find("picklistValues"); it != f.end() && it->is_array())
      for (auto& p : *it) {
        if (!p.is_object())
          continue;
        picklist_value v;
        v.value = str(p, "value");
        v.label = str(p, "label");
        v.active = !p.contains("active") || flag(p, "active");
        v.default_value = flag(p, "defaultValue");
        d.picklist_values.push_back(std::move(v));
      }
    out.fields.push_back(std::move(d));
  }
  if (auto it = j.find("childRelationships"); it != j.end() && it->is_array())
    for (auto& c : *it) {
      if (!c.is_object())
        continue;
      child_relationship r;
      r.child_sobject = str(c, "childSObject");
      r.field = str(c, "field");
      r.relationship_name = str(c, "relationshipName");
      r.cascade_delete = flag(c, "cascadeDelete");
      out.child_relationships.push_back(std::move(r));
    }
  return out;
}

} // namespace syncforce::salesforce
