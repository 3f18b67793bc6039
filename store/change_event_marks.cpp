#include "store/change_event_marks.hpp"

namespace syncforce::store {

std::optional<change_event_mark> load_change_event_mark(pqxx::transaction_base& tx, const std::string& mapping_id) {
  auto r = tx.exec_params("SELECT topic, replay_id, events, applied, echoes, catch_ups FROM "
                          "syncforce.change_event_marks WHERE mapping_id = $1",
                          mapping_id);
  if (r.empty())
    return std::nullopt;
  change_event_mark m;
  m.topic = r[0][0].as<std::string>();
  if (!r[0][1].is_null())
    m.replay_id = static_cast<std::uint64_t>(r[0][1].as<std::int64_t>());
  m.events = r[0][2].as<long>();
  m.applied = r[0][3].as<long>();
  m.echoes = r[0][4].as<long>();
  m.catch_ups = r[0][5].as<long>();
  return m;
}

void save_change_event_mark(pqxx::transaction_base& tx, const std::string& mapping_id,
                            const change_event_progress& p) {
  std::optional<std::int64_t> replay;
  if (p.replay_id)
    replay = static_cast<std::int64_t>(*p.replay_id);
  tx.exec_params0("INSERT INTO syncforce.change_event_marks AS m (mapping_id, topic, replay_id, events, applied, "
                  "echoes, catch_ups, last_event_at, updated_at) VALUES ($1, $2, $3::bigint, $4::bigint, $5::bigint, $6::bigint, "
                  "$7::bigint, "
                  "CASE WHEN $4::bigint > 0 THEN now() END, now()) "
                  "ON CONFLICT (mapping_id) DO UPDATE SET topic = EXCLUDED.topic, replay_id = EXCLUDED.replay_id, "
                  "events = m.events + EXCLUDED.events, applied = m.applied + EXCLUDED.applied, "
                  "echoes = m.echoes + EXCLUDED.echoes, catch_ups = m.catch_ups + EXCLUDED.catch_ups, "
                  "last_event_at = COALESCE(EXCLUDED.last_event_at, m.last_event_at), updated_at = now()",
                  mapping_id, p.topic, replay, p.events, p.applied, p.echoes, p.catch_ups);
}

} // namespace syncforce::store
