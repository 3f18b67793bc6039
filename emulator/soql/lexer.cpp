#include "emulator/soql/lexer.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include "emulator/soql/value.hpp"

namespace sfemu::soql {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// ANTLR-style lexer message as Salesforce prints it: "line R:C <text>" (C 0-based).
soql_error lexer_error(std::string_view soql, std::size_t offset, std::string_view text) {
  std::size_t row = 1, line_start = 0;
  for (std::size_t i = 0; i < offset && i < soql.size(); ++i)
    if (soql[i] == '\n') {
      ++row;
      line_start = i + 1;
    }
  std::string msg = "line " + std::to_string(row) + ":" + std::to_string(offset - line_start) + " ";
  msg.append(text);
  return {std::string(error_code::malformed_query), std::move(msg)};
}

/// True if s[pos..] starts with NNNN-NN-NN.
bool looks_like_date(std::string_view s, std::size_t pos) {
  if (pos + 10 > s.size())
    return false;
  for (std::size_t i = 0; i < 10; ++i) {
    char c = s[pos + i];
    if (i == 4 || i == 7) {
      if (c != '-')
        return false;
    } else if (!is_digit(c)) {
      return false;
    }
  }
  return true;
}

/// Checks the datetime tail starting at s[pos] == 'T' against the forms the SOQL
/// reference lists: Thh:mm:ss then Z, +hh:mm or -hh:mm, with optional fractional
/// seconds (.s to .sssssssss, which Salesforce accepts and clients send). Returns its
/// length, or 0 and `bad` = the offset of the first character that breaks the form.
std::size_t datetime_tail(std::string_view s, std::size_t pos, std::size_t& bad) {
  std::size_t p = pos + 1;
  auto digits = [&](int n) {
    for (int i = 0; i < n; ++i, ++p)
      if (p >= s.size() || !is_digit(s[p]))
        return false;
    return true;
  };
  auto expect = [&](char c) {
    if (p >= s.size() || s[p] != c)
      return false;
    ++p;
    return true;
  };
  auto fail = [&] {
    bad = p;
    return std::size_t{0};
  };
  if (!digits(2) || !expect(':') || !digits(2) || !expect(':') || !digits(2))
    return fail();
  if (p < s.size() && s[p] == '.') {
    ++p;
    std::size_t frac = p;
    while (p < s.size() && is_digit(s[p]))
      ++p;
    if (p == frac || p - frac > 9) {
      if (p != frac)
        p = frac + 9;
      return fail();
    }
  }
  if (p < s.size() && s[p] == 'Z')
    return p + 1 - pos;
  if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    ++p;
    if (!digits(2) || !expect(':') || !digits(2))
      return fail();
    return p - pos;
  }
  return fail();
}

} // namespace

