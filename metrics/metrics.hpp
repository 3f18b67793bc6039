#pragma once
// The metrics the engine reports as things happen: one-line calls from the I/O
// layer (engine_io/pg_sf_*_io.cpp, the integration-user actor) and from the cluster's
// lease code. Until a node calls `install` (syncforced with --metrics-address)
// every call is a no-op, so unit tests and tools pay nothing.
//
// Labels are bounded: a connection's schema, a Salesforce object name, a
// write operation, an integration user's name, a lease kind. Never a record id.

#include <cstdint>
#include <memory>
#include <string>

namespace prometheus {
class Registry;
}

namespace syncforce::metrics {

// ---- read side (Salesforce -> PostgreSQL) ---------------------------------

/// Rows of a load or reload committed (a page, after its transaction).
void rows_loaded(const std::string& schema, const std::string& object, long rows);
/// Records a poll read and applied (a page, after its transaction).
void rows_polled(const std::string& schema, const std::string& object, long rows);
/// A load or reload that finished, and how long it took.
void load_finished(const std::string& schema, const std::string& object, double seconds);
/// A poll that finished (also sets the time of the last successful poll).
void poll_finished(const std::string& schema, const std::string& object, double seconds);

// ---- write side (PostgreSQL -> Salesforce) --------------------------------

/// Changes Salesforce accepted; operation is INSERT, UPDATE, DELETE or UPSERT.
void rows_written(const std::string& schema, const std::string& object, const std::string& operation, long rows);
/// Changes Salesforce refused (the entry ends FAILED).
void write_errors(const std::string& schema, const std::string& object, const std::string& operation, long rows);

// ---- integration users ----------------------------------------------------

/// A `Sforce-Limit-Info` snapshot: daily API calls used and the limit.
void api_usage(const std::string& user, std::int64_t used, std::int64_t limit);
/// The user's query cursors now held and requests waiting for one.
void cursors(const std::string& user, int held, int waiting);
/// A request had to wait for a query cursor.
void cursor_wait(const std::string& user);

// ---- cluster leases (called by the lease code) ----------------------------

/// What a lease covers: a mapping's read side, a connection's writer, an integration user's broker.
enum class lease_kind { mapping, writer, user };
const char* to_string(lease_kind k);
/// The kind of a lease row (`syncforce.leases.kind`: mapping, writer, integration_user).
lease_kind lease_kind_of(const std::string& unit_kind);
/// This node took over a unit another node held (a join, a leave, a rebalance, an expiry).
void lease_moved(lease_kind kind);
/// A write made under a lease was refused because its epoch was no longer the owner's.
void fencing_refused(lease_kind kind);

// ---- the registry ---------------------------------------------------------

/// Creates the process-wide instruments in `registry` and turns the calls above
/// on. Called once by a node before it serves its metrics; later calls are ignored.
void install(const std::shared_ptr<prometheus::Registry>& registry);

} // namespace syncforce::metrics
