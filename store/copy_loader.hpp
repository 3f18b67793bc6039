#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "sync/type_mapping.hpp"

namespace syncforce::store {

// ---------------------------------------------------------------------------
// engine connections
// ---------------------------------------------------------------------------

/// Opens a connection for the sync engine's own writes: `xmlbinary = 'hex'`
/// (so the Heroku Connect capture triggers stay quiet and the status trigger
/// marks rows SYNCED), `application_name = 'syncforce'`, and
/// `idle_in_transaction_session_timeout` (engine_idle_in_transaction_timeout).
std::unique_ptr<pqxx::connection> open_engine_connection(const std::string& url,
                                                         const std::string& application_name
                                                         = "syncforce");

/// The application_name of a node's engine session: `<role>@<node>` (PostgreSQL
/// keeps 63 bytes of it). The node's sessions are found by it when its leases
/// lapse (acquire_lease ends them: a frozen node must not keep holding advisory
/// locks that outlive transactions, such as the writer lock and table guard).
std::string node_session_name(const std::string& role, const std::string& node);

/// How long an engine session may sit idle inside a transaction before
/// PostgreSQL ends it. The engine never waits on anything but the database
/// inside a transaction, so only a frozen process (SIGSTOP, a paused VM) stays
/// idle that long, and its open transaction may hold a lease row (the fence
/// check's FOR SHARE, a renewal's UPDATE): a live node could not take that
/// node's units over until it woke. Half the default node lease (10 s), so a
/// takeover is not held up past the lease's own expiry.
inline constexpr int engine_idle_in_transaction_timeout_ms = 5000;

/// How long a transaction that COPYs a Bulk results page while it downloads
/// may wait for the next rows (engine_io: load_bulk_pages). A slow download
/// must not end the session; what the transaction holds meanwhile is the
/// shadow table's row-exclusive lock only (the lease row is read at commit).
inline constexpr int streamed_page_idle_timeout_ms = 120000;

/// Raises idle_in_transaction_session_timeout for the rest of `tx`.
void set_idle_timeout(pqxx::transaction_base& tx, int ms);

/// Makes an existing connection an engine connection (session settings).
void make_engine_session(pqxx::connection_base& conn, const std::string& application_name
                                                      = "syncforce");

/// Whether the session writes as the engine (xmlbinary is not base64).
bool is_engine_session(pqxx::transaction_base& tx);

// ---------------------------------------------------------------------------
// COPY into a mapped table
// ---------------------------------------------------------------------------

/// Streams rows into a table with `COPY ... FROM STDIN` in the caller's
/// transaction (a mapped table, its `__reload` shadow, or a staging table).
class copy_writer {
public:
  copy_writer(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
              std::vector<std::string> columns);
  ~copy_writer();
  copy_writer(const copy_writer&) = delete;
  copy_writer& operator=(const copy_writer&) = delete;

  /// Writes one row; throws std::invalid_argument on a wrong value count.
  void write(const pg_row& row);

  /// Writes one line made by format_line for the same columns.
  void write_line(const std::string& line);
  /// Writes lines [first, last) made by format_line, sent to PostgreSQL in
  /// blocks of many lines (COPY data need not be sent line by line): one
  /// libpq call per block instead of two string copies and a call per line.
  void write_lines(const std::vector<std::string>& lines, std::size_t first, std::size_t last);

  /// A row as one COPY text line (no newline).
  static void format_line(const pg_row& row, std::string& line);

  /// The value of field `index` of a COPY text line, unescaped; nullopt for NULL or no such field.
  static std::optional<std::string> line_field(const std::string& line, std::size_t index);

  /// Ends the COPY; returns the number of rows written. Must be called
  /// before the transaction is used for anything else.
  std::size_t complete();

  std::size_t rows() const { return rows_; }

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::size_t columns_ = 0;
  std::size_t rows_ = 0;
  std::string line_;
  std::string block_; ///< write_lines' buffer
};

// ---------------------------------------------------------------------------
// upsert of polled rows
// ---------------------------------------------------------------------------

/// Where polled rows go and how they match existing ones.
struct upsert_target {
  std::string schema;
  std::string table;
  std::vector<std::string> columns;         ///< must include sfid
  std::optional<std::string> upsert_column; ///< adopt local rows with no sfid by this column
  /// Keep a row whose newer local change is still waiting to be written
  /// (`_hc_lastop = 'PENDING'`, or a NEW/PENDING entry for it in the schema's
  /// `_trigger_log`): its mapped columns are not overwritten, and an adopted
  /// row only learns its sfid.
  bool protect_pending = false;
  /// The rows are change events' values: an UPDATE's changed fields only, or
  /// a whole CREATE/UNDELETE that a read may have overtaken within its second
  /// (stamps have whole seconds: nothing orders two versions of one second).
  /// Their `systemmodstamp` is compared as usual (never going back; an equal
  /// one wins), but an existing row they change is stamped 1 ms below it: it
  /// must not claim to hold the whole, newest record as of that stamp. Read
  /// repair's sweep, comparing stamps, then fetches the record whole (a field
  /// an earlier, missed change set; an older version of the second applied
  /// over a newer one a poll read), while later changes of the second still
  /// apply. A new row gets the stamp itself; a stamp-only difference does not
  /// rewrite a row.
  bool event_values = false;
};

/// The target for a mapped table: all its mapped columns, its upsert column.
upsert_target upsert_target_for(const hc_table_spec& spec);

/// What an upsert did.
struct upsert_stats {
  std::size_t staged = 0;   ///< rows received
  std::size_t inserted = 0;
  std::size_t updated = 0;
  std::size_t adopted = 0;  ///< local rows without sfid matched by the upsert column
  std::size_t deleted = 0;  ///< rows hard-deleted for IsDeleted = true
  std::size_t skipped = 0;  ///< stale, pending or unchanged rows left as they were
};

/// Stages rows through COPY into a temporary table, then applies them to the
/// mapped table in the caller's transaction: delete for `isdeleted = true`,
/// adoption by the upsert column for local rows without sfid, then one
/// `INSERT ... ON CONFLICT (sfid) DO UPDATE` (never going back in
/// systemmodstamp). Use on an engine connection.
class upsert_loader {
public:
  upsert_loader(pqxx::transaction_base& tx, upsert_target target);
  ~upsert_loader();
  upsert_loader(const upsert_loader&) = delete;
  upsert_loader& operator=(const upsert_loader&) = delete;

  void write(const pg_row& row);
  /// A line made by copy_writer::format_line.
  void write_line(const std::string& line);

  /// Applies the staged rows; the loader cannot be used afterwards.
  upsert_stats finish();

private:
  pqxx::transaction_base& tx_;
  upsert_target target_;
  std::string stage_;
  std::unique_ptr<copy_writer> writer_;
  bool finished_ = false;
};

} // namespace syncforce::store
