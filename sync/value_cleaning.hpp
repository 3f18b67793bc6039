#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace syncforce {

struct pg_column;

// ---------------------------------------------------------------------------
// Salesforce values PostgreSQL would refuse (pure, no I/O)
// ---------------------------------------------------------------------------
//
// One bad value must not stop a mapping. Texts are cleaned at decode time
// (PostgreSQL cannot store a NUL byte or invalid UTF-8); values that cannot be
// cleaned without changing their meaning (a text longer than its column, a
// date PostgreSQL has no representation for) are refused here, so the record
// is set aside as a read error instead of failing the whole COPY.

/// What clean_text did, as bits.
enum class text_cleaning : std::uint8_t {
  none = 0,
  nul_removed = 1,           ///< U+0000 bytes dropped
  invalid_utf8_replaced = 2, ///< each invalid UTF-8 sequence became U+FFFD
};

inline unsigned operator|(unsigned a, text_cleaning b) { return a | static_cast<unsigned>(b); }
inline bool has(unsigned bits, text_cleaning b) { return (bits & static_cast<unsigned>(b)) != 0; }

/// Removes NUL bytes and replaces every invalid UTF-8 sequence (stray
/// continuation bytes, truncated or overlong sequences, surrogates, code
/// points above U+10FFFF) with U+FFFD, in place. Returns the text_cleaning
/// bits of what it did; valid text is scanned once and left untouched.
unsigned clean_text(std::string& text);

/// Whether clean_text would change `text` (a NUL byte or invalid UTF-8).
bool text_needs_cleaning(std::string_view text);

/// Number of characters (code points) of valid UTF-8 text.
std::size_t utf8_chars(std::string_view text);

/// Why PostgreSQL would refuse `text` (already in PostgreSQL input form) for
/// `column`; empty when it takes it. A text longer than `character varying(n)`
/// (counted in characters; like PostgreSQL, excess trailing spaces are
/// dropped silently, not refused) and a date or timestamp in year 0 (ISO
/// year 0000 does not exist in PostgreSQL) are refused.
std::string refusal(const pg_column& column, std::string_view text);

/// A short printable excerpt of a value for a read error and its log line: at
/// most 60 characters, control and invalid bytes as `\xNN`, `...` when cut. A
/// sensitive field's (encrypted string) value is never shown.
std::string value_excerpt(std::string_view value, bool sensitive);

/// A PostgreSQL or conversion error without the offending value (which may
/// be long or sensitive): `invalid input syntax for type x: "v"` -> `invalid
/// input syntax for type x`, `not a number: 'v'` -> `not a number`.
std::string error_without_value(std::string_view error);

} // namespace syncforce
