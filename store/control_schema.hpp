#pragma once

#include <pqxx/pqxx>

#include <string>
#include <vector>

namespace syncforce::store {

/// One versioned, transactional change to the control schema `syncforce`.
struct migration {
  int version;
  std::string name;
  std::string sql;
};

/// Every migration of the control schema, in version order. Never edit a
/// released migration: add a new one.
const std::vector<migration>& control_schema_migrations();

/// What a migration run did.
struct migration_report {
  int from_version = 0;
  int to_version = 0;
  std::vector<int> applied;
};

/// Creates or upgrades the control schema in one transaction. Serialised by a
/// transaction-scoped advisory lock, so nodes starting together do not race:
/// the second waits, then finds nothing left to do. Throws pqxx errors when
/// the database is unreachable or a migration fails (nothing is applied then).
migration_report migrate_control_schema(pqxx::connection& conn);

/// The version the database is at (0 when the control schema does not exist).
int control_schema_version(pqxx::connection& conn);

/// The advisory lock key used for migrations ("syncforce" in ASCII).
constexpr long long migration_lock_key = 0x73796e63666f7263LL;

} // namespace syncforce::store
