#pragma once

#include "salesforce/client.hpp"
#include "sync/mapping_config.hpp"
#include "sync/sf_write.hpp"
#include "sync/type_mapping.hpp"

#include <memory>
#include <string>
#include <vector>

namespace syncforce::engine_io {

/// What describe says about one mapping, for the read side and the writer alike.
struct described_mapping {
  /// The mapped table; null when the mapping's fields cannot be mapped (see spec_error).
  std::shared_ptr<const hc_table_spec> spec;
  std::string spec_error;
  /// The describe facts writing needs (writable fields, insert rules).
  std::vector<sf_field_rules> rules;
  /// Why a read-write mapping cannot write (validate_write_mapping), `; `-joined; empty when it can.
  std::string write_problems;
  /// The object's name as describe spells it.
  std::string object_name;
};

/// The write rules of one described field.
sf_field_rules rules_of(const salesforce::field_describe& f);

/// Describes the mapping's object and derives its table spec and write rules.
salesforce::result<described_mapping> describe_mapping(salesforce::client& sf, const std::string& schema,
                                                       const mapping_config& config, bool ucs_basic_collation);

} // namespace syncforce::engine_io
