#pragma once

// SOQL text -> query (ast.hpp). Syntax only: names are checked by bind().

#include <cstddef>
#include <string_view>

#include "emulator/soql/ast.hpp"
#include "emulator/soql/error.hpp"

namespace sfemu::soql {

/// Limits that keep the parser bounded on hostile input.
struct parse_limits {
  std::size_t max_length = 100'000;   ///< Salesforce's SOQL length limit
  std::size_t max_depth = 64;         ///< nesting of parentheses / NOT
  std::size_t max_in_values = 10'000; ///< values in one IN list
};

/// Parses `soql`; MALFORMED_QUERY (with Salesforce's pointer) on a syntax error.
result<query> parse(std::string_view soql, const parse_limits& limits = {});

} // namespace sfemu::soql
