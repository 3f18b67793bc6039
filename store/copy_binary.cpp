#include "store/copy_binary.hpp"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include <libpq-fe.h>

#include "store/hc_schema.hpp"
#include "sync/calendar.hpp"

namespace syncforce::store {

namespace {

// ---- values -----------------------------------------------------------------------------

void put16(std::string& out, std::uint16_t v) {
  const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 2);
}

void put32(std::string& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
  out.append(b, 4);
}

void put64(std::string& out, std::uint64_t v) {
  put32(out, static_cast<std::uint32_t>(v >> 32));
  put32(out, static_cast<std::uint32_t>(v));
}

using calendar::days_from_civil;
using calendar::digits;

/// PostgreSQL's epoch for dates and timestamps: 2000-01-01.
constexpr std::int64_t pg_epoch_days = 10957;
constexpr std::int64_t usecs_per_sec = 1000000;
constexpr std::int64_t usecs_per_day = 86400 * usecs_per_sec;

/// `YYYY-MM-DD` with a year PostgreSQL's text input takes as written (1..9999:
/// it refuses year 0, and the node writes no other shape) -> days since 2000-01-01.
bool parse_date(std::string_view s, std::size_t& pos, std::int64_t& days) {
  calendar::ymd d;
  std::size_t at = pos;
  if (!calendar::read_date(s, at, d) || d.year < 1)
    return false;
  pos = at;
  days = days_from_civil(d.year, static_cast<unsigned>(d.month), static_cast<unsigned>(d.day)) - pg_epoch_days;
  return true;
}

/// `HH:MM:SS[.f]` (1 to 6 fraction digits) -> microseconds; seconds up to
/// 59: PostgreSQL's text input takes a leap second (:60) in some places and
/// refuses it in others (with a fraction), and its time's 24:00 limit is
/// checked differently in binary: such values stay with the text path.
bool parse_time(std::string_view s, std::size_t& pos, std::int64_t& usecs) {
  int h = 0;
  int m = 0;
  int sec = 0;
  if (!digits(s, pos, 2, h) || pos + 8 > s.size() || s[pos + 2] != ':' || !digits(s, pos + 3, 2, m) ||
      s[pos + 5] != ':' || !digits(s, pos + 6, 2, sec))
    return false;
  if (h > 23 || m > 59 || sec > 59)
    return false;
  pos += 8;
  std::int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (++n > 6) // PostgreSQL would round a seventh digit: the node never sends one
        return false;
      frac = frac * 10 + (s[pos] - '0');
      ++pos;
    }
    if (n == 0)
      return false;
    for (; n < 6; ++n)
      frac *= 10;
  }
  usecs = ((static_cast<std::int64_t>(h) * 60 + m) * 60 + sec) * usecs_per_sec + frac;
  return true;
}

/// A plain decimal (`-12.50`, `7`: digits, at most one dot with digits on
/// both sides, an optional minus) read by std::from_chars, which rounds
/// correctly as glibc's strtod does, without strtod's copy and locale work
/// (strtod was the largest cost of a row's conversion). Anything else, and a
/// value out of range, is left to strtod below.
bool plain_decimal(std::string_view s, double& out) {
  std::size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
  const auto digits_from = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9')
    ++i;
  if (i == digits_from)
    return false;
  if (i < s.size()) {
    if (s[i] != '.')
      return false;
    const auto fraction_from = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i;
    if (i == fraction_from || i != s.size()) // `5.` is strtod's
      return false;
  }
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

/// A double as float8in reads it: strtod, finite, neither overflowing nor
/// underflowing to zero (denormals are kept). Only number characters: the
/// special names and anything strtod would skip stay with the text path.
bool parse_double(std::string_view s, double& out) {
  if (plain_decimal(s, out))
    return true;
  if (s.empty() || s.size() > 400)
    return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
      return false;
  char buf[401];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  errno = 0;
  char* end = nullptr;
  out = std::strtod(buf, &end);
  if (end != buf + s.size() || std::isnan(out) || std::isinf(out))
    return false;
  if (errno == ERANGE && out == 0.0)
    return false;
  return true;
}

bool parse_int4(std::string_view s, std::int32_t& out) {
  if (s.empty() || s.size() > 11)
    return false;
  std::size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size())
    return false;
  std::int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  if (s[0] == '-')
    v = -v;
  if (v < INT32_MIN || v > INT32_MAX)
    return false;
  out = static_cast<std::int32_t>(v);
  return true;
}

