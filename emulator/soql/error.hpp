#pragma once

// Errors of the SOQL engine, in Salesforce's exact codes and message shapes, and
// the small result type every fallible call returns.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sfemu::soql {

/// A query error as Salesforce reports it: `[{"message": message, "errorCode": code}]`.
struct soql_error {
  std::string code;     ///< MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE, INVALID_QUERY_FILTER_OPERATOR, NUMBER_OUTSIDE_VALID_RANGE
  std::string message;  ///< the full message, pointer lines included when Salesforce has them
};

/// Error codes, spelled as Salesforce spells them.
namespace error_code {
inline constexpr std::string_view malformed_query = "MALFORMED_QUERY";
inline constexpr std::string_view invalid_field = "INVALID_FIELD";
inline constexpr std::string_view invalid_type = "INVALID_TYPE";
inline constexpr std::string_view invalid_query_filter_operator = "INVALID_QUERY_FILTER_OPERATOR";
inline constexpr std::string_view number_outside_valid_range = "NUMBER_OUTSIDE_VALID_RANGE";
} // namespace error_code

/// Builds Salesforce's pointer form of a message about the token at byte `offset`
/// of `soql`: "\n<line>\n<spaces>^\nERROR at Row:R:Column:C\n<text>".
std::string pointer_message(std::string_view soql, std::size_t offset, std::string_view text);

/// Either a T or a soql_error.
template <class T>
class result {
public:
  result(T v) : v_(std::in_place_index<0>, std::move(v)) {}                 // NOLINT
  result(soql_error e) : v_(std::in_place_index<1>, std::move(e)) {}        // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const soql_error& error() const { return std::get<1>(v_); }

private:
  std::variant<T, soql_error> v_;
};

} // namespace sfemu::soql
