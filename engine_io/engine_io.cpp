#include "engine_io/engine_io.hpp"

#include "engine_io/pg_notify_listener.hpp"
#include "engine_io/worker_context.hpp"
#include "engine_io/sf_login.hpp"
#include "store/control_repo.hpp"

#include <pqxx/pqxx>

namespace syncforce::engine_io {

actors::job_outcome load_engine_config(actors::worker_context& ctx, const std::optional<engine_config>& file,
                                       std::vector<actors::loaded_connection>& out) {
  pqxx::work tx(db_of(ctx), "load_config");
  actors::job_outcome o;
  if (file) {
    auto r = store::import_engine_config(tx, *file);
    o.rows = r.mappings_created + r.mappings_changed;
  }
  for (auto& c : store::load_connections(tx)) {
    actors::loaded_connection lc;
    lc.mappings = store::load_mappings(tx, c.id);
    lc.row = std::move(c);
    out.push_back(std::move(lc));
  }
  tx.commit();
  return o;
}

actors::engine_backend make_engine_backend(std::string database_url, std::string node_name,
                                           std::chrono::milliseconds heartbeat_interval) {
  actors::engine_backend b;
  b.io = make_sync_io();
  b.writes = make_write_io();
  b.make_context = worker_contexts(database_url, node_name);
  b.make_cluster_store = [database_url, node_name, heartbeat_interval] {
    return make_cluster_store(database_url, node_name, heartbeat_interval);
  };
  b.listen = pg_listeners(database_url);
  b.load_config = load_engine_config;
  b.log_in = log_in;
  return b;
}

} // namespace syncforce::engine_io
