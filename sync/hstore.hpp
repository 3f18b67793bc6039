#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syncforce {

// ---------------------------------------------------------------------------
// hstore text format
// ---------------------------------------------------------------------------

/// One key/value pair of an hstore; a missing value is SQL NULL.
struct hstore_entry {
  std::string key;
  std::optional<std::string> value;

  friend bool operator==(const hstore_entry& a, const hstore_entry& b) {
    return a.key == b.key && a.value == b.value;
  }
};

/// The pairs of an hstore in the order they were read or added. This is what
/// `_trigger_log.values` and `_trigger_log.old` hold (`"a"=>"1", "b"=>NULL`).
class hstore {
public:
  hstore() = default;
  explicit hstore(std::vector<hstore_entry> entries) : entries_(std::move(entries)) {}

  const std::vector<hstore_entry>& entries() const { return entries_; }
  /// The pairs, moved out of an hstore that is done with.
  std::vector<hstore_entry> take_entries() && { return std::move(entries_); }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  /// Whether `key` is present (with a value or NULL).
  bool contains(std::string_view key) const { return find(key) != nullptr; }

  /// The entry for `key`, or nullptr. Linear: hstores are small.
  const hstore_entry* find(std::string_view key) const;

  /// The value for `key` when present and not NULL.
  std::optional<std::string> get(std::string_view key) const;

  /// Adds or replaces `key`.
  void set(std::string key, std::optional<std::string> value);

  /// Removes `key`; returns whether it was present.
  bool erase(std::string_view key);

  /// Same pairs regardless of order (an hstore is a set of keys).
  friend bool operator==(const hstore& a, const hstore& b);
  friend bool operator!=(const hstore& a, const hstore& b) { return !(a == b); }

private:
  std::vector<hstore_entry> entries_;
};

/// Why a text is not an hstore.
struct hstore_error {
  std::size_t position = 0; ///< byte offset where parsing stopped
  std::string message;
};

/// Result of parse_hstore: the value or the error.
struct hstore_parse_result {
  std::optional<hstore> value;
  hstore_error error;
  bool ok() const { return value.has_value(); }
};

/// Parses PostgreSQL's hstore text format: `"k"=>"v", k2=>NULL`. Keys and
/// values may be double-quoted (backslash escapes any character) or bare;
/// a bare NULL (any case) is SQL NULL. A later duplicate key is ignored, as
/// PostgreSQL does.
hstore_parse_result parse_hstore(std::string_view text);

/// Writes the canonical text form PostgreSQL accepts (`"k"=>"v", "n"=>NULL`),
/// quoting every key and value and escaping `"` and `\`.
std::string to_hstore_text(const hstore& h);

} // namespace syncforce
