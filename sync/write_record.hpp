#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace syncforce {

// ---------------------------------------------------------------------------
// Recording write-back results for several batches at once (pure, no I/O)
// ---------------------------------------------------------------------------
//
// The writer records the results of several answered batches in one
// transaction (one statement for their log entries, one for their rows). One
// row may be written by more than one of those batches (ordered writes: its
// INSERT in one batch, its UPDATE in a later one), and a set-based UPDATE
// joined to the results would then change it once, with one of them picked at
// random. The results are folded per row first, so that the row ends exactly
// as if each batch had been recorded in its own transaction, in batch order.

/// What one item's result does to its row.
struct row_outcome {
  /// The row's key: its `id` (captured by the triggers) or, for an entry made
  /// by hand without one, its `sfid`.
  std::string key;
  /// The sfid to store; nullopt keeps the row's.
  std::optional<std::string> sfid;
  bool ok = false;
  /// `_hc_err` (JSON) of a failure; nullopt clears it.
  std::optional<std::string> err;
};

/// Folds outcomes given in batch order into one per key, in the order of each
/// key's first outcome: the last outcome decides `ok` and `err`, the sfid is
/// the last one set (the row's own when none is).
std::vector<row_outcome> fold_row_outcomes(const std::vector<row_outcome>& in_order);

/// When results of answered batches are recorded: the writer keeps answered
/// batches until `limit` items wait (one transaction for them all), or until
/// nothing is in flight (the end of a cycle, before a Bulk job, a failure).
struct record_grouping {
  std::size_t limit = 1000;
  /// Whether the waiting results should be recorded now.
  bool due(std::size_t waiting_items, bool call_in_flight) const {
    return waiting_items > 0 && (!call_in_flight || waiting_items >= limit);
  }
};

} // namespace syncforce
