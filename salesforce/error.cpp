#include "salesforce/error.hpp"

#include <nlohmann/json.hpp>

namespace syncforce::salesforce {

std::string_view to_string(error_kind kind) {
  switch (kind) {
    case error_kind::auth: return "auth";
    case error_kind::invalid_session: return "invalid_session";
    case error_kind::request_limit: return "request_limit";
    case error_kind::malformed_query: return "malformed_query";
    case error_kind::invalid_field: return "invalid_field";
    case error_kind::invalid_type: return "invalid_type";
    case error_kind::invalid_query_locator: return "invalid_query_locator";
    case error_kind::not_found: return "not_found";
    case error_kind::multiple_matches: return "multiple_matches";
    case error_kind::job_not_complete: return "job_not_complete";
    case error_kind::transient: return "transient";
    case error_kind::permanent_record_error: return "permanent_record_error";
    case error_kind::rolled_back: return "rolled_back";
    case error_kind::invalid_argument: return "invalid_argument";
    case error_kind::protocol: return "protocol";
    case error_kind::permanent: return "permanent";
  }
  return "permanent";
}

bool is_retryable(error_kind kind) {
  switch (kind) {
    case error_kind::transient:
    case error_kind::request_limit:
    case error_kind::invalid_session:
    case error_kind::rolled_back:
    case error_kind::job_not_complete:
      return true;
    default:
      return false;
  }
}

namespace {

bool is_record_code(std::string_view code) {
  static constexpr std::string_view codes[] = {
    "REQUIRED_FIELD_MISSING", "DUPLICATE_VALUE", "ENTITY_IS_DELETED", "STRING_TOO_LONG",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION", "INVALID_CROSS_REFERENCE_KEY", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    "INVALID_FIELD_FOR_INSERT_UPDATE", "INVALID_TYPE_ON_FIELD_IN_RECORD", "FIELD_INTEGRITY_EXCEPTION",
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY", "INVALID_ID_FIELD", "MALFORMED_ID", "NUMBER_OUTSIDE_VALID_RANGE",
    "INSUFFICIENT_ACCESS_OR_READONLY", "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", "DELETE_FAILED",
    "ENTITY_IS_LOCKED", "INVALID_EMAIL_ADDRESS", "DUPLICATES_DETECTED", "UNABLE_TO_LOCK_ROW",
    "INVALID_FIELD_WHEN_USING_TEMPLATE", "JSON_PARSER_ERROR", "INVALID_DATE", "INVALID_DATETIME"};
  for (auto c : codes)
    if (code == c)
      return true;
  return false;
}

} // namespace

error_kind kind_of_code(std::string_view code, long http_status) {
  if (code == "INVALID_SESSION_ID")
    return error_kind::invalid_session;
  if (code == "REQUEST_LIMIT_EXCEEDED" || code == "TOO_MANY_REQUESTS")
    return error_kind::request_limit;
  if (code == "MALFORMED_QUERY" || code == "INVALID_QUERY_FILTER_OPERATOR")
    return error_kind::malformed_query;
  if (code == "INVALID_FIELD")
    return error_kind::invalid_field;
  if (code == "INVALID_TYPE" || code == "NOT_FOUND_SOBJECT")
    return error_kind::invalid_type;
  if (code == "INVALID_QUERY_LOCATOR")
    return error_kind::invalid_query_locator;
  if (code == "NOT_FOUND")
    return error_kind::not_found;
  if (code == "JOB_NOT_COMPLETE")
    return error_kind::job_not_complete;
  if (code == "ALL_OR_NONE_OPERATION_ROLLED_BACK")
    return error_kind::rolled_back;
  if (code == "SERVER_UNAVAILABLE" || code == "UNKNOWN_EXCEPTION" || code == "TIMEOUT" ||
      code == "CONNECTION" || code == "SERVICE_UNAVAILABLE")
    return error_kind::transient;
  // OAuth errors are lower case.
  if (code == "invalid_grant" || code == "invalid_client_id" || code == "invalid_client" ||
      code == "unsupported_grant_type" || code == "invalid_request" || code == "inactive_user" ||
      code == "inactive_org" || code == "unauthorized_client" || code == "invalid_app_access")
    return error_kind::auth;
  if (is_record_code(code))
    return error_kind::permanent_record_error;
  if (http_status == 401)
    return error_kind::invalid_session;
  if (http_status == 429)
    return error_kind::request_limit;
  if (http_status == 404)
    return error_kind::not_found;
  if (http_status == 300)
    return error_kind::multiple_matches;
  if (http_status == 412)
    return error_kind::job_not_complete;
  if (http_status >= 500 || http_status == 408 || http_status == 420)
    return error_kind::transient;
  return error_kind::permanent;
}

std::string sf_error::describe() const {
  std::string out = code.empty() ? std::string(to_string(kind)) : code;
  if (http_status != 0)
    out += " (" + std::to_string(http_status) + ")";
  if (!message.empty())
    out += ": " + message;
  if (!fields.empty()) {
    out += " [";
    for (size_t i = 0; i < fields.size(); ++i)
      out += (i ? "," : "") + fields[i];
    out += "]";
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const sf_error& e) { return os << e.describe(); }

namespace {

std::vector<std::string> string_list(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (auto& f : j)
      if (f.is_string())
        out.push_back(f.get<std::string>());
  return out;
}

std::string string_member(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it != j.end() && it->is_string())
    return it->get<std::string>();
  return {};
}

} // namespace

sf_error error_from_response(long http_status, std::string_view body) {
  sf_error e;
  e.http_status = http_status;
  auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (!j.is_discarded()) {
    const nlohmann::json* first = nullptr;
    if (j.is_array() && !j.empty() && j.front().is_object())
      first = &j.front();
    else if (j.is_object())
      first = &j;
    if (first != nullptr) {
      if (first->contains("errorCode")) {
        e.code = string_member(*first, "errorCode");
        e.message = string_member(*first, "message");
        e.fields = string_list(first->value("fields", nlohmann::json()));
      } else if (first->contains("error")) {
        e.code = string_member(*first, "error");
        e.message = string_member(*first, "error_description");
      } else if (first->contains("statusCode")) {
        e.code = string_member(*first, "statusCode");
        e.message = string_member(*first, "message");
        e.fields = string_list(first->value("fields", nlohmann::json()));
      }
    }
  }
  if (e.code.empty() && e.message.empty()) {
    // No JSON error: keep a short, printable excerpt of the body.
    std::string excerpt(body.substr(0, 200));
    for (auto& c : excerpt)
      if (static_cast<unsigned char>(c) < 0x20)
        c = ' ';
    e.message = excerpt.empty() ? "HTTP " + std::to_string(http_status) : excerpt;
  }
  e.kind = kind_of_code(e.code, http_status);
  // A 401 that names no code is still an expired session for REST.
  if (http_status == 401 && e.kind == error_kind::permanent)
    e.kind = error_kind::invalid_session;
  return e;
}

sf_error transport_error(std::string code, std::string message) {
  sf_error e;
  e.kind = error_kind::transient;
  e.code = std::move(code);
  e.message = std::move(message);
  return e;
}

} // namespace syncforce::salesforce
