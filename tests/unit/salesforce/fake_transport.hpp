#pragma once

#include "salesforce/client.hpp"
#include "sync/clock.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace syncforce::salesforce::testing {

/// An in-memory transport: answers from a script (or a handler) and keeps
/// every request it saw.
class fake_transport : public http_transport {
public:
  /// A request as sent, its body copied.
  struct recorded {
    std::string method;
    std::string url;
    http_headers headers;
    std::string body;
  };

  struct shared {
    std::vector<recorded> requests;
    std::deque<http_response> script;
    /// Used when the script is empty.
    std::function<http_response(const http_request&)> handler;
  };

  explicit fake_transport(shared* state) : state_(state) {}

  http_response perform(const http_request& request) override {
    state_->requests.push_back({request.method, request.url, request.headers, std::string(request.body)});
    if (!state_->script.empty()) {
      auto r = std::move(state_->script.front());
      state_->script.pop_front();
      return r;
    }
    if (state_->handler)
      return state_->handler(request);
    http_response r;
    r.status = 599;
    r.body = "no scripted answer";
    return r;
  }

private:
  shared* state_;
};

inline http_response respond(long status, std::string body, http_headers headers = {}) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

inline http_response transport_failure(std::string code) {
  http_response r;
  r.error_code = std::move(code);
  r.error_message = "simulated " + r.error_code;
  return r;
}

inline std::string header_of(const fake_transport::recorded& r, std::string_view name) {
  for (auto& [k, v] : r.headers)
    if (k == name)
      return v;
  return {};
}

/// The node's manual clock (sync/clock.hpp) that also records each sleep:
/// sleeping moves both clocks by its length and costs no real time.
class recording_time : public manual_time {
public:
  using manual_time::manual_time;
  void sleep_for(std::chrono::milliseconds d) const override {
    {
      std::lock_guard<std::mutex> guard(sleeps_mutex_);
      sleeps_.push_back(d);
    }
    manual_time::sleep_for(d);
  }
  std::vector<std::chrono::milliseconds> sleeps() const {
    std::lock_guard<std::mutex> guard(sleeps_mutex_);
    return sleeps_;
  }

private:
  mutable std::mutex sleeps_mutex_;
  mutable std::vector<std::chrono::milliseconds> sleeps_;
};

/// Jitter the test chooses.
class fixed_jitter : public jitter_source {
public:
  double value = 0.5;
  double next() override { return value; }
};

/// Deterministic time and jitter for a client under test.
struct fake_clock {
  std::shared_ptr<recording_time> time =
    std::make_shared<recording_time>(std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)));
  std::shared_ptr<fixed_jitter> jitter = std::make_shared<fixed_jitter>();

  std::vector<std::chrono::milliseconds> sleeps() const { return time->sleeps(); }
  void set_jitter(double u) { jitter->value = u; }
};

inline std::string login_body(const std::string& token = "00Dtoken!abc") {
  return R"({"access_token":")" + token +
         R"(","instance_url":"https://inst.example.com","id":"https://login.example.com/id/00D000000000001AAA/005000000000001AAA","token_type":"Bearer","issued_at":"1700000000000","signature":"x"})";
}

/// A client on a fake transport with password credentials.
inline client_config test_config() {
  client_config cfg;
  cfg.login_url = "https://login.example.com";
  cfg.client_name = "syncforce-test";
  password_credentials pw;
  pw.client_id = "cid";
  pw.client_secret = secret("the-client-secret");
  pw.username = "user@example.com";
  pw.password = secret("hunter2TOKEN");
  cfg.creds = pw;
  return cfg;
}

} // namespace syncforce::salesforce::testing
