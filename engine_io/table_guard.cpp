#include "engine_io/table_guard.hpp"

#include <exception>

namespace syncforce::engine_io {

namespace {

constexpr const char* lock_key_sql = "hashtext('syncforce.table'), hashtext($1)";

void exec(pqxx::connection& db, const std::string& sql, const std::string& arg) {
  pqxx::nontransaction tx(db, "table_lock");
  tx.exec_params(sql, arg);
}

} // namespace

table_lock::table_lock(pqxx::connection& db, const std::string& schema, const std::string& table,
                       std::chrono::milliseconds wait)
  : db_(db), key_(schema + "." + table) {
  // lock_timeout bounds this wait only: workers run with the server's default otherwise.
  exec(db_, "SELECT set_config('lock_timeout', $1, false)", std::to_string(wait.count()) + "ms");
  std::exception_ptr failure;
  try {
    exec(db_, std::string("SELECT pg_advisory_lock(") + lock_key_sql + ")", key_);
  } catch (...) {
    failure = std::current_exception();
  }
  try {
    pqxx::nontransaction tx(db_, "table_lock");
    tx.exec0("RESET lock_timeout");
  } catch (...) {
    if (!failure)
      throw;
  }
  if (failure)
    std::rethrow_exception(failure);
}

table_lock::~table_lock() {
  // A broken session already released the lock with itself: nothing to do then.
  try {
    exec(db_, std::string("SELECT pg_advisory_unlock(") + lock_key_sql + ")", key_);
  } catch (...) {
  }
}

table_lock lock_table(pqxx::connection& db, const std::string& schema, const std::string& table) {
  return table_lock(db, schema, table);
}

} // namespace syncforce::engine_io
