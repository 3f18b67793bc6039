#include "store/copy_loader.hpp"

#include <atomic>
#include <stdexcept>

// libpqxx 6.4's stream_to only takes tuples; tablewriter takes ready COPY
// lines. It is marked deprecated there (removed in 7), so silence that here only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <pqxx/tablewriter>

#include "store/hc_schema.hpp"
#include "sync/type_mapping.hpp"

namespace syncforce::store {

// ---------------------------------------------------------------------------
// engine connections
// ---------------------------------------------------------------------------

void make_engine_session(pqxx::connection_base& conn, const std::string& application_name) {
  // set_variable is replayed by libpqxx if the connection is re-established.
  conn.set_variable("xmlbinary", "'hex'");
  conn.set_variable("idle_in_transaction_session_timeout",
                    "'" + std::to_string(engine_idle_in_transaction_timeout_ms) + "ms'");
  pqxx::nontransaction n{conn};
  conn.set_variable("application_name", n.quote(application_name));
}

std::unique_ptr<pqxx::connection> open_engine_connection(const std::string& url,
                                                         const std::string& application_name) {
  auto conn = std::make_unique<pqxx::connection>(url);
  make_engine_session(*conn, application_name);
  return conn;
}

std::string node_session_name(const std::string& role, const std::string& node) {
  return node.empty() ? role : role + "@" + node;
}

bool is_engine_session(pqxx::transaction_base& tx) {
  return tx.exec1("SELECT current_setting('xmlbinary')")[0].as<std::string>() != "base64";
}

// ---------------------------------------------------------------------------
// copy_writer
// ---------------------------------------------------------------------------

struct copy_writer::impl {
  pqxx::tablewriter writer;
  bool done = false;

  impl(pqxx::transaction_base& tx, const std::string& qtable, const std::vector<std::string>& cols)
    : writer(tx, qtable, cols.begin(), cols.end()) {
  }
};

copy_writer::copy_writer(pqxx::transaction_base& tx, const std::string& schema,
                         const std::string& table, std::vector<std::string> columns)
  : columns_(columns.size()) {
  if (columns.empty())
    throw std::invalid_argument("copy_writer needs at least one column");
  // tablewriter pastes the name and column list into the COPY statement as
  // given, so both are quoted here.
  std::vector<std::string> quoted;
  quoted.reserve(columns.size());
  for (const auto& c : columns)
    quoted.push_back(tx.quote_name(c));
  impl_ = std::make_unique<impl>(tx, qualified_name(tx, schema, table), quoted);
  line_.reserve(256);
}

copy_writer::~copy_writer() {
  if (impl_ && !impl_->done) {
    try {
      impl_->writer.complete();
    } catch (...) {
      // the transaction is failing anyway; the caller aborts it
    }
  }
}

void copy_writer::write(const pg_row& row) {
  if (row.size() != columns_)
    throw std::invalid_argument("copy_writer: row has " + std::to_string(row.size())
                                + " values for " + std::to_string(columns_) + " columns");
  format_line(row, line_);
  impl_->writer.write_raw_line(line_);
  ++rows_;
}

void copy_writer::write_line(const std::string& line) {
  impl_->writer.write_raw_line(line);
  ++rows_;
}

void set_idle_timeout(pqxx::transaction_base& tx, int ms) {
  tx.exec0("SET LOCAL idle_in_transaction_session_timeout = " + std::to_string(ms));
}

void copy_writer::write_lines(const std::vector<std::string>& lines, std::size_t first, std::size_t last) {
  // About 256 kB per block: big enough that the per-call costs vanish, small
  // enough not to double a page's memory.
  constexpr std::size_t block_bytes = 256 * 1024;
  block_.clear();
  bool pending = false; // block_ holds lines not sent (a line may be empty)
  for (auto i = first; i < last; ++i) {
    if (pending)
      block_.push_back('\n');
    block_.append(lines[i]);
    pending = true;
    ++rows_;
    if (block_.size() >= block_bytes) {
      impl_->writer.write_raw_line(block_); // adds the last line's newline
      block_.clear();
      pending = false;
    }
  }
  if (pending)
    impl_->writer.write_raw_line(block_);
}

void copy_writer::format_line(const pg_row& row, std::string& line) {
  line.clear();
  append_copy_row(line, row);
}

std::optional<std::string> copy_writer::line_field(const std::string& line, std::size_t index) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < index; ++i) {
    start = line.find('\t', start);
    if (start == std::string::npos)
      return std::nullopt;
    ++start;
  }
  auto end = line.find('\t', start);
  auto raw = std::string_view{line}.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (raw == "\\N")
    return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 == raw.size()) {
      out.push_back(raw[i]);
      continue;
    }
    switch (raw[++i]) {
      case 't': out.push_back('\t'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      default: out.push_back(raw[i]);
    }
  }
  return out;
}

