#pragma once

#include <pqxx/pqxx>

#include <chrono>
#include <string>

namespace syncforce::engine_io {

/// Serialises, across the whole cluster, one poll page run (read from Salesforce
/// until applied) with one write-back batch (sent until its results are
/// recorded) for the same table. Without it a page read just before a write-back
/// could be applied just after it, putting back for a poll interval the values
/// the write had just replaced (the echo rule, docs/write-back.md), and a poll
/// could add as a new row a record whose create is still on the wire.
///
/// Why a PostgreSQL advisory lock and not an actor: a mapping's read side and its
/// connection's writer are separate units that may run on different nodes
/// (docs/cluster.md), so the exclusion must live in the coordination store. It is
/// a session lock on the worker's own connection: a node that dies or loses its
/// session releases it with the session; operators see it in `pg_locks`
/// (locktype advisory, classid = hashtext('syncforce.table')). A wait longer than
/// `wait` (another node's long poll, a frozen holder) fails with lock_timeout
/// (55P03), which every boundary treats as a retry.
class table_lock {
public:
  table_lock(pqxx::connection& db, const std::string& schema, const std::string& table,
             std::chrono::milliseconds wait = std::chrono::minutes(2));
  ~table_lock();
  table_lock(const table_lock&) = delete;
  table_lock& operator=(const table_lock&) = delete;

private:
  pqxx::connection& db_;
  std::string key_;
};

/// The lock of `schema`.`table` on `db`, held until the result goes out of scope (see table_lock).
table_lock lock_table(pqxx::connection& db, const std::string& schema, const std::string& table);

} // namespace syncforce::engine_io
