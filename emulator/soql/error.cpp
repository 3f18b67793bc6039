#include "emulator/soql/error.hpp"

namespace sfemu::soql {

std::string pointer_message(std::string_view soql, std::size_t offset, std::string_view text) {
  if (offset > soql.size())
    offset = soql.size();
  std::size_t row = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (soql[i] == '\n') {
      ++row;
      line_start = i + 1;
    }
  }
  std::size_t line_end = soql.find('\n', line_start);
  if (line_end == std::string_view::npos)
    line_end = soql.size();
  // Columns count characters, not bytes (UTF-8 continuation bytes do not advance).
  std::size_t column = 1;
  for (std::size_t i = line_start; i < offset; ++i)
    if ((static_cast<unsigned char>(soql[i]) & 0xC0) != 0x80)
      ++column;
  std::string out;
  out.reserve(line_end - line_start + column + text.size() + 48);
  out += '\n';
  out.append(soql.substr(line_start, line_end - line_start));
  out += '\n';
  out.append(column - 1, ' ');
  out += "^\nERROR at Row:";
  out += std::to_string(row);
  out += ":Column:";
  out += std::to_string(column);
  out += '\n';
  out.append(text);
  return out;
}

} // namespace sfemu::soql
