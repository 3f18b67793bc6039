#include "salesforce/http.hpp"

#include <curl/curl.h>
#include <simdjson.h>

#include <cctype>
#include <mutex>
#include <stdexcept>

namespace syncforce::salesforce {

std::string_view http_response::header(std::string_view name) const {
  for (auto& [k, v] : headers) {
    if (k.size() != name.size())
      continue;
    bool same = true;
    for (size_t i = 0; i < k.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(k[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    if (same)
      return v;
  }
  return {};
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (auto& [k, v] : fields) {
    if (!out.empty())
      out.push_back('&');
    out += url_encode(k);
    out.push_back('=');
    out += url_encode(v);
  }
  return out;
}

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

/// Where a body chunk goes: the request's sink for a 2xx answer, else the response body.
struct body_target {
  CURL* curl;
  const http_request* request;
  http_response* response;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* target = static_cast<body_target*>(user);
  size_t n = size * count;
  if (target->request->body_sink) {
    long status = 0;
    curl_easy_getinfo(target->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
      target->response->bytes_streamed += n;
      return target->request->body_sink(std::string_view(data, n)) ? n : 0;
    }
  }
  target->response->body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* out = static_cast<http_headers*>(user);
  std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    out->clear(); // a new response (after 100-continue or a redirect)
    return size * count;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos)
    return size * count;
  auto name = line.substr(0, colon);
  auto value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  out->emplace_back(std::string(name), std::string(value));
  return size * count;
}

} // namespace

curl_transport::curl_transport(http_options options) : options_(std::move(options)) {
  global_init();
  easy_ = curl_easy_init();
  if (easy_ == nullptr)
    throw std::runtime_error("curl_easy_init failed");
}

curl_transport::~curl_transport() {
  if (easy_ != nullptr)
    curl_easy_cleanup(static_cast<CURL*>(easy_));
}

http_response curl_transport::perform(const http_request& request) {
  auto* curl = static_cast<CURL*>(easy_);
  // Reset options but keep the connection cache, DNS cache and TLS sessions.
  curl_easy_reset(curl);
  http_response response;
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_body);
  body_target target{curl, &request, &response};
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &target);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method != "DELETE" || !request.body.empty()) {
      // Never a null pointer: that would make libcurl read the body from stdin.
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
  }
  curl_slist* headers = nullptr;
  for (auto& [k, v] : request.headers)
    headers = curl_slist_append(headers, (k + ": " + v).c_str());
  // No "Expect: 100-continue" round trip on large uploads.
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  long connects = 0;
  if (curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
    connections_opened_ += connects;
  if (rc != CURLE_OK) {
    response.status = 0;
    response.body.clear();
    response.error_message = curl_easy_strerror(rc);
    switch (rc) {
      case CURLE_WRITE_ERROR:
        response.error_code = "ABORTED";
        break;
      case CURLE_OPERATION_TIMEDOUT:
        response.error_code = "TIMEOUT";
        break;
      case CURLE_COULDNT_CONNECT:
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
        response.error_code = "CONNECTION";
        break;
      default:
        response.error_code = "CONNECTION_LOST";
        break;
    }
    return response;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  // Room for simdjson to parse the body in place.
  response.body.reserve(response.body.size() + simdjson::SIMDJSON_PADDING);
  return response;
}

} // namespace syncforce::salesforce
