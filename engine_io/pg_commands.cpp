#include "engine_io/pg_commands.hpp"

#include "engine_io/jobs.hpp"
#include "store/control_repo.hpp"
#include "store/table_rows.hpp"

namespace syncforce::engine_io {

job_outcome take_and_apply_command(worker_context& ctx, const mapping_job& j) {
  pqxx::work tx(db_of(ctx), "take_command");
  auto command = store::take_mapping_command(tx, j.mapping_id);
  job_outcome o;
  if (!command)
    return o;
  auto row = store::load_mapping(tx, j.mapping_id);
  if (!row)
    return o;
  const bool has_mark = row->high_water_mark.has_value();
  // Parsed at the store boundary: a command this build does not know is kept
  // out of the mapping's state and treated as recover (the safe one).
  auto taken = parse_mapping_command(*command).value_or(mapping_command::recover);
  mapping_state state = mapping_state::initial;
  std::string event;
  if (taken == mapping_command::reload) {
    // A fresh load: an interrupted one is not resumed.
    store::delete_load_checkpoint(tx, j.mapping_id);
    store::drop_reload_table(tx, j.schema, j.config.table_name());
    state = mapping_state::reload_table;
    event = "Reload requested";
  } else if (taken == mapping_command::abort) {
    store::delete_load_checkpoint(tx, j.mapping_id);
    store::drop_reload_table(tx, j.schema, j.config.table_name());
    state = has_mark ? mapping_state::data_synced : mapping_state::aborted;
    event = has_mark ? "Load aborted, the table keeps its rows" : "Load aborted before the first load completed";
  } else {
    state = has_mark ? mapping_state::data_synced : mapping_state::initial;
    event = "Recovering mapping";
  }
  auto state_name = std::string{to_string(state)};
  store::set_mapping_state(tx, j.mapping_id, state_name, "");
  commit_fenced(tx, ctx);
  log(spdlog::level::info, log_event{event, "mapping", j.mapping_id, state_name}.addon(j.connection_id)
                             .with("object_name", j.config.object_name)
                             .with("command", *command));
  o.command = taken;
  return o;
}

} // namespace syncforce::engine_io
