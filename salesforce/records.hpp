#pragma once

#include "salesforce/result.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syncforce::salesforce {

// ---- values and records ------------------------------------------------------

/// The JSON type a value had on the wire.
enum class value_type : std::uint8_t { null, boolean, number, string, json };

/// One field value of a queried record, in its wire type. Numbers keep their
/// exact JSON text (no float rounding of currency), booleans are "true" or
/// "false", arrays come back as raw JSON text (type json).
struct field_value {
  value_type type = value_type::null;
  std::string text;

  bool is_null() const { return type == value_type::null; }
  bool as_bool() const { return type == value_type::boolean && text == "true"; }

  static field_value null() { return {}; }
  static field_value string(std::string s) { return {value_type::string, std::move(s)}; }
  static field_value number(std::string s) { return {value_type::number, std::move(s)}; }
  static field_value boolean(bool b) { return {value_type::boolean, b ? "true" : "false"}; }

  friend bool operator==(const field_value& a, const field_value& b) { return a.type == b.type && a.text == b.text; }
  friend bool operator!=(const field_value& a, const field_value& b) { return !(a == b); }
};

/// One queried record: its sObject type and its fields flattened in wire order;
/// relationship objects become dotted names (`Account.Name`, `Account.Owner.Email`),
/// a null relationship is one null field under the relationship name (`Account`).
struct record {
  std::string sobject_type;
  std::vector<std::pair<std::string, field_value>> fields;

  /// The field named `name` (case-insensitive), or nullptr.
  const field_value* find(std::string_view name) const;
  /// The field's text, or empty when absent or null.
  std::string_view text(std::string_view name) const;
};

// ---- query pages -------------------------------------------------------------

/// One page of a query: at most one batch of records, never the whole result.
struct query_page {
  long total_size = 0;
  bool done = true;
  std::string next_records_url; ///< empty when done
  std::vector<record> records;
  /// Records handed to a page_parser::parse_each callback (records stays empty then).
  std::size_t streamed = 0;
};

/// The wanted fields of one record as views, in the order asked for; an
/// absent or null field is empty. Valid only during the callback.
using record_values_fn = std::function<void(const std::vector<std::string_view>& values)>;

/// The locator (last path segment) of a `nextRecordsUrl` such as
/// `/services/data/v60.0/query/01gxx0000000001-2000`.
std::string locator_of(std::string_view next_records_url);

/// Parses query pages with simdjson's on-demand API; reuse one per thread.
class page_parser {
public:
  page_parser();
  ~page_parser();
  page_parser(page_parser&&) noexcept;
  page_parser& operator=(page_parser&&) noexcept;

  /// Parses one `{"totalSize","done","nextRecordsUrl","records":[...]}` page.
  /// Parses in place when `body` has simdjson's padding spare in its capacity.
  result<query_page> parse(const std::string& body);

  /// Parses the same page but hands each record's `wanted` fields (names as
  /// record::find matches them: dotted for relationships, any case; the first
  /// match wins) to `on_record` as record::text would give them, instead of
  /// keeping the records: no string per field and record (a load's decoding
  /// was the node's main CPU cost). The page returned has no records, its
  /// `streamed` counts them. On a malformed page the records before the fault
  /// were handed over already: the caller drops what it made of the page.
  result<query_page> parse_each(const std::string& body, const std::vector<std::string>& wanted,
                                const record_values_fn& on_record);

private:
  result<query_page> walk(const std::string& body, const std::vector<std::string>* wanted,
                          const record_values_fn* on_record);

  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace syncforce::salesforce
