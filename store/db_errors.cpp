#include "store/db_errors.hpp"

#include <pqxx/pqxx>

namespace syncforce::store {

db_failure classify_db_error(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr)
    return db_failure::unavailable;
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr)
    return db_failure::unavailable;
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  if (sql == nullptr)
    return db_failure::permanent;
  const auto& state = sql->sqlstate();
  // Class 08: connection exception. 57P01 admin shutdown, 57P02 crash
  // shutdown, 57P03 cannot connect now, 53300 too many connections.
  if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03" || state == "53300")
    return db_failure::unavailable;
  // Class 40: transaction rollback (40001 serialization failure, 40P01
  // deadlock); 55P03 lock not available (lock_timeout); 57014 query
  // canceled (statement_timeout).
  if (state.rfind("40", 0) == 0 || state == "55P03" || state == "57014")
    return db_failure::conflict;
  return db_failure::permanent;
}

} // namespace syncforce::store
