#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syncforce::salesforce {

// ---- requests and responses --------------------------------------------------

using http_headers = std::vector<std::pair<std::string, std::string>>;

/// One HTTP request as the client sends it.
struct http_request {
  std::string method = "GET";
  std::string url;
  http_headers headers;
  /// The body: a view of the caller's buffer (a large Bulk upload is never copied),
  /// which must outlive perform().
  std::string_view body;
  /// When set, a 2xx response body goes here chunk by chunk as it arrives
  /// instead of into `http_response::body` (return false to abort).
  std::function<bool(std::string_view)> body_sink;
};

/// One HTTP response, or the transport failure that took its place.
struct http_response {
  long status = 0;      ///< 0 when no answer came (see error_code)
  http_headers headers; ///< names as received
  std::string body;
  /// Empty on success; "TIMEOUT", "CONNECTION" (never connected: safe to resend
  /// anything) or "CONNECTION_LOST" (sent, answer lost) otherwise.
  std::string error_code;
  std::string error_message;
  /// Bytes handed to the request's body_sink (0 when none was set).
  std::uint64_t bytes_streamed = 0;

  bool transport_failed() const { return !error_code.empty(); }
  /// The first header named `name` (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
};

// ---- transports --------------------------------------------------------------

/// Sends HTTP requests. The client talks to Salesforce only through this, so
/// unit tests substitute an in-memory fake.
class http_transport {
public:
  virtual ~http_transport() = default;
  virtual http_response perform(const http_request& request) = 0;
};

/// Transport settings.
struct http_options {
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{120000}; ///< whole request, 0 = none
  bool verify_tls = true;
  std::string user_agent = "syncforce/0.1";
};

/// The libcurl transport: one easy handle reused for every request (so
/// connections are kept alive and reused), gzip/deflate accepted, timeouts
/// applied, TLS verified as libcurl does. Not thread-safe: one per thread.
class curl_transport : public http_transport {
public:
  explicit curl_transport(http_options options = {});
  ~curl_transport() override;
  curl_transport(const curl_transport&) = delete;
  curl_transport& operator=(const curl_transport&) = delete;

  http_response perform(const http_request& request) override;

  /// New connections opened so far (all requests on one kept-alive connection: 1).
  long connections_opened() const { return connections_opened_; }

private:
  http_options options_;
  long connections_opened_ = 0;
  void* easy_ = nullptr; // CURL*
};

/// Percent-encodes `s` for a URL query or form value.
std::string url_encode(std::string_view s);

/// `a=1&b=2` from name/value pairs, values percent-encoded.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

} // namespace syncforce::salesforce
