#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

namespace syncforce::store {

// ---------------------------------------------------------------------------
// Applying a page of rows so that one row PostgreSQL refuses cannot stop the
// others: the page goes in whole inside one savepoint (the normal case: one
// COPY, two extra round trips); only when PostgreSQL refuses it for a row's
// values is the range split in halves, each in its own savepoint, until the
// refused rows stand alone. k bad rows in n cost O(k log n) attempts.
// ---------------------------------------------------------------------------

/// A row PostgreSQL refused.
struct refused_row {
  std::size_t index = 0; ///< into the page
  std::string column;    ///< from the error's COPY context, when there is one
  std::string error;     ///< PostgreSQL's message, without the value
};

/// Whether an error is about the rows' values (data exceptions, integrity
/// violations, a value too large for an index) rather than the database, the
/// session or the statement: only such errors are isolated to rows.
bool is_row_error(const pqxx::sql_error& e);

/// The column a COPY error names in its context (`COPY t, line 1, column c: ...`), else empty.
std::string copy_error_column(const std::string& message);

/// PostgreSQL's primary message (first line, `ERROR:` and the value removed).
std::string primary_message(const std::string& message);

/// Applies rows [0, n) with `apply(tx, first, last)` (it must use the given
/// transaction) and returns the rows refused; everything else is applied in
/// `tx`. Errors that are not row errors propagate (the caller's transaction
/// is then aborted, as before).
using apply_rows = std::function<void(pqxx::transaction_base& tx, std::size_t first, std::size_t last)>;
std::vector<refused_row> apply_isolating(pqxx::dbtransaction& tx, std::size_t n, const apply_rows& apply);

} // namespace syncforce::store
