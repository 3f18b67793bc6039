#include "store/session.hpp"

#include <exception>

namespace syncforce::store {

namespace {

/// Operators find these in pg_locks (locktype advisory, classid = hashtext('syncforce.table')).
constexpr const char* table_lock_key = "hashtext('syncforce.table'), hashtext($1)";

void exec_on_session(pqxx::connection& db, const std::string& sql, const std::string& arg) {
  pqxx::nontransaction tx(db, "table_lock");
  tx.exec_params(sql, arg);
}

} // namespace

void commit_without_flush_wait(pqxx::transaction_base& tx) { tx.exec0("SET LOCAL synchronous_commit = off"); }

void ping(pqxx::connection& db) {
  pqxx::nontransaction tx(db);
  tx.exec("SELECT 1");
}

void lock_table_session(pqxx::connection& db, const std::string& key, std::chrono::milliseconds wait) {
  exec_on_session(db, "SELECT set_config('lock_timeout', $1, false)", std::to_string(wait.count()) + "ms");
  std::exception_ptr failure;
  try {
    exec_on_session(db, std::string("SELECT pg_advisory_lock(") + table_lock_key + ")", key);
  } catch (...) {
    failure = std::current_exception();
  }
  try {
    pqxx::nontransaction tx(db, "table_lock");
    tx.exec0("RESET lock_timeout");
  } catch (...) {
    if (!failure)
      throw;
  }
  if (failure)
    std::rethrow_exception(failure);
}

void unlock_table_session(pqxx::connection& db, const std::string& key) {
  exec_on_session(db, std::string("SELECT pg_advisory_unlock(") + table_lock_key + ")", key);
}

void lock_connection_preparation(pqxx::transaction_base& tx, const std::string& connection_id) {
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext('syncforce.connection'), hashtext($1))", connection_id);
}

} // namespace syncforce::store
