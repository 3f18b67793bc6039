#include "emulator/bulk/job.hpp"

#include "emulator/value.hpp"

#include <array>

namespace sfemu::bulk {

namespace csv = syncforce::csv;

// ---- names ---------------------------------------------------------------------

std::string_view to_string(job_state s) {
  switch (s) {
    case job_state::open: return "Open";
    case job_state::upload_complete: return "UploadComplete";
    case job_state::in_progress: return "InProgress";
    case job_state::job_complete: return "JobComplete";
    case job_state::failed: return "Failed";
    case job_state::aborted: return "Aborted";
  }
  return "Open";
}

std::optional<job_state> parse_job_state(std::string_view name) {
  for (auto s : {job_state::open, job_state::upload_complete, job_state::in_progress,
                 job_state::job_complete, job_state::failed, job_state::aborted})
    if (to_string(s) == name)
      return s;
  return std::nullopt;
}

std::string_view to_upper_name(job_state s) {
  switch (s) {
    case job_state::open: return "OPEN";
    case job_state::upload_complete: return "UPLOAD_COMPLETE";
    case job_state::in_progress: return "IN_PROGRESS";
    case job_state::job_complete: return "JOB_COMPLETE";
    case job_state::failed: return "FAILED";
    case job_state::aborted: return "ABORTED";
  }
  return "OPEN";
}

bool is_terminal(job_state s) {
  return s == job_state::job_complete || s == job_state::failed || s == job_state::aborted;
}

std::string_view to_string(operation op) {
  switch (op) {
    case operation::insert: return "insert";
    case operation::update: return "update";
    case operation::upsert: return "upsert";
    case operation::delete_: return "delete";
    case operation::hard_delete: return "hardDelete";
    case operation::query: return "query";
    case operation::query_all: return "queryAll";
  }
  return "insert";
}

std::optional<operation> parse_operation(std::string_view name) {
  for (auto op : {operation::insert, operation::update, operation::upsert, operation::delete_,
                  operation::hard_delete, operation::query, operation::query_all})
    if (to_string(op) == name)
      return op;
  return std::nullopt;
}

bool is_ingest(operation op) {
  return op != operation::query && op != operation::query_all;
}

nlohmann::json api_error::body() const {
  return nlohmann::json::array({{{"errorCode", code}, {"message", message}}});
}

// ---- job info ------------------------------------------------------------------

std::string job_info::content_url() const {
  return "services/data/v" + api_version + "/jobs/ingest/" + id + "/batches";
}

nlohmann::json job_info::to_json(bool full) const {
  nlohmann::json j;
  j["id"] = id;
  j["operation"] = std::string(to_string(op));
  j["object"] = object;
  j["createdById"] = created_by_id;
  j["createdDate"] = format_datetime(created_ms);
  j["systemModstamp"] = format_datetime(modstamp_ms);
  j["state"] = std::string(to_string(state));
  if (kind == job_kind::ingest && !external_id_field.empty())
    j["externalIdFieldName"] = external_id_field;
  j["concurrencyMode"] = "Parallel";
  j["contentType"] = "CSV";
  double version = 0;
  try {
    version = std::stod(api_version);
  } catch (...) {
    version = 0;
  }
  j["apiVersion"] = version;
  j["lineEnding"] = std::string(csv::line_ending_name(ending));
  j["columnDelimiter"] = std::string(csv::delimiter_name(delim));
  if (kind == job_kind::ingest) {
    j["jobType"] = "V2Ingest";
    j["contentUrl"] = content_url();
  } else {
    j["jobType"] = "V2Query";
  }
  if (full) {
    j["numberRecordsProcessed"] = records_processed;
    j["retries"] = 0;
    j["totalProcessingTime"] = processing_ms;
    if (kind == job_kind::ingest) {
      j["numberRecordsFailed"] = records_failed;
      j["apiActiveProcessingTime"] = processing_ms;
      j["apexProcessingTime"] = 0;
      if (!error_message.empty())
        j["errorMessage"] = error_message;
    } else {
      j["isPkChunkingSupported"] = false;
    }
  }
  return j;
}

// ---- rules -------------------------------------------------------------------

api_error job_not_found() {
  return {404, "NOT_FOUND", "The requested resource does not exist"};
}

namespace {

api_error invalid_state(std::string message) {
  return {400, "INVALIDJOBSTATE", std::move(message)};
}

api_error enum_error(std::string_view enum_name, const nlohmann::json& v) {
  std::string text = v.is_string() ? v.get<std::string>() : v.dump();
  return {400, "JSON_PARSER_ERROR",
          "Cannot deserialize instance of " + std::string(enum_name) + " from VALUE_STRING value "
              + text + " or request may be missing a required field"};
}

std::optional<api_error> parse_dialect(const nlohmann::json& body, job_info& out) {
  if (auto it = body.find("lineEnding"); it != body.end() && !it->is_null()) {
    auto e = it->is_string() ? csv::parse_line_ending(it->get<std::string>()) : std::nullopt;
    if (!e)
      return enum_error("LineEndingEnum", *it);
    out.ending = *e;
  }
  if (auto it = body.find("columnDelimiter"); it != body.end() && !it->is_null()) {
    auto d = it->is_string() ? csv::parse_delimiter(it->get<std::string>()) : std::nullopt;
    if (!d)
      return enum_error("ColumnDelimiterEnum", *it);
    out.delim = *d;
  }
  if (auto it = body.find("contentType"); it != body.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>() != "CSV")
      return enum_error("ContentType", *it);
  }
  return std::nullopt;
}

} // namespace

