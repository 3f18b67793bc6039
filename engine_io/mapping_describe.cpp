#include "engine_io/mapping_describe.hpp"

namespace syncforce::engine_io {

namespace {

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts)
    out += (out.empty() ? "" : "; ") + p;
  return out;
}

} // namespace

sf_field_rules rules_of(const salesforce::field_describe& f) {
  sf_field_rules r;
  r.name = f.name;
  r.type = f.type;
  r.nillable = f.nillable;
  r.createable = f.createable;
  r.updateable = f.updateable;
  r.defaulted_on_create = f.defaulted_on_create;
  r.unique = f.unique;
  r.external_id = f.external_id;
  r.id_lookup = f.id_lookup;
  r.calculated = f.calculated;
  r.relationship_name = f.relationship_name;
  return r;
}

salesforce::result<described_mapping> describe_mapping(salesforce::client& sf, const std::string& schema,
                                                       const mapping_config& config, bool ucs_basic_collation) {
  auto d = sf.describe(config.object_name);
  if (!d)
    return d.error();
  described_mapping out;
  out.object_name = d->name;
  std::vector<sf_field_info> infos;
  for (const auto& f : d->fields) {
    if (auto t = parse_sf_field_type(f.type))
      infos.push_back(sf_field_info{f.name, *t, f.length});
    out.rules.push_back(rules_of(f));
  }
  out.write_problems = joined(validate_write_mapping(config, out.rules));
  auto spec = make_table_spec(schema, config, infos, ucs_basic_collation);
  if (spec.ok())
    out.spec = std::make_shared<hc_table_spec>(std::move(*spec.spec));
  else
    out.spec_error = joined(spec.errors);
  return out;
}

} // namespace syncforce::engine_io
