#pragma once

#include "salesforce/client.hpp"
#include "sync/mapping_config.hpp"

#include <string>
#include <utility>
#include <vector>

namespace syncforce::engine_io {

/// A mapping to check, with the path its problems are reported under
/// (`mappings[2]`, or `Contact` for a single mapping).
struct mapping_to_validate {
  std::string path;
  mapping_config config;
};

/// Every problem of `mappings` against the org, found through describe, all
/// at once: unknown object, unknown or unmappable field, read_write without a
/// unique External ID upsert field, fields needed for insert not mapped.
/// Paths like `mappings[2].object_name`, `mappings[2].config.fields.Foo__c`,
/// `mappings[2].config.upsert_field`. Empty: all good. Blocking (HTTP).
/// A failure to talk to Salesforce at all is one problem at path "salesforce".
///
/// With `canonical`, it is filled with the mappings as Salesforce spells them
/// (one per mapping, in order): the object name, field names, relationship
/// columns (`parent__r__ext__c` -> `Parent__r__Ext__c`), the upsert field and
/// index fields take describe's spelling, so `contact` is stored as `Contact`.
/// Names describe does not know are left as given (they are problems anyway).
std::vector<config_problem> validate_mappings(salesforce::client& sf, const std::vector<mapping_to_validate>& mappings,
                                              std::vector<mapping_config>* canonical = nullptr);

/// The API versions the org offers (`GET /services/data`: "58.0", ..., "62.0"),
/// in the org's order. Blocking (HTTP; logs in first when no session is held).
salesforce::result<std::vector<std::string>> org_api_versions(salesforce::client& sf);

} // namespace syncforce::engine_io
