#include "salesforce/bulk.hpp"

namespace syncforce::salesforce {

job_state parse_job_state(std::string_view s) {
  if (s == "Open") return job_state::open;
  if (s == "UploadComplete") return job_state::upload_complete;
  if (s == "InProgress") return job_state::in_progress;
  if (s == "JobComplete") return job_state::job_complete;
  if (s == "Failed") return job_state::failed;
  if (s == "Aborted") return job_state::aborted;
  return job_state::unknown;
}

std::string_view to_string(job_state s) {
  switch (s) {
    case job_state::open: return "Open";
    case job_state::upload_complete: return "UploadComplete";
    case job_state::in_progress: return "InProgress";
    case job_state::job_complete: return "JobComplete";
    case job_state::failed: return "Failed";
    case job_state::aborted: return "Aborted";
    case job_state::unknown: break;
  }
  return "Unknown";
}

} // namespace syncforce::salesforce
