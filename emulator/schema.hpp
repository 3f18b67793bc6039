#pragma once

#include "emulator/value.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sfemu {

class formula;

// ---- field types -------------------------------------------------------------

/// Salesforce field types as describe reports them.
enum class field_type {
  id, reference, string, textarea, picklist, multipicklist, combobox, boolean, int_, double_,
  currency, percent, date, datetime, time, base64, phone, url, email, encryptedstring, anytype
};

/// "string", "int", "datetime", ...
std::string_view to_string(field_type t);
/// Parses a describe type name (also accepts "text" for string, "number" for double,
/// "checkbox" for boolean, "lookup" for reference).
std::optional<field_type> parse_field_type(std::string_view name);
/// The describe soapType ("xsd:string", "tns:ID", ...).
std::string_view soap_type(field_type t);
/// True for types stored as strings.
bool is_string_like(field_type t);

/// One picklist entry.
struct picklist_value {
  std::string value;
  std::string label;
  bool active = true;
  bool default_value = false;
};

// ---- fields and objects --------------------------------------------------------

/// A field of an sObject: its describe metadata plus what validation needs.
struct field_def {
  std::string name;
  std::string label;
  field_type type = field_type::string;
  int length = 0;
  int precision = 0;
  int scale = 0;
  int digits = 0;
  bool nillable = true;
  bool createable = true;
  bool updateable = true;
  bool defaulted_on_create = false;
  bool unique = false;
  bool external_id = false;
  bool id_lookup = false;
  bool case_sensitive = false;
  bool custom = false;
  bool restricted_picklist = false;
  bool name_field = false;
  bool system = false; ///< maintained by the org (Id, CreatedDate, ...)
  std::vector<std::string> reference_to;
  std::string relationship_name;
  std::vector<picklist_value> picklist;
  std::string formula_text; ///< non-empty for formula (calculated) fields
  std::shared_ptr<const formula> compiled; ///< parsed formula_text
  /// A roll-up summary: an aggregate over the child records that reference this
  /// record, computed when read (so it changes without touching SystemModstamp).
  struct rollup_def {
    enum class function { count, sum, min, max };
    function fn = function::count;
    std::string child;      ///< the child object
    std::string via;        ///< the child's reference field pointing here
    std::string summarized; ///< the child field aggregated (empty for COUNT)
  };
  std::optional<rollup_def> rollup;
  std::optional<value> default_value;

  bool calculated() const { return !formula_text.empty() || rollup.has_value(); }
  bool encrypted() const { return type == field_type::encryptedstring; }
  /// Required on create: not nillable, createable, not defaulted and not a boolean.
  bool required() const {
    return !nillable && createable && !defaulted_on_create && type != field_type::boolean && !system;
  }
};

/// An sObject type: describe metadata and its fields (field 0 is always Id).
struct object_def {
  std::string name;
  std::string label;
  std::string label_plural;
  std::string key_prefix;
  bool custom = false;
  bool has_is_deleted = true; ///< false for User
  bool createable = true;
  bool updateable = true;
  bool deletable = true;
  std::vector<field_def> fields;

  /// Case-insensitive lookup of a field by API name; -1 if absent.
  int field_index(std::string_view name) const;
  const field_def* field(std::string_view name) const;
  /// Case-insensitive lookup of a reference field by its relationship name; -1 if absent.
  int relationship_index(std::string_view relationship) const;
  /// Adds or replaces a field; keeps the lookup maps current.
  void put_field(field_def f);
  void rebuild_index();

private:
  std::unordered_map<std::string, int> by_lower_;
  std::unordered_map<std::string, int> rel_by_lower_;
};

/// Lowercase ASCII copy.
std::string lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

/// Builds the standard objects of a fresh org (tables in emulator/standard_objects/).
std::vector<object_def> standard_objects();

/// Adds the system fields (Id, IsDeleted, CreatedDate, ...) at the front of an object.
void add_system_fields(object_def& obj);

/// A schema definition error (bad JSON shape, unknown type, bad formula).
struct schema_error {
  std::string message;
};

/// Parses one field definition from the org-file / control-API JSON shape.
/// Compiles formulas. Returns an error message on bad input.
std::optional<schema_error> field_from_json(const nlohmann::json& j, field_def& out);

} // namespace sfemu
