#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syncforce::csv {

// ---- dialect ---------------------------------------------------------------

/// The column delimiters Bulk API 2.0 accepts, by their API names.
enum class delimiter { comma, tab, pipe, semicolon, caret, backquote };

/// The line endings Bulk API 2.0 accepts for job data and results.
enum class line_ending { lf, crlf };

/// The character a delimiter stands for (',' for comma, '\t' for tab, ...).
char delimiter_char(delimiter d);

/// The Bulk API name of a delimiter ("COMMA", "TAB", ...).
std::string_view delimiter_name(delimiter d);

/// Parses a Bulk API delimiter name ("COMMA", "TAB", "PIPE", "SEMICOLON",
/// "CARET", "BACKQUOTE"); nullopt if unknown.
std::optional<delimiter> parse_delimiter(std::string_view name);

/// The Bulk API name of a line ending ("LF" or "CRLF").
std::string_view line_ending_name(line_ending e);

/// Parses "LF" or "CRLF"; nullopt otherwise.
std::optional<line_ending> parse_line_ending(std::string_view name);

/// The marker Bulk API 2.0 uses for "set this field to null".
inline constexpr std::string_view null_marker = "#N/A";

// ---- parsing ---------------------------------------------------------------

/// Where and why CSV input is malformed. Lines and columns are 1-based; the
/// column counts bytes from the start of the physical line.
struct parse_error {
  std::size_t line = 0;
  std::size_t column = 0;
  std::string message;

  /// "<message> at line L, column C".
  std::string to_string() const;
};

/// Options of the incremental parser.
struct parse_options {
  delimiter delim = delimiter::comma;
  /// Recognise the null marker (`#N/A`, unquoted) and report it as null.
  bool null_marker = true;
  /// Skip lines that are completely empty (no characters at all).
  bool skip_empty_lines = true;
  /// Require every row to have as many fields as the first one.
  bool uniform_columns = false;
  /// Skip a UTF-8 byte order mark at the very start of the input.
  bool skip_bom = true;
};

/// One parsed row. Field views point into the parser's buffer and stay valid
/// only until the row callback returns.
class row {
public:
  std::size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  /// The field's text (empty for a null field).
  std::string_view operator[](std::size_t i) const {
    const auto& f = fields_[i];
    return std::string_view(buffer_->data() + f.begin, f.end - f.begin);
  }
  /// True if the field was the unquoted null marker `#N/A`.
  bool is_null(std::size_t i) const { return fields_[i].is_null; }
  /// True if the field was enclosed in quotes.
  bool was_quoted(std::size_t i) const { return fields_[i].quoted; }
  /// The physical line (1-based) on which the row starts.
  std::size_t line() const { return line_; }
  /// The row's index among all rows emitted so far (0 = the first, usually the header).
  std::size_t index() const { return index_; }
  /// Copies the row out (nullopt for null fields).
  std::vector<std::optional<std::string>> to_vector() const;

private:
  friend class parser;
  struct span {
    std::uint32_t begin;
    std::uint32_t end;
    bool quoted;
    bool is_null;
  };
  const std::string* buffer_ = nullptr;
  std::vector<span> fields_;
  std::size_t line_ = 1;
  std::size_t index_ = 0;
};

/// An incremental RFC 4180 parser: feed chunks of any size as they arrive and
/// get complete rows. Accepts LF, CRLF and lone CR line endings, quoted fields
/// with embedded delimiters, quotes ("") and line breaks. Does not allocate
/// per field: the fields of a row live in one reusable buffer.
class parser {
public:
  using row_handler = std::function<void(const row&)>;

  explicit parser(parse_options options = {});

  /// Parses `chunk`, calling `on_row` for every row completed by it.
  /// After an error the parser stays failed and returns the same error.
  std::optional<parse_error> feed(std::string_view chunk, const row_handler& on_row);

  /// Ends the input: emits a last row without a trailing line break, or
  /// reports an unterminated quoted field.
  std::optional<parse_error> finish(const row_handler& on_row);

