#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <pqxx/pqxx>

namespace syncforce::store {

// ---------------------------------------------------------------------------
// Change events: where each accelerated mapping's subscription stands
// (syncforce.change_event_marks, migration 14)
// ---------------------------------------------------------------------------

/// A mapping's subscription mark and counters.
struct change_event_mark {
  std::string topic;
  std::optional<std::uint64_t> replay_id; ///< none: start from the newest event and catch up by poll
  long events = 0;
  long applied = 0;
  long echoes = 0;
  long catch_ups = 0;
};

/// The mapping's mark, none before its first subscription.
std::optional<change_event_mark> load_change_event_mark(pqxx::transaction_base& tx, const std::string& mapping_id);

/// What one applied batch adds (in the transaction of its rows).
struct change_event_progress {
  std::string topic;
  std::optional<std::uint64_t> replay_id; ///< the batch's last event; none: forget the mark
  long events = 0;
  long applied = 0;
  long echoes = 0;
  long catch_ups = 0;
};

/// Moves the mark and adds the counts, in the caller's transaction (commit it fenced).
void save_change_event_mark(pqxx::transaction_base& tx, const std::string& mapping_id,
                            const change_event_progress& p);

} // namespace syncforce::store
