#include "engine_io/table_guard.hpp"

#include "store/session.hpp"

namespace syncforce::engine_io {

table_lock::table_lock(pqxx::connection& db, const std::string& schema, const std::string& table,
                       std::chrono::milliseconds wait)
  : db_(db), key_(schema + "." + table) {
  // lock_timeout bounds this wait only: workers run with the server's default otherwise.
  store::lock_table_session(db_, key_, wait);
}

table_lock::~table_lock() {
  // A broken session already released the lock with itself: nothing to do then.
  try {
    store::unlock_table_session(db_, key_);
  } catch (...) {
  }
}

table_lock lock_table(pqxx::connection& db, const std::string& schema, const std::string& table) {
  return table_lock(db, schema, table);
}

} // namespace syncforce::engine_io
