#include "tests/support/sfemu.hpp"

#include <curl/curl.h>

#include <regex>
#include <stdexcept>

namespace syncforce::testing {

sfemu_process::sfemu_process(std::vector<std::string> extra_args) {
  std::vector<std::string> argv{bin_path("sfemu"), "--port", "0"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = child_process::start(std::move(argv));
  const std::string marker = "sfemu listening on ";
  if (!process_->wait_for_output(marker, std::chrono::seconds(20)))
    throw std::runtime_error("sfemu did not start; its output:\n" + process_->output());
  std::smatch m;
  std::string out = process_->output();
  static const std::regex line(R"(sfemu listening on (https?://[^:\s]+:(\d+)))");
  if (!std::regex_search(out, m, line))
    throw std::runtime_error("sfemu printed no URL; its output:\n" + out);
  base_url_ = m[1].str();
  port_ = std::stoi(m[2].str());
}

namespace {

std::size_t append_body(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

} // namespace

nlohmann::json sfemu_process::control(const std::string& method, const std::string& path,
                                      const nlohmann::json& body) const {
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl)
    throw std::runtime_error("sfemu control: curl_easy_init failed");
  std::string url = base_url_ + "/__sfemu/" + path;
  std::string payload = body.is_null() ? std::string{} : body.dump();
  std::string answer;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_guard(headers, curl_slist_free_all);
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
  if (!payload.empty() || method == "POST") {
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
  }
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 120L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  auto rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK)
    throw std::runtime_error("sfemu control " + method + " " + path + ": " + curl_easy_strerror(rc));
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status >= 400)
    throw std::runtime_error("sfemu control " + method + " " + path + ": HTTP " + std::to_string(status) + " " +
                             answer.substr(0, 500));
  return nlohmann::json::parse(answer, nullptr, false);
}

} // namespace syncforce::testing
