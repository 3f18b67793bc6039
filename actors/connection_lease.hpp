#pragma once

#include <pqxx/connection>

#include <memory>
#include <string>

namespace syncforce::actors {

/// Which node runs a connection: a PostgreSQL session-level advisory lock on
/// the connection's id, held by a session of its own for as long as the node
/// runs the connection. Another node's attempt fails until this session ends
/// (the node stopped, crashed or lost the database), then it takes over.
class connection_lease {
public:
  ~connection_lease();
  connection_lease(const connection_lease&) = delete;
  connection_lease& operator=(const connection_lease&) = delete;

  /// Takes the lease of `connection_id`, or nullptr when another session holds
  /// it. Throws when the database cannot be reached.
  static std::unique_ptr<connection_lease> try_acquire(const std::string& database_url,
                                                       const std::string& connection_id);

  /// Whether the session (and with it the lock) is still there.
  bool alive();

private:
  explicit connection_lease(std::unique_ptr<pqxx::connection> conn);
  std::unique_ptr<pqxx::connection> conn_;
};

} // namespace syncforce::actors