std::optional<api_error> check_client_transition(const job_info& job, std::string_view requested) {
  auto target = parse_job_state(requested);
  if (!target || (*target != job_state::upload_complete && *target != job_state::aborted))
    return invalid_state("Invalid job state: " + std::string(requested)
                         + ". Only UploadComplete or Aborted can be requested.");
  if (*target == job_state::upload_complete) {
    if (job.kind != job_kind::ingest || job.state != job_state::open)
      return invalid_state("Job state transition from " + std::string(to_string(job.state)) + " to "
                           + "UploadComplete is not allowed");
    return std::nullopt;
  }
  if (is_terminal(job.state))
    return invalid_state("Job state transition from " + std::string(to_string(job.state))
                         + " to Aborted is not allowed");
  return std::nullopt;
}

std::optional<api_error> check_upload(const job_info& job) {
  if (job.kind != job_kind::ingest)
    return job_not_found();
  if (job.state != job_state::open)
    return invalid_state("Job is not in an Open state, current state: "
                         + std::string(to_string(job.state)));
  return std::nullopt;
}

std::optional<api_error> check_delete(const job_info& job) {
  if (job.state == job_state::open || job.state == job_state::in_progress)
    return invalid_state("Job cannot be deleted in state " + std::string(to_string(job.state))
                         + ". Close or abort the job first.");
  if (job.kind == job_kind::query && job.state == job_state::upload_complete)
    return invalid_state("Job cannot be deleted in state UploadComplete. Abort the job first.");
  return std::nullopt;
}

std::optional<api_error> check_ingest_results(const job_info& job) {
  if (job.state == job_state::job_complete || job.state == job_state::failed
      || job.state == job_state::aborted)
    return std::nullopt;
  return invalid_state("Results are not available until the job is complete, current state: "
                       + std::string(to_string(job.state)));
}

std::optional<api_error> check_query_results(const job_info& job) {
  if (job.state == job_state::job_complete)
    return std::nullopt;
  return api_error{412, "JOB_NOT_COMPLETE",
                   "can only download query results of successfully completed bulk job with status: "
                   "JOB_COMPLETE. Current status: "
                       + std::string(to_upper_name(job.state))};
}