std::size_t copy_writer::complete() {
  if (!impl_->done) {
    impl_->done = true;
    impl_->writer.complete();
  }
  return rows_;
}

// ---------------------------------------------------------------------------
// upsert_loader
// ---------------------------------------------------------------------------

namespace {

std::atomic<unsigned> stage_counter{0};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x == s)
      return true;
  return false;
}

} // namespace

upsert_target upsert_target_for(const hc_table_spec& spec) {
  upsert_target t;
  t.schema = spec.schema;
  t.table = spec.table;
  for (const auto& c : spec.columns)
    t.columns.push_back(c.name);
  t.upsert_column = spec.upsert_column;
  return t;
}

upsert_loader::upsert_loader(pqxx::transaction_base& tx, upsert_target target)
  : tx_(tx), target_(std::move(target)) {
  if (!contains(target_.columns, "sfid"))
    throw std::invalid_argument("upsert_loader: the columns must include sfid");
  if (target_.upsert_column && !contains(target_.columns, *target_.upsert_column))
    throw std::invalid_argument("upsert_loader: the upsert column must be loaded");
  stage_ = "_syncforce_stage_" + std::to_string(++stage_counter);
  std::string cols;
  for (const auto& c : target_.columns)
    cols += (cols.empty() ? "" : ", ") + tx_.quote_name(c);
  const auto qtable = qualified_name(tx_, target_.schema, target_.table);
  tx_.exec0("CREATE TEMPORARY TABLE " + tx_.quote_name(stage_) + " ON COMMIT DROP AS SELECT " + cols
            + " FROM " + qtable + " WITH NO DATA");
  tx_.exec0("ALTER TABLE " + tx_.quote_name(stage_) + " ADD COLUMN _ord bigserial");
  // Temporary tables live in pg_temp; copy_writer qualifies names.
  writer_ = std::make_unique<copy_writer>(tx_, "pg_temp", stage_, target_.columns);
}

upsert_loader::~upsert_loader() = default;

void upsert_loader::write(const pg_row& row) {
  if (finished_)
    throw std::logic_error("upsert_loader: write after finish");
  writer_->write(row);
}

void upsert_loader::write_line(const std::string& line) {
  if (finished_)
    throw std::logic_error("upsert_loader: write after finish");
  writer_->write_line(line);
}

