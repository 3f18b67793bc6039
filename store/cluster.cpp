#include "store/cluster.hpp"

namespace syncforce::store {

namespace {

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " milliseconds"; }

} // namespace

std::int64_t join_cluster(pqxx::connection& conn, const node_info& node, std::chrono::milliseconds ttl,
                          std::int64_t previous) {
  pqxx::work tx(conn, "join_cluster");
  auto r = tx.exec_params(
    "INSERT INTO syncforce.nodes (name, grpc_address, version, started_at, heartbeat_at, expires_at) "
    "VALUES ($1, $2, $3, now(), clock_timestamp(), clock_timestamp() + $4::interval) "
    "ON CONFLICT (name) DO UPDATE SET grpc_address = EXCLUDED.grpc_address, version = EXCLUDED.version, "
    "started_at = EXCLUDED.started_at, heartbeat_at = EXCLUDED.heartbeat_at, "
    "expires_at = EXCLUDED.expires_at, incarnation = syncforce.nodes.incarnation + 1 "
    "WHERE $5::bigint = 0 OR syncforce.nodes.incarnation = $5::bigint "
    "RETURNING incarnation",
    node.name, node.address, node.version, ms(ttl), previous);
  if (r.empty())
    return 0; // a newer start of the node joined since: the caller is stale
  auto inc = r[0][0].as<std::int64_t>();
  tx.exec_params0("UPDATE syncforce.leases SET owner_node = NULL WHERE owner_node = $1", node.name);
  tx.commit();
  return inc;
}

bool heartbeat(pqxx::connection& conn, const std::string& node, std::chrono::milliseconds ttl,
               std::int64_t incarnation) {
  pqxx::nontransaction tx(conn);
  auto r = tx.exec_params("UPDATE syncforce.nodes SET heartbeat_at = clock_timestamp(), "
                          "expires_at = clock_timestamp() + $2::interval "
                          "WHERE name = $1 AND expires_at > clock_timestamp() "
                          "AND ($3::bigint = 0 OR incarnation = $3::bigint)",
                          node, ms(ttl), incarnation);
  return r.affected_rows() == 1;
}

void leave_cluster(pqxx::connection& conn, const std::string& node, std::int64_t incarnation) {
  pqxx::work tx(conn, "leave_cluster");
  // The row first (locked): the leases are given up only if it was this incarnation's.
  auto gone = tx.exec_params("DELETE FROM syncforce.nodes WHERE name = $1 "
                             "AND ($2::bigint = 0 OR incarnation = $2::bigint)",
                             node, incarnation);
  if (gone.affected_rows() > 0)
    tx.exec_params0("UPDATE syncforce.leases SET owner_node = NULL WHERE owner_node = $1", node);
  tx.commit();
}

cluster_view read_cluster(pqxx::transaction_base& tx) {
  cluster_view v;
  for (const auto& r : tx.exec("SELECT name, grpc_address, version, started_at::text, "
                               "extract(epoch FROM clock_timestamp() - heartbeat_at)::float8, "
                               "expires_at > clock_timestamp(), incarnation FROM syncforce.nodes ORDER BY name")) {
    node_row n;
    n.info.name = r[0].as<std::string>();
    n.info.address = r[1].as<std::string>();
    n.info.version = r[2].as<std::string>();
    n.started_at = r[3].as<std::string>();
    n.heartbeat_age_seconds = r[4].as<double>();
    n.live = r[5].as<bool>();
    n.incarnation = r[6].as<std::int64_t>();
    v.nodes.push_back(std::move(n));
  }
  // Units: every mapping's read side; the writer of every connection with a
  // read-write mapping; the broker of every integration user.
  for (const auto& r : tx.exec("SELECT 'mapping', m.id::text, m.connection_id::text, m.object_name "
                               "FROM syncforce.mappings m "
                               "UNION ALL "
                               "SELECT 'writer', c.id::text, c.id::text, c.name FROM syncforce.connections c "
                               "WHERE EXISTS (SELECT 1 FROM syncforce.mappings m WHERE m.connection_id = c.id "
                               "AND m.config->>'access' = 'read_write') "
                               "UNION "
                               "SELECT 'integration_user', c.login_url || '|' || c.username, '', c.username "
                               "FROM syncforce.connections c "
                               "ORDER BY 1, 2")) {
    unit_row u;
    u.kind = r[0].as<std::string>();
    u.key = r[1].as<std::string>();
    u.connection_id = r[2].as<std::string>();
    u.label = r[3].as<std::string>();
    v.units.push_back(std::move(u));
  }
  for (const auto& r :
       tx.exec("SELECT kind, key, owner_node, epoch, "
               "COALESCE(extract(epoch FROM clock_timestamp() - acquired_at), 0)::float8, moves "
               "FROM syncforce.leases ORDER BY kind, key")) {
    lease_row l;
    l.kind = r[0].as<std::string>();
    l.key = r[1].as<std::string>();
    if (!r[2].is_null())
      l.owner = r[2].as<std::string>();
    l.epoch = r[3].as<std::int64_t>();
    l.held_seconds = r[4].as<double>();
    l.moves = r[5].as<std::int64_t>();
    v.leases.push_back(std::move(l));
  }
  return v;
}