namespace {

std::optional<soql_error> lex(std::string_view s, std::vector<token>& out) {
  std::size_t pos = 0;
  auto make = [&](token_kind kind, std::size_t start, std::size_t len) {
    token t;
    t.kind = kind;
    t.offset = start;
    t.raw = s.substr(start, len);
    return t;
  };
  while (true) {
    while (pos < s.size() && is_space(s[pos]))
      ++pos;
    if (pos >= s.size()) {
      out.push_back(make(token_kind::end, s.size(), 0));
      return std::nullopt;
    }
    const std::size_t start = pos;
    const char c = s[pos];
    if (is_alpha(c)) {
      while (pos < s.size() && (is_alpha(s[pos]) || is_digit(s[pos])))
        ++pos;
      out.push_back(make(token_kind::identifier, start, pos - start));
      continue;
    }
    if (is_digit(c) && looks_like_date(s, pos)) {
      pos += 10;
      if (pos < s.size() && s[pos] == 'T') {
        std::size_t bad = pos;
        std::size_t tail = datetime_tail(s, pos, bad);
        if (tail == 0)
          return lexer_error(s, bad,
                             bad < s.size() ? "no viable alternative at character '" + std::string(1, s[bad]) + "'"
                                            : std::string("no viable alternative at character '<EOF>'"));
        pos += tail;
        token t = make(token_kind::datetime, start, pos - start);
        auto ms = parse_datetime(t.raw);
        if (!ms)
          return soql_error{std::string(error_code::malformed_query),
                            pointer_message(s, start, "unexpected token: '" + std::string(t.raw) + "'")};
        t.integer = *ms;
        out.push_back(std::move(t));
      } else {
        token t = make(token_kind::date, start, 10);
        auto days = parse_date(t.raw);
        if (!days)
          return soql_error{std::string(error_code::malformed_query),
                            pointer_message(s, start, "unexpected token: '" + std::string(t.raw) + "'")};
        t.integer = *days;
        out.push_back(std::move(t));
      }
      continue;
    }
    if (is_digit(c) && pos + 8 <= s.size() && is_digit(s[pos + 1]) && s[pos + 2] == ':' && is_digit(s[pos + 3])
        && is_digit(s[pos + 4]) && s[pos + 5] == ':' && is_digit(s[pos + 6]) && is_digit(s[pos + 7])) {
      const int hh = (s[pos] - '0') * 10 + (s[pos + 1] - '0');
      const int mi = (s[pos + 3] - '0') * 10 + (s[pos + 4] - '0');
      const int ss = (s[pos + 6] - '0') * 10 + (s[pos + 7] - '0');
      pos += 8;
      std::int64_t millis = 0;
      if (pos < s.size() && s[pos] == '.') {
        ++pos;
        std::int64_t scale = 100;
        const std::size_t frac_start = pos;
        while (pos < s.size() && is_digit(s[pos])) {
          millis += (s[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
        if (pos == frac_start)
          return lexer_error(s, pos, "no viable alternative at character '.'");
      }
      if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z'))
        ++pos;
      token t = make(token_kind::time, start, pos - start);
      if (hh > 23 || mi > 59 || ss > 59)
        return soql_error{std::string(error_code::malformed_query),
                          pointer_message(s, start, "unexpected token: '" + std::string(t.raw) + "'")};
      t.integer = ((hh * 60 + mi) * 60 + ss) * 1000LL + millis;
      out.push_back(std::move(t));
      continue;
    }
    const bool signed_number = (c == '-' || c == '+') && pos + 1 < s.size()
                               && (is_digit(s[pos + 1]) || (s[pos + 1] == '.' && pos + 2 < s.size() && is_digit(s[pos + 2])));
    if (is_digit(c) || signed_number || (c == '.' && pos + 1 < s.size() && is_digit(s[pos + 1]))) {
      bool negative = c == '-';
      if (c == '-' || c == '+')
        ++pos;
      std::uint64_t mag = 0;
      bool overflow = false;
      std::size_t int_start = pos;
      while (pos < s.size() && is_digit(s[pos])) {
        auto d = static_cast<std::uint64_t>(s[pos] - '0');
        if (mag > (std::numeric_limits<std::uint64_t>::max() - d) / 10)
          overflow = true;
        else
          mag = mag * 10 + d;
        ++pos;
      }
      bool is_decimal = false;
      if (pos < s.size() && s[pos] == '.' && pos + 1 < s.size() && is_digit(s[pos + 1])) {
        is_decimal = true;
        ++pos;
        while (pos < s.size() && is_digit(s[pos]))
          ++pos;
      }
      token t = make(token_kind::integer, start, pos - start);
      std::string digits(s.substr(int_start, pos - int_start));
      double d = 0;
      {
        // Locale-independent decimal conversion of [digits][.digits].
        double frac_scale = 0;
        for (char ch : digits) {
          if (ch == '.') {
            frac_scale = 1;
            continue;
          }
          if (frac_scale == 0) {
            d = d * 10 + (ch - '0');
          } else {
            frac_scale /= 10;
            d += (ch - '0') * frac_scale;
          }
        }
      }
      t.decimal = negative ? -d : d;
      const auto max_pos = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
      if (is_decimal || overflow || mag > max_pos + (negative ? 1 : 0)) {
        t.kind = token_kind::decimal;
      } else if (negative) {
        t.integer = mag == max_pos + 1 ? std::numeric_limits<std::int64_t>::min()
                                       : -static_cast<std::int64_t>(mag);
      } else {
        t.integer = static_cast<std::int64_t>(mag);
      }
      out.push_back(std::move(t));
      continue;
    }
    if (c == '\'') {
      ++pos;
      std::string text, like;
      bool closed = false;
      while (pos < s.size()) {
        char ch = s[pos];
        if (ch == '\'') {
          closed = true;
          ++pos;
          break;
        }
        if (ch != '\\') {
          text += ch;
          like += ch;
          ++pos;
          continue;
        }
        if (pos + 1 >= s.size())
          break;
        char e = s[pos + 1];
        pos += 2;
        switch (e) {
          case 'n': case 'N': text += '\n'; like += '\n'; break;
          case 'r': case 'R': text += '\r'; like += '\r'; break;
          case 't': case 'T': text += '\t'; like += '\t'; break;
          case 'b': case 'B': text += '\b'; like += '\b'; break;
          case 'f': case 'F': text += '\f'; like += '\f'; break;
          case '"': text += '"'; like += '"'; break;
          case '\'': text += '\''; like += '\''; break;
          case '\\': text += '\\'; like += "\\\\"; break;
          case '%': text += '%'; like += "\\%"; break;
          case '_': text += '_'; like += "\\_"; break;
          case 'u': case 'U': {
            unsigned cp = 0;
            bool good = pos + 4 <= s.size();
            for (std::size_t i = 0; good && i < 4; ++i) {
              int h = hex_value(s[pos + i]);
              good = h >= 0;
              cp = cp * 16 + static_cast<unsigned>(h < 0 ? 0 : h);
            }
            if (!good)
              return soql_error{std::string(error_code::malformed_query),
                                "Invalid string literal '" + std::string(s.substr(start, pos - start))
                                  + "'. Illegal character sequence '\\" + std::string(1, e)
                                  + "' in string literal."};
            pos += 4;
            std::string enc;
            append_utf8(enc, cp);
            text += enc;
            if (cp == '%' || cp == '_' || cp == '\\')
              like += '\\';
            like += enc;
            break;
          }
          default: {
            std::size_t end = s.find('\'', pos);
            std::size_t lit_end = end == std::string_view::npos ? s.size() : end;
            return soql_error{std::string(error_code::malformed_query),
                              "Invalid string literal '" + std::string(s.substr(start + 1, lit_end - start - 1))
                                + "'. Illegal character sequence '\\" + std::string(1, e)
                                + "' in string literal."};
          }
        }
      }
      if (!closed)
        return lexer_error(s, s.size(), "mismatched character '<EOF>' expecting '''");
      token t = make(token_kind::string, start, pos - start);
      t.text = std::move(text);
      t.like = std::move(like);
      out.push_back(std::move(t));
      continue;
    }
    auto two = [&](char a, char b) { return c == a && pos + 1 < s.size() && s[pos + 1] == b; };
    token_kind kind;
    std::size_t len = 1;
    if (two('!', '=')) {
      kind = token_kind::ne;
      len = 2;
    } else if (two('<', '>')) {
      kind = token_kind::ne;
      len = 2;
    } else if (two('<', '=')) {
      kind = token_kind::le;
      len = 2;
    } else if (two('>', '=')) {
      kind = token_kind::ge;
      len = 2;
    } else {
      switch (c) {
        case '(': kind = token_kind::lparen; break;
        case ')': kind = token_kind::rparen; break;
        case ',': kind = token_kind::comma; break;
        case '.': kind = token_kind::dot; break;
        case ':': kind = token_kind::colon; break;
        case '=': kind = token_kind::eq; break;
        case '<': kind = token_kind::lt; break;
        case '>': kind = token_kind::gt; break;
        default: {
          // Print the whole UTF-8 character, not a lone byte.
          std::size_t n = 1;
          auto u = static_cast<unsigned char>(c);
          if (u >= 0xF0)
            n = 4;
          else if (u >= 0xE0)
            n = 3;
          else if (u >= 0xC0)
            n = 2;
          n = std::min(n, s.size() - pos);
          return lexer_error(s, pos, "no viable alternative at character '" + std::string(s.substr(pos, n)) + "'");
        }
      }
    }
    pos += len;
    out.push_back(make(kind, start, len));
  }
}

} // namespace

result<std::vector<token>> tokenize(std::string_view s) {
  std::vector<token> out;
  if (auto err = lex(s, out))
    return *err;
  return out;
}

std::vector<token> tokenize_lenient(std::string_view s) {
  std::vector<token> out;
  if (auto err = lex(s, out)) {
    token t;
    t.kind = token_kind::invalid;
    t.offset = s.size();
    t.text = std::move(err->message);
    out.push_back(std::move(t));
  }
  return out;
}

} // namespace sfemu::soql
