#include "emulator/csv.hpp"

namespace sfemu {

std::optional<csv_table> parse_csv(std::string_view text, char delimiter, std::string& error) {
  csv_table t;
  std::vector<std::string> row;
  std::string field;
  std::size_t line = 1;
  std::size_t i = 0;
  const std::size_t n = text.size();
  bool row_started = false;
  while (i < n) {
    char c = text[i];
    if (c == '"' && field.empty()) {
      // quoted field
      std::size_t start_line = line;
      ++i;
      bool closed = false;
      while (i < n) {
        char q = text[i];
        if (q == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        if (q == '\n')
          ++line;
        field.push_back(q);
        ++i;
      }
      if (!closed) {
        error = "unterminated quoted field starting on line " + std::to_string(start_line);
        return std::nullopt;
      }
      if (i < n && text[i] != delimiter && text[i] != '\n' && text[i] != '\r') {
        error = "unexpected character after a closing quote on line " + std::to_string(line);
        return std::nullopt;
      }
      row_started = true;
      continue;
    }
    if (c == delimiter) {
      row.push_back(std::move(field));
      field.clear();
      row_started = true;
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < n && text[i + 1] == '\n')
        ++i;
      ++i;
      ++line;
      if (row_started || !field.empty()) {
        row.push_back(std::move(field));
        field.clear();
        t.rows.push_back(std::move(row));
        row.clear();
      }
      row_started = false;
      continue;
    }
    field.push_back(c);
    row_started = true;
    ++i;
  }
  if (row_started || !field.empty()) {
    row.push_back(std::move(field));
    t.rows.push_back(std::move(row));
  }
  return t;
}

bool csv_reader::next(std::vector<std::string>& row) {
  std::size_t used = 0;
  auto field = [&]() -> std::string& {
    if (used == row.size())
      row.emplace_back();
    std::string& f = row[used++];
    f.clear();
    return f;
  };
  const std::size_t n = text_.size();
  // skip blank lines
  while (pos_ < n && (text_[pos_] == '\n' || text_[pos_] == '\r')) {
    if (text_[pos_] == '\n')
      ++line_;
    ++pos_;
  }
  if (pos_ >= n) {
    row.clear();
    return false;
  }
  std::string* cur = &field();
  for (;;) {
    if (pos_ >= n)
      break;
    char c = text_[pos_];
    if (c == '"' && cur->empty()) {
      std::size_t start_line = line_;
      ++pos_;
      bool closed = false;
      while (pos_ < n) {
        char q = text_[pos_];
        if (q == '"') {
          if (pos_ + 1 < n && text_[pos_ + 1] == '"') {
            cur->push_back('"');
            pos_ += 2;
            continue;
          }
          ++pos_;
          closed = true;
          break;
        }
        if (q == '\n')
          ++line_;
        cur->push_back(q);
        ++pos_;
      }
      if (!closed) {
        error_ = "unterminated quoted field starting on line " + std::to_string(start_line);
        return false;
      }
      if (pos_ < n && text_[pos_] != delimiter_ && text_[pos_] != '\n' && text_[pos_] != '\r') {
        error_ = "unexpected character after a closing quote on line " + std::to_string(line_);
        return false;
      }
      continue;
    }
    if (c == delimiter_) {
      cur = &field();
      ++pos_;
      continue;
    }
    if (c == '\r' || c == '\n') {
      if (c == '\r' && pos_ + 1 < n && text_[pos_ + 1] == '\n')
        ++pos_;
      ++pos_;
      ++line_;
      break;
    }
    // plain run of characters
    std::size_t start = pos_;
    while (pos_ < n && text_[pos_] != delimiter_ && text_[pos_] != '\n' && text_[pos_] != '\r')
      ++pos_;
    cur->append(text_.substr(start, pos_ - start));
  }
  row.resize(used);
  return true;
}

} // namespace sfemu