/// A text field: its bytes after COPY text's escapes (the node writes only
/// `\\`, `\t`, `\n` and `\r`).
bool append_text(std::string_view field, std::string& out) {
  if (field.find('\\') == std::string_view::npos) {
    put32(out, static_cast<std::uint32_t>(field.size()));
    out.append(field);
    return true;
  }
  const auto at = out.size();
  put32(out, 0);
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\') {
      out.push_back(field[i]);
      continue;
    }
    if (++i == field.size())
      return false;
    switch (field[i]) {
      case '\\': out.push_back('\\'); break;
      case 't': out.push_back('\t'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      default: return false;
    }
  }
  const auto n = static_cast<std::uint32_t>(out.size() - at - 4);
  const char b[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                     static_cast<char>(n)};
  std::memcpy(out.data() + at, b, 4);
  return true;
}

bool append_value(pg_value_kind kind, std::string_view field, std::string& out) {
  switch (kind) {
    case pg_value_kind::text:
      return append_text(field, out);
    case pg_value_kind::double_precision: {
      double d = 0;
      if (!parse_double(field, d))
        return false;
      std::uint64_t bits = 0;
      std::memcpy(&bits, &d, 8);
      put32(out, 8);
      put64(out, bits);
      return true;
    }
    case pg_value_kind::boolean:
      if (field != "t" && field != "f")
        return false;
      put32(out, 1);
      out.push_back(field == "t" ? '\1' : '\0');
      return true;
    case pg_value_kind::date: {
      std::size_t pos = 0;
      std::int64_t days = 0;
      if (!parse_date(field, pos, days) || pos != field.size())
        return false;
      put32(out, 4);
      put32(out, static_cast<std::uint32_t>(static_cast<std::int32_t>(days)));
      return true;
    }
    case pg_value_kind::timestamp: {
      std::size_t pos = 0;
      std::int64_t days = 0;
      std::int64_t usecs = 0;
      if (!parse_date(field, pos, days) || pos >= field.size() || field[pos] != ' ')
        return false;
      ++pos;
      if (!parse_time(field, pos, usecs) || pos != field.size())
        return false;
      put32(out, 8);
      put64(out, static_cast<std::uint64_t>(days * usecs_per_day + usecs));
      return true;
    }
    case pg_value_kind::time: {
      std::size_t pos = 0;
      std::int64_t usecs = 0;
      if (!parse_time(field, pos, usecs) || pos != field.size())
        return false;
      put32(out, 8);
      put64(out, static_cast<std::uint64_t>(usecs));
      return true;
    }
    case pg_value_kind::integer: {
      std::int32_t v = 0;
      if (!parse_int4(field, v))
        return false;
      put32(out, 4);
      put32(out, static_cast<std::uint32_t>(v));
      return true;
    }
  }
  return false;
}

// ---- the COPY -----------------------------------------------------------------------------

/// libpq's handle of a transaction's connection: libpqxx 6.4 gives it to
/// large objects only, and its own COPY speaks text only.
struct raw_connection_of : pqxx::largeobject {
  static PGconn* get(const pqxx::dbtransaction& tx) { return raw_connection(tx); }
};

PGconn* raw_connection(pqxx::transaction_base& tx) {
  const auto* db = dynamic_cast<const pqxx::dbtransaction*>(&tx);
  if (db == nullptr)
    throw std::logic_error("binary COPY needs a dbtransaction");
  return raw_connection_of::get(*db);
}

/// PostgreSQL's error as the exception libpqxx would throw for it (the
/// callers tell row errors from the rest by SQLSTATE; a lost connection is
/// broken_connection, as everywhere else).
[[noreturn]] void throw_result_error(PGconn* conn, const std::string& message, const char* sqlstate,
                                     const std::string& query) {
  const std::string state = sqlstate ? sqlstate : "";
  if (PQstatus(conn) == CONNECTION_BAD || state.compare(0, 2, "08") == 0)
    throw pqxx::broken_connection(message);
  if (state.compare(0, 2, "22") == 0)
    throw pqxx::data_exception(message, query, sqlstate);
  if (state.compare(0, 2, "23") == 0)
    throw pqxx::integrity_constraint_violation(message, query, sqlstate);
  if (state.compare(0, 2, "53") == 0)
    throw pqxx::insufficient_resources(message, query, sqlstate);
  throw pqxx::sql_error(message, query, sqlstate);
}

} // namespace

