#include "engine_io/pg_commands.hpp"

#include "engine_io/jobs.hpp"
#include "store/control_repo.hpp"
#include "store/hc_schema.hpp"

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
  std::string state;
  std::string event;
  if (*command == "reload") {
    // A fresh load: an interrupted one is not resumed.
    store::delete_load_checkpoint(tx, j.mapping_id);
    tx.exec0("DROP TABLE IF EXISTS " + store::qualified_name(tx, j.schema, store::reload_table_name(j.config.table_name())));
    state = "RELOAD_TABLE";
    event = "Reload requested";
  } else if (*command == "abort") {
    store::delete_load_checkpoint(tx, j.mapping_id);
    tx.exec0("DROP TABLE IF EXISTS " + store::qualified_name(tx, j.schema, store::reload_table_name(j.config.table_name())));
    state = has_mark ? "DATA_SYNCED" : "ABORTED";
    event = has_mark ? "Load aborted, the table keeps its rows" : "Load aborted before the first load completed";
  } else {
    state = has_mark ? "DATA_SYNCED" : "INITIAL";
    event = "Recovering mapping";
  }
  store::set_mapping_state(tx, j.mapping_id, state, "");
  commit_fenced(tx, ctx);
  log(spdlog::level::info, log_event{event, "mapping", j.mapping_id, state}.addon(j.connection_id)
                             .with("object_name", j.config.object_name)
                             .with("command", *command));
  o.state = *command;
  return o;
}

} // namespace syncforce::engine_io
