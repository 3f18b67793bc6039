#include "sync/hstore.hpp"

#include <algorithm>
#include <unordered_set>

namespace syncforce {

// ---------------------------------------------------------------------------
// hstore
// ---------------------------------------------------------------------------

const hstore_entry* hstore::find(std::string_view key) const {
  for (const auto& e : entries_)
    if (e.key == key)
      return &e;
  return nullptr;
}

std::optional<std::string> hstore::get(std::string_view key) const {
  const auto* e = find(key);
  if (e == nullptr)
    return std::nullopt;
  return e->value;
}

void hstore::set(std::string key, std::optional<std::string> value) {
  for (auto& e : entries_) {
    if (e.key == key) {
      e.value = std::move(value);
      return;
    }
  }
  entries_.push_back(hstore_entry{std::move(key), std::move(value)});
}

bool hstore::erase(std::string_view key) {
  auto i = std::find_if(entries_.begin(), entries_.end(),
                        [&](const hstore_entry& e) { return e.key == key; });
  if (i == entries_.end())
    return false;
  entries_.erase(i);
  return true;
}

bool operator==(const hstore& a, const hstore& b) {
  if (a.size() != b.size())
    return false;
  for (const auto& e : a.entries_) {
    const auto* other = b.find(e.key);
    if (other == nullptr || other->value != e.value)
      return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// parsing
// ---------------------------------------------------------------------------

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/// A small cursor over the input that records the first error.
class hstore_reader {
public:
  explicit hstore_reader(std::string_view text) : text_(text) {}

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_]))
      ++pos_;
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }
  std::size_t pos() const { return pos_; }
  void advance(std::size_t n = 1) { pos_ += n; }

  /// Reads a quoted or bare token; `was_quoted` tells a bare NULL apart.
  bool read_token(std::string& out, bool& was_quoted, std::string& error) {
    out.clear();
    if (at_end()) {
      error = "unexpected end of input";
      return false;
    }
    if (peek() == '"') {
      was_quoted = true;
      ++pos_;
      for (;;) {
        // Copy the run up to the next quote or backslash in one go (a plain scan: find_first_of
        // looks each character up in its set with a call of its own).
        auto stop = pos_;
        while (stop < text_.size() && text_[stop] != '"' && text_[stop] != '\\')
          ++stop;
        if (stop == text_.size()) {
          error = "unterminated quoted string";
          pos_ = text_.size();
          return false;
        }
        out.append(text_.data() + pos_, stop - pos_);
        pos_ = stop;
        if (text_[pos_] == '"') {
          ++pos_;
          return true;
        }
        // backslash: the next character is literal
        if (pos_ + 1 >= text_.size()) {
          error = "unterminated escape";
          pos_ = text_.size();
          return false;
        }
        out.push_back(text_[pos_ + 1]);
        pos_ += 2;
      }
    }
    was_quoted = false;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (is_space(c) || c == ',' || c == '=' || c == '>' || c == '"')
        break;
      if (c == '\\') {
        if (pos_ + 1 >= text_.size()) {
          error = "unterminated escape";
          return false;
        }
        out.push_back(text_[pos_ + 1]);
        pos_ += 2;
        continue;
      }
      out.push_back(c);
      ++pos_;
    }
    if (out.empty()) {
      error = "expected a key or value";
      return false;
    }
    return true;
  }

private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

bool is_bare_null(const std::string& token) {
  if (token.size() != 4)
    return false;
  auto lower = [](char c) { return static_cast<char>(c | 0x20); };
  return lower(token[0]) == 'n' && lower(token[1]) == 'u' && lower(token[2]) == 'l'
         && lower(token[3]) == 'l';
}

} // namespace

hstore_parse_result parse_hstore(std::string_view text) {
  hstore_parse_result result;
  std::vector<hstore_entry> entries;
  hstore_reader in{text};
  auto fail = [&](std::string message) {
    result.value.reset();
    result.error = hstore_error{in.pos(), std::move(message)};
    return result;
  };
  // Every pair has one "=>": reserving that many entries means they never
  // move, so the duplicate check can keep views of their keys.
  std::size_t arrows = 0;
  for (auto p = text.find("=>"); p != std::string_view::npos; p = text.find("=>", p + 2))
    ++arrows;
  entries.reserve(arrows);
  // PostgreSQL prints the keys in its canonical order (shorter first, then bytewise), where a key
  // following the one before it cannot repeat any: such text needs no look-up at all. From the first
  // key out of that order on, duplicates are looked for (a set when there are many pairs).
  bool canonical = true;
  std::string_view previous;
  const bool use_set = arrows > 16;
  std::unordered_set<std::string_view> seen;
  std::string key;
  std::string value;
  std::string error;
  bool quoted = false;
  in.skip_space();
  while (!in.at_end()) {
    if (!in.read_token(key, quoted, error))
      return fail(error);
    in.skip_space();
    if (in.at_end() || in.peek() != '=')
      return fail("expected '=>' after key");
    in.advance();
    if (in.at_end() || in.peek() != '>')
      return fail("expected '=>' after key");
    in.advance();
    in.skip_space();
    if (!in.read_token(value, quoted, error))
      return fail(error);
    // PostgreSQL never prints duplicates; hand-written text may have them.
    bool duplicate = false;
    if (canonical && !entries.empty() &&
        !(previous.size() < key.size() || (previous.size() == key.size() && previous < std::string_view{key}))) {
      canonical = false;
      if (use_set)
        for (const auto& e : entries)
          seen.insert(std::string_view{e.key});
    }
    if (!canonical) {
      if (use_set) {
        duplicate = seen.count(key) > 0;
      } else {
        for (const auto& e : entries)
          duplicate = duplicate || e.key == key;
      }
    }
    if (!duplicate) {
      if (!quoted && is_bare_null(value))
        entries.push_back(hstore_entry{key, std::nullopt});
      else
        entries.push_back(hstore_entry{key, value});
      previous = entries.back().key;
      if (use_set && !canonical)
        seen.insert(std::string_view{entries.back().key});
    }
    in.skip_space();
    if (in.at_end())
      break;
    if (in.peek() != ',')
      return fail("expected ',' between pairs");
    in.advance();
    in.skip_space();
    if (in.at_end())
      return fail("trailing ','");
  }
  result.value = hstore{std::move(entries)};
  return result;
}

// ---------------------------------------------------------------------------
// writing
// ---------------------------------------------------------------------------

namespace {

void append_quoted(std::string& out, const std::string& s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\')
      out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

} // namespace

std::string to_hstore_text(const hstore& h) {
  std::string out;
  std::size_t guess = 0;
  for (const auto& e : h.entries())
    guess += e.key.size() + (e.value ? e.value->size() : 4) + 8;
  out.reserve(guess);
  bool first = true;
  for (const auto& e : h.entries()) {
    if (!first)
      out.append(", ");
    first = false;
    append_quoted(out, e.key);
    out.append("=>");
    if (e.value)
      append_quoted(out, *e.value);
    else
      out.append("NULL");
  }
  return out;
}

} // namespace syncforce
