#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace syncforce::salesforce {

// ---- error kinds -------------------------------------------------------------

/// What a failure means to the caller: whether to re-login, wait, fix the
/// query, drop the record or simply try again later.
enum class error_kind {
  auth,                   ///< login refused (OAuth `invalid_grant`, `invalid_client_id`, bad JWT ...)
  invalid_session,        ///< 401 INVALID_SESSION_ID even after re-authenticating
  request_limit,          ///< REQUEST_LIMIT_EXCEEDED, 429: the API budget is spent
  malformed_query,        ///< MALFORMED_QUERY
  invalid_field,          ///< INVALID_FIELD
  invalid_type,           ///< INVALID_TYPE: no such sObject
  invalid_query_locator,  ///< INVALID_QUERY_LOCATOR: the cursor is gone
  not_found,              ///< NOT_FOUND, 404
  multiple_matches,       ///< 300: an external id matches several records
  job_not_complete,       ///< Bulk 2.0 results asked for too early (412)
  transient,              ///< 5xx, timeouts, dropped connections: try again later
  permanent_record_error, ///< the record is bad (validation, duplicate, deleted, too long ...)
  rolled_back,            ///< ALL_OR_NONE_OPERATION_ROLLED_BACK: fine itself, another record failed
  invalid_argument,       ///< refused by the client before sending (e.g. more than 200 records)
  protocol,               ///< a response the client could not understand
  permanent,              ///< any other refusal
};

/// "invalid_session", "request_limit" ...
std::string_view to_string(error_kind kind);

/// True for kinds worth retrying later unchanged (transient, request_limit,
/// invalid_session, rolled_back, job_not_complete).
bool is_retryable(error_kind kind);

/// The kind of a Salesforce error code (`errorCode`, `statusCode` or OAuth `error`).
error_kind kind_of_code(std::string_view code, long http_status);

// ---- errors ------------------------------------------------------------------

/// A failed call: Salesforce's error code and message, the fields it named and
/// the HTTP status (0 when the request never got an answer). Never holds a secret.
struct sf_error {
  error_kind kind = error_kind::permanent;
  std::string code;    ///< e.g. "INVALID_FIELD", "invalid_grant", "TIMEOUT"
  std::string message; ///< Salesforce's message (or error_description)
  std::vector<std::string> fields;
  long http_status = 0;

  bool retryable() const { return is_retryable(kind); }

  /// "INVALID_FIELD (400): No such column ..."
  std::string describe() const;
};

std::ostream& operator<<(std::ostream& os, const sf_error& e);

/// One record's error in a collection or save result.
struct record_error {
  error_kind kind = error_kind::permanent_record_error;
  std::string status_code; ///< e.g. "REQUIRED_FIELD_MISSING"
  std::string message;
  std::vector<std::string> fields;
};

/// Maps an HTTP error response to an error: a REST error array
/// `[{"message","errorCode","fields"}]`, an OAuth `{"error","error_description"}`,
/// a Bulk 2.0 error array, or anything else (status alone decides).
sf_error error_from_response(long http_status, std::string_view body);

/// An error for a request that got no HTTP answer (libcurl failure).
sf_error transport_error(std::string code, std::string message);

} // namespace syncforce::salesforce
