#pragma once
// Record-by-record comparison of a Salesforce object (as sfemu serves it) and
// its synced PostgreSQL table: the end-state check of every sync test that must
// prove "nothing lost, nothing duplicated, every value equal".

#include <string>
#include <vector>

namespace syncforce::salesforce {
class client;
}

namespace syncforce::testing {

/// How a compared field's values are normalised before comparing.
enum class field_kind { text, number, boolean, date, datetime };

struct compared_field {
  std::string name; ///< Salesforce API name; the column is its lower-case form
  field_kind kind = field_kind::text;
};

/// What a comparison found. `equal()` when both sides hold exactly the same
/// records (matched by sfid) with the same values, and nothing is duplicated.
struct sync_comparison {
  long sf_records = 0;
  long pg_rows = 0;
  long pg_without_sfid = 0;          ///< rows never written to Salesforce (or not adopted yet)
  long pg_duplicate_sfids = 0;       ///< sfids held by more than one row
  long sf_duplicate_keys = 0;        ///< Salesforce records sharing an identity key with another
  long missing_in_pg = 0;            ///< in Salesforce, not in PostgreSQL
  long missing_in_sf = 0;            ///< in PostgreSQL (with an sfid), not in Salesforce
  long value_mismatches = 0;         ///< records on both sides with a field that differs
  std::vector<std::string> examples; ///< the first few problems, described

  bool equal() const;
  /// One line of counts, then the examples.
  std::string describe() const;
};

/// Compares every live record of `object` in Salesforce (REST query, not
/// queryAll) with every row of `schema.table`, field by field. `identity_key`
/// names a field whose value is unique to one logical record (e.g. a Name the
/// test gave it): two Salesforce records sharing it are a duplicate, which
/// catches a write sent twice even when the row has no external id.
sync_comparison compare_sync(salesforce::client& sf, const std::string& database_url, const std::string& object,
                             const std::string& schema, const std::string& table,
                             const std::vector<compared_field>& fields, const std::string& identity_key);

/// The value as compared: numbers and datetimes in one canonical text form.
std::string normalise_value(field_kind kind, const std::string& text);

} // namespace syncforce::testing
