#pragma once

#include "salesforce/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syncforce::salesforce {

/// One entry of `GET /sobjects` (describe global).
struct sobject_summary {
  std::string name;
  std::string label;
  std::string label_plural;
  std::string key_prefix; ///< empty when null
  bool custom = false;
  bool createable = false;
  bool updateable = false;
  bool deletable = false;
  bool queryable = false;
  bool replicateable = false;
  bool retrieveable = false;
  bool searchable = false;
  bool triggerable = false;
  bool undeletable = false;
};

/// The answer of describe global.
struct global_describe {
  std::string encoding;
  int max_batch_size = 200;
  std::vector<sobject_summary> sobjects;

  const sobject_summary* find(std::string_view name) const; ///< case-insensitive
};

/// One picklist value of a field.
struct picklist_value {
  std::string value;
  std::string label;
  bool active = true;
  bool default_value = false;
};

/// One field of an sObject, as describe tells it.
struct field_describe {
  std::string name;
  std::string label;
  std::string type;      ///< id, reference, string, boolean, double, datetime, ...
  std::string soap_type; ///< xsd:string, tns:ID ...
  int length = 0;
  int byte_length = 0;
  int precision = 0;
  int scale = 0;
  int digits = 0;
  bool nillable = false;
  bool createable = false;
  bool updateable = false;
  bool defaulted_on_create = false;
  bool unique = false;
  bool external_id = false;
  bool id_lookup = false;
  bool calculated = false;
  std::string calculated_formula;
  bool encrypted = false;
  bool custom = false;
  bool filterable = false;
  bool sortable = false;
  bool auto_number = false;
  bool case_sensitive = false;
  std::vector<std::string> reference_to;
  std::string relationship_name; ///< empty when null
  std::vector<picklist_value> picklist_values;

  /// What an insert needs: createable, not nillable and not defaulted on create.
  bool required_on_create() const { return createable && !nillable && !defaulted_on_create; }
};

/// A child relationship of an sObject.
struct child_relationship {
  std::string child_sobject;
  std::string field;
  std::string relationship_name; ///< empty when null
  bool cascade_delete = false;
};

/// The answer of `GET /sobjects/{Obj}/describe`.
struct sobject_describe {
  std::string name;
  std::string label;
  std::string label_plural;
  std::string key_prefix;
  bool custom = false;
  bool createable = false;
  bool updateable = false;
  bool deletable = false;
  bool queryable = false;
  bool replicateable = false;
  bool retrieveable = false;
  bool triggerable = false;
  bool undeletable = false;
  std::vector<field_describe> fields;
  std::vector<child_relationship> child_relationships;

  const field_describe* find_field(std::string_view name) const; ///< case-insensitive
};

/// Parses the JSON of describe global / describe object (protocol error if malformed).
result<global_describe> parse_global_describe(std::string_view json);
result<sobject_describe> parse_sobject_describe(std::string_view json);

} // namespace syncforce::salesforce
