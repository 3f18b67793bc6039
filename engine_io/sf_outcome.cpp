#include "engine_io/sf_outcome.hpp"

namespace syncforce::engine_io {

job_outcome from_sf_error(const salesforce::sf_error& e) {
  using salesforce::error_kind;
  switch (e.kind) {
    case error_kind::malformed_query:
    case error_kind::invalid_field:
    case error_kind::invalid_type:
      return job_outcome::failure(outcome_kind::bad_config, e.describe());
    case error_kind::request_limit:
      return job_outcome::failure(outcome_kind::budget, "API budget exhausted: " + e.describe());
    case error_kind::auth:
    case error_kind::invalid_session:
    case error_kind::transient:
    case error_kind::invalid_query_locator:
    case error_kind::job_not_complete:
    case error_kind::rolled_back:
      return job_outcome::failure(outcome_kind::retry, e.describe());
    default:
      return job_outcome::failure(outcome_kind::fatal, e.describe());
  }
}

} // namespace syncforce::engine_io
