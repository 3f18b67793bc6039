#pragma once

// The SOQL lexer: text -> tokens. Keywords are not distinguished from identifiers
// here (SOQL keywords are contextual); the parser compares identifier text
// case-insensitively.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/soql/error.hpp"

namespace sfemu::soql {

/// Token kinds.
enum class token_kind : std::uint8_t {
  identifier,  ///< names and keywords: [A-Za-z_][A-Za-z0-9_]*
  integer,     ///< [+-]?[0-9]+
  decimal,     ///< [+-]?[0-9]*.[0-9]+
  string,      ///< '...' with escapes decoded into `text`
  date,        ///< YYYY-MM-DD
  datetime,    ///< YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm)
  time,        ///< hh:mm:ss[.fff][Z] (integer: ms of the day)
  lparen,
  rparen,
  comma,
  dot,
  colon,
  eq,  ///< =
  ne,  ///< != or <>
  lt,
  le,
  gt,
  ge,
  end,      ///< end of input
  invalid,  ///< a lexical error; `text` holds the MALFORMED_QUERY message (last token)
};

/// One token.
struct token {
  token_kind kind = token_kind::end;
  std::string_view raw;    ///< the token as written (quotes included for strings)
  std::size_t offset = 0;  ///< byte offset in the query
  std::string text;        ///< string: the decoded value
  std::string like;        ///< string: the LIKE form (wildcards bare, literal % _ \ escaped with '\')
  std::int64_t integer = 0;  ///< integer value; date: days; datetime: ms; time: ms of the day
  double decimal = 0;        ///< integer and decimal value as a double
};

/// Splits `soql` into tokens ending with token_kind::end; MALFORMED_QUERY on a bad
/// character, an unterminated string, a bad escape or an impossible date.
result<std::vector<token>> tokenize(std::string_view soql);

/// Like tokenize(), but a lexical error becomes a final token_kind::invalid token, so
/// that the parser reports the first error in text order (a syntax error before a bad
/// string wins, as in Salesforce's streaming lexer).
std::vector<token> tokenize_lenient(std::string_view soql);

} // namespace sfemu::soql
