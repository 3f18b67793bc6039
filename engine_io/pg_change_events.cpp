#include "engine_io/pg_change_events.hpp"

#include "engine_io/table_guard.hpp"
#include "store/change_event_marks.hpp"
#include "store/copy_loader.hpp"
#include "store/table_rows.hpp"
#include "sync/change_events.hpp"

#include <algorithm>
#include <set>

namespace syncforce::engine_io {

namespace {

/// The event's value of `field` (names compare ignoring case); null when absent.
const nlohmann::json& field_value(const change_event& e, const std::string& field) {
  static const nlohmann::json null_value;
  if (auto it = e.fields.find(field); it != e.fields.end())
    return *it;
  for (auto it = e.fields.begin(); it != e.fields.end(); ++it)
    if (iequals(it.key(), field))
      return it.value();
  return null_value;
}

/// The stamp an event's row gets: its LastModifiedDate (every CREATE, UNDELETE
/// and UPDATE carries it), else the commit time, floored to the second. Never
/// above the record's SystemModstamp, so a poll reading the record later is
/// not refused as older.
std::string event_stamp(const change_event& e) {
  const auto& lmd = field_value(e, "LastModifiedDate");
  if (lmd.is_number_integer())
    return stamp_text(lmd.get<std::int64_t>());
  return stamp_text(e.commit_timestamp);
}

/// Consecutive upserts with the same columns and distinct records go through one loader.
struct upsert_group {
  event_action action = event_action::ignore;
  std::vector<const pg_column*> columns;
  std::vector<pg_row> rows;
  std::set<std::string> ids;
};

struct apply_counts {
  long inserted = 0;
  long updated = 0;
  long deleted = 0;
  long echoes = 0;
  long restored = 0; ///< rows an echo set back to the values written
  long catch_ups = 0;
  long unchanged = 0;
};

} // namespace

job_outcome load_change_event_mark(worker_context& ctx, const mapping_job& j) {
  pqxx::read_transaction tx(db_of(ctx));
  job_outcome o;
  if (auto m = store::load_change_event_mark(tx, j.mapping_id))
    o.replay_id = m->replay_id;
  return o;
}

job_outcome apply_change_batch(worker_context& ctx, const mapping_job& j, const hc_table_spec& spec,
                               const std::vector<std::string>& calculated, const change_batch& batch) {
  const bool read_write = spec.access == mapping_access::read_write;
  const bool has_deleted = spec.find_column("isdeleted") != nullptr;
  const bool has_stamp = spec.find_column("systemmodstamp") != nullptr;
  apply_counts n;
  bool catch_up = false;

  // Like a poll page, events must not land in the middle of a write-back of this table.
  auto guard = lock_table(db_of(ctx), spec.schema, spec.table);
  pqxx::work tx(db_of(ctx), "change_events");

  upsert_group group;
  auto flush = [&] {
    if (group.rows.empty())
      return;
    store::upsert_target target;
    target.schema = spec.schema;
    target.table = spec.table;
    target.columns.push_back("sfid");
    if (has_deleted)
      target.columns.push_back("isdeleted");
    if (has_stamp)
      target.columns.push_back("systemmodstamp");
    for (const auto* c : group.columns)
      target.columns.push_back(c->name);
    // Only a new record may adopt a local row by the upsert field, as a poll does.
    if (group.action == event_action::upsert_all)
      target.upsert_column = spec.upsert_column;
    target.protect_pending = read_write;
    // A row an event changes is stamped just below the event, so read repair
    // still fetches the whole record if an earlier change of it never arrived
    // (a missed late commit: an UPDATE carries some fields) or if this event,
    // tied in its second with a version a poll read, was the older of the two.
    target.event_values = true;
    try {
      pqxx::subtransaction sub(tx, "change_event_group");
      store::upsert_loader loader(sub, target);
      for (const auto& r : group.rows)
        loader.write(r);
      auto stats = loader.finish();
      sub.commit();
      n.inserted += static_cast<long>(stats.inserted + stats.adopted);
      if (group.action == event_action::apply_echo) {
        n.restored += static_cast<long>(stats.updated); // counted as echoes, not as applied events
      } else {
        n.updated += static_cast<long>(stats.updated);
        n.unchanged += static_cast<long>(stats.skipped);
      }
    } catch (const pqxx::data_exception&) {
      catch_up = true; // a value PostgreSQL refuses: the poll sets the record aside as a read error
    } catch (const pqxx::integrity_constraint_violation&) {
      catch_up = true;
    }
    group = upsert_group{};
  };

  for (const auto& r : batch.events) {
    const auto& e = r.event;
    auto action = r.decode_error.empty()
                    ? plan_event(event_header{e.entity_name, e.change_type, e.change_origin}, j.config.object_name,
                                 batch.own_client)
                    : event_action::catch_up;
    switch (action) {
      case event_action::ignore: continue;
      case event_action::skip_echo: ++n.echoes; continue;
      case event_action::apply_echo: ++n.echoes; break;
      case event_action::catch_up:
        catch_up = true;
        ++n.catch_ups;
        continue;
      case event_action::remove: {
        flush();
        n.deleted += static_cast<long>(store::delete_rows_by_sfid(tx, spec.schema, spec.table, e.record_ids));
        continue;
      }
      case event_action::upsert_all:
      case event_action::update_changed: break;
    }
    std::vector<std::string> changed = e.changed_fields;
    changed.insert(changed.end(), e.nulled_fields.begin(), e.nulled_fields.end());
    auto columns = event_columns(spec, action, changed, calculated);
    std::vector<std::string> ids = e.record_ids;
    if (action == event_action::update_changed || action == event_action::apply_echo) {
      // An update of a record the table lacks cannot be applied from its changed
      // fields alone: the poll reads it whole. (Our own update of a record the
      // table lacks: its row was deleted here since, and that DELETE follows.)
      const auto have = store::present_sfids(tx, spec.schema, spec.table, ids);
      if (have.size() < ids.size() && action == event_action::update_changed)
        catch_up = true;
      ids.erase(std::remove_if(ids.begin(), ids.end(), [&](const std::string& id) { return !have.count(id); }),
                ids.end());
      if (columns.empty() || ids.empty())
        continue; // only unmapped fields changed
    }
    bool same_shape = group.action == action && group.columns == columns;
    for (const auto& id : ids)
      if (group.ids.count(id))
        same_shape = false; // the same record twice: the first must land before the second
    if (!same_shape) {
      flush();
      group.action = action;
      group.columns = columns;
    }
    pg_row row;
    row.push_back(std::nullopt); // sfid, per id below
    if (has_deleted)
      row.push_back(std::string{"f"});
    if (has_stamp)
      row.push_back(event_stamp(e));
    bool bad = false;
    for (const auto* c : columns) {
      auto v = convert_json_value(c->kind, event_value_to_wire(c->kind, field_value(e, c->sf_field)));
      if (!v.ok()) {
        bad = true;
        break;
      }
      row.push_back(std::move(v.text));
    }
    if (bad) {
      catch_up = true;
      ++n.catch_ups;
      continue;
    }
    for (const auto& id : ids) {
      row[0] = id;
      group.rows.push_back(row);
      group.ids.insert(id);
    }
  }
  flush();

  store::change_event_progress p;
  p.topic = batch.topic;
  if (!batch.forget_mark && !batch.events.empty())
    p.replay_id = batch.events.back().replay_id;
  else if (!batch.forget_mark) {
    auto m = store::load_change_event_mark(tx, j.mapping_id);
    p.replay_id = m ? m->replay_id : std::nullopt;
  }
  p.events = static_cast<long>(batch.events.size());
  p.applied = n.inserted + n.updated + n.deleted + n.unchanged;
  p.echoes = n.echoes;
  p.catch_ups = catch_up || batch.forget_mark ? 1 : 0;
  store::save_change_event_mark(tx, j.mapping_id, p);
  commit_fenced(tx, ctx);

  const long changed_rows = n.inserted + n.updated + n.deleted + n.restored;
  log(changed_rows > 0 ? spdlog::level::info : spdlog::level::debug,
      log_event{"Change events applied " + std::to_string(changed_rows) + " records", "sync",
                j.connection_id.empty() ? j.mapping_id : j.connection_id, "DATA_SYNCED"}
        .addon(j.connection_id)
        .with("object_name", j.config.object_name)
        .with("events", std::to_string(batch.events.size()))
        .with("inserted", std::to_string(n.inserted))
        .with("updated", std::to_string(n.updated))
        .with("deleted", std::to_string(n.deleted))
        .with("echoes", std::to_string(n.echoes))
        .with("restored", std::to_string(n.restored))
        .with("catch_up", catch_up ? "true" : "false")
        .with("replay_id", p.replay_id ? std::to_string(*p.replay_id) : std::string{"none"}));

  job_outcome o;
  o.rows = changed_rows;
  o.replay_id = p.replay_id;
  o.needs_catch_up = catch_up;
  return o;
}

} // namespace syncforce::engine_io