  /// Number of rows emitted so far.
  std::size_t rows() const { return rows_; }
  /// Total bytes fed so far.
  std::uint64_t bytes() const { return consumed_; }

  /// Forgets everything (keeps the buffers' capacity).
  void reset();

private:
  enum class state : std::uint8_t {
    field_start,  // at the start of a field
    unquoted,     // inside an unquoted field
    quoted,       // inside a quoted field
    quote_in_quoted, // saw a quote inside a quoted field
    after_cr,     // saw CR ending a row; swallow a following LF
  };

  std::optional<parse_error> feed_body(std::string_view chunk, const row_handler& on_row);
  void begin_field();
  void end_field(bool quoted);
  void end_row(const row_handler& on_row);
  parse_error make_error(std::size_t abs_offset, std::string message) const;
  void note_newlines(std::string_view s, std::uint64_t abs_begin);

  parse_options options_;
  char delim_;
  bool stop_[256] = {};            // bytes that end an unquoted run: delimiter, CR, LF, quote
  state state_ = state::field_start;
  std::string buffer_;
  row row_;
  std::size_t field_begin_ = 0;
  std::size_t line_ = 1;
  std::uint64_t line_start_ = 0;   // absolute offset of the current line's first byte
  std::uint64_t consumed_ = 0;     // absolute offset of the next byte to read
  std::size_t row_line_ = 1;
  std::uint64_t quote_open_ = 0;   // absolute offset of the current field's opening quote
  std::size_t quote_open_line_ = 1;
  std::uint64_t quote_open_line_start_ = 0;
  std::size_t rows_ = 0;
  std::size_t expected_columns_ = 0;
  bool row_has_content_ = false;
  bool at_start_ = true;
  std::size_t bom_seen_ = 0;       // bytes of a byte order mark seen at the start
  std::optional<parse_error> error_;
};

/// All rows of a complete document, copied out (for tests and small inputs).
struct document {
  std::vector<std::vector<std::optional<std::string>>> rows;
};

/// Parses a complete CSV text at once.
struct parse_result {
  document doc;
  std::optional<parse_error> error;
  bool ok() const { return !error; }
};
parse_result parse_all(std::string_view text, parse_options options = {});

// ---- encoding --------------------------------------------------------------

/// Options of the encoder.
struct write_options {
  delimiter delim = delimiter::comma;
  line_ending ending = line_ending::lf;
  /// Quote every field (Salesforce's result files do), not just those that need it.
  bool quote_all = false;
};

/// Encodes rows into a growing string buffer. Quotes a field when it contains
/// the delimiter, a quote, CR or LF, or when it equals the null marker (so a
/// literal "#N/A" string survives a round trip).
class writer {
public:
  explicit writer(write_options options = {});

  /// Appends a field with the given text.
  void field(std::string_view value);
  /// Appends a null field (the unquoted null marker `#N/A`).
  void null_field();
  /// Appends an empty field, unquoted even with quote_all (what Salesforce writes
  /// for a null value in result files).
  void empty_field();
  /// Appends a field that is null when `value` is nullopt.
  void field_or_null(const std::optional<std::string>& value) {
    if (value)
      field(*value);
    else
      null_field();
  }
  /// Ends the current row with the configured line ending.
  void end_row();

  /// Appends a whole row of texts.
  void write_row(const std::vector<std::string>& values);
  void write_row(std::initializer_list<std::string_view> values);

  const std::string& buffer() const { return out_; }
  /// Moves the encoded text out and starts an empty buffer (an unfinished row is dropped).
  std::string take();
  /// Drops everything written so far, including an unfinished row.
  void clear();
  std::size_t rows() const { return rows_; }

private:
  void separator();
  write_options options_;
  char delim_;
  bool special_[256] = {};         // bytes that force quoting: delimiter, quote, CR, LF
  std::string out_;
  bool row_open_ = false;
  std::size_t row_start_ = 0;
  std::size_t fields_in_row_ = 0;
  std::size_t rows_ = 0;
};

/// True if `value` must be quoted under the given delimiter.
bool needs_quotes(std::string_view value, char delim);

} // namespace syncforce::csv
