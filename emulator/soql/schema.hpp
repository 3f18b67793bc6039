#pragma once

// What bind() needs to know about the org: objects, their fields and parent
// relationships. The org model implements schema_view/object_info; basic_object_info
// is a ready-made object_info over a vector of fields (used by tests, usable by anyone).

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "emulator/soql/value.hpp"

namespace sfemu::soql {

/// One field of an object, as bind() sees it.
struct field_info {
  std::string name;                       ///< API name in describe case, e.g. "AccountId"
  field_type type = field_type::string;
  std::uint32_t slot = 0;                 ///< the org model's own index of the field (opaque here)
  std::string relationship_name;          ///< reference fields: e.g. "Account", "Owner", "Parent__r"; else empty
  std::vector<std::string> reference_to;  ///< reference fields: parent object names (first found wins)
  bool filterable = true;                 ///< false: "field 'X' can not be filtered in a query call"
  bool sortable = true;                   ///< false: "field 'X' can not be sorted in a query call"
};

/// One object (sObject type) of the org.
class object_info {
public:
  virtual ~object_info() = default;
  /// API name in describe case, e.g. "Account".
  virtual const std::string& name() const = 0;
  /// A field by API name, case-insensitive; nullptr if none.
  virtual const field_info* find_field(std::string_view name) const = 0;
  /// A reference field by its relationship name (e.g. "Owner" -> OwnerId), case-insensitive; nullptr if none.
  virtual const field_info* find_relationship(std::string_view relationship_name) const = 0;
};

/// The org's schema.
class schema_view {
public:
  virtual ~schema_view() = default;
  /// An object by API name, case-insensitive; nullptr if none.
  virtual const object_info* find_object(std::string_view name) const = 0;
};

/// ASCII lower-casing (Salesforce API names are ASCII).
std::string to_lower(std::string_view s);

/// Case-insensitive ASCII equality.
bool iequals(std::string_view a, std::string_view b);

/// An object_info over a list of fields, with case-insensitive indexes.
class basic_object_info final : public object_info {
public:
  basic_object_info(std::string name, std::vector<field_info> fields);
  const std::string& name() const override { return name_; }
  const field_info* find_field(std::string_view name) const override;
  const field_info* find_relationship(std::string_view relationship_name) const override;
  const std::vector<field_info>& fields() const { return fields_; }

private:
  std::string name_;
  std::vector<field_info> fields_;
  std::unordered_map<std::string, std::size_t> by_name_;
  std::unordered_map<std::string, std::size_t> by_relationship_;
};

} // namespace sfemu::soql
