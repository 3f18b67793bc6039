#include "sync/csv.hpp"

#include <algorithm>
#include <cstring>

namespace syncforce::csv {

// ---- dialect ---------------------------------------------------------------

char delimiter_char(delimiter d) {
  switch (d) {
    case delimiter::comma: return ',';
    case delimiter::tab: return '\t';
    case delimiter::pipe: return '|';
    case delimiter::semicolon: return ';';
    case delimiter::caret: return '^';
    case delimiter::backquote: return '`';
  }
  return ',';
}

std::string_view delimiter_name(delimiter d) {
  switch (d) {
    case delimiter::comma: return "COMMA";
    case delimiter::tab: return "TAB";
    case delimiter::pipe: return "PIPE";
    case delimiter::semicolon: return "SEMICOLON";
    case delimiter::caret: return "CARET";
    case delimiter::backquote: return "BACKQUOTE";
  }
  return "COMMA";
}

std::optional<delimiter> parse_delimiter(std::string_view name) {
  for (auto d : {delimiter::comma, delimiter::tab, delimiter::pipe, delimiter::semicolon,
                 delimiter::caret, delimiter::backquote})
    if (delimiter_name(d) == name)
      return d;
  return std::nullopt;
}

std::string_view line_ending_name(line_ending e) {
  return e == line_ending::crlf ? "CRLF" : "LF";
}

std::optional<line_ending> parse_line_ending(std::string_view name) {
  if (name == "LF")
    return line_ending::lf;
  if (name == "CRLF")
    return line_ending::crlf;
  return std::nullopt;
}

// ---- errors and rows -------------------------------------------------------

std::string parse_error::to_string() const {
  return message + " at line " + std::to_string(line) + ", column " + std::to_string(column);
}

std::vector<std::optional<std::string>> row::to_vector() const {
  std::vector<std::optional<std::string>> out;
  out.reserve(fields_.size());
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].is_null)
      out.emplace_back(std::nullopt);
    else
      out.emplace_back(std::string((*this)[i]));
  }
  return out;
}

// ---- parser ----------------------------------------------------------------

parser::parser(parse_options options) : options_(options), delim_(delimiter_char(options.delim)) {
  row_.buffer_ = &buffer_;
  for (unsigned char c : {static_cast<unsigned char>(delim_), static_cast<unsigned char>('\r'),
                          static_cast<unsigned char>('\n'), static_cast<unsigned char>('"')})
    stop_[c] = true;
}

void parser::reset() {
  state_ = state::field_start;
  buffer_.clear();
  row_.fields_.clear();
  field_begin_ = 0;
  line_ = 1;
  line_start_ = 0;
  consumed_ = 0;
  row_line_ = 1;
  quote_open_ = 0;
  quote_open_line_ = 1;
  quote_open_line_start_ = 0;
  rows_ = 0;
  expected_columns_ = 0;
  at_start_ = true;
  bom_seen_ = 0;
  error_.reset();
}

void parser::begin_field() {
  field_begin_ = buffer_.size();
}

void parser::end_field(bool quoted) {
  row::span s{static_cast<std::uint32_t>(field_begin_), static_cast<std::uint32_t>(buffer_.size()),
              quoted, false};
  if (!quoted && options_.null_marker && s.end - s.begin == null_marker.size()
      && std::string_view(buffer_.data() + s.begin, s.end - s.begin) == null_marker)
    s.is_null = true;
  row_.fields_.push_back(s);
  field_begin_ = buffer_.size();
}

void parser::end_row(const row_handler& on_row) {
  if (options_.uniform_columns) {
    if (rows_ == 0) {
      expected_columns_ = row_.fields_.size();
    } else if (row_.fields_.size() != expected_columns_ && !error_) {
      parse_error e;
      e.line = row_line_;
      e.column = 1;
      e.message = "Row has " + std::to_string(row_.fields_.size()) + " fields but the first row has "
                  + std::to_string(expected_columns_);
      error_ = std::move(e);
      return;
    }
  }
  row_.buffer_ = &buffer_;
  row_.line_ = row_line_;
  row_.index_ = rows_;
  ++rows_;
  if (on_row)
    on_row(row_);
  row_.fields_.clear();
  buffer_.clear();
  field_begin_ = 0;
}

parse_error parser::make_error(std::size_t abs_offset, std::string message) const {
  parse_error e;
  e.line = line_;
  e.column = abs_offset >= line_start_ ? static_cast<std::size_t>(abs_offset - line_start_) + 1 : 1;
  e.message = std::move(message);
  return e;
}

