#pragma once

#include "sync/write_plan.hpp"

#include <cstddef>
#include <set>
#include <string>
#include <vector>

namespace syncforce {

// ---------------------------------------------------------------------------
// Several write-back calls in flight (pure, no I/O)
// ---------------------------------------------------------------------------
//
// The writer sends a cycle's batches in plan order. A batch may be sent while
// earlier ones are still unanswered only when no answer it waits for can
// change what it sends or whether it is sent, and when Salesforce may apply
// it before them without changing the end state:
// - every batch in flight is a collection call of the same table (a batch of
//   another table may refer to records those calls create: a child inserted
//   after its parent, in either mode);
// - no record is in more than one of them (never two changes of one record
//   in flight; an update never waits for the sfid of a create in flight);
// - the table has no relationship columns (`<rel>__r__<ext id>`), which could
//   point at a record of the same table created by a call in flight;
// - ordered writes: no INSERT batch of the table is in flight, since a failed
//   INSERT stops the table's queue and nothing after it may have been sent.
// Bulk jobs never share the wire.

/// Collection calls a connection's writer keeps in flight at most (far under
/// an org's 25 concurrent long-running requests).
constexpr std::size_t max_calls_in_flight = 4;

/// What the concurrency rule needs to know of a table.
struct flight_table {
  /// The table has relationship columns (`<rel>__r__<ext id>`).
  bool has_relationships = false;
};

/// Whether `candidate` may be sent while the batches `in_flight` (indexes
/// into `plan.batches`, earlier than `candidate`) are unanswered. An empty
/// `in_flight` always allows it.
bool may_fly_with(const write_plan& plan, const std::vector<std::size_t>& in_flight, std::size_t candidate,
                  write_mode mode, const flight_table& table, std::size_t limit = max_calls_in_flight);

/// Whether a table's column names include a relationship column.
bool has_relationship_columns(const std::vector<std::string>& column_names);

} // namespace syncforce
