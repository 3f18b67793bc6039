#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sfemu {

/// An RFC 4180 CSV table: rows of fields (quoted fields may hold delimiters,
/// doubled quotes and line breaks; LF and CRLF line endings).
struct csv_table {
  std::vector<std::vector<std::string>> rows;
};

/// Reads CSV rows one at a time (no table in memory); `row` is reused between calls.
class csv_reader {
public:
  csv_reader(std::string_view text, char delimiter) : text_(text), delimiter_(delimiter) {}
  /// The next row; false at the end or on error (then `error()` is non-empty).
  bool next(std::vector<std::string>& row);
  const std::string& error() const { return error_; }
  std::size_t line() const { return line_; }

private:
  std::string_view text_;
  char delimiter_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::string error_;
};

/// Parses `text`; on malformed input (unterminated quote, text after a closing
/// quote) returns nullopt and sets `error` with the line number.
std::optional<csv_table> parse_csv(std::string_view text, char delimiter, std::string& error);

} // namespace sfemu
