#pragma once

#include "dashboard/admin_bridge.hpp"
#include "dashboard/session_store.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace syncforce::dashboard {

struct dashboard_settings {
  std::string address;         ///< HOST:PORT (port 0: any free port)
  std::string database_url;
  std::string node_name;
  std::chrono::seconds idle_timeout{std::chrono::hours(1)};
  std::chrono::seconds max_age{std::chrono::hours(12)};
};

/// The web dashboard of one node: static pages compiled into the binary, a
/// JSON API over the admin service (admin_bridge), sign-in with an admin token
/// into a session cookie (HttpOnly, SameSite=Strict, Secure behind TLS), and a
/// CSRF token on every change.
class dashboard_server {
public:
  ~dashboard_server();

  /// Binds and starts serving on a thread of its own; nullptr with `error` set
  /// when the address cannot be bound.
  static std::unique_ptr<dashboard_server> start(dashboard_settings settings, std::unique_ptr<admin_bridge> bridge,
                                                 std::string& error);

  int port() const { return port_; }
  void stop();

private:
  dashboard_server() = default;
  void routes();

  dashboard_settings settings_;
  std::unique_ptr<admin_bridge> bridge_;
  std::unique_ptr<session_store> sessions_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

} // namespace syncforce::dashboard
