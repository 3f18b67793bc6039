#pragma once

#include <memory>
#include <optional>
#include <string>

namespace syncforce::testing {

/// The server scripts/test started: $SYNCFORCE_TEST_DATABASE_URL, or nullopt
/// (tests then GTEST_SKIP with a message saying so).
std::optional<std::string> test_database_url();

/// A database of one test's own on the test server: created with a unique name
/// on construction, dropped (connections terminated first) on destruction.
class scratch_database {
public:
  /// `admin_url` is a URL of the server (usually test_database_url()).
  scratch_database(const std::string& admin_url, const std::string& prefix);
  ~scratch_database();
  scratch_database(const scratch_database&) = delete;
  scratch_database& operator=(const scratch_database&) = delete;

  const std::string& name() const { return name_; }
  const std::string& url() const { return url_; }

private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

/// A private PostgreSQL 15 server for tests that must stop and start it:
/// initdb into a temporary directory, listens on a free port on 127.0.0.1,
/// runs as an unprivileged user when the tests run as root. Removed on destruction.
class pg_server {
public:
  pg_server();
  ~pg_server();
  pg_server(const pg_server&) = delete;
  pg_server& operator=(const pg_server&) = delete;

  void start();
  void stop();
  int port() const { return port_; }
  /// postgresql://USER@127.0.0.1:PORT/postgres
  std::string url(const std::string& database = "postgres") const;

private:
  std::string run_as_prefix() const;
  std::string dir_;
  std::string user_;
  int port_ = 0;
  bool running_ = false;
};

} // namespace syncforce::testing
