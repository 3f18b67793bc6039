#include "tests/support/postgres.hpp"

#include "tests/support/process.hpp"

#include <pqxx/pqxx>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>

namespace syncforce::testing {

namespace {

std::string pg_bin(const std::string& tool) {
  const char* dir = std::getenv("SYNCFORCE_PG_BIN");
  return std::string(dir != nullptr ? dir : "/usr/lib/postgresql/15/bin") + "/" + tool;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

void run(const std::string& command) {
  int rc = std::system(command.c_str());
  if (rc != 0)
    throw std::runtime_error("command failed (" + std::to_string(rc) + "): " + command);
}

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + std::to_string(rd() % 100000);
}

} // namespace

std::optional<std::string> test_database_url() {
  const char* url = std::getenv("SYNCFORCE_TEST_DATABASE_URL");
  if (url == nullptr || *url == '\0')
    return std::nullopt;
  return std::string(url);
}

scratch_database::scratch_database(const std::string& admin_url, const std::string& prefix)
  : admin_url_(admin_url), name_(prefix + "_" + unique_suffix()) {
  pqxx::connection c(admin_url_);
  pqxx::nontransaction tx(c);
  tx.exec("CREATE DATABASE " + tx.quote_name(name_));
  // Swap the database part of the URL: postgresql://user@host:port/db[?params]
  auto scheme = admin_url_.find("://");
  auto slash = admin_url_.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  auto query = admin_url_.find('?');
  std::string params = query == std::string::npos ? "" : admin_url_.substr(query);
  url_ = (slash == std::string::npos ? admin_url_ : admin_url_.substr(0, slash)) + "/" + name_ + params;
}

scratch_database::~scratch_database() {
  try {
    pqxx::connection c(admin_url_);
    pqxx::nontransaction tx(c);
    tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = " + tx.quote(name_) +
            " AND pid <> pg_backend_pid()");
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_));
  } catch (const std::exception&) {
    // Best effort: a leftover scratch database dies with the test server.
  }
}

pg_server::pg_server() {
  const char* user = std::getenv("SYNCFORCE_TEST_PG_USER");
  user_ = user != nullptr ? user : "";
  char dir_template[] = "/tmp/syncforce-pg-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr)
    throw std::runtime_error("pg_server: mkdtemp failed");
  dir_ = dir_template;
  if (::geteuid() == 0) {
    if (user_.empty())
      user_ = "sfpg";
    run("chown " + shell_quote(user_) + " " + shell_quote(dir_));
  }
  port_ = free_port();
  run(run_as_prefix() + shell_quote(pg_bin("initdb")) + " -D " + shell_quote(dir_ + "/data") +
      " -U syncforce --auth=trust -E UTF8 --no-sync > " + shell_quote(dir_ + "/initdb.log") + " 2>&1");
  start();
}

pg_server::~pg_server() {
  try {
    stop();
  } catch (const std::exception&) {
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string pg_server::run_as_prefix() const {
  if (::geteuid() != 0)
    return "";
  return "runuser -u " + shell_quote(user_) + " -- ";
}

void pg_server::start() {
  if (running_)
    return;
  run(run_as_prefix() + shell_quote(pg_bin("pg_ctl")) + " -D " + shell_quote(dir_ + "/data") + " -w -t 60" +
      " -o " + shell_quote("-p " + std::to_string(port_) + " -k " + dir_ +
                           " -c listen_addresses=127.0.0.1 -c fsync=off") +
      " -l " + shell_quote(dir_ + "/server.log") + " start > /dev/null");
  running_ = true;
}

void pg_server::stop() {
  if (!running_)
    return;
  run(run_as_prefix() + shell_quote(pg_bin("pg_ctl")) + " -D " + shell_quote(dir_ + "/data") +
      " -w -t 60 -m fast stop > /dev/null");
  running_ = false;
}

std::string pg_server::url(const std::string& database) const {
  return "postgresql://syncforce@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

} // namespace syncforce::testing