std::optional<bool> binary_copy_setting() {
  const char* v = std::getenv("SYNCFORCE_COPY_FORMAT");
  if (v == nullptr || *v == '\0' || std::string_view{v} == "binary")
    return true;
  if (std::string_view{v} == "text")
    return false;
  return std::nullopt;
}

bool binary_copy_enabled() {
  static const bool enabled = binary_copy_setting().value_or(true);
  return enabled;
}

bool binary_copy_capable(const pg_column& c) {
  switch (c.kind) {
    case pg_value_kind::text:
      return c.type == "text" || c.type.rfind("character varying", 0) == 0;
    case pg_value_kind::double_precision:
      return c.type == "double precision";
    case pg_value_kind::boolean:
      return c.type == "boolean";
    case pg_value_kind::date:
      return c.type == "date";
    case pg_value_kind::timestamp:
      return c.type == "timestamp without time zone";
    case pg_value_kind::time:
      return c.type == "time without time zone";
    case pg_value_kind::integer:
      return c.type == "integer";
  }
  return false;
}

bool append_binary_tuple(std::string_view line, const std::vector<pg_value_kind>& kinds, std::string& out) {
  if (kinds.empty() || kinds.size() > 1600)
    return false;
  put16(out, static_cast<std::uint16_t>(kinds.size()));
  std::size_t pos = 0;
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    if (i > 0) {
      if (pos >= line.size() || line[pos] != '\t')
        return false;
      ++pos;
    }
    auto end = line.find('\t', pos);
    if (end == std::string_view::npos)
      end = line.size();
    const auto field = line.substr(pos, end - pos);
    pos = end;
    if (field == "\\N") {
      put32(out, 0xFFFFFFFFu);
      continue;
    }
    if (!append_value(kinds[i], field, out))
      return false;
  }
  return pos == line.size();
}

bool binary_copy_session(pqxx::transaction_base& tx) {
  auto* conn = raw_connection(tx);
  const char* server = PQparameterStatus(conn, "server_encoding");
  const char* client = PQparameterStatus(conn, "client_encoding");
  return server && client && std::strcmp(server, "UTF8") == 0 && std::strcmp(client, "UTF8") == 0;
}

void copy_binary_tuples(pqxx::transaction_base& tx, const std::string& schema, const std::string& table,
                        const std::vector<std::string>& columns, const std::vector<std::string>& tuples,
                        std::size_t first, std::size_t last) {
  auto* conn = raw_connection(tx);
  std::string query = "COPY " + qualified_name(tx, schema, table) + " (";
  for (std::size_t i = 0; i < columns.size(); ++i)
    query += (i ? ", " : "") + tx.quote_name(columns[i]);
  query += ") FROM STDIN (FORMAT binary)";

  // Through libpqxx, which begins the transaction (or savepoint) first: it
  // does so lazily, at its first statement, and this may be the first. It
  // takes a COPY IN result as libpqxx's own text COPY does.
  tx.exec(query);
  PGresult* r = nullptr;

  // Header: signature, flags (no OIDs), no extension; then ~256 kB blocks of
  // tuples, as the text path sends its lines; the trailer is a field count of -1.
  static constexpr char signature[] = "PGCOPY\n\377\r\n";
  std::string block(signature, sizeof signature); // the signature's 11 bytes end with its NUL
  put32(block, 0);
  put32(block, 0);
  constexpr std::size_t block_bytes = 256 * 1024;
  bool sent = true;
  for (auto i = first; i < last && sent; ++i) {
    block.append(tuples[i]);
    if (block.size() >= block_bytes) {
      sent = PQputCopyData(conn, block.data(), static_cast<int>(block.size())) == 1;
      block.clear();
    }
  }
  if (sent) {
    put16(block, 0xFFFFu);
    sent = PQputCopyData(conn, block.data(), static_cast<int>(block.size())) == 1;
  }
  // Ends the COPY either way (a failed send ends it with an error), then
  // reads every result so the connection is ready for the next statement.
  PQputCopyEnd(conn, sent ? nullptr : "syncforce: could not send the rows");
  std::string message;
  std::string state;
  bool failed = !sent;
  if (!sent)
    message = PQerrorMessage(conn);
  while ((r = PQgetResult(conn)) != nullptr) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      failed = true;
      message = PQresultErrorMessage(r);
      const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      state = s ? s : "";
    }
    PQclear(r);
  }
  if (failed)
    throw_result_error(conn, message.empty() ? std::string{PQerrorMessage(conn)} : message,
                       state.empty() ? nullptr : state.c_str(), query);
}

} // namespace syncforce::store
