#include "actors/config_validation.hpp"

namespace syncforce::actors {

std::vector<config_problem> validate_mappings(salesforce::client&, const std::vector<mapping_to_validate>&) {
  return {}; // TODO(validation helper)
}

} // namespace syncforce::actors
