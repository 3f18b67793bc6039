#pragma once

// A compact declarative form for the standard objects of a fresh org: one line per
// field (name, describe type, length, flags, label, extra), turned into object_defs
// by build_object(). The tables themselves live next to this file, one per area
// (sales.cpp, service.cpp, commerce.cpp, users.cpp); they are written from
// Salesforce's object reference (names, types, lengths, flags, picklists,
// relationships), not generated.

#include "emulator/schema.hpp"

#include <utility>
#include <string_view>
#include <vector>

namespace sfemu::standard {

/// One field. `length` is the text length (string-like types), the digits (int) or the
/// precision (double, currency, percent; scale in `scale`).
///
/// `flags`, any of:
///   r  not nillable ("required" in describe terms)   d  defaultedOnCreate
///   c  not createable                                u  not updateable
///   x  read-only (= "cu")                            n  nameField
///   i  idLookup                                      U  unique
///   e  externalId                                    p  restricted picklist
///   s  case sensitive                                F  full name (computed FirstName LastName)
///
/// `extra`:
///   reference: "Account" or "Contact,Lead" (referenceTo; the relationship name is the
///              field name without "Id", or given after '>': "Contact,Lead>Who");
///   picklist / multipicklist / combobox: values separated by '|'; a leading '*'
///              marks the default value (which also makes the field defaultedOnCreate).
struct field_spec {
  std::string_view name;
  std::string_view type;
  int length = 0;
  std::string_view flags = {};
  std::string_view label = {};
  std::string_view extra = {};
  int scale = 0;
};

/// One object: name, label, plural label, key prefix and its fields after the system fields.
struct object_spec {
  std::string_view name;
  std::string_view label;
  std::string_view label_plural;
  std::string_view key_prefix;
  std::vector<field_spec> fields;
  bool has_is_deleted = true;
  bool deletable = true;
};

/// Field lists joined (for shared groups such as addresses).
std::vector<field_spec> operator+(std::vector<field_spec> a, const std::vector<field_spec>& b);

/// The fields of a standard address: <P>Street, <P>City, <P>State, <P>PostalCode, <P>Country,
/// <P>Latitude, <P>Longitude, <P>GeocodeAccuracy (prefix "" gives Street, City, ...).
std::vector<field_spec> address(std::string_view prefix);

/// LastViewedDate and LastReferencedDate (read-only, on objects with a recently-viewed list).
std::vector<field_spec> recently_viewed();

/// Builds the object: system fields (Id, IsDeleted, CreatedDate, ...) then `fields` in order.
/// Throws std::logic_error on a malformed spec (a bug in the tables, caught by the unit tests).
object_def build_object(const object_spec& spec);

// The areas, each a list of built objects (in describeGlobal order).
std::vector<object_def> sales_objects();    ///< Account, Contact, Lead, Opportunity, OpportunityLineItem, Campaign, CampaignMember
std::vector<object_def> service_objects();  ///< Case, Task, Event, Asset, Contract
std::vector<object_def> commerce_objects(); ///< Product2, Pricebook2, PricebookEntry, Order
std::vector<object_def> user_objects();     ///< User, Profile, UserRole

/// Records every fresh org has (object name, field values): the profiles, the standard price book.
struct seed_record {
  std::string_view object;
  std::vector<std::pair<std::string_view, std::string_view>> values;
};
const std::vector<seed_record>& seed_records();

} // namespace sfemu::standard
