#pragma once

// Statements about a worker's database session rather than about data: a ping,
// and the advisory locks that serialise work across the cluster (a table's poll
// pages against its write-back batches, a connection's preparation).

#include <pqxx/pqxx>

#include <chrono>
#include <string>

namespace syncforce::store {

/// One round trip on `db` (throws when the session is gone).
void ping(pqxx::connection& db);

/// This transaction's commit does not wait for the WAL flush (SET LOCAL
/// synchronous_commit = off). Only for what may be lost in a database crash
/// without harm: the write path's results, whose batches are idempotent or in doubt.
void commit_without_flush_wait(pqxx::transaction_base& tx);

/// Takes the session-level advisory lock of `key` (schema.table) on `db`, waiting at
/// most `wait` (then lock_timeout, 55P03). lock_timeout bounds this wait only: the
/// session's setting is reset afterwards, also when the wait failed.
void lock_table_session(pqxx::connection& db, const std::string& key, std::chrono::milliseconds wait);
/// Releases it (a broken session released it with itself: then this throws).
void unlock_table_session(pqxx::connection& db, const std::string& key);

/// Every node that runs a unit of the connection prepares it: one at a time (to the end of `tx`).
void lock_connection_preparation(pqxx::transaction_base& tx, const std::string& connection_id);

} // namespace syncforce::store
