#include "actors/connection_lease.hpp"

#include <pqxx/pqxx>

namespace syncforce::actors {

namespace {
constexpr const char* lock_key = "hashtext('syncforce.connection'), hashtext($1)";
}

connection_lease::connection_lease(std::unique_ptr<pqxx::connection> conn) : conn_(std::move(conn)) {}

connection_lease::~connection_lease() = default; // closing the session releases the lock

std::unique_ptr<connection_lease> connection_lease::try_acquire(const std::string& database_url,
                                                                const std::string& connection_id) {
  auto conn = std::make_unique<pqxx::connection>(database_url);
  pqxx::nontransaction tx(*conn);
  bool taken = tx.exec_params1(std::string{"SELECT pg_try_advisory_lock("} + lock_key + ")", connection_id)[0]
                 .as<bool>();
  tx.commit();
  if (!taken)
    return nullptr;
  return std::unique_ptr<connection_lease>(new connection_lease(std::move(conn)));
}

bool connection_lease::alive() {
  try {
    pqxx::nontransaction tx(*conn_);
    tx.exec("SELECT 1");
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace syncforce::actors
