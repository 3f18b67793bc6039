#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/pqxx>

#include "sync/type_mapping.hpp"

namespace syncforce::store {

// ---------------------------------------------------------------------------
// COPY in PostgreSQL's binary format (docs/sync-read.md, "Loads").
//
// PostgreSQL spent most of a load page's time parsing COPY text (timestamps,
// dates and doubles above all); the binary format hands it the values ready
// made. A row is converted from the COPY text line the node builds anyway
// (the line stays the page's truth: read errors, excerpts and the text
// fallback use it), and only when its binary form gives PostgreSQL exactly
// the value the text would have: anything else keeps the page in text, where
// PostgreSQL decides as it always did.
// ---------------------------------------------------------------------------

/// SYNCFORCE_COPY_FORMAT as set now: true for `binary` (or unset, or empty),
/// false for `text`, nothing for any other value (syncforced refuses to start).
std::optional<bool> binary_copy_setting();

/// Whether loads may use binary COPY: binary_copy_setting(), read once (a way
/// back to the text path should a database ever read a binary value
/// differently, and the bench's before/after switch).
bool binary_copy_enabled();

/// Whether a column can go in binary: its SQL type is the one its kind is
/// written for (varchar or text, double precision, boolean, date, timestamp
/// and time without time zone, integer).
bool binary_copy_capable(const pg_column& column);

/// Appends the binary COPY tuple of one COPY text line (as
/// wire_row_converter::append_copy_line or copy_writer::format_line make it)
/// whose values follow `kinds`. False when a value cannot be given in binary
/// exactly as PostgreSQL would read its text (e.g. year 0, which its text
/// input refuses; an int beyond int4; an escape the node never writes): `out`
/// then holds a partial tuple and the page must go in text.
bool append_binary_tuple(std::string_view line, const std::vector<pg_value_kind>& kinds, std::string& out);

/// Whether binary COPY on this session sends texts exactly as text COPY
/// does: client and server encodings both UTF8 (the node's texts are UTF-8).
bool binary_copy_session(pqxx::transaction_base& tx);

/// `COPY table (columns) FROM STDIN (FORMAT binary)` of tuples [first, last)
/// made by append_binary_tuple, in `tx` (a dbtransaction: a work or a
/// subtransaction). PostgreSQL's refusals throw pqxx::sql_error with its
/// message, SQLSTATE and COPY context, as the text path's COPY does.
void copy_binary_tuples(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                        const std::vector<std::string>& columns, const std::vector<std::string>& tuples,
                        std::size_t first, std::size_t last);

} // namespace syncforce::store
