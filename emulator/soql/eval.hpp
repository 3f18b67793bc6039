#pragma once

// Binding a parsed query to the org's schema, and evaluating it over records.
//
// bind() resolves every field path once into a field_handle (describe-case names,
// types, the org model's slots) and pre-converts every literal of WHERE to the
// field's type, so matches() and compare_for_order() do no string lookups and no
// allocation per record. A bound_query is self-contained (it copies what it needs
// from the schema) and immutable, so it may be shared between threads.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/soql/ast.hpp"
#include "emulator/soql/error.hpp"
#include "emulator/soql/schema.hpp"
#include "emulator/soql/value.hpp"

namespace sfemu::soql {

// ---- field handles ----------------------------------------------------------

/// One step of a parent relationship path, e.g. `Account` in `Account.Name`.
struct relationship_hop {
  std::string relationship;     ///< relationship name, describe case: "Account", "Owner"
  field_info reference;         ///< the reference field followed (AccountId), on the object the hop starts from
  std::string target_object;    ///< the parent object, describe case: "Account", "User"
};

/// A resolved field path: zero or more relationship hops, then a field of the last object.
struct field_handle {
  std::vector<relationship_hop> hops;  ///< outermost first; empty for a field of the queried object
  field_info field;                    ///< the final field (describe-case name, type, slot)
  std::string path() const;            ///< describe-case dotted path, e.g. "Account.Owner.Name"
};

// ---- records ---------------------------------------------------------------

/// A record as the evaluator reads it; implemented by the org model.
class record_view {
public:
  virtual ~record_view() = default;
  /// The value of `field` on this record: follow `field.hops` (a null or dangling
  /// reference gives null), then read `field.field`. Values by type: text types ->
  /// string, boolean -> boolean, int -> integer, double/currency/percent -> decimal
  /// (integer also accepted), date -> date (days), datetime -> datetime (ms),
  /// time -> integer (ms of the day).
  /// A string value must stay valid until the next get() on this view.
  virtual value get(const field_handle& field) const = 0;
};

/// What evaluation needs from outside: never read from a clock.
struct eval_context {
  std::int64_t now_ms = 0;              ///< "now", ms since epoch (the emulator's injectable clock)
  std::int32_t tz_offset_minutes = 0;   ///< the org's time zone, minutes east of UTC (TODAY etc.)
};

// ---- bound queries ----------------------------------------------------------

namespace detail {
struct program;  // the compiled WHERE and ORDER BY (eval.cpp)
}

/// One ORDER BY key, resolved.
struct bound_order_key {
  std::size_t field = 0;   ///< index into bound_query::order_fields()
  bool descending = false;
  bool nulls_last = false;
};

/// A query resolved against a schema: ready to evaluate.
class bound_query {
public:
  bound_query();
  bound_query(bound_query&&) noexcept;
  bound_query& operator=(bound_query&&) noexcept;
  ~bound_query();

  /// The queried object, describe case.
  const std::string& object() const { return object_; }
  /// SELECT COUNT().
  bool count_only() const { return count_only_; }
  /// Selected fields in query order (duplicates are refused by bind()).
  const std::vector<field_handle>& fields() const { return fields_; }
  /// LIMIT / OFFSET when given.
  std::optional<std::int64_t> limit() const { return limit_; }
  std::optional<std::int64_t> offset() const { return offset_; }
  /// True if the query has a WHERE clause.
  bool has_where() const;
  /// ORDER BY keys; their fields are in order_fields().
  const std::vector<bound_order_key>& order_by() const { return order_by_; }
  const std::vector<field_handle>& order_fields() const { return order_fields_; }
  /// Every field WHERE reads (for indexes or diagnostics).
  const std::vector<field_handle>& where_fields() const { return where_fields_; }

private:
  friend result<bound_query> bind(const query& q, const schema_view& schema);
  friend bool matches(const bound_query&, const record_view&, const eval_context&);

  std::string object_;
  bool count_only_ = false;
  std::vector<field_handle> fields_;
  std::optional<std::int64_t> limit_;
  std::optional<std::int64_t> offset_;
  std::vector<bound_order_key> order_by_;
  std::vector<field_handle> order_fields_;
  std::vector<field_handle> where_fields_;
  std::unique_ptr<detail::program> program_;
};

/// Resolves `q` against `schema`: INVALID_TYPE (unknown object), INVALID_FIELD (unknown
/// field or relationship, wrong literal type, not filterable/sortable), with Salesforce's
/// row/column pointer; INVALID_QUERY_FILTER_OPERATOR for operators the field type refuses.
result<bound_query> bind(const query& q, const schema_view& schema);

/// parse() then bind().
result<bound_query> compile(std::string_view soql, const schema_view& schema);

/// True if `record` satisfies WHERE (always true without WHERE).
bool matches(const bound_query& q, const record_view& record, const eval_context& ctx);

/// ORDER BY comparison: < 0 if `a` sorts before `b`, 0 if equal on every key, > 0 after.
/// Text compares case-insensitively; nulls follow NULLS FIRST/LAST. Use a stable sort
/// (or a tie-breaker such as Id) for a deterministic order of equal keys.
int compare_for_order(const bound_query& q, const record_view& a, const record_view& b);

/// Faster sorting of many records: extract each record's ORDER BY values once
/// (order_by().size() values into `out`), then sort with compare_order_keys(), which
/// makes no virtual calls. Strings in the extracted values must stay valid while
/// sorting (true for stored fields; cache computed ones).
void extract_order_keys(const bound_query& q, const record_view& record, value* out);

/// compare_for_order() over keys extracted by extract_order_keys().
int compare_order_keys(const bound_query& q, const value* a, const value* b);

/// Compares two non-null values of one field type the way ORDER BY does.
int compare_values(const value& a, const value& b);

} // namespace sfemu::soql