void parser::note_newlines(std::string_view s, std::uint64_t abs_begin) {
  const char* base = s.data();
  const char* p = base;
  const char* end = base + s.size();
  while (p < end) {
    const void* hit = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    if (!hit)
      break;
    const char* nl = static_cast<const char*>(hit);
    ++line_;
    line_start_ = abs_begin + static_cast<std::uint64_t>(nl - base) + 1;
    p = nl + 1;
  }
}

namespace {

std::string describe_char(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f)
    return std::string("'") + c + "'";
  static const char hex[] = "0123456789ABCDEF";
  return std::string("byte 0x") + hex[u >> 4] + hex[u & 0xf];
}

} // namespace

namespace {
constexpr char utf8_bom[] = "\xEF\xBB\xBF";
} // namespace

std::optional<parse_error> parser::feed(std::string_view chunk, const row_handler& on_row) {
  if (error_)
    return error_;
  if (!at_start_)
    return feed_body(chunk, on_row);
  if (!options_.skip_bom) {
    at_start_ = false;
    return feed_body(chunk, on_row);
  }
  // A byte order mark may arrive split over several chunks: hold its bytes until decided.
  std::size_t i = 0;
  while (bom_seen_ < 3 && i < chunk.size() && chunk[i] == utf8_bom[bom_seen_]) {
    ++bom_seen_;
    ++i;
  }
  if (bom_seen_ == 3) {
    at_start_ = false;
    consumed_ = 3;
    line_start_ = 3;
    return feed_body(chunk.substr(i), on_row);
  }
  if (i == chunk.size())
    return std::nullopt; // still undecided
  at_start_ = false;
  std::size_t held = bom_seen_;
  bom_seen_ = 0;
  if (held > 0)
    if (auto e = feed_body(std::string_view(utf8_bom, held), on_row))
      return e;
  return feed_body(chunk.substr(i), on_row);
}

std::optional<parse_error> parser::feed_body(std::string_view chunk, const row_handler& on_row) {
  if (error_)
    return error_;
  const char* const begin = chunk.data();
  const char* p = begin;
  const char* const end = begin + chunk.size();
  const std::uint64_t base = consumed_;
  auto abs = [&](const char* q) { return base + static_cast<std::uint64_t>(q - begin); };

  // A line break ends the current row (p points at CR or LF).
  auto line_break = [&](const char*& q) {
    bool cr = *q == '\r';
    ++line_;
    line_start_ = abs(q) + 1;
    ++q;
    row_line_ = line_;
    state_ = cr ? state::after_cr : state::field_start;
  };

  while (p < end && !error_) {
    switch (state_) {
      case state::after_cr:
        if (*p == '\n') {
          line_start_ = abs(p) + 1;
          ++p;
        }
        state_ = state::field_start;
        break;

      case state::field_start: {
        char c = *p;
        if (c == '"') {
          quote_open_ = abs(p);
          quote_open_line_ = line_;
          quote_open_line_start_ = line_start_;
          begin_field();
          state_ = state::quoted;
          ++p;
        } else if (c == delim_) {
          begin_field();
          end_field(false);
          ++p;
        } else if (c == '\n' || c == '\r') {
          if (!row_.fields_.empty()) {
            // "a,b,<EOL>": an empty last field
            begin_field();
            end_field(false);
            end_row(on_row);
          } else if (!options_.skip_empty_lines) {
            begin_field();
            end_field(false);
            end_row(on_row);
          }
          line_break(p);
        } else {
          begin_field();
          state_ = state::unquoted;
        }
        break;
      }

      case state::unquoted: {
        const char* q = p;
        const char d = delim_;
        while (q < end && !stop_[static_cast<unsigned char>(*q)])
          ++q;
        buffer_.append(p, static_cast<std::size_t>(q - p));
        p = q;
        if (p == end)
          break;
        char c = *p;
        if (c == '"') {
          error_ = make_error(abs(p), "Unexpected quote in an unquoted field");
          break;
        }
        end_field(false);
        if (c == d) {
          ++p;
          state_ = state::field_start;
        } else {
          end_row(on_row);
          line_break(p);
        }
        break;
      }

      case state::quoted: {
        const void* hit = std::memchr(p, '"', static_cast<std::size_t>(end - p));
        const char* q = hit ? static_cast<const char*>(hit) : end;
        std::string_view text(p, static_cast<std::size_t>(q - p));
        note_newlines(text, abs(p));
        buffer_.append(text.data(), text.size());
        p = q;
        if (p == end)
          break;
        ++p;
        state_ = state::quote_in_quoted;
        break;
      }

      case state::quote_in_quoted: {
        char c = *p;
        if (c == '"') {
          buffer_.push_back('"');
          state_ = state::quoted;
          ++p;
        } else if (c == delim_) {
          end_field(true);
          state_ = state::field_start;
          ++p;
        } else if (c == '\n' || c == '\r') {
          end_field(true);
          end_row(on_row);
          line_break(p);
        } else {
          error_ = make_error(abs(p), "Unexpected " + describe_char(c) + " after a closing quote");
        }
        break;
      }
    }
  }
  consumed_ = base + chunk.size();
  return error_;
}