std::optional<api_error> parse_ingest_request(const nlohmann::json& body, job_info& out) {
  if (!body.is_object())
    return api_error{400, "JSON_PARSER_ERROR", "The request body must be a JSON object"};
  out.kind = job_kind::ingest;
  auto op = body.find("operation");
  if (op == body.end() || op->is_null())
    return api_error{400, "INVALIDJOB", "InvalidJob : Operation is required"};
  auto parsed = op->is_string() ? parse_operation(op->get<std::string>()) : std::nullopt;
  if (!parsed || !is_ingest(*parsed))
    return enum_error("OperationEnum", *op);
  out.op = *parsed;
  auto obj = body.find("object");
  if (obj == body.end() || !obj->is_string() || obj->get<std::string>().empty())
    return api_error{400, "INVALIDJOB", "InvalidJob : Object is required"};
  out.object = obj->get<std::string>();
  if (auto ext = body.find("externalIdFieldName"); ext != body.end() && ext->is_string())
    out.external_id_field = ext->get<std::string>();
  if (out.op == operation::upsert && out.external_id_field.empty())
    return api_error{400, "INVALIDJOB", "InvalidJob : External ID was blank for " + out.object
                                            + ". An External ID must be specified for upsert."};
  if (out.op != operation::upsert)
    out.external_id_field.clear();
  return parse_dialect(body, out);
}

std::optional<api_error> parse_query_request(const nlohmann::json& body, job_info& out) {
  if (!body.is_object())
    return api_error{400, "JSON_PARSER_ERROR", "The request body must be a JSON object"};
  out.kind = job_kind::query;
  out.op = operation::query;
  if (auto op = body.find("operation"); op != body.end() && !op->is_null()) {
    auto parsed = op->is_string() ? parse_operation(op->get<std::string>()) : std::nullopt;
    if (!parsed || is_ingest(*parsed))
      return enum_error("OperationEnum", *op);
    out.op = *parsed;
  }
  auto q = body.find("query");
  if (q == body.end() || !q->is_string() || q->get<std::string>().empty())
    return api_error{400, "INVALIDJOB", "InvalidJob : Query is required"};
  out.query = q->get<std::string>();
  out.state = job_state::upload_complete;
  return parse_dialect(body, out);
}

api_error upload_too_large(std::size_t limit) {
  return {400, "INVALIDBATCH",
          "InvalidBatch : Job data exceeds the maximum upload size of " + std::to_string(limit) + " bytes"};
}

// ---- locators -------------------------------------------------------------------

namespace {
constexpr std::string_view b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
} // namespace

std::string encode_locator(std::uint64_t offset) {
  std::string digits = std::to_string(offset);
  std::string out;
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(digits[k]); };
  for (; i + 2 < digits.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += b64[(v >> 18) & 63];
    out += b64[(v >> 12) & 63];
    out += b64[(v >> 6) & 63];
    out += b64[v & 63];
  }
  std::size_t rest = digits.size() - i;
  if (rest == 1) {
    unsigned v = byte(i) << 16;
    out += b64[(v >> 18) & 63];
    out += b64[(v >> 12) & 63];
  } else if (rest == 2) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += b64[(v >> 18) & 63];
    out += b64[(v >> 12) & 63];
    out += b64[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::uint64_t> decode_locator(std::string_view locator) {
  while (!locator.empty() && locator.back() == '=')
    locator.remove_suffix(1);
  if (locator.empty() || locator.size() % 4 == 1 || locator.size() > 40)
    return std::nullopt;
  std::string digits;
  unsigned acc = 0;
  int bits = 0;
  for (char c : locator) {
    auto pos = b64.find(c);
    if (pos == std::string_view::npos)
      return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      digits.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (digits.empty() || digits.size() > 19)
    return std::nullopt;
  std::uint64_t v = 0;
  for (char d : digits) {
    if (d < '0' || d > '9')
      return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(d - '0');
  }
  return v;
}

} // namespace sfemu::bulk
