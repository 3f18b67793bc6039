#pragma once

#include "engine_io/jobs.hpp"
#include "store/read_errors.hpp"
#include "store/row_isolation.hpp"
#include "sync/type_mapping.hpp"

#include <pqxx/pqxx>

#include <string>
#include <vector>

namespace syncforce::engine_io {

/// One page of Salesforce records on its way into PostgreSQL (a load, poll or
/// backfill page): converted and cleaned at decode time, buffered as COPY
/// lines, applied in one go; a record whose value PostgreSQL refuses is set
/// aside as a read error (docs/sync-read.md) and the rest of the page arrives.
class read_page {
public:
  read_page(const hc_table_spec& spec, const wire_row_converter& conv);

  /// Forgets the previous page.
  void clear();

  /// Also converts each kept row into a COPY BINARY tuple (store/copy_binary.hpp)
  /// as it is added, for pages written with binary COPY (loads). Has no
  /// effect when a column's type cannot go in binary.
  void set_binary(bool on);
  /// Whether every kept row of the page has its binary tuple: false when
  /// binary is off or one value could not be written in binary exactly
  /// (the page then goes in text).
  bool binary() const { return binary_ && tuples_ok_; }
  /// The binary tuples of the kept rows (first rows() of them), when binary().
  const std::vector<std::string>& tuples() const { return tuples_; }

  /// Converts one record (texts as bound in the converter); `sfid` is its Id.
  void add(const std::vector<std::string>& texts, std::string_view sfid);
  /// The same on views (empty = NULL), straight into the page's COPY text
  /// (wire_row_converter::append_copy_line): no string per value.
  void add(const std::vector<std::string_view>& values, std::string_view sfid);

  /// Records seen on this page, and rows kept for PostgreSQL.
  std::size_t records() const { return records_; }
  std::size_t rows() const { return rows_; }

  /// Applies the kept rows with `apply(tx, lines, first, last)`; rows
  /// PostgreSQL refuses become read errors, the others are applied in `tx`.
  using apply_lines =
    std::function<void(pqxx::transaction_base& tx, const std::vector<std::string>& lines, std::size_t first,
                       std::size_t last)>;
  void apply(pqxx::dbtransaction& tx, const apply_lines& apply);

  /// In the page's transaction: stores its read errors and, with
  /// `clear_clean`, clears those of the records that arrived clean; logs one
  /// line per record set aside and one for values cleaned. Returns the
  /// number of records set aside.
  std::size_t settle(pqxx::transaction_base& tx, const mapping_job& j, const std::string& operation,
                     const std::string& state, bool clear_clean);

  const std::vector<store::read_error>& errors() const { return errors_; }

private:
  const hc_table_spec& spec_;
  const wire_row_converter& conv_;
  std::size_t records_ = 0;
  /// The first rows_ of lines_ and sfids_ are this page's: the strings of an
  /// earlier page are reused (cleared, their buffers kept), not reallocated.
  std::size_t rows_ = 0;
  std::vector<std::string> lines_;
  std::vector<std::string> sfids_;
  bool binary_ = false;    ///< set_binary(true) and every column can go in binary
  bool tuples_ok_ = false; ///< every kept row so far has its tuple
  std::vector<std::string> tuples_;
  std::vector<bool> refused_; ///< by kept row, after apply
  std::vector<store::read_error> errors_;
  std::size_t nul_records_ = 0;
  std::size_t utf8_records_ = 0;
  std::vector<std::string_view> views_;
  record_problem problem_;
};

} // namespace syncforce::engine_io