std::optional<parse_error> parser::finish(const row_handler& on_row) {
  if (error_)
    return error_;
  if (at_start_) {
    // input ended inside what looked like a byte order mark: those bytes were data
    at_start_ = false;
    std::size_t held = bom_seen_;
    bom_seen_ = 0;
    if (held > 0)
      if (auto e = feed_body(std::string_view(utf8_bom, held), on_row))
        return e;
  }
  switch (state_) {
    case state::quoted: {
      parse_error e;
      e.line = quote_open_line_;
      e.column = static_cast<std::size_t>(quote_open_ - quote_open_line_start_) + 1;
      e.message = "Unterminated quoted field";
      error_ = std::move(e);
      return error_;
    }
    case state::quote_in_quoted:
      end_field(true);
      end_row(on_row);
      break;
    case state::unquoted:
      end_field(false);
      end_row(on_row);
      break;
    case state::field_start:
      if (!row_.fields_.empty()) {
        begin_field();
        end_field(false);
        end_row(on_row);
      }
      break;
    case state::after_cr:
      break;
  }
  state_ = state::field_start;
  return error_;
}

parse_result parse_all(std::string_view text, parse_options options) {
  parse_result result;
  parser p(options);
  auto on_row = [&](const row& r) { result.doc.rows.push_back(r.to_vector()); };
  result.error = p.feed(text, on_row);
  if (!result.error)
    result.error = p.finish(on_row);
  return result;
}

// ---- writer ----------------------------------------------------------------

bool needs_quotes(std::string_view value, char delim) {
  for (char c : value)
    if (c == delim || c == '"' || c == '\n' || c == '\r')
      return true;
  return value == null_marker;
}

writer::writer(write_options options) : options_(options), delim_(delimiter_char(options.delim)) {
  for (unsigned char c : {static_cast<unsigned char>(delim_), static_cast<unsigned char>('"'),
                          static_cast<unsigned char>('\r'), static_cast<unsigned char>('\n')})
    special_[c] = true;
}

void writer::separator() {
  if (row_open_)
    out_.push_back(delim_);
  else
    row_start_ = out_.size();
  row_open_ = true;
  ++fields_in_row_;
}

void writer::field(std::string_view value) {
  separator();
  if (!options_.quote_all) {
    bool plain = value != null_marker;
    for (std::size_t i = 0; plain && i < value.size(); ++i)
      plain = !special_[static_cast<unsigned char>(value[i])];
    if (plain) {
      out_.append(value.data(), value.size());
      return;
    }
  }
  out_.push_back('"');
  std::size_t from = 0;
  while (true) {
    std::size_t q = value.find('"', from);
    if (q == std::string_view::npos) {
      out_.append(value.data() + from, value.size() - from);
      break;
    }
    out_.append(value.data() + from, q - from + 1);
    out_.push_back('"');
    from = q + 1;
  }
  out_.push_back('"');
}

void writer::null_field() {
  separator();
  out_.append(null_marker.data(), null_marker.size());
}

void writer::empty_field() {
  separator();
}

void writer::end_row() {
  // A row made of one empty field would read back as an empty line: quote it.
  if (row_open_ && fields_in_row_ == 1 && out_.size() == row_start_)
    out_.append("\"\"");
  if (options_.ending == line_ending::crlf)
    out_.append("\r\n");
  else
    out_.push_back('\n');
  row_open_ = false;
  fields_in_row_ = 0;
  ++rows_;
}

void writer::write_row(const std::vector<std::string>& values) {
  for (const auto& v : values)
    field(std::string_view(v));
  end_row();
}

void writer::write_row(std::initializer_list<std::string_view> values) {
  for (auto v : values)
    field(v);
  end_row();
}

std::string writer::take() {
  std::string out = std::move(out_);
  clear();
  return out;
}

void writer::clear() {
  out_.clear();
  row_open_ = false;
  fields_in_row_ = 0;
  row_start_ = 0;
}

} // namespace syncforce::csv