std::optional<std::int64_t> acquire_lease(pqxx::connection& conn, const std::string& kind, const std::string& key,
                                          const std::string& node, std::int64_t incarnation) {
  pqxx::work tx(conn, "acquire_lease");
  auto before = tx.exec_params("SELECT owner_node FROM syncforce.leases WHERE kind = $1 AND key = $2", kind, key);
  // Only a live node takes leases, and only from nobody live.
  auto r = tx.exec_params(
    "INSERT INTO syncforce.leases AS l (kind, key, owner_node, epoch, acquired_at) "
    "SELECT $1, $2, $3, 1, clock_timestamp() FROM syncforce.nodes n "
    "WHERE n.name = $3 AND n.expires_at > clock_timestamp() AND ($4::bigint = 0 OR n.incarnation = $4::bigint) "
    "ON CONFLICT (kind, key) DO UPDATE SET owner_node = EXCLUDED.owner_node, epoch = l.epoch + 1, "
    "acquired_at = EXCLUDED.acquired_at, moves = l.moves + CASE WHEN l.owner_node IS DISTINCT FROM "
    "EXCLUDED.owner_node THEN 1 ELSE 0 END "
    "WHERE l.owner_node IS NULL OR NOT EXISTS (SELECT 1 FROM syncforce.nodes o WHERE o.name = l.owner_node "
    "AND o.expires_at > clock_timestamp()) "
    "RETURNING epoch",
    kind, key, node, incarnation);
  if (!r.empty() && !before.empty() && !before[0][0].is_null() && before[0][0].as<std::string>() != node) {
    // Taken from a node that lapsed: end its sessions (their names may be cut
    // at 63 bytes). pg_terminate_backend only signals; sessions of another
    // role this one may not signal are left alone.
    tx.exec_params(
      "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a "
      "WHERE a.pid <> pg_backend_pid() AND a.application_name LIKE 'syncforce-%@%' "
      "AND substr(a.application_name, strpos(a.application_name, '@') + 1) = "
      "left($1, 63 - strpos(a.application_name, '@')) AND pg_has_role(a.usesysid, 'MEMBER')",
      before[0][0].as<std::string>());
  }
  tx.commit();
  if (r.empty())
    return std::nullopt;
  return r[0][0].as<std::int64_t>();
}

bool release_lease(pqxx::connection& conn, const std::string& kind, const std::string& key, const std::string& node,
                   std::int64_t epoch) {
  pqxx::nontransaction tx(conn);
  auto r = tx.exec_params("UPDATE syncforce.leases SET owner_node = NULL "
                          "WHERE kind = $1 AND key = $2 AND owner_node = $3 AND epoch = $4",
                          kind, key, node, epoch);
  return r.affected_rows() == 1;
}

long prune_leases(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  auto r = tx.exec(
    "DELETE FROM syncforce.leases l WHERE "
    "(l.owner_node IS NULL OR NOT EXISTS (SELECT 1 FROM syncforce.nodes o WHERE o.name = l.owner_node "
    "AND o.expires_at > clock_timestamp())) AND NOT ("
    "(l.kind = 'mapping' AND EXISTS (SELECT 1 FROM syncforce.mappings m WHERE m.id::text = l.key)) OR "
    "(l.kind = 'writer' AND EXISTS (SELECT 1 FROM syncforce.mappings m WHERE m.connection_id::text = l.key "
    "AND m.config->>'access' = 'read_write')) OR "
    "(l.kind = 'integration_user' AND EXISTS (SELECT 1 FROM syncforce.connections c "
    "WHERE c.login_url || '|' || c.username = l.key)))");
  return static_cast<long>(r.affected_rows());
}

std::optional<std::string> live_owner(pqxx::transaction_base& tx, const std::string& kind, const std::string& key) {
  auto r = tx.exec_params("SELECT l.owner_node FROM syncforce.leases l JOIN syncforce.nodes n ON n.name = l.owner_node "
                          "WHERE l.kind = $1 AND l.key = $2 AND n.expires_at > clock_timestamp()",
                          kind, key);
  if (r.empty())
    return std::nullopt;
  return r[0][0].as<std::string>();
}

void check_fence(pqxx::transaction_base& tx, const lease_fence& fence) {
  auto r = tx.exec_params("SELECT 1 FROM syncforce.leases l JOIN syncforce.nodes n ON n.name = l.owner_node "
                          "WHERE l.kind = $1 AND l.key = $2 AND l.owner_node = $3 AND l.epoch = $4 "
                          "AND n.expires_at > clock_timestamp() FOR SHARE OF l",
                          fence.kind, fence.key, fence.node, fence.epoch);
  if (r.empty())
    throw fenced_out("the lease on " + fence.unit() + " (epoch " + std::to_string(fence.epoch) +
                     ") is no longer " + fence.node + "'s: the write was refused");
}

} // namespace syncforce::store