upsert_stats upsert_loader::finish() {
  if (finished_)
    throw std::logic_error("upsert_loader: finished twice");
  finished_ = true;
  upsert_stats stats;
  stats.staged = writer_->complete();
  writer_.reset();
  if (stats.staged == 0)
    return stats;

  const auto qtable = qualified_name(tx_, target_.schema, target_.table);
  const auto stage = tx_.quote_name(stage_);
  const bool has_deleted = contains(target_.columns, "isdeleted");
  const bool has_modstamp = contains(target_.columns, "systemmodstamp");

  // Keep only the last version of each record (pages can overlap).
  tx_.exec0("DELETE FROM " + stage + " s USING " + stage
            + " t WHERE s.sfid = t.sfid AND s._ord < t._ord");
  tx_.exec0("DELETE FROM " + stage + " WHERE sfid IS NULL");

  // Soft-deleted in Salesforce: hard-delete here.
  if (has_deleted) {
    auto r = tx_.exec0("DELETE FROM " + qtable + " t USING " + stage
                       + " s WHERE s.isdeleted AND t.sfid = s.sfid");
    stats.deleted = r.affected_rows();
    tx_.exec0("DELETE FROM " + stage + " WHERE isdeleted");
  }

  // A row deleted here whose DELETE still waits in the trigger log is gone: a
  // poll reading its record before the delete reaches Salesforce must not
  // bring it back as a new row (the echo rule, for deletes).
  if (target_.protect_pending)
    tx_.exec0("DELETE FROM " + stage + " s USING " + qualified_name(tx_, target_.schema, "_trigger_log") +
              " l WHERE l.table_name = " + tx_.quote(target_.table) +
              " AND l.action = 'DELETE' AND l.state IN ('NEW', 'PENDING') AND l.sfid = s.sfid");

  std::string set_list;
  std::string insert_cols;
  std::string select_cols;
  std::string current_values; // (t.a, t.b, ...) and (EXCLUDED.a, ...): skip rows that did not change
  std::string incoming_values;
  for (const auto& c : target_.columns) {
    const auto q = tx_.quote_name(c);
    insert_cols += (insert_cols.empty() ? "" : ", ") + q;
    select_cols += std::string{select_cols.empty() ? "" : ", "} + "s." + q;
    if (target_.event_values && c == "systemmodstamp") {
      set_list += (set_list.empty() ? "" : ", ") + q + " = EXCLUDED." + q + " - interval '1 millisecond'";
    } else if (c != "sfid") {
      set_list += (set_list.empty() ? "" : ", ") + q + " = EXCLUDED." + q;
      current_values += (current_values.empty() ? "t." : ", t.") + q;
      incoming_values += (incoming_values.empty() ? "EXCLUDED." : ", EXCLUDED.") + q;
    }
  }

  // A local change still waiting in the trigger log to be written (the echo rule).
  const std::string pending =
    "(t._hc_lastop = 'PENDING' OR EXISTS (SELECT 1 FROM " + qualified_name(tx_, target_.schema, "_trigger_log") +
    " l WHERE l.table_name = " + tx_.quote(target_.table) + " AND l.record_id = t.id AND l.state IN ('NEW', 'PENDING')))";

  // Local rows inserted in PostgreSQL and not yet written back: adopt them.
  if (target_.upsert_column) {
    const auto uc = tx_.quote_name(*target_.upsert_column);
    std::string adopt_set;
    for (const auto& c : target_.columns) {
      const auto q = tx_.quote_name(c);
      // A row whose local change is still pending keeps its values; it only learns its sfid.
      if (target_.protect_pending && c != "sfid")
        adopt_set += (adopt_set.empty() ? "" : ", ") + q + " = CASE WHEN " + pending + " THEN t." + q + " ELSE s." +
                     q + " END";
      else
        adopt_set += (adopt_set.empty() ? "" : ", ") + q + " = s." + q;
    }
    auto r = tx_.exec1(
      "WITH adopted AS (UPDATE " + qtable + " t SET " + adopt_set + " FROM " + stage + " s WHERE t.sfid IS NULL AND s."
      + uc + " IS NOT NULL AND t." + uc + " = s." + uc + " AND NOT EXISTS (SELECT 1 FROM " + qtable
      + " x WHERE x.sfid = s.sfid) RETURNING s._ord), gone AS (DELETE FROM " + stage
      + " d USING adopted a WHERE d._ord = a._ord) SELECT count(*) FROM adopted");
    stats.adopted = r[0].as<std::size_t>();
  }

  std::string where;
  if (has_modstamp)
    where = "t.systemmodstamp IS NULL OR EXCLUDED.systemmodstamp IS NULL OR "
            "EXCLUDED.systemmodstamp >= t.systemmodstamp";
  if (target_.protect_pending)
    where = (where.empty() ? "" : "(" + where + ") AND ")
            + "NOT " + pending;
  // A poll re-reads the records at its high-water mark (so none sharing that
  // SystemModstamp is missed): rewriting an unchanged row would only churn the
  // table and report a change that did not happen.
  if (!set_list.empty())
    where = (where.empty() ? "" : "(" + where + ") AND ") + "ROW(" + current_values + ") IS DISTINCT FROM ROW("
            + incoming_values + ")";
  auto staged_left = tx_.exec1("SELECT count(*) FROM " + stage)[0].as<std::size_t>();
  std::string conflict = set_list.empty()
                           ? std::string{"DO NOTHING"}
                           : "DO UPDATE SET " + set_list + (where.empty() ? "" : " WHERE " + where);
  auto r = tx_.exec("INSERT INTO " + qtable + " AS t ("
                    + insert_cols + ") SELECT " + select_cols + " FROM " + stage
                    + " s ORDER BY s._ord ON CONFLICT (sfid) " + conflict
                    + " RETURNING (t.xmax = 0) AS inserted");
  for (const auto& row : r) {
    if (row[0].as<bool>())
      ++stats.inserted;
    else
      ++stats.updated;
  }
  stats.skipped = staged_left - r.size();
  return stats;
}

} // namespace syncforce::store

#pragma GCC diagnostic pop
