#include "sync/value_cleaning.hpp"
#include "sync/type_mapping.hpp"

#include <cstring>

namespace syncforce {

namespace {

/// Length of the valid UTF-8 sequence starting at s[i], 0 when invalid (RFC 3629).
std::size_t valid_sequence(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80)
    return 1;
  auto cont = [&](std::size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF)
    return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2))
      return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) // overlong
      return 0;
    if (c == 0xED && b(i + 1) >= 0xA0) // UTF-16 surrogates
      return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3))
      return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) // overlong
      return 0;
    if (c == 0xF4 && b(i + 1) >= 0x90) // above U+10FFFF
      return 0;
    return 4;
  }
  return 0;
}

bool needs_cleaning(std::string_view s) {
  std::size_t i = 0;
  // Plain ASCII without NUL, 8 bytes at a time (nearly every value).
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    const bool high = (w & 0x8080808080808080ULL) != 0;
    const bool zero = ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL) != 0;
    if (high || zero)
      break;
  }
  for (; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0)
      return true;
    if (c < 0x80) {
      ++i;
      continue;
    }
    auto n = valid_sequence(s, i);
    if (n == 0)
      return true;
    i += n;
  }
  return false;
}

} // namespace

bool text_needs_cleaning(std::string_view text) {
  return needs_cleaning(text);
}

unsigned clean_text(std::string& text) {
  if (!needs_cleaning(text))
    return 0;
  unsigned done = 0;
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0) {
      done = done | text_cleaning::nul_removed;
      ++i;
      continue;
    }
    auto n = valid_sequence(text, i);
    if (n == 0) {
      // One replacement per maximal invalid run start: skip the lead byte and
      // the continuation bytes that follow it.
      done = done | text_cleaning::invalid_utf8_replaced;
      out += "\xEF\xBF\xBD";
      ++i;
      while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80)
        ++i;
      continue;
    }
    out.append(text, i, n);
    i += n;
  }
  text = std::move(out);
  return done;
}

std::size_t utf8_chars(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

std::string refusal(const pg_column& column, std::string_view text) {
  if (column.max_length && *column.max_length > 0) {
    const auto limit = static_cast<std::size_t>(*column.max_length);
    // Most texts are far below the limit in bytes already: no counting.
    if (text.size() > limit && utf8_chars(text) > limit) {
      // PostgreSQL truncates excess spaces silently; anything else is refused.
      std::size_t chars = 0, cut = 0;
      for (; cut < text.size(); ++cut) {
        if ((static_cast<unsigned char>(text[cut]) & 0xC0) != 0x80) {
          if (chars == limit)
            break;
          ++chars;
        }
      }
      if (text.find_first_not_of(' ', cut) != std::string_view::npos)
        return "value too long for type " + column.type + " (" + std::to_string(utf8_chars(text)) + " characters)";
    }
  }
  if ((column.kind == pg_value_kind::date || column.kind == pg_value_kind::timestamp) && text.size() >= 4 &&
      text.substr(0, 4) == "0000")
    return "date/time field value out of range (year 0)";
  return {};
}

std::string value_excerpt(std::string_view value, bool sensitive) {
  if (sensitive)
    return "(hidden: encrypted field)";
  static constexpr std::size_t max_chars = 60;
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  std::size_t chars = 0;
  std::size_t i = 0;
  for (; i < value.size() && chars < max_chars; ++chars) {
    const auto c = static_cast<unsigned char>(value[i]);
    auto n = valid_sequence(value, i);
    if (c < 0x20 || c == 0x7F || n == 0) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xF];
      ++i;
      continue;
    }
    out.append(value, i, n);
    i += n;
  }
  if (i < value.size())
    out += "...";
  return out;
}

std::string error_without_value(std::string_view error) {
  for (const char* marker : {": \"", ": '"}) {
    auto p = error.find(marker);
    if (p != std::string_view::npos)
      error = error.substr(0, p);
  }
  return std::string{error};
}

} // namespace syncforce
