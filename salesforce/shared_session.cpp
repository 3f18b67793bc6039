#include "salesforce/shared_session.hpp"

namespace syncforce::salesforce {

shared_session::shared_session(client_config config, std::unique_ptr<http_transport> transport,
                               std::shared_ptr<const time_source> time, std::shared_ptr<jitter_source> jitter)
  : login_client_(std::move(config), std::move(transport), std::move(time), std::move(jitter)) {}

result<session> shared_session::get() {
  std::lock_guard<std::mutex> guard(mutex_);
  if (current_.valid())
    return current_;
  auto r = login_client_.login();
  if (!r)
    return r.error();
  ++logins_;
  current_ = login_client_.current_session();
  return current_;
}

result<session> shared_session::refresh(const session& stale) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (current_.valid() && (current_.generation != stale.generation || current_.access_token != stale.access_token))
    return current_;
  auto r = login_client_.login();
  if (!r)
    return r.error();
  ++logins_;
  current_ = login_client_.current_session();
  return current_;
}

void shared_session::attach(client& c) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (current_.valid())
      c.adopt_session(current_);
  }
  c.set_reauth_hook([this](const session& stale) -> result<session> {
    if (!stale.valid())
      return get();
    return refresh(stale);
  });
}

long shared_session::logins() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return logins_;
}

} // namespace syncforce::salesforce
